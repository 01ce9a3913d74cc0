package cohort_test

import (
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
)

// TestPeriodEnd: every label kind gives the last instant of its period in
// the location (a clock-change day included, year 9999 too); timestamps
// and non-labels are not labels.
func TestPeriodEnd(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	last := func(y int, m time.Month, d, h int, loc *time.Location) time.Time {
		return time.Date(y, m, d, h, 59, 59, 999999999, loc)
	}
	for _, tc := range []struct {
		s    string
		loc  *time.Location
		want time.Time
	}{
		{"2016", time.UTC, last(2016, 12, 31, 23, time.UTC)},
		{"2016-02", time.UTC, last(2016, 2, 29, 23, time.UTC)},
		{"2016-W18", time.UTC, last(2016, 5, 8, 23, time.UTC)},
		{"2016-05-03", time.UTC, last(2016, 5, 3, 23, time.UTC)},
		{"2016-05-03T10", time.UTC, last(2016, 5, 3, 10, time.UTC)},
		{" 2025-03-30 ", berlin, last(2025, 3, 30, 23, berlin)}, // 23 hours long
		{"2025-10-26", berlin, last(2025, 10, 26, 23, berlin)},  // 25 hours long
		{"9999", time.UTC, last(9999, 12, 31, 23, time.UTC)},
	} {
		got, ok := cohort.PeriodEnd(tc.s, tc.loc)
		if !ok || !got.Equal(tc.want) {
			t.Errorf("PeriodEnd(%q) = %v %v, want %v", tc.s, got, ok, tc.want)
		}
	}
	for _, s := range []string{"2016-05-03T10:30", "2016-05-03 10:00", "2016-05-03T10:00:00Z", "now", "", "2016-13", "2016-W60"} {
		if got, ok := cohort.PeriodEnd(s, time.UTC); ok {
			t.Errorf("PeriodEnd(%q) = %v, want not a label", s, got)
		}
	}
}
