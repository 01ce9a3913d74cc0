package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// attrs returns the values of data-<name> in body, in order, as numbers.
func attrs(t *testing.T, body, name string) []int64 {
	t.Helper()
	var out []int64
	for _, m := range regexp.MustCompile(`data-`+name+`="(-?\d+)"`).FindAllStringSubmatch(body, -1) {
		n, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// Every report page shows the numbers of its Go API for the same query,
// segment included.
func TestReportPagesMatchAPI(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		seedDemo(t, c, demoNow, 8)
		h := Handler(c)
		ctx := context.Background()
		from, to := demoNow.AddDate(0, 0, -20), demoNow
		seg := evSignup + "@" + bitmapist.Weeks.Label(demoNow.AddDate(0, 0, -21))
		segSet, err := cohort.ParseSegment(c, seg)
		if err != nil {
			t.Fatal(err)
		}
		q := url.Values{"from": {"2025-03-06"}, "to": {"2025-03-26"}}

		// Event page: the daily trend with rolling WAU/MAU, newest first.
		tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: evActive, TimeGroup: bitmapist.Days, From: from, To: to, Rolling: true})
		if err != nil {
			t.Fatal(err)
		}
		code, body := get(t, h, "/event?event="+evActive+"&"+q.Encode())
		if code != http.StatusOK {
			t.Fatalf("event page: %d", code)
		}
		var counts, maus []int64
		for i := len(tr.Periods) - 1; i >= 0; i-- {
			counts, maus = append(counts, tr.Periods[i].Count), append(maus, tr.Periods[i].MAU)
		}
		if got := attrs(t, body, "count"); !equalInts(got, counts) || len(got) != 21 {
			t.Errorf("event page counts %v, want %v", got, counts)
		}
		if got := attrs(t, body, "mau"); !equalInts(got, maus) {
			t.Errorf("event page MAU %v, want %v", got, maus)
		}
		if !strings.Contains(body, `id="stat-unique">`+thousands(tr.Unique)+"<") || strings.Count(body, `<svg class="chart"`) != 2 {
			t.Error("event page: no distinct-user figure or not two charts")
		}
		// Its links keep the date control and lead to the other reports.
		for _, kind := range []string{"lifecycle?", "stickiness?", "funnel?step=", "cohort?"} {
			if !strings.Contains(body, `href="`+kind) {
				t.Errorf("event page lacks a link to %s", kind)
			}
		}

		// Lifecycle, weekly, with a segment.
		lc, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: evActive, TimeGroup: bitmapist.Weeks, From: from, To: to, Segment: segSet})
		if err != nil {
			t.Fatal(err)
		}
		code, body = get(t, h, "/lifecycle?event="+evActive+"&time_group=weeks&segment="+url.QueryEscape(seg)+"&"+q.Encode())
		if code != http.StatusOK {
			t.Fatalf("lifecycle page: %d", code)
		}
		var news, dormant []int64
		for _, p := range lc.Periods {
			news, dormant = append(news, p.New), append(dormant, p.Dormant)
		}
		if got := attrs(t, body, "new"); !equalInts(got, news) || len(got) != 4 { // W10..W13
			t.Errorf("lifecycle new %v, want %v", got, news)
		}
		if got := attrs(t, body, "dormant"); !equalInts(got, dormant) {
			t.Errorf("lifecycle dormant %v, want %v", got, dormant)
		}
		if strings.Count(body, `<rect class="bar dormant"`) != 4 || !strings.Contains(body, `value="`+seg+`"`) {
			t.Error("lifecycle: no dormant bars or the segment is not kept")
		}

		// Stickiness over the 21 days.
		st, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: evActive, TimeGroup: bitmapist.Days, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		_, body = get(t, h, "/stickiness?event="+evActive+"&"+q.Encode())
		var users []int64
		for _, bk := range st.Buckets {
			users = append(users, bk.Users)
		}
		if got := attrs(t, body, "users"); !equalInts(got, users) || len(got) != 21 {
			t.Errorf("stickiness %v, want %v", got, users)
		}

		// A 3-step funnel, 7-day window.
		fu, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{evSignup, evSong, evPlaylist}, TimeGroup: bitmapist.Days, Window: 7, From: from, To: to})
		if err != nil {
			t.Fatal(err)
		}
		_, body = get(t, h, "/funnel?step="+evSignup+"&step="+evSong+"&step="+evPlaylist+"&step=&window=7&"+q.Encode())
		var total []int64
		for _, s := range fu.Steps {
			total = append(total, s.Users)
		}
		if got := attrs(t, body, "users")[:3]; !equalInts(got, total) || total[0] == 0 {
			t.Errorf("funnel totals %v, want %v", got, total)
		}
		if n := len(attrs(t, body, "users")); n != 3+3*21 {
			t.Errorf("funnel page has %d step cells, want %d", n, 3+3*21)
		}
	})
}

// Bad input names its field (400), unknown events say so with
// suggestions (404), and a page without an event is its form.
func TestReportPagesErrors(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "user:active", demoNow, 1)
	h := Handler(c)
	for _, tc := range []struct {
		target string
		code   int
		want   string
	}{
		{"/event", 200, `id="report-form"`},
		{"/funnel", 200, `id="report-form"`},
		{"/event?event=user:activ", 404, `data-missing="user:activ"`},
		{"/lifecycle?event=user:activ", 404, `>user:active</a>?`},
		{"/event?event=user:active&from=soon", 400, "from: "},
		{"/event?event=user:active&from=2025-03-20&to=2025-03-01", 400, "from: 2025-03-20 is after to (2025-03-01)"},
		{"/event?event=user:active&from=2020-01-01", 400, "to: "},
		{"/lifecycle?event=user:active&time_group=hours", 400, "time_group: "}, // not offered (cohort.ReportTimeGroups)
		{"/lifecycle?event=user:active&segment=" + url.QueryEscape("user:active@2025-99"), 400, "segment: "},
		{"/funnel?step=user:active", 400, "at least 2 steps"},
		{"/funnel?step=user:active&step=user:active&window=91", 400, "window: "},
		{"/event?event=user:active&now=later", 400, "now: "},
	} {
		code, body := get(t, h, tc.target)
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s: status %d, want %d with %q", tc.target, code, tc.code, tc.want)
		}
	}
	_, body := get(t, h, "/event?event=user:active&from=soon")
	if !strings.Contains(body, `name="from" value="soon" placeholder="empty: 90 periods before to" title="empty: 90 periods before to" aria-invalid="true"`) {
		t.Error("the bad field is not marked")
	}
}
