package bitmapist_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the DST test must not depend on the machine's zoneinfo

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func date(y int, m time.Month, d, h int) time.Time { return time.Date(y, m, d, h, 0, 0, 0, time.UTC) }

func TestNavigationKeys(t *testing.T) {
	c := bitmapist.New(nil)
	cases := []struct {
		name string
		p    *bitmapist.Period
		want []string // Prev, this, Next keys
	}{
		{"ISO week across 2020/2021", c.Week("e", date(2020, 12, 31, 0)),
			[]string{"trackist_e_W2020-52", "trackist_e_W2020-53", "trackist_e_W2021-1"}},
		{"ISO week 2025-1 starts 2024-12-30", c.Week("e", date(2024, 12, 30, 5)),
			[]string{"trackist_e_W2024-52", "trackist_e_W2025-1", "trackist_e_W2025-2"}},
		{"ISO week 2026-53", c.Week("e", date(2027, 1, 1, 12)),
			[]string{"trackist_e_W2026-52", "trackist_e_W2026-53", "trackist_e_W2027-1"}},
		{"month from the 31st", c.Month("e", date(2024, 1, 31, 0)),
			[]string{"trackist_e_2023-12", "trackist_e_2024-1", "trackist_e_2024-2"}},
		{"month at year end", c.Month("e", date(2024, 12, 31, 23)),
			[]string{"trackist_e_2024-11", "trackist_e_2024-12", "trackist_e_2025-1"}},
		{"month from March 31st back", c.Month("e", date(2024, 3, 31, 0)),
			[]string{"trackist_e_2024-2", "trackist_e_2024-3", "trackist_e_2024-4"}},
		{"day at year end", c.Day("e", date(2024, 12, 31, 0)),
			[]string{"trackist_e_2024-12-30", "trackist_e_2024-12-31", "trackist_e_2025-1-1"}},
		{"leap day", c.Day("e", date(2024, 2, 29, 0)),
			[]string{"trackist_e_2024-2-28", "trackist_e_2024-2-29", "trackist_e_2024-3-1"}},
		{"hour at year end", c.Hour("e", date(2024, 12, 31, 23)),
			[]string{"trackist_e_2024-12-31-22", "trackist_e_2024-12-31-23", "trackist_e_2025-1-1-0"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := []string{tc.p.Prev().Key(), tc.p.Key(), tc.p.Next().Key()}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("keys = %q, want %q", got, tc.want)
			}
			if k := tc.p.Delta(5).Delta(-5).Key(); k != tc.p.Key() {
				t.Errorf("Delta(5).Delta(-5) = %q, want %q", k, tc.p.Key())
			}
			if !tc.p.Next().Start().Equal(tc.p.End()) {
				t.Errorf("Next().Start() %v != End() %v", tc.p.Next().Start(), tc.p.End())
			}
		})
	}
	// Twelve months from January 31st visit every month once.
	p := c.Month("e", date(2023, 1, 31, 0))
	for m := 1; m <= 12; m++ {
		if want := fmt.Sprintf("trackist_e_2023-%d", m); p.Key() != want {
			t.Errorf("month %d: key %q, want %q", m, p.Key(), want)
		}
		p = p.Next()
	}
}

func TestPeriodBounds(t *testing.T) {
	c := bitmapist.New(nil)
	w := c.Week("e", date(2025, 1, 1, 13))
	if !w.Start().Equal(date(2024, 12, 30, 0)) || !w.End().Equal(date(2025, 1, 6, 0)) {
		t.Errorf("week = [%v, %v)", w.Start(), w.End())
	}
	if w.Label() != "2025-W01" {
		t.Errorf("label = %q", w.Label())
	}
	y := c.Year("e", date(2024, 7, 4, 0))
	if !y.Start().Equal(date(2024, 1, 1, 0)) || !y.End().Equal(date(2025, 1, 1, 0)) {
		t.Errorf("year = [%v, %v)", y.Start(), y.End())
	}
	if !w.Contains(date(2025, 1, 5, 23)) || w.Contains(date(2025, 1, 6, 0)) {
		t.Error("Contains is not [Start, End)")
	}
}

