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

// add registers the shared flags; periods is the default range length,
// report the command's row of cohort.ReportTimeGroups.
func (f *reportFlags) add(cmd *cobra.Command, group bitmapist.TimeGroup, periods int, report cohort.Report) {
	fl := cmd.Flags()
	fl.StringVarP(&f.group, "group", "g", group.String(), "period length: "+cohort.TimeGroupList(cohort.ReportTimeGroups(report)))
	fl.StringVar(&f.from, "from", "", fmt.Sprintf("the first period: the one containing this time (default: %d periods before --to)", periods-1))
	fl.StringVar(&f.to, "to", "now", "the last period: the one containing this time (RFC 3339, now), or the last one of a labelled period (2024-12-30, 2024-W01, 2024-12, 2024: its last instant)")
	fl.StringArrayVar(&f.segment, "segment", nil, segmentFlagHelp)
	fl.BoolVar(&f.json, "json", false, "print JSON")
	fl.BoolVar(&f.csv, "csv", false, "print CSV")
}

// reportArgs is a parsed report command line.
type reportArgs struct {
	c         *bitmapist.Client
	done      func()
	group     bitmapist.TimeGroup
	from, to  time.Time
	segment   bitmapist.Set
	segEvents []string // the events the --segment specs name
}

// parse checks the shared flags (before Redis) and opens the client:
// a --group the report does not take (cohort.ReportTimeGroups), --from
// after --to, and a --segment naming an event without any data are errors.
func (f *reportFlags) parse(ctx context.Context, a *app, s reportSpec) (*reportArgs, error) {
	if f.json && f.csv {
		return nil, usagef("give at most one of --json and --csv")
	}
	g, err := parseGroupFlag(f.group, s.report)
	if err != nil {
		return nil, err
	}
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	r := &reportArgs{group: g}
	// Both flags are checked, so that each invalid one is named.
	to, toErr := parseTime(f.to, loc, time.Now())
	var fromErr error
	if f.from != "" {
		r.from, fromErr = parseTime(f.from, loc, time.Now())
	}
	switch {
	case toErr != nil && fromErr != nil:
		return nil, usagef("--from: %v; --to: %v", fromErr, toErr)
	case fromErr != nil:
		return nil, usagef("--from: %v", fromErr)
	case toErr != nil:
		return nil, usagef("--to: %v", toErr)
	}
	r.to = to
	if end, ok := cohort.PeriodEnd(f.to, loc); ok {
		r.to = end // --to 2016-W18 is the whole week, to its last instant
	}
	if f.from == "" {
		r.from = g.Add(r.to, -(s.periods - 1))
	} else {
		if g.Start(r.from).After(g.Start(r.to)) {
			return nil, usagef("--from %s is after --to %s (the %s of --from must not come after the one of --to)", g.Label(r.from), g.Label(r.to), g.Unit())
		}
	}
	if r.c, r.done, err = a.open(ctx); err != nil {
		return nil, err
	}
	if r.segment, r.segEvents, err = parseSegmentFlag(ctx, r.c, f.segment); err != nil {
		r.done()
		return nil, err
	}
	return r, nil
}

// parseGroupFlag parses a --group value for report: a *usageError
// wrapping bitmapist.ErrInvalidTimeGroup for a name that is no time group,
// or cohort.ErrTimeGroupNotOffered for a group the report does not take
// (cohort.ReportTimeGroups, the table the dashboard checks too).
func parseGroupFlag(s string, report cohort.Report) (bitmapist.TimeGroup, error) {
	g, err := bitmapist.ParseTimeGroup(s)
	if err != nil {
		return g, &usageError{err: fmt.Errorf("--group: %w", err)}
	}
	if err := cohort.CheckReportTimeGroup(report, g); err != nil {
		return g, &usageError{err: &wrapped{err: err, msg: fmt.Sprintf("--group: %s is not offered for %s (as on the dashboard): use %s",
			g, report, cohort.TimeGroupList(cohort.ReportTimeGroups(report)))}}
	}
	return g, nil
}

// segmentFlagHelp is the help of every --segment flag.
const segmentFlagHelp = "only users in this set: EVENT (its unique bitmap) or EVENT@PERIOD (EVENT@2025-03, EVENT@2025-W09, EVENT@2025-03-01); !EVENT or !EVENT@PERIOD for the users not in it; repeat to AND"

