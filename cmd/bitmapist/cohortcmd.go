package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// cohortFlags are the cohort command's flags; each maps to one cohort.Query
// field through cohort.ParseQuery's parameter of the same meaning.
type cohortFlags struct {
	primaryAnd    string   // PrimaryAnd
	additional    []string // Additional, each "and:EVENT" or "or:EVENT"
	group         string   // TimeGroup
	rows, cols    int      // Rows, Cols
	now, start    string   // Now, Start
	replacement   bool     // WithReplacement
	firstTime     bool     // FirstTime
	onOrAfter     bool     // OnOrAfter
	percent       bool     // AsPercent
	blankEmpty    bool     // BlankEmpty
	includeFuture bool     // IncludeFuture
	segment       []string // Segment: --segment specs, ANDed (cohort.ParseSegment)
	json, csv     bool     // output format
}

// values returns the flags as cohort.ParseQuery parameters. --now and
// --start are parsed here (parseTime's forms, in loc) and passed on as
// RFC 3339.
func (f *cohortFlags) values(primary, secondary string, loc *time.Location) (url.Values, error) {
	v := url.Values{}
	v.Set("primary_event", primary)
	v.Set("secondary_event", secondary)
	if f.primaryAnd != "" {
		v.Set("primary_and", f.primaryAnd)
	}
	for _, a := range f.additional {
		v.Add("additional", a)
	}
	v.Set("time_group", f.group)
	v.Set("num_rows", strconv.Itoa(f.rows))
	v.Set("num_cols", strconv.Itoa(f.cols))
	for _, tf := range []struct{ name, val string }{{"now", f.now}, {"start", f.start}} {
		if tf.val == "" || strings.EqualFold(tf.val, "now") {
			continue
		}
		t, err := parseTime(tf.val, loc, time.Time{})
		if err != nil {
			return nil, usagef("--%s: %v", tf.name, err)
		}
		v.Set(tf.name, t.Format(time.RFC3339Nano))
	}
	for name, on := range map[string]bool{
		"with_replacement": f.replacement,
		"first_time":       f.firstTime,
		"on_or_after":      f.onOrAfter,
		"as_percent":       f.percent,
		"blank_empty":      f.blankEmpty,
		"include_future":   f.includeFuture,
	} {
		if on {
			v.Set(name, "1")
		}
	}
	return v, nil
}

// queryFlags maps the fields of a *cohort.QueryError (the request
// parameters of cohort.ParseQuery, or the Query fields of cohort.Get) to
// the command's flags and arguments.
var queryFlags = map[string]string{
	"primary_event": "PRIMARY", "Primary": "PRIMARY",
	"secondary_event": "SECONDARY", "Secondary": "SECONDARY",
	"primary_and": "--primary-and", "PrimaryAnd": "--primary-and",
	"additional": "--additional", "additional_op": "--additional", "Additional": "--additional",
	"time_group": "--group", "TimeGroup": "--group",
	"num_rows": "--rows", "Rows": "--rows",
	"num_cols": "--cols", "Cols": "--cols",
	"now": "--now", "Now": "--now",
	"start": "--start", "Start": "--start",
	"with_replacement": "--with-replacement", "first_time": "--first-time",
	"on_or_after": "--on-or-after", "as_percent": "--percent",
	"blank_empty": "--blank-empty", "include_future": "--include-future",
	"Segment": "--segment", "segment": "--segment",
}

// queryFlagError returns err with the field of a *cohort.QueryError named
// by its flag ("--rows: ..." rather than "num_rows: ..."), as a
// *usageError; other errors are returned as they are.
func queryFlagError(err error) error {
	var qe *cohort.QueryError
	if !errors.As(err, &qe) {
		return err
	}
	field := qe.Field
	if i := strings.IndexByte(field, '['); i > 0 {
		field = field[:i] // "additional[2]"
	}
	name, ok := queryFlags[field]
	if !ok {
		name = qe.Field
	}
	return &usageError{err: &wrapped{err: err, msg: name + ": " + qe.Msg}}
}

