package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// importConfig says how importCSV reads an event log.
type importConfig struct {
	UserCol    string // header name of the user id column (required)
	TimeCol    string // header name of the time column (required)
	EventCol   string // header name of the event column; or
	Event      string // the one event name of every row (when EventCol is "")
	TimeFormat string // Go layout, or "rfc3339", "unix" (seconds), "unixms"; default "2006-01-02"
	StringIDs  bool   // user ids are strings, mapped through the id map IDMap
	IDMap      string // id map name (default bitmapist.DefaultIDMap)
	Batch      int    // rows per MarkEvents call (default importBatch)
	Comma      rune   // field delimiter (default ',')
	Hourly     bool   // also write hour bitmaps
	Unique     bool   // also write unique bitmaps
	CheckOnly  bool   // check every row, write nothing (Marked stays 0)
}

// importBatch is the default number of rows per MarkEvents call: big
// batches keep the writer's connection streaming (10,000-row batches
// imported 1,000,000 rows at 190,000 rows/s, 100,000-row ones at 320,000).
const importBatch = 100_000

// check fills in the defaults of cfg and returns a *usageError when the
// flags contradict each other or name a bad event or time format, so that
// the command can refuse them before connecting to Redis.
func (cfg *importConfig) check() error {
	if cfg.TimeFormat == "" {
		cfg.TimeFormat = "2006-01-02"
	}
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
	Reason string // one of the reason* constants
	Detail string // what exactly was wrong, e.g. `"2011-13-01" does not match 2006-01-02`
}

// String returns "line N: reason: detail".
func (r rejectedRow) String() string {
	return fmt.Sprintf("line %d: %s: %s", r.Line, r.Reason, r.Detail)
}

// importSummary is what importCSV did.
type importSummary struct {
	Rows     int            // data rows read (the header is not a row)
	Marked   int            // rows marked
	Checked  int            // with CheckOnly: rows that passed the checks
	Rejected []rejectedRow  // rows not marked, in file order
	Users    int            // distinct user ids among marked rows
	Events   map[string]int // marked rows per event name
	First    time.Time      // earliest time marked (zero if none)
	Last     time.Time      // latest time marked (zero if none)
	Stages   importStages   // time spent per stage
}

// errImportHeader is wrapped when the header cannot be read, lacks a
// named column or names it twice.
var errImportHeader = errors.New("CSV header")

