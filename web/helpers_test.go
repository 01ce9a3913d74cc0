package web

import (
	"context"
	"html"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// demoNow is the fixed "now" of the demo data: a Wednesday afternoon in
// ISO week 2025-W13.
var demoNow = time.Date(2025, 3, 26, 15, 0, 0, 0, time.UTC)

// newClient returns a client on backend b with its test prefix and a clock
// stopped at now.
func newClient(b testutil.Backend, now time.Time) *bitmapist.Client {
	return bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap), bitmapist.WithClock(func() time.Time { return now }))
}

// get sends a GET for target to h and returns the status and body.
func get(t testing.TB, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// mark marks event for every id at time at, failing the test on error.
func mark(t testing.TB, c *bitmapist.Client, event string, at time.Time, ids ...uint64) {
	t.Helper()
	marks := make([]bitmapist.Mark, len(ids))
	for i, id := range ids {
		marks[i] = bitmapist.Mark{Event: event, UserID: id, Time: at}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
}

// Event names of the demo data.
const (
	evSignup   = "user:signed_up"
	evActive   = "user:active"
	evSong     = "song:played"
	evPlaylist = "playlist:created"
	evPaid     = "subscription:paid"
	evShared   = "song:shared"
)

// seedDemo records a realistic product: weeks ISO weeks of signups ending
// with now's week (a few hundred users a week, growing), each user active
// in later weeks with a retention that decays from about 60% to about 20%,
// playing songs when active, sometimes creating playlists, sharing and
// paying. It is deterministic.
func seedDemo(t testing.TB, c *bitmapist.Client, now time.Time, weeks int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(2025, 3))
	first := bitmapist.Weeks.Add(now, -(weeks - 1))
	var marks []bitmapist.Mark
	add := func(ev string, id uint64, at time.Time) {
		if !at.After(now) {
			marks = append(marks, bitmapist.Mark{Event: ev, UserID: id, Time: at})
		}
	}
	day := func(weekStart time.Time) time.Time {
		return weekStart.Add(time.Duration(rng.IntN(7*24*60)) * time.Minute)
	}
	var id uint64 = 1000
	for w := range weeks {
		start := bitmapist.Weeks.Add(first, w)
		n := 260 + 14*w + rng.IntN(60)
		for range n {
			id++
			at := day(start)
			add(evSignup, id, at)
			add(evActive, id, at)
			add(evSong, id, at.Add(3*time.Minute))
			stickiness := 0.6 + 0.8*rng.Float64()
			for k := 1; w+k < weeks; k++ {
				p := stickiness * (0.2 + 0.42*math.Exp(-0.35*float64(k-1)))
				if rng.Float64() >= p {
					continue
				}
				at := day(bitmapist.Weeks.Add(start, k))
				add(evActive, id, at)
				if rng.Float64() < 0.82 {
					add(evSong, id, at.Add(time.Minute))
				}
				if rng.Float64() < 0.22 {
					add(evPlaylist, id, at.Add(2*time.Minute))
				}
				if rng.Float64() < 0.09 {
					add(evShared, id, at.Add(4*time.Minute))
				}
				if k%4 == 0 && rng.Float64() < 0.35 {
					add(evPaid, id, at)
				}
			}
		}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
}

// demoHandler returns the dashboard of seedDemo's last 4 weeks up to
// demoNow, on miniredis.
func demoHandler(t *testing.T) http.Handler {
	t.Helper()
	c := newClient(testutil.Miniredis(t), demoNow)
	seedDemo(t, c, demoNow, 4)
	return Handler(c)
}

// demoCohortQuery is the query of the demo's signups returning active,
// without a time group.
var demoCohortQuery = "primary_event=" + url.QueryEscape(evSignup) + "&secondary_event=" + url.QueryEscape(evActive)

// serve sends a GET for target to h and returns the recorder.
func serve(h http.Handler, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	return rec
}

// errDeadline is the error a timed-out request reports.
var errDeadline = context.DeadlineExceeded

// readAll reads and closes resp's body.
func readAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// hrefRE matches href and src attributes.
var hrefRE = regexp.MustCompile(`(?:href|src)="([^"]*)"`)

// hrefs returns the (HTML-unescaped) links of a page.
func hrefs(body string) []string {
	var out []string
	for _, m := range hrefRE.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}