// cohortCommand builds "cohort": cohort.Get from the shell, every
// cohort.Query field as a flag, printed as text, JSON or CSV.
func (a *app) cohortCommand() *cobra.Command {
	var f cohortFlags
	cmd := &cobra.Command{
		Use:   "cohort PRIMARY [SECONDARY]",
		Short: "Print a cohort (retention) table: who did PRIMARY, and when they did SECONDARY after",
		Long: `Print a cohort table, as flask-bitmapist's get_cohort computes it. Row i is the
cohort of users who did PRIMARY in the i-th period (hour, day, week, month or
year); cell (i, j) counts those of them who did SECONDARY (default: PRIMARY)
j periods later, combined with the --additional events.

Without --start the last row is the period of --now. Cells of periods after
--now are blank. Without --with-replacement a user counts only in the first
column they return in (flask-bitmapist's default); the published retention
tables count every return, so give --with-replacement to compare with them.

Output: an aligned table (counts, or percentages of the cohort with --percent,
and the column averages), or --json (flask-bitmapist's cohort JSON) or --csv
(get_dates_data's CSV).`,
		Example: `  # the published Online Retail table: month of first purchase, then purchases
  bitmapist cohort customer:purchased --group months --first-time --with-replacement \
      --start 2010-12 --now 2011-12-09 --rows 13 --cols 13

  # daily retention of new players, in percent
  bitmapist cohort newPlayer gameStarted --group days --start 2016-04-27 --now 2016-05-27 --rows 14 --cols 8 --percent

  # the same daily table, only for the players who started on 2016-04-27 and are pro users
  bitmapist cohort newPlayer gameStarted --group days --start 2016-04-27 --now 2016-05-27 --segment newPlayer@2016-04-27 --segment plan:pro

  # signed up and paid, returning with an active session or a purchase
  bitmapist cohort user:signup user:active --primary-and user:paid --additional or:order:created --json`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runCohort(cmd, &f, args) },
	}
	f.add(cmd.Flags())
	return cmd
}

// add registers the cohort command's flags on fl.
func (f *cohortFlags) add(fl *pflag.FlagSet) {
	fl.StringVar(&f.primaryAnd, "primary-and", "", "narrow each cohort to users who also did this event in the row's period (get_dates_data's select1b)")
	fl.StringArrayVar(&f.additional, "additional", nil, `an additional event joined to SECONDARY, "and:EVENT" or "or:EVENT"; repeat in order`)
	fl.StringVarP(&f.group, "group", "g", cohort.DefaultTimeGroup.String(), "period length: "+cohort.TimeGroupList(cohort.ReportTimeGroups(cohort.ReportCohort)))
	fl.IntVar(&f.rows, "rows", cohort.DefaultRows, fmt.Sprintf("number of cohort periods (rows), 1..%d", cohort.MaxRows))
	fl.IntVar(&f.cols, "cols", cohort.DefaultCols, fmt.Sprintf("number of columns (period 0, 1, ... after the row's), 1..%d", cohort.MaxCols))
	fl.StringVar(&f.now, "now", "", "the time the table is computed for: RFC 3339, 2024-12-30 05:10, 2024-12-30, 2024-W01, 2024-12 (default: now)")
	fl.StringVar(&f.start, "start", "", "make row 0 the period containing this time (same forms as --now)")
	fl.BoolVar(&f.replacement, "with-replacement", false, "count a returning user in every column they return in, not only the first")
	fl.BoolVar(&f.firstTime, "first-time", false, "cohort = users whose FIRST ever PRIMARY event fell in the row's period")
	fl.BoolVar(&f.onOrAfter, "on-or-after", false, "cell (i, j) counts users who returned in period i+j or any later one (unbounded retention)")
	fl.BoolVar(&f.percent, "percent", false, "cells as percentages of the cohort (as_percent)")
	fl.BoolVar(&f.blankEmpty, "blank-empty", false, "leave a cell blank when nobody at all did the return event in its period (get_dates_data's \"\")")
	fl.BoolVar(&f.includeFuture, "include-future", false, "compute periods after --now like any other (get_dates_data)")
	fl.StringArrayVar(&f.segment, "segment", nil, segmentFlagHelp+"; ANDed into every row's cohort")
	fl.BoolVar(&f.json, "json", false, "print flask-bitmapist's cohort JSON")
	fl.BoolVar(&f.csv, "csv", false, "print CSV (Date,Total,0,1,...)")
}

// runCohort is the cohort command's run: the flags through
// cohort.ParseQueryIn (before Redis), the checks of times, events and
// --segment, cohort.Get, the notes, then the table as text, JSON or CSV.
// query checks the cohort command's flags and arguments (before Redis)
// and returns them as a cohort.Query (cohort.ParseQueryIn); errors are
// *usageError naming the flag.
func (f *cohortFlags) query(cmd *cobra.Command, a *app, args []string) (cohort.Query, error) {
	if f.json && f.csv {
		return cohort.Query{}, usagef("give at most one of --json and --csv")
	}
	for _, n := range []string{"now", "start"} {
		if v, _ := cmd.Flags().GetString(n); cmd.Flags().Changed(n) && strings.TrimSpace(v) == "" {
			return cohort.Query{}, usagef("--%s: empty value", n)
		}
	}
	primary, secondary := args[0], args[0]
	if len(args) == 2 {
		secondary = args[1]
	}
	loc, err := a.location()
	if err != nil {
		return cohort.Query{}, err
	}
	v, err := f.values(primary, secondary, loc)
	if err != nil {
		return cohort.Query{}, err
	}
	q, err := cohort.ParseQueryIn(v, loc)
	if err != nil {
		return cohort.Query{}, queryFlagError(err)
	}
	return q, nil
}

