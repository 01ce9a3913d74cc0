package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestYearOneLabels: the labels 0001-01-01, 0001-01, 0001-W01 and 0001
// (first instant: Go's zero time, "now" to the library) are their periods
// on every report page and the cohort endpoints, as on the command line
// (cohort.NonZeroStart), not "cannot be used".
func TestYearOneLabels(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	first := time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC) // the first instant that is not the zero time
	mark(t, c, "zz", first, 1)
	mark(t, c, "zz", first.AddDate(0, 0, 1), 1, 2)
	h := Handler(c)
	for _, rng := range []string{"from=0001-01-01&to=0001-01-02", "from=0001-01&to=0001-01-02", "from=0001-W01&to=0001-01-02", "from=0001&to=0001-01-02T00"} {
		code, body := get(t, h, "/event?event=zz&now=0001-01-02&"+rng)
		if got := attrs(t, body, "count"); code != 200 || !equalInts(got, []int64{2, 1}) { // newest first
			t.Errorf("event page %s: %d, counts %v, want [2 1]", rng, code, got)
		}
		for _, page := range []string{"/stickiness?event=zz", "/funnel?step=zz&step=zz", "/lifecycle?time_group=days&event=zz"} {
			if code, body := get(t, h, page+"&now=0001-01-02&"+rng); code != 200 {
				t.Errorf("%s %s: %d %.300s", page, rng, code, clipBody(body))
			}
		}
	}
	// Without replacement: user 1, counted on day 1, is not counted again.
	q := "primary_event=zz&secondary_event=zz&num_rows=2&num_cols=2&start=0001-01-01&now=" + url.QueryEscape("0001-01-02")
	code, body := get(t, h, "/cohort.csv?"+q)
	if code != 200 || !strings.Contains(body, "\n0001-01-01,1,1,0\n0001-01-02,2,2,\n") {
		t.Errorf("cohort.csv from 0001-01-01: %d\n%s", code, body)
	}
}
