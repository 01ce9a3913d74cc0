package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestTableSlotsAnswer503WhenBusy: with every computation slot taken, a
// table request waits WithQueueWait, then gets 503 with Retry-After (the
// page, JSON and CSV alike); a free slot serves it again, and the slot is
// given back afterwards.
func TestTableSlotsAnswer503WhenBusy(t *testing.T) {
	b := testutil.Miniredis(t)
	now := time.Date(2025, 3, 26, 15, 0, 0, 0, time.UTC)
	c := newClient(b, now)
	mark(t, c, "signup", now, 1, 2, 3)
	mark(t, c, "active", now, 2, 3)
	h := Handler(c, WithMaxTables(1), WithQueueWait(30*time.Millisecond)).(*handler)
	q := "?primary_event=signup&secondary_event=active&time_group=days&num_rows=2&num_cols=2"
	h.slots <- struct{}{} // a computation holds the only slot
	for _, path := range []string{"/cohort.json", "/cohort.csv", "/cohort"} {
		start := time.Now()
		rec := serve(h, path+q)
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != retryAfter {
			t.Errorf("%s with no slot: %d, Retry-After %q; want 503 with Retry-After", path, rec.Code, rec.Header().Get("Retry-After"))
		}
		checkErrorType(t, path, rec)
		if d := time.Since(start); d < 30*time.Millisecond {
			t.Errorf("%s answered 503 after %s, before the queue wait", path, d)
		}
	}
	<-h.slots
	code, body := get(t, h, "/cohort.json"+q)
	if code != http.StatusOK || !strings.HasPrefix(body, "[") && !strings.HasPrefix(body, "{") {
		t.Errorf("with a free slot: %d %.200s", code, body)
	}
	if n := len(h.slots); n != 0 {
		t.Errorf("%d slots still taken after the request", n)
	}
}
