package cohort_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestTableYearEdgeMessage: a table or report reaching outside years
// 1..9999 (bitmapist.Client.ReportRange) says
// "before year 1" or "after year 9999", never a negative or five-digit
// label (it said "the report would reach -0024-10").
func TestTableYearEdgeMessage(t *testing.T) {
	c := newClient(testutil.Miniredis(t), time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		q    cohort.Query
		want string
	}{
		{cohort.Query{Now: time.Date(1, 3, 1, 0, 0, 0, 0, time.UTC), TimeGroup: bitmapist.Months, Rows: 30, Cols: 2}, "Now: the report would reach before year 1, outside the years 1..9999"},
		{cohort.Query{Now: time.Date(1, 3, 1, 0, 0, 0, 0, time.UTC), TimeGroup: bitmapist.Years, Rows: 3, Cols: 2}, "Now: the report would reach before year 1, outside the years 1..9999"},
		{cohort.Query{Now: time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC), Start: time.Date(9999, 10, 1, 0, 0, 0, 0, time.UTC), TimeGroup: bitmapist.Months, Rows: 3, Cols: 5, IncludeFuture: true}, "Start: the report would reach after year 9999, outside the years 1..9999"},
	} {
		tc.q.Primary, tc.q.Secondary = "a", "b"
		_, err := cohort.Get(context.Background(), c, tc.q)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "-00") {
			t.Errorf("%+v: %v, want %q", tc.q, err, tc.want)
		}
	}
	for _, tc := range []struct {
		from, to time.Time
		want     string
	}{
		{time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 5, 0, 0, 0, 0, time.UTC), "From: the report would reach before year 1, outside the years 1..9999"},
		{time.Date(9999, 12, 30, 0, 0, 0, 0, time.UTC), time.Date(10000, 1, 2, 0, 0, 0, 0, time.UTC), "To: the report would reach after year 9999, outside the years 1..9999"},
	} {
		_, err := c.Trend(context.Background(), bitmapist.TrendQuery{Event: "a", TimeGroup: bitmapist.Days, From: tc.from, To: tc.to})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "-00") || strings.Contains(err.Error(), "10000") {
			t.Errorf("trend %v..%v: %v, want %q", tc.from, tc.to, err, tc.want)
		}
	}
}
