package web

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// The defaults of the report pages.
var (
	eventDefaults      = reportDefaults{group: bitmapist.Days, periods: 90, report: cohort.ReportTrend}
	lifecycleDefaults  = reportDefaults{group: bitmapist.Weeks, periods: 12, report: cohort.ReportLifecycle}
	stickinessDefaults = reportDefaults{group: bitmapist.Days, periods: 30, report: cohort.ReportStickiness}
	funnelDefaults     = reportDefaults{group: bitmapist.Days, periods: 30, report: cohort.ReportFunnel, multi: true}
)

// defaultFunnelWindow is the funnel form's conversion window, in periods.
const defaultFunnelWindow = 7

// eventData is the event page's own data.
type eventData struct {
	Trend       *bitmapist.Trend
	Last        bitmapist.TrendPeriod
	Rolling     bool
	UniqueDelta change
	Rows        []bitmapist.TrendPeriod // newest first
}

func (h *handler) eventPage(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, "event", eventDefaults, func(ctx context.Context, p reportParams, d *reportPage) error {
		rolling := p.Group == bitmapist.Days
		t, err := h.c.Trend(ctx, bitmapist.TrendQuery{Event: p.Events[0], TimeGroup: p.Group, From: p.From, To: p.To, Rolling: rolling, Segment: p.Segment})
		if err != nil {
			return err
		}
		labels := make([]string, len(t.Periods))
		dau := series{Class: "s1", Name: map[bool]string{true: "DAU", false: "users per " + p.Group.Unit()}[rolling]}
		wau, mau := series{Class: "s2", Name: "WAU (7 days)"}, series{Class: "s3", Name: "MAU (30 days)"}
		ratio := series{Class: "s4", Name: "DAU/MAU"}
		ed := eventData{Trend: t, Rolling: rolling, UniqueDelta: newChange(t.Unique, t.PreviousUnique)}
		for i, pr := range t.Periods {
			labels[i] = pr.Label
			dau.Values = append(dau.Values, float64(pr.Count))
			wau.Values = append(wau.Values, float64(pr.WAU))
			mau.Values = append(mau.Values, float64(pr.MAU))
			r := pr.DAUMAU()
			if pr.MAU == 0 {
				r = math.NaN() // undefined: a gap in the chart, "–" in the table
			}
			ratio.Values = append(ratio.Values, r)
			ed.Rows = append([]bitmapist.TrendPeriod{pr}, ed.Rows...)
		}
		if len(t.Periods) > 0 {
			ed.Last = t.Periods[len(t.Periods)-1]
		}
		lines := []series{dau}
		if rolling {
			lines = append(lines, wau, mau)
			d.Chart2 = newLineChart("DAU/MAU of "+t.Event, labels, []series{ratio}, false, percentLabel)
		}
		d.Chart = newLineChart("users of "+t.Event, labels, lines, true, countLabel)
		d.Data = ed
		return h.noteTrendNoHourly(ctx, t, d)
	})
}

// noteTrendNoHourly adds a note to d when an hourly trend has no user at
// all although the event has daily data on those days: it was marked
// without hourly tracking (as bitmapist trend --group hours shows zeros).
func (h *handler) noteTrendNoHourly(ctx context.Context, t *bitmapist.Trend, d *reportPage) error {
	if t.TimeGroup != bitmapist.Hours || t.Unique != 0 {
		return nil
	}
	hours := make([]time.Time, len(t.Periods))
	for i, pr := range t.Periods {
		hours[i] = pr.Start
	}
	note, err := dailyWithoutHourly(ctx, h.c, t.Event, hours)
	if note != "" {
		d.Notes = append(d.Notes, pageNote{Kind: "hourly", Text: note})
	}
	return err
}

