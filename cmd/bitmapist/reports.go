package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// reportFlags are the flags the trend, lifecycle, stickiness and funnel
// commands share.
type reportFlags struct {
	group     string   // --group
	from, to  string   // --from, --to
	segment   []string // --segment, ANDed
	json, csv bool     // output format
}

// add registers the shared flags; periods is the default range length.
func (f *reportFlags) add(cmd *cobra.Command, group bitmapist.TimeGroup, periods int) {
	fl := cmd.Flags()
	fl.StringVarP(&f.group, "group", "g", group.String(), "period length: hours, days, weeks, months or years")
	fl.StringVar(&f.from, "from", "", fmt.Sprintf("the first period: the one containing this time (default: %d periods before --to)", periods-1))
	fl.StringVar(&f.to, "to", "now", "the last period: the one containing this time (2024-12-30, 2024-12, RFC 3339, now)")
	fl.StringArrayVar(&f.segment, "segment", nil, "only users in this set: EVENT (its unique bitmap) or EVENT@PERIOD (EVENT@2025-03, EVENT@2025-W09, EVENT@2025-03-01); repeat to AND")
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.BoolVar(&f.csv, "csv", false, "print CSV")
}

// reportArgs is a parsed report command line.
type reportArgs struct {
	c        *bitmapist.Client
	done     func()
	group    bitmapist.TimeGroup
	from, to time.Time
	segment  bitmapist.Set
}

// parse checks the shared flags (before Redis) and opens the client.
// periods is the default number of periods when --from is not given.
func (f *reportFlags) parse(ctx context.Context, a *app, periods int) (*reportArgs, error) {
	if f.json && f.csv {
		return nil, usagef("give at most one of --json and --csv")
	}
	g, err := bitmapist.ParseTimeGroup(f.group)
	if err != nil {
		return nil, usagef("--group: %v", err)
	}
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	r := &reportArgs{group: g}
	if r.to, err = parseTime(f.to, loc, time.Now()); err != nil {
		return nil, usagef("--to: %v", err)
	}
	r.from = g.Add(r.to, -(periods - 1))
	if f.from != "" {
		if r.from, err = parseTime(f.from, loc, time.Now()); err != nil {
			return nil, usagef("--from: %v", err)
		}
	}
	if r.c, r.done, err = a.open(ctx); err != nil {
		return nil, err
	}
	if r.segment, err = cohort.ParseSegment(r.c, f.segment...); err != nil {
		r.done()
		return nil, reportFlagError(err)
	}
	return r, nil
}

// reportFlagNames maps the fields of report errors to flags.
var reportFlagNames = map[string]string{
	"Event": "EVENT", "TimeGroup": "--group", "From": "--from", "To": "--to", "Rolling": "--rolling",
	"Segment": "--segment", "segment": "--segment", "Steps": "STEPS", "Window": "--window",
}

// reportFlagError names the flag of a *cohort.QueryError or a
// *bitmapist.ReportError and returns it as a *usageError; other errors
// are returned as they are.
func reportFlagError(err error) error {
	var field, msg string
	var qe *cohort.QueryError
	var re *bitmapist.ReportError
	switch {
	case errors.As(err, &qe):
		field, msg = qe.Field, qe.Msg
	case errors.As(err, &re):
		field, msg = re.Field, re.Msg
	default:
		return err
	}
	if i := strings.IndexByte(field, '['); i > 0 {
		field = field[:i]
	}
	if name, ok := reportFlagNames[field]; ok {
		field = name
	}
	return &usageError{err: fmt.Errorf("%s: %s", field, msg)}
}

