package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestNegatedSegmentPagesMatchAPI: the segment field's !EVENT and
// !EVENT@PERIOD give on every report page (trend, lifecycle, stickiness,
// funnel) and on cohort.json exactly the numbers of the Go API with the
// bitmapist.Not segment, on every backend, and the page keeps the text.
func TestNegatedSegmentPagesMatchAPI(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, demoNow)
		seedDemo(t, c, demoNow, 4)
		for id := uint64(1001); id < 1400; id += 3 {
			if err := c.MarkUnique(ctx, "plan:pro", id); err != nil {
				t.Fatal(err)
			}
		}
		h := Handler(c)
		from, to := demoNow.AddDate(0, 0, -20), demoNow
		w12 := bitmapist.Weeks.Add(demoNow, -1)
		q := url.Values{"from": {"2025-03-06"}, "to": {"2025-03-26"}}
		for seg, set := range map[string]bitmapist.Set{
			"!plan:pro":                   bitmapist.Not(c.Unique("plan:pro")),
			"!" + evSignup + "@2025-W12":  bitmapist.Not(c.Events(evSignup, bitmapist.Weeks, w12)),
			" !" + evSong + "@2025-03-20": bitmapist.Not(c.Events(evSong, bitmapist.Days, demoNow.AddDate(0, 0, -6))),
		} {
			sq := q.Encode() + "&segment=" + url.QueryEscape(seg)
			page := func(path string) string {
				t.Helper()
				code, body := get(t, h, path+"&"+sq)
				if code != http.StatusOK || !strings.Contains(body, `value="`+strings.TrimSpace(seg)+`"`) {
					t.Fatalf("%s %q: %d, or the segment is not kept", path, seg, code)
				}
				return body
			}
			tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: evActive, TimeGroup: bitmapist.Days, From: from, To: to, Rolling: true, Segment: set})
			if err != nil {
				t.Fatal(err)
			}
			var counts []int64
			for i := len(tr.Periods) - 1; i >= 0; i-- {
				counts = append(counts, tr.Periods[i].Count)
			}
			if got := attrs(t, page("/event?event="+evActive), "count"); !equalInts(got, counts) || len(got) != 21 {
				t.Errorf("%q: event page counts %v, want %v", seg, got, counts)
			}
			lc, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: evActive, TimeGroup: bitmapist.Weeks, From: from, To: to, Segment: set})
			if err != nil {
				t.Fatal(err)
			}
			var news, dormant []int64
			for _, p := range lc.Periods {
				news, dormant = append(news, p.New), append(dormant, p.Dormant)
			}
			body := page("/lifecycle?event=" + evActive + "&time_group=weeks")
			if got := attrs(t, body, "new"); !equalInts(got, news) || len(got) != 4 {
				t.Errorf("%q: lifecycle new %v, want %v", seg, got, news)
			}
			if got := attrs(t, body, "dormant"); !equalInts(got, dormant) {
				t.Errorf("%q: lifecycle dormant %v, want %v", seg, got, dormant)
			}
			st, err := cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: evActive, TimeGroup: bitmapist.Days, From: from, To: to, Segment: set})
			if err != nil {
				t.Fatal(err)
			}
			var users []int64
			for _, bk := range st.Buckets {
				users = append(users, bk.Users)
			}
			if got := attrs(t, page("/stickiness?event="+evActive), "users"); !equalInts(got, users) || st.Users == 0 {
				t.Errorf("%q: stickiness %v, want %v", seg, got, users)
			}
			fu, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{evSignup, evSong}, TimeGroup: bitmapist.Days, Window: 7, From: from, To: to, Segment: set})
			if err != nil {
				t.Fatal(err)
			}
			if got := attrs(t, page("/funnel?step="+evSignup+"&step="+evSong+"&step=&window=7"), "users")[:2]; !equalInts(got, []int64{fu.Steps[0].Users, fu.Steps[1].Users}) || got[0] == 0 {
				t.Errorf("%q: funnel totals %v, want %d, %d", seg, got, fu.Steps[0].Users, fu.Steps[1].Users)
			}
			tab, err := cohort.Get(ctx, c, cohort.Query{Primary: evSignup, Secondary: evActive, TimeGroup: bitmapist.Weeks, Rows: 4, Cols: 4, Now: demoNow, Segment: set})
			if err != nil {
				t.Fatal(err)
			}
			want, _ := json.Marshal(tab)
			code, got := get(t, h, "/cohort.json?"+demoCohortQuery+"&time_group=weeks&num_rows=4&num_cols=4&segment="+url.QueryEscape(seg))
			var g, w any
			if code != 200 || json.Unmarshal([]byte(got), &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
				t.Errorf("%q: cohort.json %d %s\nwant %s", seg, code, got, want)
			}
		}
	})
}

