package bitmapist_test

import (
	"context"
	"slices"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestEventNamesAndDelete(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithTrackHourly(true), bitmapist.WithTrackUnique(true))
		for _, ev := range []string{"user:logged_in", "user:logged_out", "song_played", "active", "active2", "order.paid"} {
			mark(t, c, ev, day0, 1, 2)
		}
		// Not events: a temporary operation key, and a non-bitmapist key
		// under the prefix.
		b.Client.Set(ctx, b.Prefix+"bitop_AND_x-y", "z", 0)
		b.Client.Set(ctx, b.Prefix+"config", "z", 0)
		// An operation leaves nothing behind to be listed.
		if _, err := bitmapist.Or(c.Day("active", day0), c.Day("active2", day0)).IDs(ctx); err != nil {
			t.Fatal(err)
		}

		names, err := c.EventNames(ctx, "")
		want := []string{"active", "active2", "order.paid", "song_played", "user:logged_in", "user:logged_out"}
		if err != nil || !slices.Equal(names, want) {
			t.Fatalf("EventNames = %q, %v; want %q", names, err, want)
		}
		names, err = c.EventNames(ctx, "user:")
		if err != nil || !slices.Equal(names, []string{"user:logged_in", "user:logged_out"}) {
			t.Errorf("EventNames(user:) = %q, %v", names, err)
		}
		// Glob characters in the prefix are matched literally.
		names, err = c.EventNames(ctx, "*")
		if err != nil || len(names) != 0 {
			t.Errorf("EventNames(*) = %q, %v", names, err)
		}

		// Deleting "active" keeps "active2".
		n, err := c.DeleteEvent(ctx, "active")
		if err != nil || n != 5 { // month, week, day, hour, unique
			t.Errorf("DeleteEvent = %d, %v; want 5 keys", n, err)
		}
		if cnt, _ := c.Day("active2", day0).Count(ctx); cnt != 2 {
			t.Errorf("active2 lost its data: %d", cnt)
		}
		names, _ = c.EventNames(ctx, "act")
		if !slices.Equal(names, []string{"active2"}) {
			t.Errorf("after delete: %q", names)
		}

		if n, err := c.DeleteTemporaryBitmaps(ctx); err != nil || n != 1 {
			t.Errorf("DeleteTemporaryBitmaps = %d, %v; want 1", n, err)
		}
		if _, err := c.DeleteAll(ctx); err != nil {
			t.Fatal(err)
		}
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
			t.Errorf("DeleteAll left %q", keys)
		}
	})
}

func TestPeriodsWithData(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		for _, at := range []struct{ y, m, d int }{{2023, 11, 5}, {2024, 1, 31}, {2024, 1, 2}, {2024, 3, 1}} {
			mark(t, c, "buy", date(at.y, monthOf(at.m), at.d, 0), 1)
		}
		mark(t, c, "buy_more", day0, 1) // another event sharing the name's start
		labels := func(g bitmapist.TimeGroup) []string {
			ps, err := c.Periods(ctx, "buy", g)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.Label())
			}
			return out
		}
		if got, want := labels(bitmapist.Months), []string{"2023-11", "2024-01", "2024-03"}; !slices.Equal(got, want) {
			t.Errorf("months = %q, want %q", got, want)
		}
		if got, want := labels(bitmapist.Days), []string{"2023-11-05", "2024-01-02", "2024-01-31", "2024-03-01"}; !slices.Equal(got, want) {
			t.Errorf("days = %q, want %q", got, want)
		}
		if got, want := labels(bitmapist.Weeks), []string{"2023-W44", "2024-W01", "2024-W05", "2024-W09"}; !slices.Equal(got, want) {
			t.Errorf("weeks = %q, want %q", got, want)
		}
		if got, want := labels(bitmapist.Years), []string{"2023", "2024"}; !slices.Equal(got, want) {
			t.Errorf("years = %q, want %q", got, want)
		}
		if got := labels(bitmapist.Hours); len(got) != 0 {
			t.Errorf("hours = %q, want none (hourly tracking off)", got)
		}
	})
}

func monthOf(m int) time.Month { return time.Month(m) }
