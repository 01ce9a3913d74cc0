package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// importConfig says how importCSV reads an event log.
type importConfig struct {
	UserCol    string // header name of the user id column (required)
	TimeCol    string // header name of the time column (required)
	EventCol   string // header name of the event column; or
	Event      string // the one event name of every row (when EventCol is "")
	TimeFormat string // Go layout, or "rfc3339", "unix" (seconds), "unixms"; "": detected from the first rows
	StringIDs  bool   // user ids are strings, mapped through the id map IDMap
	IDMap      string // id map name (default bitmapist.DefaultIDMap)
	Batch      int    // rows per MarkEvents call (default importBatch)
	Comma      rune   // field delimiter (default ',')
	Hourly     bool   // also write hour bitmaps
	Unique     bool   // also write unique bitmaps
	CheckOnly  bool   // check every row, write nothing (Marked stays 0)
	// CountUnread: when the import stops early, read the rest of the input
	// to count the lines not read (Summary.Unread); only for an input that
	// ends (a file), never for a pipe that may not.
	CountUnread bool
}

// importBatch is the default number of rows per MarkEvents call: big
// batches keep the writer's connection streaming (10,000-row batches
// imported 1,000,000 rows at 190,000 rows/s, 100,000-row ones at 320,000).
const importBatch = 100_000

// check fills in the defaults of cfg and returns a *usageError when the
// flags contradict each other or name a bad event or time format, so that
// the command can refuse them before connecting to Redis.
func (cfg *importConfig) check() error {
	if cfg.IDMap == "" {
		cfg.IDMap = bitmapist.DefaultIDMap
	}
	if cfg.Batch <= 0 {
		cfg.Batch = importBatch
	}
	if cfg.UserCol == "" || cfg.TimeCol == "" {
		return usagef("--user-col and --time-col are required")
	}
	if (cfg.EventCol == "") == (cfg.Event == "") {
		return usagef("give exactly one of an event column (--event-col) and a fixed event (--event)")
	}
	if cfg.Event != "" {
		if err := bitmapist.ValidateEventName(cfg.Event); err != nil {
			return eventNameError(cfg.Event, err)
		}
	}
	if cfg.TimeFormat == "" {
		return nil
	}
	_, err := timeParser(cfg.TimeFormat, time.UTC)
	return err
}

// Reasons a row is rejected, as reported in importSummary.Rejected.
const (
	reasonColumns    = "wrong column count"
	reasonCSV        = "bad CSV"
	reasonMissingID  = "missing id"
	reasonBadID      = "bad id"
	reasonIDRange    = "id out of range"
	reasonMissingT   = "missing time"
	reasonBadTime    = "bad time"
	reasonMissingEv  = "missing event"
	reasonBadEvent   = "bad event name"
	reasonIDMapFull  = "id map full"
	reasonNotWritten = "not written"
	reasonMaybe      = "may have been written"
)

// rejectedRow is one row that import did not mark, and why.
type rejectedRow struct {
	Line   int    // line number in the file, counting the header as line 1
	End    int    // last line of the row (== Line unless a quoted field spans lines)
	Reason string // one of the reason* constants
	Detail string // what exactly was wrong, e.g. `"2011-13-01" does not match 2006-01-02`
	Row    string // the row's content: its fields as CSV, or the raw line when it is not valid CSV
}

// String returns "line N: reason: detail" ("lines N-M: ..." for a row
// of several lines).
func (r rejectedRow) String() string {
	if r.End > r.Line {
		return fmt.Sprintf("lines %d-%d: %s: %s", r.Line, r.End, r.Reason, r.Detail)
	}
	return fmt.Sprintf("line %d: %s: %s", r.Line, r.Reason, r.Detail)
}

