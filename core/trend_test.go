package bitmapist_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// activity is a random activity log for model tests: active[d] holds the
// users active on day d (day 0 = start). Ids spread over several of the
// reports' word blocks (32,768 ids each).
type activity struct {
	start  time.Time
	active []map[uint64]bool
}

func randomActivity(seed uint64, days, users int) *activity {
	r := rand.New(rand.NewPCG(seed, 1))
	a := &activity{start: time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), active: make([]map[uint64]bool, days)}
	ids := make([]uint64, users)
	for i := range ids {
		ids[i] = uint64(r.IntN(70_000))
	}
	for d := range a.active {
		a.active[d] = map[uint64]bool{}
		for _, id := range ids {
			if r.IntN(4) == 0 {
				a.active[d][id] = true
			}
		}
	}
	return a
}

func (a *activity) mark(t *testing.T, c *bitmapist.Client, event string) {
	t.Helper()
	var marks []bitmapist.Mark
	for d, set := range a.active {
		for id := range set {
			marks = append(marks, bitmapist.Mark{Event: event, UserID: id, Time: a.start.AddDate(0, 0, d).Add(3 * time.Hour)})
		}
	}
	for len(marks) > 0 { // small batches: miniredis copies a bitmap per SETBIT
		n := min(len(marks), 500)
		if err := c.MarkEvents(context.Background(), marks[:n]); err != nil {
			t.Fatal(err)
		}
		marks = marks[n:]
	}
}

// uniques counts the users active on days lo..hi (clipped to the log) that
// are in seg (all when seg is nil).
func (a *activity) uniques(lo, hi int, seg map[uint64]bool) int64 {
	u := map[uint64]bool{}
	for d := max(lo, 0); d <= hi && d < len(a.active); d++ {
		for id := range a.active[d] {
			if seg == nil || seg[id] {
				u[id] = true
			}
		}
	}
	return int64(len(u))
}

func TestTrendMatchesModel(t *testing.T) {
	a := randomActivity(7, 75, 300)
	seg := map[uint64]bool{}
	for id := range a.active[3] {
		seg[id] = true
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		a.mark(t, c, "play")
		// 4 KiB stripes: the 8.75 KB bitmaps are read in three stripes
		small := newClient(b, bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 4096}))
		for i, segmented := range []bool{false, true, false, true} {
			c := c
			if i >= 2 {
				c = small
			}
			q := bitmapist.TrendQuery{Event: "play", TimeGroup: bitmapist.Days, Rolling: true,
				From: a.start.AddDate(0, 0, 45), To: a.start.AddDate(0, 0, 59)}
			var s map[uint64]bool
			if segmented {
				q.Segment, s = c.Day("play", a.start.AddDate(0, 0, 3)), seg
			}
			tr, err := c.Trend(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(tr.Periods) != 15 {
				t.Fatalf("%d periods, want 15", len(tr.Periods))
			}
			for i, p := range tr.Periods {
				d := 45 + i
				want := bitmapist.TrendValue{Label: a.start.AddDate(0, 0, d).Format("2006-01-02"), Start: a.start.AddDate(0, 0, d),
					Count: a.uniques(d, d, s), WAU: a.uniques(d-6, d, s), MAU: a.uniques(d-29, d, s)}
				if p.TrendValue != want {
					t.Errorf("segment %v period %d: got %+v, want %+v", segmented, i, p.TrendValue, want)
				}
				pd := d - 15
				wantPrev := bitmapist.TrendValue{Label: a.start.AddDate(0, 0, pd).Format("2006-01-02"), Start: a.start.AddDate(0, 0, pd),
					Count: a.uniques(pd, pd, s), WAU: a.uniques(pd-6, pd, s), MAU: a.uniques(pd-29, pd, s)}
				if p.Previous != wantPrev {
					t.Errorf("segment %v previous %d: got %+v, want %+v", segmented, i, p.Previous, wantPrev)
				}
			}
			if want := a.uniques(45, 59, s); tr.Unique != want {
				t.Errorf("unique %d, want %d", tr.Unique, want)
			}
			if want := a.uniques(30, 44, s); tr.PreviousUnique != want {
				t.Errorf("previous unique %d, want %d", tr.PreviousUnique, want)
			}
		}
	})
}