// importCSV marks every valid row of the CSV event log r through c, in
// batches of cfg.Batch rows, each sent with MarkEvents (pipelined). Each
// row is checked first; a bad row is recorded in the summary's Rejected
// with its line number and reason, and the other rows go on.
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
	parseT, err := timeParser(cfg.TimeFormat, c.Location())
	if err != nil {
		return nil, err
	}
	// Skip a UTF-8 byte order mark, as spreadsheets write.
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if cfg.Comma != 0 {
		cr.Comma = cfg.Comma
	}
	header, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the file is empty", errImportHeader)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errImportHeader, err)
	}
	header = slices.Clone(header)
	ui, err := headerColumn(header, cfg.UserCol, "--user-col")
	if err != nil {
		return nil, err
	}
	ti, err := headerColumn(header, cfg.TimeCol, "--time-col")
	if err != nil {
		return nil, err
	}
	if ti == ui {
		return nil, &usageError{err: fmt.Errorf("%w: --user-col and --time-col both name column %d (%s)", errImportHeader, ui+1, quoteClip(header[ui]))}
	}
	ei := -1
	if cfg.EventCol != "" {
		if ei, err = headerColumn(header, cfg.EventCol, "--event-col"); err != nil {
			return nil, err
		}
		if ei == ui || ei == ti {
			return nil, &usageError{err: fmt.Errorf("%w: --event-col names column %d (%s), already the user or time column", errImportHeader, ei+1, quoteClip(header[ei]))}
		}
	}

	sum := &importSummary{Events: map[string]int{}}
	imp := &batchImporter{c: c, cfg: cfg, sum: sum, idCache: map[string]uint64{}}
	parseStart := time.Now()
	for {
		if err := ctx.Err(); err != nil {
			return imp.finish(err, parseStart)
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return imp.finish(fmt.Errorf("reading CSV: %w", err), parseStart)
			}
			sum.Rows++
			imp.reject(pe.StartLine, reasonCSV, pe.Err.Error())
			continue
		}
		sum.Rows++
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			imp.reject(line, reasonColumns, fmt.Sprintf("%d fields, the header has %d", len(rec), len(header)))
			continue
		}
		row := pendingRow{line: line, user: strings.TrimSpace(rec[ui]), event: cfg.Event}
		if ei >= 0 {
			row.event = strings.TrimSpace(rec[ei])
			if row.event == "" {
				imp.reject(line, reasonMissingEv, fmt.Sprintf("column %s is empty", header[ei]))
				continue
			}
			if row.event != imp.lastEvent {
				if err := bitmapist.ValidateEventName(row.event); err != nil {
					imp.reject(line, reasonBadEvent, eventNameWhy(row.event, err))
					continue
				}
				imp.lastEvent = row.event
			}
		}
		if row.user == "" {
			imp.reject(line, reasonMissingID, fmt.Sprintf("column %s is empty", header[ui]))
			continue
		}
		if !cfg.StringIDs {
			if reason, detail, ok := parseUserID(row.user, c.MaxUserID(), &row.id); !ok {
				imp.reject(line, reason, detail)
				continue
			}
		}
		ts := strings.TrimSpace(rec[ti])
		if ts == "" {
			imp.reject(line, reasonMissingT, fmt.Sprintf("column %s is empty", header[ti]))
			continue
		}
		if row.at, err = parseT(ts); err != nil {
			imp.reject(line, reasonBadTime, err.Error())
			continue
		}
		imp.rows = append(imp.rows, row)
		if len(imp.rows) >= cfg.Batch {
			if err := imp.flush(ctx); err != nil {
				return imp.finish(err, parseStart)
			}
		}
	}
	err = imp.flush(ctx)
	return imp.finish(err, parseStart)
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
		names[i] = clip(h)
	}
	return 0, &usageError{err: fmt.Errorf("%w: no column %s (%s); the columns are %s", errImportHeader, quoteClip(name), flag, clip(strings.Join(names, ", ")))}
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

// rawTimeParser is timeParser without the year check.
func rawTimeParser(format string, loc *time.Location) (func(string) (time.Time, error), error) {
	switch strings.ToLower(format) {
	case "rfc3339":
		return func(s string) (time.Time, error) {
			t, err := time.Parse(time.RFC3339Nano, s)
			if err != nil {
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
	return func(s string) (time.Time, error) {
		t, err := time.ParseInLocation(format, s, loc)
		if err != nil {
			return t, fmt.Errorf("%s does not match %s", quoteClip(s), format)
		}
		return t, nil
	}, nil
}

// pendingRow is a checked row waiting in a batch.
type pendingRow struct {
	line  int
	user  string // as written; mapped through the id map with StringIDs
	id    uint64 // the integer id (set later with StringIDs)
	event string
	at    time.Time
}

// batchImporter collects checked rows and writes them a batch at a time.
type batchImporter struct {
	c    *bitmapist.Client
	cfg  importConfig
	sum  *importSummary
	rows []pendingRow
	pipe *writePipe // the writer goroutine; nil until the first batch
	// lastEvent is the last event name that passed ValidateEventName.
	lastEvent string
	// Used by the writer goroutine only:
	users   userSet
	marks   []bitmapist.Mark
	wrej    []rejectedRow     // rows rejected while writing
	idCache map[string]uint64 // string ids already mapped (idCacheSize at most)
	stages  importStages
}

// reject records a row that is not marked.
func (b *batchImporter) reject(line int, reason, detail string) {
	b.sum.Rejected = append(b.sum.Rejected, rejectedRow{Line: line, Reason: reason, Detail: detail})
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
			return err
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
		first, last := rows[0].line, rows[len(rows)-1].line
		b.count(b.failed(rows, err))
		return fmt.Errorf("marking rows %d..%d: %w", first, last, err)
	}
	b.count(rows)
	return nil
}

// count adds marked rows to the summary.
func (b *batchImporter) count(rows []pendingRow) {
	for _, r := range rows {
		b.sum.Marked++
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
			b.rejectW(r.line, reason, detail)
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
				b.rejectW(r.line, reasonIDMapFull, fmt.Sprintf("no offset left in id map %q for %s", b.cfg.IDMap, quoteClip(r.user)))
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
