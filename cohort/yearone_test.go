package cohort_test

import (
	"errors"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
)

// TestParseTimeYearOne: every label whose first instant is Go's zero time
// parses to the nanosecond after it (NonZeroStart); the timestamp naming
// that instant is ErrReservedTime; in a zone where year 1 starts at
// another instant the label is that instant.
func TestParseTimeYearOne(t *testing.T) {
	first := time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC)
	for _, s := range []string{"0001", "0001-01", "0001-W01", "0001-01-01", "0001-01-01T00"} {
		got, err := cohort.ParseTime(s, time.UTC)
		if err != nil || !got.Equal(first) {
			t.Errorf("ParseTime(%q) = %v, %v; want %v", s, got, err, first)
		}
	}
	for _, s := range []string{"0001-01-01T00:00:00Z", "0001-01-01T00:00", "0001-01-01T00:00:00"} {
		if _, err := cohort.ParseTime(s, time.UTC); !errors.Is(err, cohort.ErrReservedTime) {
			t.Errorf("ParseTime(%q): %v, want ErrReservedTime", s, err)
		}
	}
	if k, err := time.LoadLocation("Pacific/Kiritimati"); err == nil {
		got, err := cohort.ParseTime("0001-01", k)
		if want := time.Date(1, 1, 1, 0, 0, 0, 0, k); err != nil || !got.Equal(want) {
			t.Errorf("ParseTime(0001-01, Kiritimati) = %v, %v; want %v", got, err, want)
		}
	}
}
