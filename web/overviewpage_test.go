package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// rowEvents returns the events of the overview's rows, in order.
func rowEvents(body string) []string {
	var out []string
	for _, m := range eventRowRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

var eventRowRE = regexp.MustCompile(`<tr data-event="([^"]*)">`)

// The date control moves the overview: its counts, labels, the footer and
// every link of the page are for the date asked.
func TestOverviewNow(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		old := time.Date(2011, 12, 9, 10, 0, 0, 0, time.UTC) // a Friday, 2011-W49
		mark(t, c, "shop:bought", old, 1, 2, 3)
		mark(t, c, "shop:bought", old.AddDate(0, 0, -3), 4)     // Tuesday of W49
		mark(t, c, "shop:bought", old.AddDate(0, 0, -8), 5)     // 1 December, W48
		mark(t, c, "shop:bought", old.AddDate(0, -1, 0), 6)     // November
		mark(t, c, "shop:bought", demoNow, 1, 2, 3, 4, 5, 6, 7) // the clock's today
		h := Handler(c)
		code, body := get(t, h, "/?now=2011-12-09")
		if code != http.StatusOK {
			t.Fatalf("status %d: %s", code, body)
		}
		m := overviewRow.FindStringSubmatch(body)
		if m == nil || [3]string{m[2], m[3], m[4]} != [3]string{"3", "4", "5"} {
			t.Errorf("today/week/month on 2011-12-09: %v, want 3 4 5", m)
		}
		for _, s := range []string{"today is 2011-12-09, week 2011-W49, month 2011-12", "now 2011-12-09T00:00:00Z", `value="2011-12-09"`} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}
		// Every link to a page keeps the date; the retention link asks for
		// the table with replacement as of that date.
		for _, l := range hrefs(body) {
			if strings.HasPrefix(l, "static/") || strings.HasPrefix(l, "https:") || l == "./?sort=month" { // the reset link drops it
				continue
			}
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			if u.Query().Get("now") != "2011-12-09" {
				t.Errorf("link %q drops the date", l)
			}
			if u.Query().Has("primary_event") && u.Query().Get("with_replacement") != "1" {
				t.Errorf("retention link %q without replacement", l)
			}
		}
		code, body = get(t, h, "/")
		if m := overviewRow.FindStringSubmatch(body); code != 200 || m == nil || m[2] != "7" {
			t.Errorf("without a date: status %d, row %v, want 7 today", code, m)
		}
		for _, bad := range []string{"now=yesterday", "now=2011-13-01", "now=0000-01-01", "page=0", "page=x"} {
			if code, body := get(t, h, "/?"+bad); code != http.StatusBadRequest || !strings.Contains(body, strings.Split(bad, "=")[0]+":") {
				t.Errorf("%s: status %d, body lacks the field", bad, code)
			}
		}
	})
}

// The filter keeps the events whose name contains it (any case); pages hold
// overviewPageSize events, in the sort order, and a page past the end
// shows the last one.
func TestOverviewFilterAndPages(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		var marks []bitmapist.Mark
		var all []string
		for e := range 120 {
			name := fmt.Sprintf("ev:%03d", e)
			if e%10 == 0 {
				name = fmt.Sprintf("Checkout:%03d", e)
			}
			all = append(all, name)
			for u := range e%7 + 1 { // month counts 1..7
				marks = append(marks, bitmapist.Mark{Event: name, UserID: uint64(u), Time: demoNow})
			}
		}
		if err := c.MarkEvents(context.Background(), marks); err != nil {
			t.Fatal(err)
		}
		h := Handler(c)
		slices.Sort(all)
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"sort=name", all[:50]},
			{"sort=name&page=2", all[50:100]},
			{"sort=name&page=3", all[100:]},
			{"sort=name&page=9", all[100:]},
			{"sort=name&q=checkOUT", all[:12]}, // "Checkout:..." sorts first
			{"sort=name&q=nothing", nil},
		} {
			code, body := get(t, h, "/?"+tc.query)
			if code != http.StatusOK {
				t.Fatalf("%s: status %d", tc.query, code)
			}
			if got := rowEvents(body); !slices.Equal(got, tc.want) {
				t.Errorf("%s: rows %q, want %q", tc.query, got, tc.want)
			}
		}
		// Sorted by a count, the pages follow the order over all events.
		rows, err := countEvents(context.Background(), c, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		sortCounts(rows, "month")
		var byMonth []string
		for _, r := range rows {
			byMonth = append(byMonth, r.Event)
		}
		_, body := get(t, h, "/?page=2")
		if got := rowEvents(body); !slices.Equal(got, byMonth[50:100]) {
			t.Errorf("page 2 by month: %q, want %q", got, byMonth[50:100])
		}
		for _, s := range []string{"events 51–100 of 120", "page 2 of 3", `href="?page=1"`, `href="?page=3"`} {
			if !strings.Contains(body, s) {
				t.Errorf("page 2 lacks %q", s)
			}
		}
		_, body = get(t, h, "/?q=nothing")
		if !strings.Contains(body, `id="no-match"`) || strings.Contains(body, "No events recorded yet") {
			t.Error("a filter matching nothing is not said so")
		}
		_, body = get(t, h, "/?q=checkout&sort=week")
		if !strings.Contains(body, `href="?page`) && strings.Contains(body, "page 1 of") {
			t.Error("12 events have a pager")
		}
		if !strings.Contains(body, "12 of 120 events") {
			t.Error("the filtered count is not shown")
		}
	})
}