func (a *app) runCohort(cmd *cobra.Command, f *cohortFlags, args []string) error {
	ctx := cmd.Context()
	q, err := f.query(cmd, a, args)
	if err != nil {
		return err
	}
	c, done, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer done()
	if err := checkCohortTimes(io.Discard, q, c.Now()); err != nil {
		return err
	}
	if err := missingEvents(ctx, c, queryEvents(q), cohortProbe(c, q)); err != nil {
		return err
	}
	if q.Segment, _, err = parseSegmentFlag(ctx, c, f.segment); err != nil {
		return err
	}
	t, err := cohort.Get(ctx, c, q)
	if err != nil {
		return queryFlagError(err)
	}
	// The notes, now that the table is good.
	_ = checkCohortTimes(a.stderr, q, c.Now())
	if err := explainEmptyTable(ctx, c, q, t); err != nil {
		return err
	}
	return a.printCohort(f, t)
}

// printCohort writes t as JSON (--json), CSV (--csv) or text.
func (a *app) printCohort(f *cohortFlags, t *cohort.Table) error {
	switch {
	case f.json:
		return a.writeJSON(t)
	case f.csv:
		return t.WriteCSV(a.stdout)
	}
	return writeCohortText(a.stdout, t, f.segment...)
}

// writeCohortText writes t as an aligned table: a title line (ending in
// "; segment: A and B" when segment specs are given), a header ("cohort",
// "users", then the column offsets 0, 1, ...), one line per row and an
// "average" line (averageRow: a "no average: ..." line instead when no
// column has one). Cells without value are blank.
func writeCohortText(w io.Writer, t *cohort.Table, segment ...string) error {
	q := t.Query
	title := cohortTitle(t, segment)
	grid, noAvg := cohortTextGrid(t)
	widths := make([]int, len(grid[0]))
	for _, row := range grid {
		for j, s := range row {
			widths[j] = max(widths[j], len(s))
		}
	}
	var b strings.Builder
	b.WriteString(title + "\n")
	b.WriteString(fmt.Sprintf("columns: %s after the cohort's %s (0 = the same %s)\n\n", q.TimeGroup, q.TimeGroup.Unit(), q.TimeGroup.Unit()))
	for _, row := range grid {
		for j, s := range row {
			if j == 0 {
				b.WriteString(s + strings.Repeat(" ", widths[0]-len(s)))
				continue
			}
			b.WriteString("  " + strings.Repeat(" ", widths[j]-len(s)) + s)
		}
		b.WriteString("\n")
	}
	if noAvg != "" {
		b.WriteString(noAvg + "\n")
	}
	// Trailing blanks of rows with blank cells are noise.
	out := strings.Join(func() []string {
		ls := strings.Split(b.String(), "\n")
		for i := range ls {
			ls[i] = strings.TrimRight(ls[i], " ")
		}
		return ls
	}(), "\n")
	_, err := io.WriteString(w, out)
	return err
}

// cohortTitle returns the text table's title line: the primary event and
// options, the return events, the unit and now, and the segment specs.
func cohortTitle(t *cohort.Table, segment []string) string {
	q := t.Query
	var opts []string
	if q.FirstTime {
		opts = append(opts, "first time")
	}
	if q.PrimaryAnd != "" {
		opts = append(opts, "and "+q.PrimaryAnd)
	}
	ret := q.Secondary
	for _, s := range q.Additional {
		ret += " " + s.Op.String() + " " + s.Event
	}
	if q.WithReplacement {
		opts = append(opts, "with replacement")
	}
	if q.OnOrAfter {
		opts = append(opts, "on or after")
	}
	title := fmt.Sprintf("cohort: %s", q.Primary)
	if len(opts) > 0 {
		title += " (" + strings.Join(opts, ", ") + ")"
	}
	title += fmt.Sprintf("; returning: %s; by %s; now %s", ret, q.TimeGroup.Unit(), q.Now.Format("2006-01-02 15:04 MST"))
	if len(segment) > 0 {
		title += "; segment: " + strings.Join(segment, " and ")
	}
	return title
}

