package main

import (
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
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
	)
	cmd := &cobra.Command{
		Use:   "import FILE.csv",
		Short: "Load a CSV event log (user, time, event per row) into Redis",
		Long: `Load a CSV event log into Redis: every row marks one event for one user at one
time. The first line is the header; columns are chosen by name. The event is
either a column (--event-col) or one fixed name for every row (--event).

Every row is checked before anything is written. A bad row (wrong column count,
missing or malformed id, id out of range 0..4294967295, missing or malformed
time, bad event name) is rejected and reported with its line number and reason;
the other rows go on. Rows are sent in batches, pipelined. FILE "-" reads stdin;
a FILE ending in .gz is decompressed.

The summary (rows, users, events, rejected rows) goes to stdout; the progress
bar to stderr, only when stderr is a terminal and --quiet is not given.`,
		Example: `  # the UCI Online Retail log: integer ids, one fixed event
  bitmapist import --user-col CustomerID --time-col InvoiceDate --event customer:purchased online_cohorts.csv

  # a game's launch log: 64-hex-character string ids, the event in a column
  bitmapist import --string-ids --user-col userid --time-col eventDate --event-col eventName gamelaunch.csv

  # RFC 3339 times, semicolon-separated
  bitmapist import --time-format rfc3339 --delimiter ';' --user-col uid --time-col ts --event signup log.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if delim == `\t` {
				delim = "\t"
			}
			r, n := utf8.DecodeRuneInString(delim)
			if n != len(delim) || r == utf8.RuneError {
				return usagef("--delimiter %q: want one character", delim)
			}
			cfg.Comma = r
			if err := cfg.check(); err != nil {
				return err
			}
			var (
				raw  io.Reader = a.stdin
				size int64     = -1
				name           = "stdin"
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
				raw, name = f, args[0]
			}
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()

			// The bar counts the bytes of the file itself, compressed or not.
			bar := a.newBar(size, "importing "+name, quiet, true)
			if bar != nil {
				raw = io.TeeReader(raw, bar)
			}
			in := raw
			if strings.HasSuffix(name, ".gz") {
				zr, err := gzip.NewReader(raw)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				defer zr.Close()
				in = zr
			}
			sum, err := importCSV(ctx, c, in, cfg)
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(a.stderr)
			}
			if sum != nil {
				a.printImportSummary(name, sum, show)
				if rejects != "" {
					if werr := writeRejects(rejects, sum.Rejected); werr != nil && err == nil {
						err = werr
					}
				}
			}
			if err != nil {
				return err
			}
			if failRejs && len(sum.Rejected) > 0 {
				return fmt.Errorf("%d rows rejected (--fail-on-reject)", len(sum.Rejected))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.UserCol, "user-col", "", "header name of the user id column (required)")
	f.StringVar(&cfg.TimeCol, "time-col", "", "header name of the time column (required)")
	f.StringVar(&cfg.EventCol, "event-col", "", "header name of the event name column")
	f.StringVar(&cfg.Event, "event", "", "one event name for every row (instead of --event-col)")
	f.StringVar(&cfg.TimeFormat, "time-format", "2006-01-02", "Go time layout of the time column, or rfc3339, unix (seconds), unixms; zone-less times are read in --tz")
	f.BoolVar(&cfg.StringIDs, "string-ids", false, "user ids are strings (UUIDs, hashes, e-mails), mapped to dense integers through the id map")
	f.StringVar(&cfg.IDMap, "id-map", bitmapist.DefaultIDMap, "name of the string id map (with --string-ids)")
	f.IntVar(&cfg.Batch, "batch", 10000, "rows per pipelined batch")
	f.StringVar(&delim, "delimiter", ",", `field delimiter (one character; \t for tab)`)
	f.BoolVar(&cfg.Hourly, "hourly", false, "also write hour bitmaps (TRACK_HOURLY)")
	f.BoolVar(&cfg.Unique, "unique", false, "also write unique bitmaps (TRACK_UNIQUE)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	f.IntVar(&show, "show-rejected", shownRejects, "list at most this many rejected rows in the summary (-1: all)")
	f.StringVar(&rejects, "rejects", "", "write every rejected row (line,reason,detail) to this CSV file")
	f.BoolVar(&failRejs, "fail-on-reject", false, "exit with status 1 when any row was rejected")
	return cmd
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

// printImportSummary writes the summary of one import to stdout.
func (a *app) printImportSummary(name string, s *importSummary, show int) {
	w := a.stdout
	fmt.Fprintf(w, "imported %s\n", name)
	fmt.Fprintf(w, "  rows:     %d read, %d marked, %d rejected\n", s.Rows, s.Marked, len(s.Rejected))
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
		fmt.Fprintf(w, "  times:    %s .. %s\n", s.First.Format("2006-01-02 15:04:05"), s.Last.Format("2006-01-02 15:04:05"))
	}
	if len(s.Rejected) == 0 {
		return
	}
	byReason := map[string]int{}
	for _, r := range s.Rejected {
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
	fmt.Fprintf(w, "  rejected: %d (%s)\n", len(s.Rejected), strings.Join(reasons, ", "))
	n := len(s.Rejected)
	if show >= 0 && show < n {
		n = show
	}
	for _, r := range s.Rejected[:n] {
		fmt.Fprintf(w, "    %s\n", r)
	}
	if n < len(s.Rejected) {
		fmt.Fprintf(w, "    ... %d more (--show-rejected -1 lists them all, --rejects FILE writes them)\n", len(s.Rejected)-n)
	}
}

// orNone returns s, or "none" for the empty string.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// writeRejects writes rows as CSV (line,reason,detail) to path.
func writeRejects(path string, rows []rejectedRow) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var b strings.Builder
	b.WriteString("line,reason,detail\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%d,%s,%s\n", r.Line, csvQuote(r.Reason), csvQuote(r.Detail))
	}
	if _, err := f.WriteString(b.String()); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// csvQuote quotes s for a CSV field when it needs it.
func csvQuote(s string) string {
	if !strings.ContainsAny(s, ",\"\n\r") {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}
