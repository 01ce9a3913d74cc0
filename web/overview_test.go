package web

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestOverviewEmpty(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		code, body := get(t, Handler(c), "/")
		if code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
		if !strings.Contains(body, "No events recorded yet") || !strings.Contains(body, b.Prefix) {
			t.Errorf("no empty state naming the prefix %q:\n%s", b.Prefix, body)
		}
		if strings.Contains(body, "<table") {
			t.Error("empty overview has a table")
		}
	})
}

// overviewRow matches one event row of the overview and captures the
// event name and its three counts.
var overviewRow = regexp.MustCompile(`<tr data-event="([^"]*)">\s*<th[^>]*>(?:<a href="[^"]*">)?[^<]*(?:</a>)?</th>\s*<td class="num" data-period="today">([\d,]+)</td>\s*<td class="num" data-period="week">([\d,]+)</td>\s*<td class="num" data-period="month">([\d,]+)</td>`)

func TestOverviewCounts(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		now := time.Date(2025, 3, 26, 15, 0, 0, 0, time.UTC) // Wednesday, W13
		c := newClient(b, now)
		mark(t, c, "a", now, 1, 2, 3)                        // today
		mark(t, c, "a", now.AddDate(0, 0, -2), 3, 4)         // Monday of W13
		mark(t, c, "a", now.AddDate(0, 0, -10), 5, 6, 7)     // W12, March
		mark(t, c, "b", now.AddDate(0, 0, -25), 8)           // March 1st, W09
		mark(t, c, "b", now.AddDate(0, -1, 0), 9)            // February
		mark(t, c, "c", now.Add(-time.Hour), 10, 11, 12, 13) // today
		want := map[string][3]string{
			"a": {"3", "4", "7"},
			"b": {"0", "0", "1"},
			"c": {"4", "4", "4"},
		}
		for _, tc := range []struct {
			sort  string
			order []string
		}{
			{"", []string{"a", "c", "b"}}, // default: month, descending
			{"month", []string{"a", "c", "b"}},
			{"today", []string{"c", "a", "b"}},
			{"week", []string{"a", "c", "b"}},
			{"name", []string{"a", "b", "c"}},
		} {
			target := "/"
			if tc.sort != "" {
				target += "?sort=" + tc.sort
			}
			code, body := get(t, Handler(c), target)
			if code != http.StatusOK {
				t.Fatalf("%s: status %d", target, code)
			}
			var order []string
			for _, m := range overviewRow.FindAllStringSubmatch(body, -1) {
				order = append(order, m[1])
				if got := [3]string{m[2], m[3], m[4]}; got != want[m[1]] {
					t.Errorf("%s: event %s: today/week/month = %v, want %v", target, m[1], got, want[m[1]])
				}
			}
			if fmt.Sprint(order) != fmt.Sprint(tc.order) {
				t.Errorf("%s: order %v, want %v", target, order, tc.order)
			}
		}
		for _, w := range []string{"2025-03-26", "2025-W13", "2025-03"} {
			code, body := get(t, Handler(c), "/")
			if code != 200 || !strings.Contains(body, w) {
				t.Errorf("overview does not name the current period %s", w)
			}
		}
	})
}

func TestOverviewBadSort(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	code, body := get(t, Handler(c), "/?sort=users")
	if code != http.StatusBadRequest || !strings.Contains(body, "sort:") {
		t.Errorf("status %d, body %s", code, body)
	}
}

func TestOverviewCountsManyEvents(t *testing.T) {
	// The counts come from one pipeline: check they land on the right
	// events when there are many.
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		var marks []bitmapist.Mark
		for e := range 50 {
			for u := range e + 1 {
				marks = append(marks, bitmapist.Mark{Event: fmt.Sprintf("ev%02d", e), UserID: uint64(u), Time: demoNow})
			}
		}
		if err := c.MarkEvents(context.Background(), marks); err != nil {
			t.Fatal(err)
		}
		rows, err := countEvents(context.Background(), c, demoNow)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 50 {
			t.Fatalf("%d rows", len(rows))
		}
		for e, r := range rows {
			n := int64(e + 1)
			if r.Event != fmt.Sprintf("ev%02d", e) || r.Today != n || r.Week != n || r.Month != n {
				t.Errorf("row %d = %+v, want %d everywhere", e, r, n)
			}
		}
	})
}
