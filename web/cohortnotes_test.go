package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// The overview's retention link and the form's first-visit defaults give
// retention with replacement: later columns show who came back, not 0.
func TestRetentionLinkAndDefaults(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	seedDemo(t, c, demoNow, 6)
	h := Handler(c)
	_, body := get(t, h, "/?sort=name")
	var link string
	for _, l := range hrefs(body) {
		if strings.Contains(l, "primary_event="+strings.ReplaceAll(evActive, ":", "%3A")) {
			link = l
		}
	}
	if link == "" {
		t.Fatal("no retention link for " + evActive)
	}
	code, body := get(t, h, "/"+link)
	if code != http.StatusOK {
		t.Fatalf("%s: %d", link, code)
	}
	cells := pageCells(t, body)
	// 12 rows, data in the last 6
	if c0, c1 := cells[[2]int{6, 0}], cells[[2]int{6, 1}]; c0.text != "100.0%" || c1.count <= 0 {
		t.Errorf("retention link: column 0 %+v, column 1 %+v; want 100%% then the users who came back", c0, c1)
	}
	if strings.Contains(body, `id="same-event"`) {
		t.Error("the retention link's table carries the same-event warning")
	}
	_, body = get(t, h, "/cohort")
	if !strings.Contains(body, `name="with_replacement" value="1" checked`) {
		t.Error("the first-visit form is without replacement")
	}
	// A date alone (from the header's links) is not a query: the form, with the date.
	code, body = get(t, h, "/cohort?now=2025-03-01")
	if code != http.StatusOK || strings.Contains(body, `id="heatmap"`) || !strings.Contains(body, `name="now" value="2025-03-01"`) {
		t.Errorf("/cohort?now=...: status %d, or a table, or the date is lost", code)
	}
	// Asked by hand without replacement: the table, and a note linking to it with.
	code, body = get(t, h, "/cohort?primary_event=user:active&secondary_event=user:active&time_group=weeks&num_rows=4&num_cols=4")
	if code != http.StatusOK || !strings.Contains(body, `id="same-event"`) || !strings.Contains(body, "with_replacement=1") {
		t.Errorf("same event without replacement: status %d, no note with a link", code)
	}
}

func TestCohortDateFields(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "a", demoNow.AddDate(0, -2, 0), 1, 2)
	mark(t, c, "a", demoNow.AddDate(0, -1, 0), 1)
	h := Handler(c)
	code, body := get(t, h, "/cohort?primary_event=a&secondary_event=a&time_group=months&num_rows=2&num_cols=2&with_replacement=1&now=2025-02-26")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	for _, s := range []string{`id="now" type="date" name="now" value="2025-02-26"`, `id="start" type="date" name="start" value=""`, "now 2025-02-26T00:00:00Z", `href="./?now=2025-02-26"`} {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	cells := pageCells(t, body)
	if r0 := cells[[2]int{0, 1}]; r0.count != 1 { // January's 2 users, 1 back in February
		t.Errorf("cell 0,1 = %+v, want 1", r0)
	}
	if r1 := cells[[2]int{1, 1}]; r1.class != "none" { // March is after now
		t.Errorf("cell 1,1 = %+v, want no value", r1)
	}
	// A time of day keeps a text field; a bad date marks its field.
	_, body = get(t, h, "/cohort?primary_event=a&secondary_event=a&now=2025-02-26T10:00")
	if !strings.Contains(body, `id="now" type="text" name="now" value="2025-02-26T10:00"`) {
		t.Error("a date and time is not kept in a text field")
	}
	code, body = get(t, h, "/cohort?primary_event=a&secondary_event=a&start=soon")
	if code != http.StatusBadRequest || !strings.Contains(body, `name="start" value="soon" placeholder="empty: count back from now" title="empty: count back from now" aria-invalid="true"`) {
		t.Errorf("bad start: status %d, field not marked", code)
	}
}

// An hourly table of an event marked without hourly tracking says so
// instead of showing zeros; an empty range says so above its table.
func TestCohortNoHourlyAndEmpty(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow) // hourly tracking off
		mark(t, c, "daily", demoNow, 1, 2)
		mark(t, c, "daily", demoNow.Add(-30*time.Hour), 3)
		h := Handler(c)
		code, body := get(t, h, "/cohort?primary_event=daily&secondary_event=daily&time_group=hours&num_rows=5&num_cols=3")
		if code != http.StatusOK || !strings.Contains(body, `id="no-hourly"`) || strings.Contains(body, `id="heatmap"`) {
			t.Errorf("hours without hourly data: status %d, no message or a table of zeros", code)
		}
		if !strings.Contains(body, "daily has users on 2025-03-26 but no hourly data") {
			t.Errorf("message does not name the event and day")
		}
		// With hourly data the hours are a table.
		ch := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithTrackHourly(true), bitmapist.WithClock(func() time.Time { return demoNow }))
		mark(t, ch, "hourly", demoNow, 1, 2)
		code, body = get(t, Handler(ch), "/cohort?primary_event=hourly&secondary_event=hourly&time_group=hours&num_rows=5&num_cols=3&with_replacement=1")
		if code != http.StatusOK || strings.Contains(body, `id="no-hourly"`) || !strings.Contains(body, `id="heatmap"`) {
			t.Errorf("hours with hourly data: status %d", code)
		}
		// Days long before the data: the table, said to be empty.
		code, body = get(t, h, "/cohort?primary_event=daily&secondary_event=daily&num_rows=3&num_cols=3&now=2024-01-10")
		if code != http.StatusOK || !strings.Contains(body, `id="empty-table"`) || !strings.Contains(body, "2024-01-08 to 2024-01-10") {
			t.Errorf("empty range: status %d, no note", code)
		}
		_, body = get(t, h, "/cohort?primary_event=daily&secondary_event=daily&num_rows=3&num_cols=3")
		if strings.Contains(body, `id="empty-table"`) {
			t.Error("a table with users is said to be empty")
		}
	})
}
