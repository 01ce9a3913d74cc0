package web

import (
	"net/url"
	"strings"
	"testing"
)

// TestToLabelIsWholePeriod: a period label as the report pages' to means
// the whole labelled period (cohort.PeriodEnd, as the command's --to) on
// every report page and for every label kind; a full timestamp stays that
// instant. Before, to=2025-W11 with days showed only 2025-03-10.
func TestToLabelIsWholePeriod(t *testing.T) {
	h := demoHandler(t)
	for _, tc := range []struct {
		group, from, to string
		rng             string // the header's range
		days            int    // the event page's periods (0: not checked)
	}{
		{"days", "2025-W11", "2025-W11", "2025-03-10 to 2025-03-16", 7},
		{"days", "2025-02-27", "2025-02", "2025-02-27 to 2025-02-28", 2},
		{"months", "2025", "2025", "2025-01-01 to 2025-12-31", 12},
		{"weeks", "2025-03-01", "2025-03", "2025-02-24 to 2025-04-06", 6},
		{"hours", "2025-03-20", "2025-03-20", "2025-03-20 00:00 to 2025-03-20 23:00", 24},
		{"hours", "2025-03-20T08", "2025-03-20T10", "2025-03-20 08:00 to 2025-03-20 10:00", 3},
		{"days", "2025-03-18", "2025-03-20T10:30", "2025-03-18 to 2025-03-20", 3}, // a timestamp: that instant
		{"days", "2025-03-18", "2025-03-20T00:00:00Z", "2025-03-18 to 2025-03-20", 3},
	} {
		for _, page := range reportPaths {
			if tc.group == "hours" && (strings.HasPrefix(page, "lifecycle") || strings.HasPrefix(page, "stickiness")) {
				continue // pages without hours
			}
			target := "/" + page + url.QueryEscape(evActive) + "&time_group=" + tc.group + "&from=" + tc.from + "&to=" + tc.to
			code, body := get(t, h, target)
			if code != 200 || !strings.Contains(body, tc.rng) {
				t.Errorf("%s: %d, want the range %s", target, code, tc.rng)
			}
			if strings.HasPrefix(page, "event") {
				if n := len(attrs(t, body, "count")); n != tc.days {
					t.Errorf("%s: %d periods, want %d", target, n, tc.days)
				}
			}
		}
	}
	// from on the week's Sunday is not after to=the week.
	if code, body := get(t, h, "/event?event="+url.QueryEscape(evActive)+"&from=2025-03-16&to=2025-W11"); code != 200 {
		t.Errorf("from on to's Sunday: %d %.300s", code, body)
	}
	code, body := get(t, h, "/event?event="+url.QueryEscape(evActive)+"&from=2025-03-17&to=2025-W11")
	if got := noteText(body, `id="form-error"`); code != 400 || !strings.HasPrefix(got, "from: 2025-03-17 is after to (2025-W11)") {
		t.Errorf("from after the week: %d %q", code, got)
	}
}
