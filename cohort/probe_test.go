package cohort_test

import (
	"context"
	"slices"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestUnprovenEventsOfPeriodKeys: an event with a mark in one period of the
// range is proven, one with marks only outside the range or none is not,
// and PeriodKeys names the range's periods latest first, at most
// MaxProbePeriods of them.
func TestUnprovenEventsOfPeriodKeys(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		from := day(2025, 3, 1)
		to := from.AddDate(0, 0, 9)
		c := newClient(b, to)
		markIDs(t, c, "inside", from.AddDate(0, 0, 4), 7)
		markIDs(t, c, "outside", from.AddDate(0, 0, -3), 7)
		keys := func(e string) []string { return cohort.PeriodKeys(c, e, bitmapist.Days, from, to) }
		if got := keys("inside"); len(got) != 10 || got[0] != c.Key("inside", bitmapist.Days, to) || got[9] != c.Key("inside", bitmapist.Days, from) {
			t.Fatalf("PeriodKeys = %v, want the 10 day keys from %v back to %v", got, to, from)
		}
		got, err := cohort.UnprovenEvents(context.Background(), c, []string{"inside", "outside", "never"}, keys)
		if err != nil || !slices.Equal(got, []string{"outside", "never"}) {
			t.Fatalf("UnprovenEvents = %v, %v; want [outside never]", got, err)
		}
		if got := cohort.PeriodKeys(c, "inside", bitmapist.Days, from.AddDate(-3, 0, 0), to); len(got) != cohort.MaxProbePeriods {
			t.Errorf("PeriodKeys over 3 years: %d keys, want %d", len(got), cohort.MaxProbePeriods)
		}
		if got, err := cohort.UnprovenEvents(context.Background(), c, []string{"inside"}, nil); err != nil || !slices.Equal(got, []string{"inside"}) {
			t.Errorf("UnprovenEvents with nil keys = %v, %v; want every event", got, err)
		}
	})
}