// importSummary is what importCSV did.
type importSummary struct {
	Rows        int            // data rows read (the header is not a row; blank lines are not rows)
	Marked      int            // rows marked
	MarkedLines int            // physical lines of the marked rows (Marked, unless quoted fields span lines)
	Checked     int            // with CheckOnly: rows that passed the checks
	Rejected    []rejectedRow  // rows not marked, in file order
	Blank       int            // blank lines skipped
	Users       int            // distinct user ids among marked rows
	Events      map[string]int // marked rows per event name
	First       time.Time      // earliest time marked (zero if none)
	Last        time.Time      // latest time marked (zero if none)
	Zone        *time.Location // the zone the periods are computed in (the client's, --tz)
	Stages      importStages   // time spent per stage

	TimeFormat   string // the time format used ("" when none was detected)
	TimeDetected bool   // TimeFormat was detected (no --time-format)
	TimeSampled  int    // rows whose time the detection looked at
	TimeMatched  int    // of those, rows TimeFormat reads

	// When the import stopped before the end of the input (Redis failed,
	// interrupted): UnreadFrom is the first line not read as a row (0: the
	// whole input was read) and Unread the number of lines from it to the
	// end (-1: not counted, see importConfig.CountUnread).
	UnreadFrom int
	Unread     int
}

// errImportHeader is wrapped when the header cannot be read, lacks a
// named column or names it twice.
var errImportHeader = errors.New("CSV header")

// importColumns are the header and the indexes of the columns import reads.
type importColumns struct {
	header     []string
	ui, ti, ei int // user, time and event column (ei -1: the fixed cfg.Event)
}

// importCSV marks every valid row of the CSV event log r through c, in
// batches of cfg.Batch rows, each sent with MarkEvents (pipelined). Each
// row is checked first; a bad row is recorded in the summary's Rejected
// with its line number(s) and reason, and the other rows go on. Every
// physical line of r is accounted for: the header, a blank line
// (Summary.Blank), a marked row or a rejected one. A quote left open
// rejects its own line and the lines it swallowed are read again as rows.
//
// With cfg.TimeFormat "" the time format is the one of detectableFormats
// that reads most of the first detectRows rows' times (Summary.TimeFormat).
//
// With cfg.CheckOnly every row is checked the same way but nothing is
// written (string ids are not mapped): the summary lists the rejected rows
// and Checked counts the rows that would be written.
//
// It returns an error (and the summary so far) only when the input cannot
// be read as a whole (no header; a *usageError when a named column is
// missing, appears twice, or two flags name the same column) or Redis fails.
func importCSV(ctx context.Context, c *bitmapist.Client, r io.Reader, cfg importConfig) (*importSummary, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	// Skip a UTF-8 byte order mark, as spreadsheets write; refuse a UTF-16
	// one (Excel's "Unicode text"), whose every other byte is a NUL.
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	if bom, err := br.Peek(2); err == nil && (string(bom) == "\xff\xfe" || string(bom) == "\xfe\xff") {
		return nil, fmt.Errorf("%w: the file is UTF-16 (it starts with the byte order mark % X): import reads UTF-8; convert it first, e.g. iconv -f UTF-16 -t UTF-8", errImportHeader, bom)
	}
	src := newCSVLines(br, cfg.Comma)
	cols, err := readImportHeader(src, cfg)
	if err != nil {
		return nil, err
	}
	sum := &importSummary{Events: map[string]int{}, TimeFormat: cfg.TimeFormat, Zone: c.Location()}
	imp := &batchImporter{c: c, cfg: cfg, sum: sum, cols: cols, idCache: map[string]uint64{}}
	parseStart := time.Now()
	last := 1 // last line handed to imp.add (the header's at first)
	done := func(err error) (*importSummary, error) {
		sum.Blank = src.Blank
		s, err := imp.finish(err, parseStart)
		if err != nil {
			s.UnreadFrom, s.Unread = unread(ctx, src, last, cfg.CountUnread)
		}
		return s, err
	}
	var ahead []csvRecord
	if cfg.TimeFormat == "" {
		if ahead, err = readAhead(ctx, src, detectRows); err != nil {
			return sum, err
		}
		sum.TimeDetected = true
		if imp.parseT, err = detectedParser(ahead, cols, c.Location(), sum); err != nil {
			return nil, err
		}
	} else if imp.parseT, err = timeParser(cfg.TimeFormat, c.Location()); err != nil {
		return nil, err
	}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return done(err)
		}
		var rec csvRecord
		if i < len(ahead) {
			rec = ahead[i]
		} else if rec, err = src.Next(); err == io.EOF {
			break
		} else if err != nil {
			return done(fmt.Errorf("reading CSV: %w", err))
		}
		last = rec.end
		if err := imp.add(ctx, rec); err != nil {
			return done(err)
		}
	}
	return done(imp.flush(ctx))
}

