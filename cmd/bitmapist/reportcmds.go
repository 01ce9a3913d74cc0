package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// reportSpec describes one report command (trend, lifecycle, stickiness,
// funnel) for reportCommand: its help, its default time group and range
// length, the groups it refuses, its own flags and how it computes its
// report.
type reportSpec struct {
	use, short, long, example string
	args                      cobra.PositionalArgs
	group                     bitmapist.TimeGroup // default --group
	periods                   int                 // default range length, in periods
	// report is the command's row of cohort.ReportTimeGroups: the groups
	// --group takes, the same the dashboard's page takes.
	report cohort.Report
	flags  func(*pflag.FlagSet)
	run    func(ctx context.Context, r *reportArgs, args []string) (report, error)
}

// report is a computed report: its JSON value, its CSV and text forms, and
// whether it counted no user at all (then the command looks for a reason:
// an event without data, no hourly tracking).
type report struct {
	v     any
	csv   func(io.Writer) error
	text  func(*tabwriter.Writer)
	empty bool
}

// reportCommand builds a report command from s: the shared flags
// (reportFlags), the checks before Redis, the run, the checks of an empty
// report, and the output as text, JSON or CSV.
func (a *app) reportCommand(s reportSpec) *cobra.Command {
	var f reportFlags
	cmd := &cobra.Command{
		Use: s.use, Short: s.short, Long: s.long, Example: s.example, Args: s.args,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			r, err := f.parse(ctx, a, s)
			if err != nil {
				return err
			}
			defer r.done()
			if err := missingEvents(ctx, r.c, args, periodProbe(r.c, r.group, r.from, r.to)); err != nil {
				// A bad flag the query checks (--window, --rolling, the
				// range) is still a usage error, named first.
				var ue *usageError
				if _, rerr := s.run(ctx, r, args); errors.As(reportFlagError(rerr), &ue) {
					return ue
				}
				return err
			}
			rep, err := s.run(ctx, r, args)
			if err != nil {
				return reportFlagError(err)
			}
			if rep.empty {
				if err := r.explainEmpty(ctx, args); err != nil {
					return err
				}
			}
			r.noteFuture(a.stderr)
			return a.printReport(&f, rep.v, rep.csv, rep.text)
		},
	}
	f.add(cmd, s.group, s.periods, s.report)
	if s.flags != nil {
		s.flags(cmd.Flags())
	}
	return cmd
}

func (a *app) trendCommand() *cobra.Command {
	var rolling bool
	return a.reportCommand(reportSpec{
		use:   "trend EVENT",
		short: "Print the number of users per period, with rolling WAU/MAU and the previous range",
		long: `Print how many users did EVENT in each period from --from to --to, and the
same for the range of as many periods right before it (previous). With
--rolling (days only): WAU (users in the 7 days ending that day), MAU (the 30
days ending that day) and the stickiness ratio DAU/MAU.

JSON: {"event", "time_group", "rolling", "unique", "previous_unique",
"periods": [{"label", "start", "count", "wau", "mau", "dau_mau", "previous": {...}}]}
(wau, mau and dau_mau only with --rolling).`,
		example: `  bitmapist trend gameStarted --group days --from 2016-05-01 --to 2016-05-31 --rolling
  bitmapist trend customer:purchased --group months --from 2011-01 --to 2011-12 --csv`,
		args: cobra.ExactArgs(1), group: bitmapist.Days, periods: 30, report: cohort.ReportTrend,
		flags: func(fl *pflag.FlagSet) {
			fl.BoolVar(&rolling, "rolling", false, "add rolling WAU (7 days), MAU (30 days) and DAU/MAU (days only)")
		},
		run: func(ctx context.Context, r *reportArgs, args []string) (report, error) {
			t, err := r.c.Trend(ctx, bitmapist.TrendQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Rolling: rolling, Segment: r.segment})
			if err != nil {
				return report{}, err
			}
			return report{t, t.WriteCSV, func(w *tabwriter.Writer) { writeTrendText(w, t) }, t.Unique == 0 && t.PreviousUnique == 0}, nil
		},
	})
}