func TestDSTDay(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	// 2024-03-31 has 23 hours in Berlin; in UTC it has 24.
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		utc := newClient(b, bitmapist.WithTrackHourly(true))
		start := time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)
		for h := range 24 {
			// Give the times in Berlin's zone: the UTC client converts them.
			mark(t, utc, "tick", start.Add(time.Duration(h)*time.Hour).In(berlin), uint64(h))
		}
		day := utc.Day("tick", start)
		if got := day.End().Sub(day.Start()); got != 24*time.Hour {
			t.Errorf("UTC day lasts %v", got)
		}
		hours := 0
		for p := utc.Hour("tick", day.Start()); p.Start().Before(day.End()); p = p.Next() {
			n, err := p.Count(ctx)
			if err != nil || n != 1 {
				t.Errorf("hour %s: count %d, %v", p.Key(), n, err)
			}
			hours++
		}
		if hours != 24 {
			t.Errorf("UTC day has %d hours", hours)
		}
		if n, _ := day.Count(ctx); n != 24 {
			t.Errorf("UTC day count = %d", n)
		}

		// A Berlin client cuts the same day in 23 hours.
		local := newClient(b, bitmapist.WithLocation(berlin), bitmapist.WithPrefix(b.Prefix+"berlin_"))
		bday := local.Day("tick", time.Date(2024, 3, 31, 12, 0, 0, 0, berlin))
		if got := bday.End().Sub(bday.Start()); got != 23*time.Hour {
			t.Errorf("Berlin day lasts %v", got)
		}
		hours = 0
		for p := local.Hour("tick", bday.Start()); p.Start().Before(bday.End()); p = p.Next() {
			hours++
		}
		if hours != 23 {
			t.Errorf("Berlin day has %d hours", hours)
		}
		// 00:30 Berlin on April 1st (22:30 UTC March 31st) is April 1st there.
		if k := local.Key("tick", bitmapist.Days, time.Date(2024, 3, 31, 22, 30, 0, 0, time.UTC)); k != b.Prefix+"berlin_tick_2024-4-1" {
			t.Errorf("Berlin key = %q", k)
		}
	})
}

func TestEventsIsGetEventData(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		at := date(2024, 12, 30, 5)
		mark(t, c, "play", at, 3)
		mark(t, c, "play", date(2024, 12, 2, 0), 4)
		mark(t, c, "play", date(2024, 3, 2, 0), 5)
		for g, want := range map[bitmapist.TimeGroup][]uint64{
			bitmapist.Days: {3}, bitmapist.Weeks: {3}, bitmapist.Months: {3, 4}, bitmapist.Years: {3, 4, 5},
		} {
			p := c.Events("play", g, at)
			if p.Group() != g || p.Event() != "play" {
				t.Errorf("Events(%v) = %v %v", g, p.Event(), p.Group())
			}
			wantIDs(t, p, want...)
		}
		bad := c.Events("play", bitmapist.TimeGroup(42), at)
		if _, err := bad.Count(context.Background()); !errors.Is(err, bitmapist.ErrInvalidTimeGroup) {
			t.Errorf("invalid group Count err = %v", err)
		}
		if _, err := bitmapist.And(bad, c.Day("play", at)).IDs(context.Background()); !errors.Is(err, bitmapist.ErrInvalidTimeGroup) {
			t.Errorf("invalid group in And: err = %v", err)
		}
	})
}

// TestKeySetExists (finding C): a key whose bits are all 0 exists (an
// empty set, Count 0), a key never written does not; HasEvents is false
// for both.
func TestKeySetExists(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithTrackUnique(true))
		at := time.Date(2024, 5, 3, 0, 0, 0, 0, time.UTC)
		mark(t, c, "seg", at, 5)
		if err := c.UnmarkEvent(ctx, "seg", 5, bitmapist.At(at)); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			set    *bitmapist.KeySet
			exists bool
		}{
			{c.Unique("seg"), true},
			{c.KeySet(c.Key("seg", bitmapist.Days, at)), true},
			{c.Unique("never"), false},
			{c.KeySet(c.Key("seg", bitmapist.Days, at.AddDate(0, 0, 1))), false},
		} {
			ok, err := tc.set.Exists(ctx)
			n, cerr := tc.set.Count(ctx)
			has, herr := tc.set.HasEvents(ctx)
			if err != nil || cerr != nil || herr != nil || ok != tc.exists || n != 0 || has {
				t.Errorf("%s: Exists %v %v, Count %d %v, HasEvents %v %v; want Exists %v, 0 users", tc.set.Key(), ok, err, n, cerr, has, herr, tc.exists)
			}
		}
	})
	if _, err := bitmapist.New(nil).Unique("seg").Exists(context.Background()); !errors.Is(err, bitmapist.ErrNoRedis) {
		t.Errorf("Exists without Redis: %v, want ErrNoRedis", err)
	}
}