func (h *handler) lifecyclePage(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, "lifecycle", lifecycleDefaults, func(ctx context.Context, p reportParams, d *reportPage) error {
		l, err := cohort.GetLifecycle(ctx, h.c, cohort.LifecycleQuery{Event: p.Events[0], TimeGroup: p.Group, From: p.From, To: p.To, Segment: p.Segment})
		if err != nil {
			return err
		}
		stacks := make([]stack, len(l.Periods))
		for i, pr := range l.Periods {
			stacks[i] = stack{Label: pr.Label,
				Up:   []float64{float64(pr.New), float64(pr.Returning), float64(pr.Resurrecting)},
				Down: []float64{float64(-pr.Dormant)},
				BarTitles: []string{
					pr.Label + ": " + thousands(pr.New) + " new", pr.Label + ": " + thousands(pr.Returning) + " returning",
					pr.Label + ": " + thousands(pr.Resurrecting) + " resurrecting", pr.Label + ": " + thousands(-pr.Dormant) + " dormant"}}
		}
		d.Chart = newBarChart("lifecycle of "+l.Event, stacks, []string{"new", "returning", "resurrecting", "dormant"},
			[]string{"new", "returning", "resurrecting", "dormant (below the axis)"}, countLabel)
		d.Data = l
		return nil
	})
}

func (h *handler) stickinessPage(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, "stickiness", stickinessDefaults, func(ctx context.Context, p reportParams, d *reportPage) error {
		s, err := cohort.GetStickiness(ctx, h.c, cohort.StickinessQuery{Event: p.Events[0], TimeGroup: p.Group, From: p.From, To: p.To, Segment: p.Segment})
		if err != nil {
			return err
		}
		stacks := make([]stack, len(s.Buckets))
		for i, b := range s.Buckets {
			share := 0.0
			if s.Users > 0 {
				share = float64(b.Users) / float64(s.Users)
			}
			stacks[i] = stack{Label: strconv.Itoa(b.Periods), Up: []float64{float64(b.Users)},
				BarTitles: []string{users(b.Users) + " active in exactly " + strconv.Itoa(b.Periods) + " of " + plural(s.NumPeriods, p.Group.Unit()) + " (" + ratio(share, s.Users) + ")"}}
			if len(s.Buckets) <= 12 || share >= 0.01 {
				stacks[i].TopLabel = ratio(share, s.Users)
			}
		}
		d.Chart = newBarChart("stickiness of "+s.Event, stacks, []string{"s1"}, []string{"users active in exactly k " + p.Group.String()}, countLabel)
		d.Data = s
		return nil
	})
}

// funnelData is the funnel page's own data.
type funnelData struct {
	Funnel *cohort.Funnel
	Blank  int // empty step fields to offer
}

func (h *handler) funnelPage(w http.ResponseWriter, r *http.Request) {
	h.serveReport(w, r, "funnel", funnelDefaults, func(ctx context.Context, p reportParams, d *reportPage) error {
		if len(p.Events) < 2 {
			return &cohort.QueryError{Field: "step", Msg: "a funnel needs at least 2 steps; add the next event"}
		}
		f, err := cohort.GetFunnel(ctx, h.c, cohort.FunnelQuery{Steps: p.Events, TimeGroup: p.Group, Window: p.Window, From: p.From, To: p.To, Segment: p.Segment})
		if err != nil {
			return err
		}
		stacks := make([]stack, len(f.Steps))
		for i, s := range f.Steps {
			lbl := thousands(s.Users)
			if i > 0 {
				lbl += " · " + fromPrevious(f.Steps, i)
			}
			stacks[i] = stack{Label: strconv.Itoa(i+1) + ". " + s.Event, Up: []float64{float64(s.Users)}, TopLabel: lbl,
				BarTitles: []string{s.Event + ": " + users(s.Users) + ", " + fromFirst(f.Steps, i) + " of step 1"}}
		}
		d.Chart = newBarChart("funnel", stacks, []string{"s1"}, []string{"users who reached the step within the window"}, countLabel)
		if err := h.noteNoHourly(ctx, f, d); err != nil {
			return err
		}
		d.Data = funnelData{Funnel: f}
		d.Window = strconv.Itoa(p.Window)
		return nil
	})
}

// noteNoHourly adds a note to d when an hourly funnel has no entry at all
// although its first step has daily data on those days: it was marked
// without hourly tracking.
func (h *handler) noteNoHourly(ctx context.Context, f *cohort.Funnel, d *reportPage) error {
	if f.TimeGroup != bitmapist.Hours || len(f.Steps) == 0 || f.Steps[0].Users != 0 {
		return nil
	}
	hours := make([]time.Time, len(f.Rows))
	for i, r := range f.Rows {
		hours[i] = r.Start
	}
	note, err := dailyWithoutHourly(ctx, h.c, f.Steps[0].Event, hours)
	if note != "" {
		d.Notes = append(d.Notes, pageNote{Kind: "hourly", Text: note})
	}
	return err
}