// TestNegatedSegmentRefusals: a bad "!" form is a 400 naming segment on
// every page, cohort.json and cohort.csv; a negated segment's unknown
// event is the page's 404 "did you mean" (its links keep the "!"), on
// cohort.json and cohort.csv too; !EVENT without a unique bitmap and
// !EVENT@HOUR without hourly data get the page's note, and the endpoints'
// refusal (404, 400).
func TestNegatedSegmentRefusals(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, evSignup, demoNow, 1, 2)
	mark(t, c, evActive, demoNow, 1)
	h := Handler(c)
	cohortQ := "cohort?" + demoCohortQuery + "&time_group=days&now=2025-03-26"
	pages := []string{cohortQ}
	for _, p := range reportPaths {
		pages = append(pages, p+url.QueryEscape(evActive))
	}
	endpoint := func(ext, seg string) string {
		return "/cohort" + ext + strings.TrimPrefix(cohortQ, "cohort") + "&segment=" + url.QueryEscape(seg)
	}
	for seg, says := range map[string]string{
		"!":   `segment: "!": ! wants an event right after it`,
		"!!x": `segment: "!!x": a segment is negated once`,
		"! x": `segment: "! x": ! is followed at once by the event`,
		"!x@": `EVENT@LABEL wants a period label after @`,
	} {
		for _, p := range pages {
			code, body := get(t, h, "/"+p+"&segment="+url.QueryEscape(seg))
			if got := noteText(body, `id="form-error"`); code != 400 || !strings.Contains(got, says) {
				t.Errorf("%s segment %q: %d, error %q, want 400 %q", p, seg, code, got, says)
			}
		}
		for _, ext := range []string{".json", ".csv"} {
			if code, body := get(t, h, endpoint(ext, seg)); code != 400 || !strings.Contains(strings.ReplaceAll(body, `\"`, `"`), says) {
				t.Errorf("cohort%s segment %q: %d %s, want 400 %q", ext, seg, code, body, says)
			}
		}
	}
	seg := "!user:activ@2025-03"
	for _, p := range pages {
		code, body := get(t, h, "/"+p+"&segment="+url.QueryEscape(seg))
		if got := noteText(body, `data-missing=`); code != 404 || !strings.Contains(got, "No event “user:activ” (the segment "+seg+")") || !strings.Contains(body, "segment="+url.QueryEscape("!user:active@2025-03")) {
			t.Errorf("%s segment %q: %d, note %q, want 404 naming user:activ with a link to !user:active@2025-03", p, seg, code, got)
		}
	}
	var je struct {
		Error, Field string
		Suggestions  []string
	}
	code, body := get(t, h, endpoint(".json", seg))
	if err := json.Unmarshal([]byte(body), &je); code != 404 || err != nil || je.Field != "segment" || !reflect.DeepEqual(je.Suggestions, []string{evActive}) || !strings.Contains(je.Error, `no event "user:activ"`) {
		t.Errorf("cohort.json %q: %d %s, want 404 on segment suggesting %s", seg, code, body, evActive)
	}
	if code, body := get(t, h, endpoint(".csv", seg)); code != 404 || !strings.Contains(body, `no event "user:activ"`) {
		t.Errorf("cohort.csv %q: %d %s, want 404", seg, code, body)
	}
	// No unique bitmap: the page's note, the endpoints' 404.
	const noUnique = `The segment "!` + evActive + `" leaves no user out: a segment without @ is the event's unique bitmap`
	code, body = get(t, h, "/"+cohortQ+"&segment="+url.QueryEscape("!"+evActive))
	if got := noteText(body, `data-note="segment"`); code != 200 || !strings.Contains(got, noUnique) || !strings.Contains(got, "Use !"+evActive+"@PERIOD") {
		t.Errorf("cohort page !%s: %d, note %q", evActive, code, got)
	}
	code, body = get(t, h, "/event?event="+evActive+"&segment="+url.QueryEscape("!"+evActive))
	if got := noteText(body, `data-note="segment"`); code != 200 || !strings.Contains(got, noUnique) {
		t.Errorf("event page !%s: %d, note %q", evActive, code, got)
	}
	for _, ext := range []string{".json", ".csv"} {
		if code, body := get(t, h, endpoint(ext, "!"+evActive)); code != 404 || !strings.Contains(strings.ReplaceAll(body, `\"`, `"`), noUnique) {
			t.Errorf("cohort%s !%s: %d %s, want 404 %q", ext, evActive, code, body, noUnique)
		}
	}
	hour := "!" + evActive + "@2025-03-26T15"
	for _, ext := range []string{".json", ".csv"} {
		if code, body := get(t, h, endpoint(ext, hour)); code != 400 || !strings.Contains(body, "has no hourly data on 2025-03-26") || !strings.Contains(body, "excludes nobody; use the day, "+"!"+evActive+"@2025-03-26") {
			t.Errorf("cohort%s %s: %d %s, want 400 naming the day", ext, hour, code, body)
		}
	}
}