func (a *app) lifecycleCommand() *cobra.Command {
	return a.reportCommand(reportSpec{
		use:   "lifecycle EVENT",
		short: "Print new, returning, resurrecting and dormant users per period",
		long: `Print the lifecycle of the users who did EVENT, per period from --from to --to:
new (first ever EVENT in the period), returning (active in the period and the
one before), resurrecting (active, not in the period before, but earlier) and
dormant (active in the period before, not in this one; a negative number).
new + returning + resurrecting = the users active in the period. --group
hours is refused, as on the dashboard.

JSON: {"event", "time_group", "periods": [{"label", "start", "new",
"returning", "resurrecting", "dormant"}]}.`,
		example: `  bitmapist lifecycle gameStarted --group weeks --from 2016-04-25 --to 2016-06-30`,
		args:    cobra.ExactArgs(1), group: bitmapist.Weeks, periods: 12, report: cohort.ReportLifecycle,
		run: func(ctx context.Context, r *reportArgs, args []string) (report, error) {
			l, err := cohort.GetLifecycle(ctx, r.c, cohort.LifecycleQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return report{}, err
			}
			empty := true
			for _, p := range l.Periods {
				empty = empty && p.Active() == 0 && p.Dormant == 0
			}
			return report{l, l.WriteCSV, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "lifecycle: %s by %s\n", l.Event, l.TimeGroup.Unit())
				fmt.Fprintln(w, "period\tactive\tnew\treturning\tresurrecting\tdormant\t")
				for _, p := range l.Periods {
					fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t\n", p.Label, p.Active(), p.New, p.Returning, p.Resurrecting, p.Dormant)
				}
			}, empty}, nil
		},
	})
}