func TestTrendWeeksNoRolling(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b)
	ctx := context.Background()
	mon := time.Date(2025, 3, 3, 12, 0, 0, 0, time.UTC)
	mark(t, c, "e", mon, 1, 2, 3)
	mark(t, c, "e", mon.AddDate(0, 0, 8), 2, 4)
	mark(t, c, "e", mon.AddDate(0, 0, -7), 9)
	tr, err := c.Trend(ctx, bitmapist.TrendQuery{Event: "e", TimeGroup: bitmapist.Weeks, From: mon, To: mon.AddDate(0, 0, 13)})
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{tr.Periods[0].Count, tr.Periods[1].Count, tr.Periods[0].Previous.Count, tr.Periods[1].Previous.Count}
	if want := []int64{3, 2, 0, 1}; !equalInts(got, want) || tr.Periods[1].Label != "2025-W11" || tr.Unique != 4 {
		t.Fatalf("got %v %s unique %d, want %v 2025-W11 unique 4", got, tr.Periods[1].Label, tr.Unique, want)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestTrendBadQueries(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b)
	other := bitmapist.New(b.Client)
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	ok := bitmapist.TrendQuery{Event: "e", TimeGroup: bitmapist.Days, From: day, To: day}
	for name, tc := range map[string]struct {
		mod   func(*bitmapist.TrendQuery)
		field string
	}{
		"empty event":   {func(q *bitmapist.TrendQuery) { q.Event = "" }, "Event"},
		"bitop event":   {func(q *bitmapist.TrendQuery) { q.Event = "bitop_x" }, "Event"},
		"bad group":     {func(q *bitmapist.TrendQuery) { q.TimeGroup = 9 }, "TimeGroup"},
		"rolling weeks": {func(q *bitmapist.TrendQuery) { q.TimeGroup, q.Rolling = bitmapist.Weeks, true }, "Rolling"},
		"no from":       {func(q *bitmapist.TrendQuery) { q.From = time.Time{} }, "From"},
		"no to":         {func(q *bitmapist.TrendQuery) { q.To = time.Time{} }, "To"},
		"to before":     {func(q *bitmapist.TrendQuery) { q.To = day.AddDate(0, 0, -1) }, "To"},
		"too long":      {func(q *bitmapist.TrendQuery) { q.To = day.AddDate(0, 0, bitmapist.MaxTrendPeriods) }, "To"},
		"year 0": {func(q *bitmapist.TrendQuery) {
			q.From, q.To = time.Date(0, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 3, 0, 0, 0, 0, time.UTC)
		}, "From"},
		"bad segment":  {func(q *bitmapist.TrendQuery) { q.Segment = c.Events("e", 42, day) }, "Segment"},
		"other client": {func(q *bitmapist.TrendQuery) { q.Segment = other.Day("e", day) }, "Segment"},
	} {
		q := ok
		tc.mod(&q)
		_, err := c.Trend(context.Background(), q)
		var re *bitmapist.ReportError
		if !errors.As(err, &re) || re.Field != tc.field || !errors.Is(err, bitmapist.ErrInvalidReport) {
			t.Errorf("%s: got %v, want a *ReportError on %s", name, err, tc.field)
		}
	}
	q := ok
	q.To = day.AddDate(0, 0, bitmapist.MaxTrendPeriods-1)
	if _, err := c.Trend(context.Background(), q); err != nil {
		t.Errorf("MaxTrendPeriods periods: %v", err)
	}
	if _, err := bitmapist.New(nil).Trend(context.Background(), ok); !errors.Is(err, bitmapist.ErrNoRedis) {
		t.Errorf("no Redis: %v", err)
	}
}
