package web

import (
	"encoding/json"
	"html"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// apiRoutes are every JSON and CSV route of the dashboard.
var apiRoutes = []string{"/cohort.json", "/cohort.csv"}

// TestCohortAPIRefusals: wherever the HTML cohort page refuses a table
// (an event without data: 404 with "did you mean"; hours of events marked
// without hourly tracking: a note instead of the table), every JSON and
// CSV route refuses with the same status class: JSON
// {"error", "field", "suggestions"}, CSV the message as plain text; never
// a 200 with null cells or rows of 0.
func TestCohortAPIRefusals(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow) // hourly tracking off
		mark(t, c, "user:signed_up", demoNow, 1, 2)
		mark(t, c, "user:active", demoNow, 1)
		mark(t, c, "user:active", demoNow.Add(-30*time.Hour), 3)
		h := Handler(c)
		const ok = "primary_event=user:signed_up&secondary_event=user:active"
		for _, tc := range []struct {
			name, query string
			htmlStatus  int // the page's answer
			status      int
			field       string
			suggestions []string
			says        string
		}{
			{"unknown primary", "primary_event=user:signedup&secondary_event=user:active", 404, 404, "primary_event", []string{"user:signed_up"}, `no event "user:signedup"`},
			{"unknown secondary", "primary_event=user:signed_up&secondary_event=nope", 404, 404, "secondary_event", []string{}, `no event "nope"`},
			{"unknown primary_and", ok + "&primary_and=user:activ", 404, 404, "primary_and", []string{"user:active"}, `no event "user:activ"`},
			{"unknown additional row", ok + "&additional_event=user:active&additional_op=and&additional_event=&additional_op=and&additional_event=gone&additional_op=or", 404, 404, "additional[2]", []string{}, `no event "gone"`},
			{"unknown packed additional", ok + "&additional=or:user:signed_upp", 404, 404, "additional[0]", []string{"user:signed_up"}, `no event "user:signed_upp"`},
			{"unknown segment event", ok + "&segment=user:activ@2025-03", 404, 404, "segment", []string{"user:active"}, `no event "user:activ"`},
			{"hours without hourly tracking", "primary_event=user:active&secondary_event=user:active&time_group=hours&num_rows=5&num_cols=3", 200, 400, "time_group", []string{}, "no hourly data"},
			// Segments that hold nobody because of how the data was
			// recorded: the page notes it above a table of zeros.
			{"segment without unique bitmap", ok + "&segment=user:active", 200, 404, "segment", []string{}, "written only with unique tracking on"},
			{"segment hour without hourly tracking", ok + "&segment=user:active@2025-03-26T15", 200, 400, "segment", []string{}, `"user:active" has no hourly data on 2025-03-26 (it was marked without hourly tracking)`},
			{"segment hour without hourly tracking, spaces", ok + "&segment=+user:signed_up@2025-03-26T09+", 200, 400, "segment", []string{}, `"user:signed_up" has no hourly data on 2025-03-26`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				code, body := get(t, h, "/cohort?"+tc.query)
				if strings.HasPrefix(tc.name, "segment") {
					if got := noteText(body, `data-note="segment"`); code != tc.htmlStatus || !strings.Contains(html.UnescapeString(got), tc.says) {
						t.Errorf("html: status %d (want %d), segment note %q (want one saying %q)", code, tc.htmlStatus, got, tc.says)
					}
				} else if code != tc.htmlStatus || strings.Contains(body, `id="heatmap"`) {
					t.Errorf("html: status %d (want %d) or a table", code, tc.htmlStatus)
				}
				for _, path := range apiRoutes {
					rec := serve(h, path+"?"+tc.query)
					code, body := rec.Code, rec.Body.String()
					if ct := rec.Header().Get("Content-Type"); strings.HasSuffix(path, ".csv") != strings.HasPrefix(ct, "text/plain") {
						t.Errorf("%s: Content-Type %q", path, ct)
					}
					if code != tc.status {
						t.Errorf("%s: status %d, want %d: %.300s", path, code, tc.status, body)
						continue
					}
					if strings.HasSuffix(path, ".csv") {
						if !strings.HasPrefix(body, tc.field+": ") || !strings.Contains(body, tc.says) {
							t.Errorf("%s: %q; want %q... saying %q", path, body, tc.field+": ", tc.says)
						}
						continue
					}
					var e struct {
						Error       string
						Field       string
						Suggestions []string
						Cohort      any `json:"cohort"`
					}
					if err := json.Unmarshal([]byte(body), &e); err != nil || e.Field != tc.field || !strings.HasPrefix(e.Error, tc.field+": ") ||
						!strings.Contains(e.Error, tc.says) || !reflect.DeepEqual(e.Suggestions, tc.suggestions) || e.Cohort != nil {
						t.Errorf("%s: %s (%v); want field %q, suggestions %q, error saying %q", path, body, err, tc.field, tc.suggestions, tc.says)
					}
				}
			})
		}
		// Recorded events answer their table, on days and (with hourly
		// tracking) on hours; a segment of a day with data, or of an hour
		// nobody did on a day that has hourly data, is a table.
		mark(t, bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithTrackHourly(true)), "user:hourly", demoNow, 1)
		for _, path := range apiRoutes {
			for _, q := range []string{ok, ok + "&segment=user:active@2025-03-26", ok + "&segment=user:hourly@2025-03-26T03"} {
				if code, body := get(t, h, path+"?"+q); code != http.StatusOK {
					t.Errorf("%s?%s: %d %.300s", path, q, code, body)
				}
			}
		}
		ch := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithTrackHourly(true), bitmapist.WithClock(func() time.Time { return demoNow }))
		mark(t, ch, "hourly", demoNow, 1, 2)
		for _, path := range apiRoutes {
			q := "primary_event=hourly&secondary_event=hourly&time_group=hours&num_rows=5&num_cols=3"
			if code, body := get(t, Handler(ch), path+"?"+q); code != http.StatusOK {
				t.Errorf("%s?%s: %d %.300s", path, q, code, body)
			}
		}
	})
}

