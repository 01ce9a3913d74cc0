package web

import (
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestPagesSayOneNotOnes: counts of one read "1 user", "1 day", "1 cohort",
// "1 entry day" on every page that writes a count next to its unit.
func TestPagesSayOneNotOnes(t *testing.T) {
	b := testutil.Miniredis(t)
	now := time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)
	c := newClient(b, now)
	mark(t, c, "a", now, 1)
	mark(t, c, "b", now, 1)
	h := Handler(c)
	for target, want := range map[string]string{
		"/stickiness?event=a&time_group=days&from=2025-03-10&to=2025-03-10":               "1 user active in 1 day (",
		"/cohort?primary_event=a&secondary_event=a&time_group=days&num_rows=1&num_cols=1": "1 user in 1 cohort",
		"/funnel?step=a&step=b&time_group=days&from=2025-03-10&to=2025-03-10":             "1 entry day</h2>",
	} {
		code, body := get(t, h, target)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want %q in the page", target, code, want)
		}
		for _, bad := range []string{"1 users", "1 days", "1 cohorts", "1 entry days"} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the page says %q", target, bad)
			}
		}
	}
	if plural(0, "day") != "0 days" || plural(1, "day") != "1 day" || plural(12, "week") != "12 weeks" {
		t.Error("plural")
	}
}