// parseSegmentFlag parses the --segment specs (cohort.ParseSegment, ANDed)
// and returns the segment (nil without specs) and the events the specs
// name (negated or not). A bad spec is a *usageError naming --segment; an
// event without any data is "--segment: no such event" with the closest
// names; an EVENT or !EVENT spec (no @) whose unique bitmap does not exist
// wraps errNoUniqueBitmap. An empty (or blank) --segment is a *usageError:
// it names no set, and ignoring it would silently report everyone.
func parseSegmentFlag(ctx context.Context, c *bitmapist.Client, specs []string) (bitmapist.Set, []string, error) {
	for _, spec := range specs {
		if strings.TrimSpace(spec) == "" {
			return nil, nil, usagef("--segment %q: an empty segment names no event; give EVENT, EVENT@PERIOD, !EVENT or !EVENT@PERIOD, or leave --segment out to count everyone", spec)
		}
	}
	seg, err := cohort.ParseSegment(c, specs...)
	if err != nil {
		return nil, nil, reportFlagError(err)
	}
	var events []string
	var uniques []cohort.SegmentSpec
	for _, text := range specs {
		s, err := cohort.ParseSegmentSpec(c, text)
		if err != nil {
			return nil, nil, reportFlagError(err)
		}
		if s.Unique() {
			uniques = append(uniques, s)
		}
		events = append(events, s.Event)
	}
	if len(events) > 0 {
		if err := missingEvents(ctx, c, events, segmentProbe(c, specs)); err != nil {
			return nil, nil, fmt.Errorf("--segment: %w", err)
		}
	}
	if err := noUniqueBitmap(ctx, c, uniques); err != nil {
		return nil, nil, fmt.Errorf("--segment: %w", err)
	}
	if why, err := cohort.SegmentWithoutHours(ctx, c, specs...); err != nil || why != "" {
		if err == nil {
			err = &wrapped{err: errNoHourlySegment, msg: "--" + why}
		}
		return nil, nil, err
	}
	return seg, events, nil
}

// errNoHourlySegment is wrapped when a --segment EVENT@HOUR (or
// !EVENT@HOUR) names an hour of a day whose event was marked without
// hourly tracking: every count would be 0, or nobody left out
// (cohort.SegmentWithoutHours, whose explanation is the message).
var errNoHourlySegment = errors.New("segment holds no user")

// errNoUniqueBitmap is wrapped when a --segment EVENT (no @) names an
// event with data but without a unique bitmap (<prefix>EVENT_u): every
// count would be 0 (for !EVENT: nobody would be left out).
var errNoUniqueBitmap = errors.New("segment holds no user")

// noUniqueBitmap returns an error wrapping errNoUniqueBitmap, with the
// dashboard's explanation, for the first spec (EVENT or !EVENT) whose
// event's unique bitmap does not exist (one EXISTS per spec), nil when all
// exist. A unique bitmap that exists with every bit 0 is an empty segment
// (0 users; for !EVENT everyone), not an error.
func noUniqueBitmap(ctx context.Context, c *bitmapist.Client, specs []cohort.SegmentSpec) error {
	for _, s := range specs {
		ok, err := c.Unique(s.Event).Exists(ctx)
		if err != nil {
			return err
		}
		if !ok {
			what, not := "holds no user", ""
			if s.Not {
				what, not = "leaves no user out", "!"
			}
			return &wrapped{err: errNoUniqueBitmap, msg: fmt.Sprintf("the segment %s %s: a segment without @ is the event's unique bitmap (%s), written only with unique tracking on (bitmapist.WithTrackUnique). Use %s%s@PERIOD (2025-03, 2025-W09, 2025-03-01) for the users who did it in a period",
				quoteClip(s.Text), what, c.UniqueKey(s.Event), not, s.Event)}
		}
	}
	return nil
}

// explainEmpty is called when a report counted nobody (reportCommand has
// already refused events without any data): for --group hours it returns
// an error naming the events that have daily but no hourly data in the
// range (marked without hourly tracking); nil when the zeros are real.
func (r *reportArgs) explainEmpty(ctx context.Context, events []string) error {
	if r.group == bitmapist.Hours {
		return noHourlyData(ctx, r.c, events, r.from, r.to)
	}
	return nil
}

// noteFuture writes a note to w when the range reaches past now: those
// periods have no data yet.
func (r *reportArgs) noteFuture(w io.Writer) {
	now := r.c.Now()
	if r.group.Start(r.to).After(r.group.Start(now)) {
		fmt.Fprintf(w, "bitmapist: note: --to %s is after now (%s): periods after now have no data yet\n", r.group.Label(r.to), r.group.Label(now))
	}
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
	if errors.Is(err, bitmapist.ErrTooManyPeriods) {
		field = "--from/--to" // the range is too long, not --to wrong
	}
	msg = strings.ReplaceAll(msg, "before From ", "before --from ")
	return &usageError{err: &wrapped{err: err, msg: field + ": " + msg}}
}

// writeJSON writes v to standard output as indented JSON, without HTML
// escaping (event names keep their & < >), as every --json output does.
func (a *app) writeJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// printReport writes v as JSON, as CSV (csvw) or as text (text).
func (a *app) printReport(f *reportFlags, v any, csvw func(io.Writer) error, text func(*tabwriter.Writer)) error {
	switch {
	case f.json:
		return a.writeJSON(v)
	case f.csv:
		return csvw(a.stdout)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	text(tw)
	return tw.Flush()
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
	fmt.Fprintf(w, "trend: %s by %s; %s in the range, %d in the previous one\n", t.Event, t.TimeGroup.Unit(), plural(t.Unique, "user"), t.PreviousUnique)
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

func writeFunnelText(w *tabwriter.Writer, f *cohort.Funnel) {
	fmt.Fprintf(w, "funnel by %s, window %s\n", f.TimeGroup.Unit(), plural(int64(f.Window), f.TimeGroup.Unit()))
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
			switch {
			case k == 0:
			case steps[k-1].Users == 0:
				line += "–\t" // 0/0, as the dashboard shows it
			default:
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

// plural returns n and unit, with an "s" unless n is 1: "1 year", "2 days".
func plural[N int | int64](n N, unit string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