func (a *app) stickinessCommand() *cobra.Command {
	return a.reportCommand(reportSpec{
		use:   "stickiness EVENT",
		short: "Print how many users were active in exactly k of the periods",
		long: `Of the users who did EVENT at least once in the K periods from --from to --to,
print how many did it in exactly k of them, k = 1..K.

JSON: {"event", "time_group", "from", "to", "num_periods", "users",
"buckets": [{"periods": k, "users": n}]}.`,
		example: `  bitmapist stickiness gameStarted --group days --from 2016-05-01 --to 2016-05-07`,
		args:    cobra.ExactArgs(1), group: bitmapist.Days, periods: 7, report: cohort.ReportStickiness,
		run: func(ctx context.Context, r *reportArgs, args []string) (report, error) {
			s, err := cohort.GetStickiness(ctx, r.c, cohort.StickinessQuery{Event: args[0], TimeGroup: r.group, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return report{}, err
			}
			return report{s, s.WriteCSV, func(w *tabwriter.Writer) {
				fmt.Fprintf(w, "stickiness: %s, %s active in %s..%s (%s)\n", s.Event, plural(s.Users, "user"), s.From, s.To, plural(s.NumPeriods, s.TimeGroup.Unit()))
				fmt.Fprintf(w, "%s\tusers\tshare\t\n", s.TimeGroup)
				for _, b := range s.Buckets {
					share := 0.0
					if s.Users > 0 {
						share = 100 * float64(b.Users) / float64(s.Users)
					}
					fmt.Fprintf(w, "%d\t%d\t%.1f%%\t\n", b.Periods, b.Users, share)
				}
			}, s.Users == 0}, nil
		},
	})
}

func (a *app) funnelCommand() *cobra.Command {
	var window int
	return a.reportCommand(reportSpec{
		use:   "funnel E1 E2 [E3...]",
		short: "Print a funnel: of the users who did E1 in each period, how many did E2, E3... in order within --window periods",
		long: `Print a funnel with one row per entry period from --from to --to and a total
row. A row's users did E1 in its period p; a user reaches step k in period q
(p <= q <= p+window) when they did E_k in q and had reached step k-1 in a
period <= q (steps in the same period count in order). A repeated event
(A A, A B A) is reached only in a period strictly after the step it repeats
(a bitmap holds one mark per user and period): A A counts the users who did
A again within the window. Each step shows its users, the conversion from
the previous step and from E1, and the drop-off.

JSON: {"time_group", "window", "steps": [{"event", "users", "from_previous",
"from_first", "drop_off"}], "rows": [{"label", "start", "steps": [...]}]}
(steps: the total row, the sum of the rows). A conversion from a step of
no users (0/0) is shown as "–" in text, as on the dashboard, and is 0 in
from_previous / from_first of JSON and CSV (tell it by the users: 0).`,
		example: `  bitmapist funnel newPlayer gameStarted --group days --window 7 --from 2016-04-27 --to 2016-05-26`,
		args:    cobra.MinimumNArgs(2), group: bitmapist.Days, periods: 30, report: cohort.ReportFunnel,
		flags: func(fl *pflag.FlagSet) {
			fl.IntVar(&window, "window", 7, fmt.Sprintf("conversion window: periods after the entry period, 0..%d", cohort.MaxFunnelWindow))
		},
		run: func(ctx context.Context, r *reportArgs, args []string) (report, error) {
			fu, err := cohort.GetFunnel(ctx, r.c, cohort.FunnelQuery{Steps: args, TimeGroup: r.group, Window: window, From: r.from, To: r.to, Segment: r.segment})
			if err != nil {
				return report{}, err
			}
			empty := len(fu.Steps) == 0 || fu.Steps[0].Users == 0
			return report{fu, fu.WriteCSV, func(w *tabwriter.Writer) { writeFunnelText(w, fu) }, empty}, nil
		},
	})
}

// errNoHourly is wrapped when --group hours reads events that were marked
// without hourly tracking.
var errNoHourly = errors.New("no hourly data")

// noHourlyData returns an error wrapping errNoHourly when one of events
// has daily data on the days of from..to but no hourly bitmap in any hour
// of those days (one EXISTS per event, day and hour, in one pipeline),
// though the hourly report found nobody: those marks were written without
// hourly tracking. It returns nil when no event is in that case (a real
// zero: no daily data either, or hourly tracking was on).
func noHourlyData(ctx context.Context, c *bitmapist.Client, events []string, from, to time.Time) error {
	type probe struct {
		day  *redis.IntCmd
		hour []*redis.IntCmd
	}
	probes := map[string][]probe{}
	events = slices.Compact(slices.Sorted(slices.Values(events)))
	p := c.Redis().Pipeline()
	for _, e := range events {
		for d := bitmapist.Days.Start(from); !d.After(to); d = bitmapist.Days.Add(d, 1) {
			pr := probe{day: p.Exists(ctx, c.Key(e, bitmapist.Days, d))}
			for h := d; h.Before(bitmapist.Days.Add(d, 1)); h = bitmapist.Hours.Add(h, 1) {
				pr.hour = append(pr.hour, p.Exists(ctx, c.Key(e, bitmapist.Hours, h)))
			}
			probes[e] = append(probes[e], pr)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return fmt.Errorf("check daily and hourly data: %w", err)
	}
	var names []string
	for _, e := range events {
		daily, hourly := false, false
		for _, pr := range probes[e] {
			daily = daily || pr.day.Val() > 0
			for _, h := range pr.hour {
				hourly = hourly || h.Val() > 0
			}
		}
		if daily && !hourly {
			names = append(names, e)
		}
	}
	if len(names) == 0 {
		return nil
	}
	hours := "in hour " + bitmapist.Hours.Label(from)
	if bitmapist.Hours.Label(from) != bitmapist.Hours.Label(to) {
		hours = "from " + bitmapist.Hours.Label(from) + " to " + bitmapist.Hours.Label(to)
	}
	has, it := "has", "it was"
	if len(names) > 1 {
		has, it = "have", "they were"
	}
	return fmt.Errorf("%w: %s %s users on %s but no hourly data %s: %s marked without hourly tracking (mark/import --hourly, bitmapist.WithTrackHourly); use --group days",
		errNoHourly, strings.Join(names, ", "), has, dayRange(from, to), hours, it)
}

// dayRange names the days from a to b: "2025-03-26" or "2025-03-25 to 2025-03-26".
func dayRange(a, b time.Time) string {
	la, lb := bitmapist.Days.Label(a), bitmapist.Days.Label(b)
	if la == lb {
		return la
	}
	return la + " to " + lb
}