// The sparkline and the change come from the daily counts of the 60 days
// ending with the date asked.
func TestOverviewSparklineAndChange(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		day := bitmapist.Days.Start(demoNow)
		mark(t, c, "grow", day, 1, 2, 3, 4)                 // last 30 days: 4 + 2 = 6 user-days
		mark(t, c, "grow", day.AddDate(0, 0, -29), 1, 2)    // the first day of the 30
		mark(t, c, "grow", day.AddDate(0, 0, -30), 1, 2, 3) // the 30 before: 3 + 1 = 4
		mark(t, c, "grow", day.AddDate(0, 0, -59), 9)       // the first of those
		mark(t, c, "grow", day.AddDate(0, 0, -60), 1, 2, 3) // outside both
		mark(t, c, "fresh", day.AddDate(0, 0, -2), 1)       // nothing before
		mark(t, c, "gone", day.AddDate(0, 0, -45), 1, 2)    // nothing in the last 30
		series, err := dailyCounts(context.Background(), c, []string{"grow", "gone"}, demoNow, 60)
		if err != nil {
			t.Fatal(err)
		}
		if g := series[0]; g[59] != 4 || g[30] != 2 || g[29] != 3 || g[0] != 1 || sum(g) != 10 {
			t.Errorf("grow's daily counts %v", g)
		}
		_, body := get(t, Handler(c), "/")
		for ev, want := range map[string]string{"grow": "+50.0%", "fresh": "new", "gone": "−100.0%"} {
			re := regexp.MustCompile(`data-event="` + ev + `">(?s:.*?)data-change="([^"]*)"`)
			if m := re.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != want {
				t.Errorf("%s: change %v, want %s", ev, m, want)
			}
		}
		if n := strings.Count(body, `<svg class="spark"`); n != 3 {
			t.Errorf("%d sparklines, want 3", n)
		}
	})
}

func TestNewChange(t *testing.T) {
	for _, tc := range []struct {
		cur, prev int64
		text, cls string
	}{
		{0, 0, "–", "flat"}, {5, 0, "new", "up"}, {0, 5, "−100.0%", "down"},
		{3, 2, "+50.0%", "up"}, {2, 3, "−33.3%", "down"}, {100000, 100001, "0.0%", "flat"}, {7, 7, "0.0%", "flat"},
	} {
		if c := newChange(tc.cur, tc.prev); c.Text != tc.text || c.Class != tc.cls {
			t.Errorf("newChange(%d, %d) = %q %q, want %q %q", tc.cur, tc.prev, c.Text, c.Class, tc.text, tc.cls)
		}
	}
}

func TestNewSparkline(t *testing.T) {
	s := newSparkline([]int64{0, 5, 10})
	if s.Line != "M2.0 24.0 L60.0 13.0 L118.0 2.0" || s.Max != 10 || s.Last != 10 || s.LastX != 118 || s.LastY != 2 {
		t.Errorf("sparkline %+v", s)
	}
	if z := newSparkline([]int64{0, 0}); z.Line != "M2.0 24.0 L118.0 24.0" {
		t.Errorf("flat sparkline %q", z.Line)
	}
	if newSparkline(nil) != nil {
		t.Error("a sparkline of nothing")
	}
}