// TestCohortAPIStartAfterNow: cohort.json and cohort.csv refuse a start
// whose period is after now's with a 400 and the HTML page's explanation
// (not a 200 of blank cells), unless include_future asks for them.
func TestCohortAPIStartAfterNow(t *testing.T) {
	h := demoHandler(t)
	q := "?" + demoCohortQuery + "&time_group=days&now=2016-01-10&start=2016-02-01"
	want := "start (2016-02-01) is after now (2016-01-10): the table's periods are all after now, so no cell has a value yet"
	code, body := get(t, h, "/cohort.json"+q)
	var je struct{ Error, Field string }
	if err := json.Unmarshal([]byte(body), &je); err != nil || code != 400 || je.Field != "start" || !strings.Contains(je.Error, want) {
		t.Errorf("cohort.json: %d %q (%v), want 400 field start %q", code, body, err, want)
	}
	if code, body := get(t, h, "/cohort.csv"+q); code != 400 || !strings.Contains(body, want) {
		t.Errorf("cohort.csv: %d %q, want 400 %q", code, body, want)
	}
	if code, body := get(t, h, "/cohort"+q); code != 200 || !strings.Contains(html.UnescapeString(body), want) {
		t.Errorf("cohort page: %d, want 200 with the note %q", code, want)
	}
	for _, p := range []string{"/cohort.json", "/cohort.csv"} {
		if code, body := get(t, h, p+q+"&include_future=1"); code != 200 {
			t.Errorf("%s with include_future: %d %q, want 200", p, code, body)
		}
		if code, body := get(t, h, p+"?"+demoCohortQuery+"&time_group=days&now=2016-02-01&start=2016-02-01"); code != 200 {
			t.Errorf("%s with start in now's period: %d %q, want 200", p, code, body)
		}
	}
}