// unread returns the first line after last and how many lines of src
// there are from it to the end (0, 0 when there are none; -1 lines when
// count is false or ctx has ended, so that the rest was not counted).
func unread(ctx context.Context, src *csvLines, last int, count bool) (from, n int) {
	if src.atEOF {
		return 0, 0
	}
	if !count || ctx.Err() != nil {
		return last + 1, -1
	}
	rest, err := src.restLines()
	if err != nil {
		return last + 1, -1
	}
	if n = src.lines + rest - last; n <= 0 {
		return 0, 0
	}
	return last + 1, n
}

// readImportHeader reads the header record of src and finds the columns
// cfg names in it.
func readImportHeader(src *csvLines, cfg importConfig) (importColumns, error) {
	rec, err := src.Next()
	switch {
	case err == io.EOF:
		return importColumns{}, fmt.Errorf("%w: the file is empty", errImportHeader)
	case err != nil:
		return importColumns{}, fmt.Errorf("%w: %v", errImportHeader, err)
	case rec.err != nil:
		return importColumns{}, fmt.Errorf("%w: line %d: %v", errImportHeader, rec.line, rec.err)
	}
	cols := importColumns{header: rec.fields, ei: -1}
	header := rec.fields
	if cols.ui, err = headerColumn(header, cfg.UserCol, "--user-col"); err != nil {
		return cols, err
	}
	if cols.ti, err = headerColumn(header, cfg.TimeCol, "--time-col"); err != nil {
		return cols, err
	}
	if cols.ti == cols.ui {
		return cols, &usageError{err: fmt.Errorf("%w: --user-col and --time-col both name column %d (%s)", errImportHeader, cols.ui+1, quoteClip(header[cols.ui]))}
	}
	if cfg.EventCol != "" {
		if cols.ei, err = headerColumn(header, cfg.EventCol, "--event-col"); err != nil {
			return cols, err
		}
		if cols.ei == cols.ui || cols.ei == cols.ti {
			return cols, &usageError{err: fmt.Errorf("%w: --event-col names column %d (%s), already the user or time column", errImportHeader, cols.ei+1, quoteClip(header[cols.ei]))}
		}
	}
	return cols, nil
}

