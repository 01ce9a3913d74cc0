package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// paramPages are every page of the dashboard with a valid query and the
// single-valued parameters it reads, each with two valid values.
var paramPages = func() []struct {
	path   string
	base   url.Values
	params map[string][2]string
} {
	dates := map[string][2]string{"now": {"2025-03-26", "2025-03-20"}, "from": {"2025-03-01", "2025-03-02"}, "to": {"2025-03-20", "2025-03-21"}, "time_group": {"days", "weeks"}}
	report := func(extra map[string][2]string) map[string][2]string {
		m := map[string][2]string{}
		for k, v := range dates {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	cohortParams := map[string][2]string{
		"primary_event": {evSignup, evActive}, "primary": {evSignup, evActive}, "primary_and": {evSong, evActive},
		"secondary_event": {evActive, evSong}, "secondary": {evActive, evSong}, "time_group": {"days", "weeks"},
		"num_rows": {"3", "4"}, "rows": {"3", "4"}, "num_cols": {"3", "4"}, "cols": {"3", "4"},
		"now": {"2025-03-26", "2025-03-20"}, "start": {"2025-03-10", "2025-03-11"},
		"as_percent": {"1", "0"}, "with_replacement": {"1", "0"}, "first_time": {"1", "0"},
		"on_or_after": {"1", "0"}, "blank_empty": {"1", "0"}, "include_future": {"1", "0"},
	}
	cohortBase := url.Values{"primary_event": {evSignup}, "secondary_event": {evActive}}
	type page = struct {
		path   string
		base   url.Values
		params map[string][2]string
	}
	return []page{
		{"/", url.Values{}, map[string][2]string{"now": {"2025-03-26", "2025-03-20"}, "sort": {"month", "name"}, "q": {"song", "user"}, "page": {"1", "2"}}},
		{"/cohort", cohortBase, cohortParams},
		{"/cohort.json", cohortBase, cohortParams},
		{"/cohort.csv", cohortBase, cohortParams},
		{"/event", url.Values{"event": {evActive}}, report(map[string][2]string{"event": {evActive, evSong}})},
		{"/lifecycle", url.Values{"event": {evActive}}, report(map[string][2]string{"event": {evActive, evSong}, "time_group": {"weeks", "months"}})},
		{"/stickiness", url.Values{"event": {evActive}}, report(map[string][2]string{"event": {evActive, evSong}})},
		{"/funnel", url.Values{"step": {evSignup, evSong}}, report(map[string][2]string{"window": {"7", "3"}})},
	}
}()

// TestRepeatedParamRefused: on every page, a single-valued parameter
// given twice is a 400 naming it ("now: given twice"), never one of the
// values taken silently; the same parameter once is fine.
func TestRepeatedParamRefused(t *testing.T) {
	h := demoHandler(t)
	for _, pg := range paramPages {
		for name, vals := range pg.params {
			q := url.Values{}
			for k, v := range pg.base {
				q[k] = v
			}
			q[name] = []string{vals[0]}
			if code, body := get(t, h, pg.path+"?"+q.Encode()); code != 200 {
				t.Errorf("%s %s once: status %d: %.300s", pg.path, name, code, body)
			}
			q[name] = []string{vals[0], vals[1]}
			code, body := get(t, h, pg.path+"?"+q.Encode())
			want := name + `: given twice (&#34;` + vals[0] + `&#34;, &#34;` + vals[1] + `&#34;)`
			if pg.path == "/cohort.json" {
				var je struct{ Error, Field string }
				if err := json.Unmarshal([]byte(body), &je); err != nil || je.Field != name {
					t.Errorf("%s %s twice: JSON %v %+v, want field %s", pg.path, name, err, je, name)
				}
				want = name + `: given twice (\"` + vals[0] + `\", \"` + vals[1] + `\")`
			}
			if pg.path == "/cohort.csv" {
				want = name + `: given twice ("` + vals[0] + `", "` + vals[1] + `")`
			}
			if code != 400 || !strings.Contains(body, want) {
				t.Errorf("%s %s twice: status %d, want 400 with %s in\n%.600s", pg.path, name, code, want, body)
			}
		}
	}
}

// TestSegmentsAnded: two segment parameters are ANDed on every page and
// on the cohort endpoints, giving the Go API's numbers with both
// segments (as the command's two --segment); each alone gives other
// numbers, so the second is not dropped.
func TestSegmentsAnded(t *testing.T) {
	ctx := context.Background()
	c := newClient(testutil.Miniredis(t), demoNow)
	seedDemo(t, c, demoNow, 4)
	h := Handler(c)
	specs := []string{evSignup + "@2025-W11", evActive + "@2025-W12"}
	both, err := cohort.ParseSegment(c, specs...)
	if err != nil {
		t.Fatal(err)
	}
	first, _ := cohort.ParseSegment(c, specs[0])
	from, to := bitmapist.Days.Start(demoNow.AddDate(0, 0, -20)), demoNow
	rng := "&from=" + from.Format("2006-01-02") + "&to=2025-03-26&segment=" + url.QueryEscape(specs[0])
	two := rng + "&segment=" + url.QueryEscape(specs[1])

	trend := func(seg bitmapist.Set) []int64 {
		tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: evSong, TimeGroup: bitmapist.Days, From: from, To: to, Rolling: true, Segment: seg})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for i := len(tr.Periods) - 1; i >= 0; i-- {
			out = append(out, tr.Periods[i].Count)
		}
		return out
	}
	stick := func(seg bitmapist.Set) []int64 {
		st, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: evSong, TimeGroup: bitmapist.Days, From: from, To: to, Segment: seg})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, b := range st.Buckets {
			out = append(out, b.Users)
		}
		return out
	}
	life := func(seg bitmapist.Set) []int64 {
		lc, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: evSong, TimeGroup: bitmapist.Weeks, From: from, To: to, Segment: seg})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, p := range lc.Periods {
			out = append(out, p.New, p.Returning)
		}
		return out
	}
	funnel := func(seg bitmapist.Set) []int64 {
		fu, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{evActive, evSong}, TimeGroup: bitmapist.Days, Window: 7, From: from, To: to, Segment: seg})
		if err != nil {
			t.Fatal(err)
		}
		return []int64{fu.Steps[0].Users, fu.Steps[1].Users}
	}
	pair := func(body string, a, b string) []int64 {
		x, y := attrs(t, body, a), attrs(t, body, b)
		var out []int64
		for i := range x {
			out = append(out, x[i], y[i])
		}
		return out
	}
	for _, tc := range []struct {
		page string
		nums func(body string) []int64
		api  func(bitmapist.Set) []int64
	}{
		{"/event?event=" + url.QueryEscape(evSong), func(b string) []int64 { return attrs(t, b, "count") }, trend},
		{"/stickiness?event=" + url.QueryEscape(evSong), func(b string) []int64 { return attrs(t, b, "users") }, stick},
		{"/lifecycle?time_group=weeks&event=" + url.QueryEscape(evSong), func(b string) []int64 { return pair(b, "new", "returning") }, life},
		{"/funnel?window=7&step=" + url.QueryEscape(evActive) + "&step=" + url.QueryEscape(evSong), func(b string) []int64 { return attrs(t, b, "users")[:2] }, funnel},
	} {
		want, alone := tc.api(both), tc.api(first)
		if equalInts(want, alone) {
			t.Fatalf("%s: the second segment changes nothing (%v): a weak test", tc.page, want)
		}
		code, body := get(t, h, tc.page+two)
		if got := tc.nums(body); code != 200 || !equalInts(got, want) {
			t.Errorf("%s with both segments: %d, %v, want %v (first alone %v)", tc.page, code, got, want, alone)
		}
		// The form keeps both segments, and so do the links.
		if !strings.Contains(body, `value="`+specs[0]+`"`) || !strings.Contains(body, `value="`+specs[1]+`"`) {
			t.Errorf("%s: the form does not keep both segments", tc.page)
		}
		if !strings.Contains(body, "segment <code>"+specs[0]+" and "+specs[1]+"</code>") {
			t.Errorf("%s: the header does not name both segments", tc.page)
		}
	}

	// The cohort table and its JSON: the Go API's with both segments.
	cq := cohort.Query{Primary: evSignup, Secondary: evActive, TimeGroup: bitmapist.Weeks, Rows: 4, Cols: 4, Now: demoNow, Segment: both}
	tab, err := cohort.Get(ctx, c, cq)
	if err != nil {
		t.Fatal(err)
	}
	cq.Segment = first
	tab1, err := cohort.Get(ctx, c, cq)
	if err != nil {
		t.Fatal(err)
	}
	want, alone := tab.Totals, tab1.Totals
	if equalInts(want, alone) {
		t.Fatalf("cohort: the second segment changes nothing (%v)", want)
	}
	segq := "&time_group=weeks&num_rows=4&num_cols=4&now=2025-03-26&segment=" + url.QueryEscape(specs[0]) + "&segment=" + url.QueryEscape(specs[1])
	code, body := get(t, h, "/cohort.json?"+demoCohortQuery+segq)
	var tj struct {
		RowTotals []int64 `json:"row_totals"`
	}
	if err := json.Unmarshal([]byte(body), &tj); code != 200 || err != nil || !equalInts(tj.RowTotals, want) {
		t.Errorf("cohort.json with both segments: %d %v %v, want %v", code, err, tj.RowTotals, want)
	}
	code, body = get(t, h, "/cohort?"+demoCohortQuery+segq)
	if totals, _ := heatmapNumbers(t, body); code != 200 || !equalInts(totals, want) {
		t.Errorf("cohort page with both segments: %d %v, want %v", code, totals, want)
	}
	code, body = get(t, h, "/cohort.csv?"+demoCohortQuery+segq)
	if code != 200 || !strings.Contains(body, ","+strconv.FormatInt(want[1], 10)+",") || want[1] == 0 {
		t.Errorf("cohort.csv with both segments: %d, no total %d in\n%s", code, want[1], body)
	}
}

// TestSegmentWithSpace: two specs in one segment field (a space inside)
// is a 400 saying event names cannot contain whitespace and that each
// segment is its own field, on every page and endpoint, not a 404 about
// an event "a@2025-03 b".
func TestSegmentWithSpace(t *testing.T) {
	h := demoHandler(t)
	seg := url.QueryEscape(evSignup + "@2025-W11 " + evActive + "@2025-W12")
	for _, target := range []string{
		"/event?event=" + evActive, "/lifecycle?event=" + evActive, "/stickiness?event=" + evActive,
		"/funnel?step=" + evSignup + "&step=" + evSong, "/cohort?" + demoCohortQuery, "/cohort.json?" + demoCohortQuery, "/cohort.csv?" + demoCohortQuery,
	} {
		code, body := get(t, h, target+"&segment="+seg)
		if code != 400 || !strings.Contains(body, "event names cannot contain whitespace; each segment is one field (segment=A") {
			t.Errorf("%s: %d, want 400 about whitespace:\n%.500s", target, code, body)
		}
	}
}