// printReport writes v as JSON, as CSV (csvw) or as text (text).
func (a *app) printReport(f *reportFlags, v any, csvw func(io.Writer) error, text func(*tabwriter.Writer)) error {
	switch {
	case f.json:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case f.csv:
		return csvw(a.stdout)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	text(tw)
	return tw.Flush()
}

func (a *app) trendCommand() *cobra.Command {
	var f reportFlags
	var rolling bool
	cmd := &cobra.Command{
		Use:   "trend EVENT",
		Short: "Print the number of users per period, with rolling WAU/MAU and the previous range",
		Long: `Print how many users did EVENT in each period from --from to --to, and the
same for the range of as many periods right before it (previous). With
--rolling (days only): WAU (users in the 7 days ending that day), MAU (the 30
days ending that day) and the stickiness ratio DAU/MAU.

JSON: {"event", "time_group", "rolling", "unique", "previous_unique",
"periods": [{"label", "start", "count", "wau", "mau", "dau_mau", "previous": {...}}]}
(wau, mau and dau_mau only with --rolling).`,
		Example: `  bitmapist trend gameStarted --group days --from 2016-05-01 --to 2016-05-31 --rolling
  bitmapist trend customer:purchased --group months --from 2011-01 --to 2011-12 --csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := f.parse(ctx, a, 30)
			if err != nil {
				return err
			}
			defer r.done()
			t, err := r.c.Trend(ctx, bitmapist.TrendQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Rolling: rolling, Segment: r.segment})
			if err != nil {
				return reportFlagError(err)
			}
			return a.printReport(&f, t, t.WriteCSV, func(w *tabwriter.Writer) { writeTrendText(w, t) })
		},
	}
	f.add(cmd, bitmapist.Days, 30)
	cmd.Flags().BoolVar(&rolling, "rolling", false, "add rolling WAU (7 days), MAU (30 days) and DAU/MAU (days only)")
	return cmd
}

// change returns the relative change from prev to cur ("+12.5%"), or ""
// when prev is 0.
func change(cur, prev int64) string {
	if prev == 0 {
		return ""
	}
	return fmt.Sprintf("%+.1f%%", 100*float64(cur-prev)/float64(prev))
}

func writeTrendText(w *tabwriter.Writer, t *bitmapist.Trend) {
	fmt.Fprintf(w, "trend: %s by %s; %d users in the range, %d in the previous one\n", t.Event, t.TimeGroup.Unit(), t.Unique, t.PreviousUnique)
	head := "period\tusers\t"
	if t.Rolling {
		head += "wau\tmau\tdau/mau\t"
	}
	fmt.Fprintln(w, head+"previous\tusers\tchange\t")
	for _, p := range t.Periods {
		line := fmt.Sprintf("%s\t%d\t", p.Label, p.Count)
		if t.Rolling {
			line += fmt.Sprintf("%d\t%d\t%.3f\t", p.WAU, p.MAU, p.DAUMAU())
		}
		fmt.Fprintf(w, "%s%s\t%d\t%s\t\n", line, p.Previous.Label, p.Previous.Count, change(p.Count, p.Previous.Count))
	}
}

func (a *app) lifecycleCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "lifecycle EVENT",
		Short: "Print new, returning, resurrecting and dormant users per period",
		Long: `Print the lifecycle of the users who did EVENT, per period from --from to --to:
new (first ever EVENT in the period), returning (active in the period and the
one before), resurrecting (active, not in the period before, but earlier) and
dormant (active in the period before, not in this one; a negative number).
new + returning + resurrecting = the users active in the period.

JSON: {"event", "time_group", "periods": [{"label", "start", "new",
"returning", "resurrecting", "dormant"}]}.`,
		Example: `  bitmapist lifecycle gameStarted --group weeks --from 2016-04-25 --to 2016-06-30`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := f.parse(ctx, a, 12)
			if err != nil {
				return err
			}
			defer r.done()
			l, err := cohort.GetLifecycle(ctx, r.c, cohort.LifecycleQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return reportFlagError(err)
			}
			return a.printReport(&f, l, l.WriteCSV, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "lifecycle: %s by %s\n", l.Event, l.TimeGroup.Unit())
				fmt.Fprintln(w, "period\tactive\tnew\treturning\tresurrecting\tdormant\t")
				for _, p := range l.Periods {
					fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t\n", p.Label, p.Active(), p.New, p.Returning, p.Resurrecting, p.Dormant)
				}
			})
		},
	}
	f.add(cmd, bitmapist.Weeks, 12)
	return cmd
}

func (a *app) stickinessCommand() *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use:   "stickiness EVENT",
		Short: "Print how many users were active in exactly k of the periods",
		Long: `Of the users who did EVENT at least once in the K periods from --from to --to,
print how many did it in exactly k of them, k = 1..K.

JSON: {"event", "time_group", "from", "to", "num_periods", "users",
"buckets": [{"periods": k, "users": n}]}.`,
		Example: `  bitmapist stickiness gameStarted --group days --from 2016-05-01 --to 2016-05-07`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := f.parse(ctx, a, 7)
			if err != nil {
				return err
			}
			defer r.done()
			s, err := cohort.GetStickiness(ctx, r.c, cohort.StickinessQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return reportFlagError(err)
			}
			return a.printReport(&f, s, s.WriteCSV, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "stickiness: %s, %d users active in %s..%s (%d %s)\n", s.Event, s.Users, s.From, s.To, s.NumPeriods, s.TimeGroup)
				fmt.Fprintf(w, "%s\tusers\tshare\t\n", s.TimeGroup)
				for _, b := range s.Buckets {
					share := 0.0
					if s.Users > 0 {
						share = 100 * float64(b.Users) / float64(s.Users)
					}
					fmt.Fprintf(w, "%d\t%d\t%.1f%%\t\n", b.Periods, b.Users, share)
				}
			})
		},
	}
	f.add(cmd, bitmapist.Days, 7)
	return cmd
}

func (a *app) funnelCommand() *cobra.Command {
	var f reportFlags
	var window int
	cmd := &cobra.Command{
		Use:   "funnel E1 E2 [E3...]",
		Short: "Print a funnel: of the users who did E1 in each period, how many did E2, E3... in order within --window periods",
		Long: `Print a funnel with one row per entry period from --from to --to and a total
row. A row's users did E1 in its period p; a user reaches step k in period q
(p <= q <= p+window) when they did E_k in q and had reached step k-1 in a
period <= q (steps in the same period count in order). Each step shows its
users, the conversion from the previous step and from E1, and the drop-off.

JSON: {"time_group", "window", "steps": [{"event", "users", "from_previous",
"from_first", "drop_off"}], "rows": [{"label", "start", "steps": [...]}]}
(steps: the total row, the sum of the rows).`,
		Example: `  bitmapist funnel newPlayer gameStarted --group days --window 7 --from 2016-04-27 --to 2016-05-26`,
		Args:    cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := f.parse(ctx, a, 30)
			if err != nil {
				return err
			}
			defer r.done()
			fu, err := cohort.GetFunnel(ctx, r.c, cohort.FunnelQuery{Steps: args, TimeGroup: r.group, Window: window, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return reportFlagError(err)
			}
			return a.printReport(&f, fu, fu.WriteCSV, func(w *tabwriter.Writer) { writeFunnelText(w, fu) })
		},
	}
	f.add(cmd, bitmapist.Days, 30)
	cmd.Flags().IntVar(&window, "window", 7, fmt.Sprintf("conversion window: periods after the entry period, 0..%d", cohort.MaxFunnelWindow))
	return cmd
}

func writeFunnelText(w *tabwriter.Writer, f *cohort.Funnel) {
	fmt.Fprintf(w, "funnel by %s, window %d %s\n", f.TimeGroup.Unit(), f.Window, f.TimeGroup)
	head := "entry\t"
	for k, s := range f.Steps {
		head += s.Event + "\t"
		if k > 0 {
			head += "conv\t"
		}
	}
	fmt.Fprintln(w, head)
	row := func(label string, steps []cohort.FunnelStep) {
		line := label + "\t"
		for k, s := range steps {
			line += fmt.Sprintf("%d\t", s.Users)
			if k > 0 {
				line += fmt.Sprintf("%.1f%%\t", 100*s.FromPrevious)
			}
		}
		fmt.Fprintln(w, line)
	}
	for _, r := range f.Rows {
		row(r.Label, r.Steps)
	}
	row("total", f.Steps)
}