// readAhead reads up to n records of src.
func readAhead(ctx context.Context, src *csvLines, n int) ([]csvRecord, error) {
	var recs []csvRecord
	for len(recs) < n {
		if err := ctx.Err(); err != nil {
			return recs, err
		}
		rec, err := src.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return recs, fmt.Errorf("reading CSV: %w", err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// detectedParser chooses the time format from the time column of recs
// (detectTimeFormat), records it in sum, and returns its parser; when no
// format reads any of them, every time is rejected with a message saying
// what to give --time-format.
func detectedParser(recs []csvRecord, cols importColumns, loc *time.Location, sum *importSummary) (func(string) (time.Time, error), error) {
	var samples []string
	for _, r := range recs {
		if r.err == nil && len(r.fields) == len(cols.header) {
			samples = append(samples, r.fields[cols.ti])
		}
	}
	format, n, ok := detectTimeFormat(samples)
	sum.TimeSampled, sum.TimeMatched = shapeCounts(format, n, samples, loc)
	if !ok {
		return func(s string) (time.Time, error) {
			return time.Time{}, fmt.Errorf("%s is in none of the time formats import recognises (RFC 3339, 2006-01-02 15:04:05, 2006-01-02, Unix seconds or ms): give --time-format", quoteClip(s))
		}, nil
	}
	sum.TimeFormat = format
	parse, err := timeParser(format, loc)
	if err != nil {
		return nil, err
	}
	return func(s string) (time.Time, error) {
		t, err := parse(s)
		// A detected format also refuses what it could parse but the
		// detection would not count (Unix seconds where milliseconds were
		// detected would land in 1970).
		if !errors.Is(err, errBadDate) && !errors.Is(err, bitmapist.ErrInvalidTime) && !formatMatches(format, strings.TrimSpace(s)) {
			return time.Time{}, fmt.Errorf("%s does not match %s (the format of the first rows; --time-format sets another)", quoteClip(s), format)
		}
		return t, err
	}, nil
}

// shapeCounts returns how many of samples have a time (empty ones left
// out) and how many of those are written in format: the n it reads, plus
// those of its shape that name no real date (2024-02-30; rejected as "not
// a valid date", not as another format) or a year it cannot hold
// (10000-01-01; rejected as outside 1..9999).
func shapeCounts(format string, n int, samples []string, loc *time.Location) (sampled, matched int) {
	raw, err := rawTimeParser(format, loc)
	for _, s := range samples {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		sampled++
		if format == "" || err != nil || formatMatches(format, s) {
			continue
		}
		if _, perr := raw(s); errors.Is(perr, errBadDate) || errors.Is(perr, bitmapist.ErrInvalidTime) {
			n++
		}
	}
	return sampled, n
}

// headerColumn returns the index of the column of header named name (the
// exact name, else the only one equal to it ignoring case), or a
// *usageError wrapping errImportHeader when there is none or more than one.
// flag is the flag that gave name, for the message.
func headerColumn(header []string, name, flag string) (int, error) {
	for _, fold := range []bool{false, true} {
		var found []int
		for i, h := range header {
			h = strings.TrimSpace(h)
			if h == name || (fold && strings.EqualFold(h, name)) {
				found = append(found, i)
			}
		}
		switch {
		case len(found) == 1:
			return found[0], nil
		case len(found) > 1:
			return 0, &usageError{err: fmt.Errorf("%w: %s %s matches columns %d and %d: rename one of them", errImportHeader, flag, quoteClip(name), found[0]+1, found[1]+1)}
		}
	}
	names := make([]string, len(header))
	for i, h := range header {
		names[i] = echoClip(h)
	}
	hint := ""
	if strings.ContainsRune(strings.Join(header, ""), '\r') {
		hint = " (the header holds a carriage return: the file's lines end in CR alone, as old Mac files do; convert them to LF or CRLF)"
	} else if len(header) == 1 {
		for _, d := range []struct{ char, name, flag string }{{";", "semicolon", ";"}, {"\t", "tab", `\t`}, {"|", "pipe", "|"}} {
			if strings.Contains(header[0], d.char) {
				hint = fmt.Sprintf(" (the header is one column containing %q: if the file is %s-separated, give --delimiter '%s')", d.char, d.name, d.flag)
				break
			}
		}
	}
	return 0, &usageError{err: fmt.Errorf("%w: no column %s (%s); the columns are %s%s", errImportHeader, quoteClip(name), flag, clip(strings.Join(names, ", ")), hint)}
}

// parseUserID parses an integer user id 0..maxID into *id, or says why it
// cannot.
func parseUserID(s string, maxID uint64, id *uint64) (reason, detail string, ok bool) {
	v, err := strconv.ParseUint(s, 10, 64)
	if err == nil && v <= maxID {
		*id = v
		return "", "", true
	}
	if n, ierr := strconv.ParseInt(s, 10, 64); ierr == nil && n < 0 {
		return reasonIDRange, fmt.Sprintf("%s is negative (ids are 0..%d)", s, maxID), false
	}
	var ne *strconv.NumError
	if err == nil || (errors.As(err, &ne) && errors.Is(ne.Err, strconv.ErrRange)) {
		return reasonIDRange, fmt.Sprintf("%s is above %d%s", clip(s), maxID, maxIDHint(maxID)), false
	}
	return reasonBadID, fmt.Sprintf("%s is not an integer (use --string-ids for string ids)", quoteClip(s)), false
}

// timeParser returns a function that parses the time column in format,
// reading zone-less times in loc. A time whose year in loc is outside
// 1..9999 is an error (bitmapist.ErrInvalidTime: such keys cannot be listed
// or deleted, and Python cannot read them).
func timeParser(format string, loc *time.Location) (func(string) (time.Time, error), error) {
	parse, err := rawTimeParser(format, loc)
	if err != nil {
		return nil, err
	}
	return func(s string) (time.Time, error) {
		t, err := parse(s)
		if err != nil {
			return t, err
		}
		if err := checkYear(t, loc); err != nil {
			return time.Time{}, fmt.Errorf("%s: %s", quoteClip(s), strings.TrimPrefix(err.Error(), bitmapist.ErrInvalidTime.Error()+": "))
		}
		return t, nil
	}, nil
}

// rawTimeParser is timeParser without the year check of the times it
// reads (a year it cannot read at all, 10000-01-01, is an error wrapping
// bitmapist.ErrInvalidTime: yearOutOfRange).
func rawTimeParser(format string, loc *time.Location) (func(string) (time.Time, error), error) {
	switch strings.ToLower(format) {
	case "rfc3339":
		return func(s string) (time.Time, error) {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
				if bad := badDate(s, err); bad != nil {
					return t, bad
				}
				if yerr := yearOutOfRange(s, func(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }); yerr != nil {
					return t, yerr
				}
				return t, fmt.Errorf("%s is not an RFC 3339 time", quoteClip(s))
			}
			return t, nil
		}, nil
	case "unix", "unixms":
		ms := strings.EqualFold(format, "unixms")
		return func(s string) (time.Time, error) {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return time.Time{}, fmt.Errorf("%s is not a Unix time (%s)", quoteClip(s), format)
			}
			if ms {
				return time.UnixMilli(n).In(loc), nil
			}
			return time.Unix(n, 0).In(loc), nil
		}, nil
	}
	probe := time.Date(2024, 12, 30, 5, 10, 0, 0, time.UTC).Format(format)
	if _, err := time.Parse(format, probe); err != nil || probe == format {
		return nil, usagef("--time-format %s is not a Go time layout (like 2006-01-02 or 2006-01-02 15:04:05) nor rfc3339, unix, unixms", quoteClip(format))
	}
	parse := cohort.WallParser(format, loc)
	return func(s string) (time.Time, error) {
		t, err := parse(s)
		if errors.Is(err, bitmapist.ErrSkippedTime) {
			return t, err
		}
		if err != nil {
			if bad := badDate(s, err); bad != nil {
				return t, bad
			}
			if yerr := yearOutOfRange(s, func(s string) (time.Time, error) { return time.ParseInLocation(format, s, loc) }); yerr != nil {
				return t, yerr
			}
			return t, fmt.Errorf("%s does not match %s", quoteClip(s), format)
		}
		return t, nil
	}, nil
}

// errBadDate is wrapped when a time has the format's shape but names a
// day, month, hour... that does not exist (2024-02-30).
var errBadDate = errors.New("not a valid date")

// badDate returns an error wrapping errBadDate when err (from parsing s)
// says a field is out of range, else nil.
func badDate(s string, err error) error {
	var pe *time.ParseError
	if errors.As(err, &pe) && strings.Contains(pe.Message, "out of range") {
		return fmt.Errorf("%s is %w (%s)", quoteClip(s), errBadDate, strings.TrimPrefix(pe.Message, ": "))
	}
	return nil
}

// pendingRow is a checked row waiting in a batch.
type pendingRow struct {
	line   int
	end    int      // last line (a quoted field may span lines)
	fields []string // the record's fields, for the rejects' Row
	user   string   // as written; mapped through the id map with StringIDs
	id     uint64   // the integer id (set later with StringIDs)
	event  string
	at     time.Time
}

// batchImporter collects checked rows and writes them a batch at a time.
type batchImporter struct {
	c      *bitmapist.Client
	cfg    importConfig
	cols   importColumns
	parseT func(string) (time.Time, error)
	sum    *importSummary
	rows   []pendingRow
	pipe   *writePipe // the writer goroutine; nil until the first batch
	// lastEvent is the last event name that passed ValidateEventName.
	lastEvent string
	// Used by the writer goroutine only:
	users   userSet
	marks   []bitmapist.Mark
	wrej    []rejectedRow     // rows rejected while writing
	idCache map[string]uint64 // string ids already mapped (idCacheSize at most)
	stages  importStages
}

// reject records a row (lines line..end, content row) that is not marked.
func (b *batchImporter) reject(line, end int, reason, detail, row string) {
	b.sum.Rejected = append(b.sum.Rejected, rejectedRow{Line: line, End: end, Reason: reason, Detail: detail, Row: row})
}

// add checks the record rec and queues it for the next batch, or rejects
// it; a full batch is written.
func (b *batchImporter) add(ctx context.Context, rec csvRecord) error {
	b.sum.Rows++
	if rec.err != nil {
		b.reject(rec.line, rec.end, reasonCSV, rec.err.Error(), rec.raw)
		return nil
	}
	row, reason, detail := b.check(rec)
	if reason != "" {
		b.reject(rec.line, rec.end, reason, detail, joinCSV(rec.fields, b.cfg.Comma))
		return nil
	}
	b.rows = append(b.rows, row)
	if len(b.rows) >= b.cfg.Batch {
		return b.flush(ctx)
	}
	return nil
}

// check turns the fields of rec into a row, or says why it cannot.
func (b *batchImporter) check(rec csvRecord) (row pendingRow, reason, detail string) {
	h, f := b.cols.header, rec.fields
	if len(f) != len(h) {
		return row, reasonColumns, fmt.Sprintf("%d fields, the header has %d", len(f), len(h))
	}
	row = pendingRow{line: rec.line, end: rec.end, fields: f, user: strings.TrimSpace(f[b.cols.ui]), event: b.cfg.Event}
	if ei := b.cols.ei; ei >= 0 {
		row.event = strings.TrimSpace(f[ei])
		if row.event == "" {
			return row, reasonMissingEv, fmt.Sprintf("column %s is empty", h[ei])
		}
		if row.event != b.lastEvent {
			if err := bitmapist.ValidateEventName(row.event); err != nil {
				return row, reasonBadEvent, eventNameWhy(row.event, err)
			}
			b.lastEvent = row.event
		}
	}
	if row.user == "" {
		return row, reasonMissingID, fmt.Sprintf("column %s is empty", h[b.cols.ui])
	}
	if !b.cfg.StringIDs {
		if reason, detail, ok := parseUserID(row.user, b.c.MaxUserID(), &row.id); !ok {
			return row, reason, detail
		}
	}
	ts := strings.TrimSpace(f[b.cols.ti])
	if ts == "" {
		return row, reasonMissingT, fmt.Sprintf("column %s is empty", h[b.cols.ti])
	}
	var err error
	if row.at, err = b.parseT(ts); err != nil {
		return row, reasonBadTime, err.Error()
	}
	return row, "", ""
}

// write maps the batch's string ids (one pipelined round trip for the
// strings not seen before) and marks its rows (one MarkEvents call). It
// runs on the writer goroutine (importpipe.go); every row ends up marked
// or in b.wrej.
func (b *batchImporter) write(ctx context.Context, rows []pendingRow) error {
	if b.cfg.StringIDs {
		start := time.Now()
		mapped, err := b.mapIDs(ctx, rows)
		b.stages.IDMap += time.Since(start)
		if err != nil {
			b.rejectRows(rows, reasonNotWritten, "the id map failed before this row's batch was written")
			return writeError("mapping the string ids of", rows, err)
		}
		rows = mapped
	}
	if len(rows) == 0 {
		return nil
	}
	start := time.Now()
	defer func() { b.stages.Mark += time.Since(start) }()
	b.marks = b.marks[:0]
	for _, r := range rows {
		b.marks = append(b.marks, bitmapist.Mark{Event: r.event, UserID: r.id, Time: r.at})
	}
	opts := []bitmapist.MarkOption{bitmapist.TrackHourly(b.cfg.Hourly), bitmapist.TrackUnique(b.cfg.Unique)}
	if err := b.c.MarkEvents(ctx, b.marks, opts...); err != nil {
		b.count(b.failed(rows, err))
		return writeError("marking", rows, err)
	}
	b.count(rows)
	return nil
}

// count adds marked rows to the summary.
func (b *batchImporter) count(rows []pendingRow) {
	for _, r := range rows {
		b.sum.Marked++
		b.sum.MarkedLines += r.end - r.line + 1
		b.sum.Events[r.event]++
		b.users.add(r.id)
		if b.sum.First.IsZero() || r.at.Before(b.sum.First) {
			b.sum.First = r.at
		}
		if r.at.After(b.sum.Last) {
			b.sum.Last = r.at
		}
	}
}

// failed rejects the rows of a MarkEvents call that failed with err: "not
// written" for those Redis surely did not write, "may have been written"
// for those whose write was sent without a reply (ErrUnknownOutcome). It
// returns the rows that were written.
func (b *batchImporter) failed(rows []pendingRow, err error) []pendingRow {
	var be *bitmapist.BatchError
	if !errors.As(err, &be) {
		be = &bitmapist.BatchError{Total: len(rows), Failed: []bitmapist.FailedRange{{From: 0, To: len(rows), Err: err}}}
	}
	written := make([]pendingRow, 0, len(rows))
	next := 0
	for _, f := range be.Failed {
		written = append(written, rows[next:f.From]...)
		reason, detail := reasonNotWritten, "Redis failed before this row's batch was written"
		if f.Unknown() {
			reason, detail = reasonMaybe, "sent to Redis, but no reply confirmed it (timeout or lost connection)"
		}
		for _, r := range rows[f.From:f.To] {
			b.rejectW(r, reason, detail)
		}
		next = f.To
	}
	return append(written, rows[next:]...)
}

// mapIDs sets the id of every row from the id map and returns the rows
// that got one; rows whose string no longer fits are rejected.
func (b *batchImporter) mapIDs(ctx context.Context, rows []pendingRow) ([]pendingRow, error) {
	m := b.c.IDMap(b.cfg.IDMap)
	index := map[string]int{}
	var strs []string
	for i, r := range rows {
		if id, ok := b.idCache[r.user]; ok {
			rows[i].id = id
			continue
		}
		if _, ok := index[r.user]; !ok {
			index[r.user] = len(strs)
			strs = append(strs, r.user)
		}
	}
	if len(strs) == 0 {
		return rows, nil
	}
	ids, err := m.IDs(ctx, strs)
	if errors.Is(err, bitmapist.ErrIDMapFull) {
		// Some strings fitted before the map filled up: ask one by one to
		// tell which rows to reject.
		ids = make([]uint64, len(strs))
		full := make([]bool, len(strs))
		for i, s := range strs {
			id, err := m.ID(ctx, s)
			switch {
			case errors.Is(err, bitmapist.ErrIDMapFull):
				full[i] = true
			case err != nil:
				return nil, err
			}
			ids[i] = id
		}
		kept := rows[:0]
		for _, r := range rows {
			i, asked := index[r.user]
			if !asked {
				kept = append(kept, r) // from the cache
				continue
			}
			if full[i] {
				b.rejectW(r, reasonIDMapFull, fmt.Sprintf("no offset left in id map %q for %s", b.cfg.IDMap, quoteClip(r.user)))
				continue
			}
			r.id = ids[i]
			kept = append(kept, r)
		}
		return kept, nil
	}
	if err != nil {
		return nil, err
	}
	if len(b.idCache)+len(strs) > idCacheSize {
		clear(b.idCache)
	}
	for i, s := range strs {
		b.idCache[s] = ids[i]
	}
	for i := range rows {
		if j, ok := index[rows[i].user]; ok {
			rows[i].id = ids[j]
		}
	}
	return rows, nil
}

// maxIDHint names the flag that set a maximum id below bitmapist.MaxUserID.
func maxIDHint(maxID uint64) string {
	if maxID < bitmapist.MaxUserID {
		return " (--max-id)"
	}
	return ""
}

// maxRowEcho is how many bytes of a rejected row's content the --rejects
// file holds; a longer row is cut (clipRow).
const maxRowEcho = 4096

// clipRow returns s cut to at most maxRowEcho bytes (on a character
// boundary) with "…" appended when it was cut.
func clipRow(s string) string {
	if len(s) <= maxRowEcho {
		return s
	}
	i := maxRowEcho
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

// joinCSV returns fields as one CSV record with the delimiter comma (0:
// ','), without the line break, cut by clipRow: the content of a
// rejected row.
func joinCSV(fields []string, comma rune) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	if comma != 0 {
		w.Comma = comma
	}
	_ = w.Write(fields) // a strings.Builder does not fail
	w.Flush()
	return clipRow(strings.TrimRight(b.String(), "\r\n"))
}
