package main

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// shownRejects is how many rejected rows the import summary lists by
// default; --rejects writes them all to a file.
const shownRejects = 20

// importCommand builds "import": importCSV on a file or stdin, with a
// progress bar and a summary.
func (a *app) importCommand() *cobra.Command {
	var (
		cfg      importConfig
		delim    string
		quiet    bool
		show     int
		rejects  string
		failRejs bool
		allowRej bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Load a CSV event log (user, time, event per row) into Redis",
		Long: `Load a CSV event log into Redis: every row marks one event for one user at one
time. The first line is the header; columns are chosen by name. The event is
either a column (--event-col) or one fixed name for every row (--event).

Each row is checked before it is written. A bad row (wrong column count,
missing or malformed id, id out of range 0..--max-id (268435455 unless
raised, up to 4294967295), missing or malformed time, a year outside
1..9999, bad event name, broken CSV quoting) is rejected
and reported with its line number and reason; the other rows go on. Every
line of the file is accounted for: the header, blank lines (skipped), marked
rows and rejected rows. A quote that is never closed rejects its own line;
the lines it swallowed are read again as rows of their own. Rows are sent in
batches, pipelined. FILE "-" reads stdin; a FILE ending in .gz is
decompressed. The file is UTF-8 (a byte order mark is skipped; UTF-16 is
refused) with LF or CRLF line ends.

Times: without --time-format, the format is detected from the time column of
the first 100 rows: RFC 3339 with or without zone (2024-01-02T15:04:05Z,
2024-01-02T15:04:05), 2024-01-02 15:04:05 (also with a zone or without
seconds), 2024-01-02, Unix seconds (1704207845) or milliseconds
(1704207845000). The summary says which; rows in another format are rejected.
Zone-less times are read in --tz, as --now and the dashboard read them: a
time the clocks skipped there (02:30 on a spring-forward day of
Europe/Berlin) is rejected ("bad time", naming the gap and the first time
after it), never shifted into another hour; a repeated time (clocks turned
back) is its first occurrence; a date is its day's first real instant
(01:00 on a day whose midnight America/Sao_Paulo skipped), and a day the
zone skipped entirely (Pacific/Apia's 2011-12-30) is rejected.

Exit status: 0 when every data row was marked (--allow-rejects: also when
rows were rejected); 3 when rows were rejected (the others were marked,
unless --fail-on-reject); 1 when the import failed (Redis down, unreadable
file; the summary says what was marked, which rows were not written or may
have been written (sent without a reply: counted apart, never as rejected),
and from which line on the file was not read, with the number of lines
left); 2 for bad flags.

With --fail-on-reject the whole input is checked first (stdin is copied to a
temporary file for that) and nothing is written if any row is rejected (exit
status 3). Only a string id map that fills up while writing can still reject
rows after the first write. The --rejects file is created before anything is
written; it has one line per rejected row, line,end_line,reason,detail,row,
where row is the rejected row itself (its fields as CSV with --delimiter, or
the raw line when it is not valid CSV; a row longer than 4096 bytes is cut,
ending in "…"), so that it can be fixed and imported again.

The summary (rows, users, events, rejected rows) goes to stdout; the progress
bar to stderr, only when stderr is a terminal and --quiet is not given.`,
		Example: `  # the UCI Online Retail log: integer ids, one fixed event
  bitmapist import --allow-rejects --user-col CustomerID --time-col InvoiceDate --event customer:purchased online_cohorts.csv

  # a game's launch log: 64-hex-character string ids, the event in a column
  bitmapist import --string-ids --user-col userid --time-col eventDate --event-col eventName gamelaunch.csv

  # day-first times, semicolon-separated
  bitmapist import --time-format '02/01/2006 15:04' --delimiter ';' --user-col uid --time-col ts --event signup log.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := checkImportFlags(cmd, &cfg, delim, show); err != nil {
				return err
			}
			if failRejs && allowRej {
				return usagef("--fail-on-reject and --allow-rejects contradict each other")
			}
			if err := cfg.check(); err != nil {
				return err
			}
			var (
				src  *os.File // the file, or a copy of stdin for --fail-on-reject
				in   io.Reader
				size int64 = -1
				name       = "stdin"
			)
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				if st, err := f.Stat(); err == nil {
					size = st.Size()
				}
				src, in, name = f, f, args[0]
			} else {
				in = a.stdin
			}
			// The rejects file is prepared before anything is written, so
			// that a bad path fails the run with Redis untouched; an
			// existing file is replaced only when the run gets to write it.
			var rejectsFile *rejectsOut
			if rejects != "" {
				out, err := openRejects(rejects, src)
				if err != nil {
					return fmt.Errorf("--rejects: %w", err)
				}
				defer out.discard()
				rejectsFile = out
			}
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()

			// pass reads the whole input once with cfg (from the start of
			// src when there is one).
			pass := func(desc string, cfg importConfig) (*importSummary, error) {
				raw := in
				if src != nil {
					if _, err := src.Seek(0, io.SeekStart); err != nil {
						return nil, err
					}
					raw = src
				}
				// The bar counts the bytes of the file itself, compressed or not.
				bar := a.newBar(size, desc+" "+name, quiet, true)
				if bar != nil {
					raw = io.TeeReader(raw, bar)
				}
				r := raw
				if strings.HasSuffix(name, ".gz") {
					zr, err := gzip.NewReader(raw)
					if err != nil {
						return nil, fmt.Errorf("%s: not readable as gzip (its name ends in .gz): %w", name, err)
					}
					defer zr.Close()
					r = zr
				}
				cfg.CountUnread = src != nil // a file ends; stdin may not
				sum, err := importCSV(ctx, c, r, cfg)
				if bar != nil {
					_ = bar.Finish()
					fmt.Fprintln(a.stderr)
				}
				return sum, err
			}

			if failRejs {
				// Check every row first; write nothing if any is rejected.
				if src == nil {
					tmp, err := spool(ctx, a.stdin)
					if err != nil {
						return err
					}
					defer os.Remove(tmp.Name())
					defer tmp.Close()
					src = tmp
				}
				check := cfg
				check.CheckOnly = true
				sum, err := pass("checking", check)
				if err != nil {
					return err
				}
				if len(sum.Rejected) > 0 {
					a.printCheckSummary(name, sum, show)
					if rejectsFile != nil {
						if err := rejectsFile.write(sum.Rejected); err != nil {
							return fmt.Errorf("--rejects: %w", err)
						}
					}
					return fmt.Errorf("%w: %d of %d rows (--fail-on-reject): nothing written", errRowsRejected, len(sum.Rejected), sum.Rows)
				}
			}
			sum, err := pass("importing", cfg)
			if sum != nil {
				a.printImportSummary(name, sum, show)
				if rejectsFile != nil {
					if werr := rejectsFile.write(sum.Rejected); werr != nil && err == nil {
						err = fmt.Errorf("--rejects: %w", werr)
					}
				}
			}
			if err != nil {
				return err
			}
			if len(sum.Rejected) > 0 && !allowRej {
				return fmt.Errorf("%w: %d of %d rows, %d marked (see the summary; --allow-rejects exits 0 for this)", errRowsRejected, len(sum.Rejected), sum.Rows, sum.Marked)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.UserCol, "user-col", "", "header name of the user id column (required)")
	f.StringVar(&cfg.TimeCol, "time-col", "", "header name of the time column (required)")
	f.StringVar(&cfg.EventCol, "event-col", "", "header name of the event name column")
	f.StringVar(&cfg.Event, "event", "", "one event name for every row (instead of --event-col)")
	f.StringVar(&cfg.TimeFormat, "time-format", "", "Go time layout of the time column (2006-01-02 15:04:05), or rfc3339, unix (seconds), unixms; default: detected from the first 100 rows; zone-less times are read in --tz")
	f.BoolVar(&cfg.StringIDs, "string-ids", false, "user ids are strings (UUIDs, hashes, e-mails), mapped to dense integers through the id map")
	f.StringVar(&cfg.IDMap, "id-map", bitmapist.DefaultIDMap, "name of the string id map (with --string-ids)")
	f.IntVar(&cfg.Batch, "batch", importBatch, "rows per pipelined batch (1 or more); a batch is parsed while the previous one is written")
	f.StringVar(&delim, "delimiter", ",", `field delimiter (one character; \t for tab)`)
	f.BoolVar(&cfg.Hourly, "hourly", false, "also write hour bitmaps (TRACK_HOURLY)")
	f.BoolVar(&cfg.Unique, "unique", false, "also write unique bitmaps (TRACK_UNIQUE)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	f.IntVar(&show, "show-rejected", shownRejects, "list at most this many rejected rows in the summary (-1: all)")
	f.StringVar(&rejects, "rejects", "", "write every rejected row to this CSV file: line,end_line,reason,detail,row (row: the rejected row itself, as CSV, or its raw line when it is not valid CSV; cut at 4096 bytes)")
	f.BoolVar(&failRejs, "fail-on-reject", false, "check every row first and write nothing (exit status 3) when any row is rejected")
	f.BoolVar(&allowRej, "allow-rejects", false, "exit status 0 even when rows were rejected (they are still reported)")
	return cmd
}

// checkImportFlags checks the import flags that cfg.check does not (it
// fills in defaults for zero values, for callers other than the command)
// and sets cfg.Comma from the --delimiter value delim. Errors are
// *usageError values.
func checkImportFlags(cmd *cobra.Command, cfg *importConfig, delim string, show int) error {
	if delim == `\t` {
		delim = "\t"
	}
	r, n := utf8.DecodeRuneInString(delim)
	if n != len(delim) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' {
		return usagef("--delimiter %s: want one character (not a quote or a line break)", quoteClip(delim))
	}
	cfg.Comma = r
	switch {
	case cfg.Batch < 1:
		return usagef("--batch %d: want 1 or more rows per batch", cfg.Batch)
	case show < -1:
		return usagef("--show-rejected %d: want -1 (all), 0 (none) or a positive number", show)
	case cmd.Flags().Changed("time-format") && strings.TrimSpace(cfg.TimeFormat) == "":
		return usagef("--time-format: empty value (leave it out to detect the format)")
	case strings.TrimSpace(cfg.IDMap) == "":
		return usagef("--id-map: empty value")
	case cmd.Flags().Changed("id-map") && !cfg.StringIDs:
		return usagef("--id-map works only with --string-ids")
	}
	return nil
}

// spool copies r to a new temporary file and returns it; the caller
// removes it.
func spool(ctx context.Context, r io.Reader) (*os.File, error) {
	tmp, err := os.CreateTemp("", "bitmapist-import-*.csv")
	if err != nil {
		return nil, fmt.Errorf("copy stdin for --fail-on-reject: %w", err)
	}
	if _, err := io.Copy(tmp, ctxReader{ctx, r}); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("copy stdin for --fail-on-reject: %w", err)
	}
	return tmp, nil
}

// ctxReader is a reader that fails with ctx's error once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

// Read reads from the wrapped reader unless the context has ended.
func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// isTerminal reports whether w is a terminal (a character device).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// newBar returns a progress bar on stderr counting bytes (or items when
// bytes is false) up to max (-1: unknown), or nil when quiet or when
// stderr is not a terminal.
func (a *app) newBar(max int64, desc string, quiet, bytes bool) *progressbar.ProgressBar {
	if quiet || !isTerminal(a.stderr) {
		return nil
	}
	opts := []progressbar.Option{
		progressbar.OptionSetWriter(a.stderr),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000), // 0.1 s
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
	}
	if bytes {
		opts = append(opts, progressbar.OptionShowBytes(true))
	}
	return progressbar.NewOptions64(max, opts...)
}

// printCheckSummary writes the summary of a check pass (--fail-on-reject)
// that rejected rows to stdout.
func (a *app) printCheckSummary(name string, s *importSummary, show int) {
	fmt.Fprintf(a.stdout, "checked %s: nothing written (--fail-on-reject)\n", name)
	fmt.Fprintf(a.stdout, "  rows:     %d read, %d good, %d rejected%s\n", s.Rows, s.Checked, len(s.Rejected), blankNote(s.Blank))
	printTimeFormat(a.stdout, s)
	a.printRejected(s.Rejected, show)
}

// printImportSummary writes the summary of one import to stdout.
func (a *app) printImportSummary(name string, s *importSummary, show int) {
	w := a.stdout
	fmt.Fprintf(w, "imported %s\n", name)
	bad, notWritten, maybe := splitRejected(s.Rejected)
	fmt.Fprintf(w, "  rows:     %d read, %d marked, %d rejected%s%s%s\n", s.Rows, s.Marked, bad,
		countNote(notWritten, "not written (Redis failed first)"), countNote(maybe, "may have been written (sent, no reply)"), blankNote(s.Blank))
	switch {
	case s.UnreadFrom > 0 && s.Unread > 0:
		fmt.Fprintf(w, "  unread:   %s from line %d on were not read: the import stopped\n", plural(s.Unread, "line"), s.UnreadFrom)
	case s.UnreadFrom > 0:
		fmt.Fprintf(w, "  unread:   the lines from line %d on were not read (not counted): the import stopped\n", s.UnreadFrom)
	}
	printTimeFormat(w, s)
	fmt.Fprintf(w, "  users:    %d\n", s.Users)
	names := make([]string, 0, len(s.Events))
	for n := range s.Events {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s (%d)", n, s.Events[n])
	}
	fmt.Fprintf(w, "  events:   %s\n", orNone(strings.Join(parts, ", ")))
	if !s.First.IsZero() {
		// In the zone the marks are counted in, not the input's offset.
		zone := s.Zone
		if zone == nil {
			zone = time.UTC
		}
		fmt.Fprintf(w, "  times:    %s .. %s (%s, the zone of the periods)\n", s.First.In(zone).Format("2006-01-02 15:04:05"), s.Last.In(zone).Format("2006-01-02 15:04:05"), zone)
	}
	a.printRejected(s.Rejected, show)
}

// printRejected writes the count of rejected rows per reason and the first
// show of them (all for -1) to stdout.
func (a *app) printRejected(rejected []rejectedRow, show int) {
	w := a.stdout
	if len(rejected) == 0 {
		return
	}
	byReason := map[string]int{}
	for _, r := range rejected {
		byReason[r.Reason]++
	}
	reasons := make([]string, 0, len(byReason))
	for r := range byReason {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	for i, r := range reasons {
		reasons[i] = fmt.Sprintf("%s: %d", r, byReason[r])
	}
	label := "rejected:"
	if bad, _, _ := splitRejected(rejected); bad < len(rejected) {
		label = "not marked:" // rows Redis did not write (or may have) are not bad rows
	}
	fmt.Fprintf(w, "  %s %d (%s)\n", label, len(rejected), strings.Join(reasons, ", "))
	n := len(rejected)
	if show >= 0 && show < n {
		n = show
	}
	for _, r := range rejected[:n] {
		fmt.Fprintf(w, "    %s\n", r)
	}
	if n < len(rejected) {
		fmt.Fprintf(w, "    ... %d more (--show-rejected -1 lists them all, --rejects FILE writes them)\n", len(rejected)-n)
	}
}

// errRowsRejected is wrapped by import when rows were rejected; run exits
// with exitRejects for it.
var errRowsRejected = errors.New("rows rejected")

// splitRejected counts the rows of rejected that were bad, those that
// were not written (reasonNotWritten) and those that may have been written
// (reasonMaybe, the write's outcome is unknown).
func splitRejected(rejected []rejectedRow) (bad, notWritten, maybe int) {
	for _, r := range rejected {
		switch r.Reason {
		case reasonNotWritten:
			notWritten++
		case reasonMaybe:
			maybe++
		default:
			bad++
		}
	}
	return bad, notWritten, maybe
}

// countNote returns ", N what", or "" for 0.
func countNote(n int, what string) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d %s", n, what)
}

// blankNote returns ", N blank lines skipped" or "".
func blankNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d blank lines skipped", n)
}

// printTimeFormat writes the time format line of the summary.
func printTimeFormat(w io.Writer, s *importSummary) {
	switch {
	case !s.TimeDetected, s.TimeFormat == "" && s.TimeSampled == 0:
		return // no row with a time to detect a format from
	case s.TimeFormat == "":
		fmt.Fprintf(w, "  times:    no known time format in the first rows: give --time-format\n")
	case s.TimeMatched < s.TimeSampled:
		fmt.Fprintf(w, "  format:   %s (detected from the first rows; mixed formats: it reads only %d of the first %d rows' times; --time-format sets another)\n", s.TimeFormat, s.TimeMatched, s.TimeSampled)
	default:
		fmt.Fprintf(w, "  format:   %s (detected: it reads %d of the first %d rows' times; --time-format sets another)\n", s.TimeFormat, s.TimeMatched, s.TimeSampled)
	}
}

// orNone returns s, or "none" for the empty string.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// rejectsOut is where --rejects goes. A regular file (or a new one) is
// written to a temporary file beside it and renamed over it only once the
// rejected rows are complete, so a run that fails early never truncates
// it; anything else (/dev/stdout, a pipe) is written directly.
type rejectsOut struct {
	path   string
	tmp    *os.File // a regular file's stand-in, renamed to path by write
	direct *os.File // a non-regular file, written in place
}

// openRejects prepares path for the rejected rows. It refuses the input
// file itself (input may be nil for stdin) and fails at once on a path
// that cannot be written, before anything is imported.
func openRejects(path string, input *os.File) (*rejectsOut, error) {
	st, err := os.Stat(path)
	if err == nil && input != nil {
		if in, ierr := input.Stat(); ierr == nil && os.SameFile(st, in) {
			return nil, fmt.Errorf("%s is the input file", path)
		}
	}
	if err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return nil, err
		}
		return &rejectsOut{path: path, direct: f}, nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, userPath(err, "create", path)
	}
	return &rejectsOut{path: path, tmp: tmp}, nil
}

// write writes rows as CSV (line,end_line,reason,detail,row: row is the
// rejected row's own content, its fields as CSV or its raw line) and
// finishes the file.
func (r *rejectsOut) write(rows []rejectedRow) error {
	var b strings.Builder
	b.WriteString("line,end_line,reason,detail,row\n")
	for _, row := range rows {
		end := max(row.End, row.Line)
		fmt.Fprintf(&b, "%d,%d,%s,%s,%s\n", row.Line, end, csvQuote(row.Reason), csvQuote(row.Detail), csvQuote(row.Row))
	}
	if r.direct != nil {
		_, err := r.direct.WriteString(b.String())
		return errors.Join(err, r.direct.Close())
	}
	if _, err := r.tmp.WriteString(b.String()); err != nil {
		r.discard()
		return err
	}
	if err := r.tmp.Close(); err != nil {
		r.discard()
		return err
	}
	if err := os.Rename(r.tmp.Name(), r.path); err != nil {
		r.discard()
		return userPath(err, "write", r.path)
	}
	r.tmp = nil
	return nil
}

// discard removes the temporary file of a run that did not write its
// rejects; it is a no-op after write.
func (r *rejectsOut) discard() {
	if r.tmp != nil {
		r.tmp.Close()
		os.Remove(r.tmp.Name())
		r.tmp = nil
	}
	if r.direct != nil {
		r.direct.Close()
		r.direct = nil
	}
}

// csvQuote quotes s for a CSV field when it needs it.
func csvQuote(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// userPath returns err with the path of its *os.PathError (a temporary
// file's name, such as ".rej.csv.3272087163.tmp") replaced by path, the
// one the user gave, and its operation by op; other errors are returned
// as they are.
func userPath(err error, op, path string) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return &os.PathError{Op: op, Path: path, Err: pe.Err}
	case errors.As(err, &le):
		return &os.PathError{Op: op, Path: path, Err: le.Err}
	}
	return err
}