// commandLog is a go-redis hook that records the names of the commands
// sent, pipelined or not.
type commandLog struct {
	mu    sync.Mutex
	names []string
}

func (l *commandLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *commandLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			l.add(cmd)
		}
		return next(ctx, cmds)
	}
}

func (l *commandLog) add(cmd redis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.names = append(l.names, strings.ToLower(cmd.Name()))
}

// take returns how many times name was sent since the last take, and
// forgets them all.
func (l *commandLog) take(name string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.names {
		if s == name {
			n++
		}
	}
	l.names = nil
	return n
}

// TestCohortAPIProbesEvents: cohort.json and cohort.csv check that the
// query's events (and the segment's, negated or not) have data with EXISTS
// probes of the table's keys, as the command does, and list the event
// names (SCAN) only when one has none of them: no SCAN for a table of
// known events, and an unknown event answers the HTML page's status (404)
// on both, with the suggestions the listing gives.
func TestCohortAPIProbesEvents(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	mark(t, c, evSignup, demoNow, 1, 2)
	mark(t, c, evActive, demoNow, 1)
	mark(t, c, evActive, demoNow.AddDate(0, -3, 0), 3) // data, but not in the table's periods
	if err := c.MarkUnique(context.Background(), "plan:pro", 2); err != nil {
		t.Fatal(err)
	}
	log := &commandLog{}
	b.Client.AddHook(log)
	h := Handler(c)
	base := "?time_group=days&num_rows=2&num_cols=2"
	for _, tc := range []struct {
		query  string
		status int
		scans  bool
	}{
		{"&" + demoCohortQuery, 200, false},
		{"&" + demoCohortQuery + "&segment=" + url.QueryEscape("!plan:pro"), 200, false},
		{"&" + demoCohortQuery + "&segment=" + url.QueryEscape("!"+evActive+"@2025-03-26"), 200, false},
		{"&" + demoCohortQuery + "&now=2025-01-10", 200, true}, // no key in these periods: the listing finds the events
		{"&primary_event=user:signedup&secondary_event=" + evActive, 404, true},
		{"&" + demoCohortQuery + "&segment=" + url.QueryEscape("!plan:por"), 404, true},
	} {
		pageCode, _ := get(t, h, "/cohort"+base+tc.query)
		for _, ext := range []string{".json", ".csv"} {
			log.take("scan")
			code, body := get(t, h, "/cohort"+ext+base+tc.query)
			scans := log.take("scan")
			if code != tc.status || code != pageCode || (scans > 0) != tc.scans {
				t.Errorf("cohort%s%s: %d (page %d), %d SCANs; want %d like the page, SCAN %v\n%s", ext, tc.query, code, pageCode, scans, tc.status, tc.scans, body)
			}
			if code == 404 && !strings.Contains(body, "did you mean") {
				t.Errorf("cohort%s%s: %s, want suggestions", ext, tc.query, body)
			}
		}
	}
}