// cohortTextGrid returns the text table's cells as strings: the header, one
// line per row, then the average line (none when averageRow gives a
// reason, returned as noAvg).
func cohortTextGrid(t *cohort.Table) (grid [][]string, noAvg string) {
	q := t.Query
	cell := func(v float64, ok bool) string {
		switch {
		case !ok:
			return ""
		case q.AsPercent:
			return strconv.FormatFloat(v, 'f', 1, 64) + "%"
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	grid = [][]string{append([]string{"cohort", "users"}, make([]string, q.Cols)...)}
	for j := range q.Cols {
		grid[0][2+j] = strconv.Itoa(j)
	}
	for i := range t.Dates {
		row := []string{t.RowLabel(i), strconv.FormatInt(t.Totals[i], 10)}
		for j := range q.Cols {
			row = append(row, cell(t.Value(i, j)))
		}
		grid = append(grid, row)
	}
	avg, none := averageRow(t)
	if avg != nil {
		grid = append(grid, avg)
	}
	return grid, none
}

// averageRow returns the "average" line of the text table: column j's
// average (t.Averages, as the JSON's averages[j]) to one decimal, blank
// when the column has none (null in the JSON). When no column has an
// average (every averages entry of the JSON is null, and the CSV has no
// average row either), it returns no row but a line saying why: every
// cohort has 0 users (with --first-time: nobody's first PRIMARY fell in
// these rows), or every cell is blank.
func averageRow(t *cohort.Table) (row []string, none string) {
	q := t.Query
	row = []string{"average", ""}
	some := false
	for _, a := range t.Averages {
		s := ""
		switch {
		case !a.Valid:
		case q.AsPercent:
			s = strconv.FormatFloat(a.Fraction*100, 'f', 1, 64) + "%"
		default:
			s = strconv.FormatFloat(a.Count, 'f', 1, 64)
		}
		some = some || a.Valid
		row = append(row, s)
	}
	if some {
		return row, ""
	}
	unit := q.TimeGroup.String()
	if slices.Max(append([]int64{0}, t.Totals...)) == 0 {
		if q.FirstTime {
			who := "nobody's"
			if q.Segment != nil {
				who = "no segment user's"
			}
			return nil, fmt.Sprintf("no average: every cohort has 0 users (--first-time: %s first %s fell in these %s, so every cell is blank)", who, q.Primary, unit)
		}
		return nil, "no average: every cohort has 0 users, so every cell is blank"
	}
	if q.BlankEmpty {
		return nil, fmt.Sprintf("no average: every cell is blank (--blank-empty: nobody returned in these %s)", unit)
	}
	return nil, "no average: every cell is blank"
}

// tableEmpty reports whether t counts nobody: no user in any row or in any
// column, as when an event name is misspelled.
func tableEmpty(t *cohort.Table) bool {
	var rows, cols int64
	for _, n := range t.Totals {
		rows += n
	}
	for _, n := range t.ColTotals {
		cols += n
	}
	return rows == 0 || cols == 0
}

// queryEvents returns the distinct events q reads: primary, primary-and,
// secondary and the additional events, in that order.
func queryEvents(q cohort.Query) []string {
	events := []string{q.Primary, q.PrimaryAnd, q.Secondary}
	for _, s := range q.Additional {
		events = append(events, s.Event)
	}
	var out []string
	for _, e := range events {
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}

// checkCohortTimes refuses a --start whose period comes after the one of
// --now (every cell would be blank) unless --include-future asks for
// future periods, and writes a note to w when rows or --now lie after the
// current time (clock): those periods have no data yet.
func checkCohortTimes(w io.Writer, q cohort.Query, clock time.Time) error {
	g := q.TimeGroup
	now := q.Now
	if now.IsZero() {
		now = clock
	}
	if !q.Start.IsZero() && g.Start(q.Start).After(g.Start(now)) && !q.IncludeFuture {
		return usagef("--start %s is after --now %s: every cell would be in the future, without value; give an earlier --start or a later --now (or --include-future)",
			g.Label(q.Start), g.Label(now))
	}
	last := g.Add(now, 0)
	if !q.Start.IsZero() {
		last = g.Add(q.Start, q.Rows-1)
	}
	if g.Start(now).After(g.Start(clock)) {
		fmt.Fprintf(w, "bitmapist: note: --now %s is after the current time (%s): periods after %s have no data yet\n", g.Label(now), g.Label(clock), g.Label(clock))
	} else if last.After(g.Start(now)) {
		fmt.Fprintf(w, "bitmapist: note: rows after --now %s (up to %s) show their users but blank cells, as in every format: their cells are after --now (--include-future computes them)\n", g.Label(now), g.Label(last))
	}
	return nil
}

// explainEmptyTable is called after every table (the events of q are
// known to have data): when t is empty and for hours, it returns an error
// naming the primary event marked without hourly tracking (as on the
// dashboard); nil otherwise.
func explainEmptyTable(ctx context.Context, c *bitmapist.Client, q cohort.Query, t *cohort.Table) error {
	if !tableEmpty(t) {
		return nil
	}
	if q.TimeGroup == bitmapist.Hours && len(t.Dates) > 0 && slices.Max(t.Totals) == 0 {
		last := bitmapist.Hours.Add(t.Dates[len(t.Dates)-1], 0)
		return noHourlyData(ctx, c, []string{q.Primary}, t.Dates[0], last)
	}
	return nil
}
