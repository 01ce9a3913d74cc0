package bitmapist_test

import (
	"context"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestMarkEventsBatch(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		clock := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		c := newClient(b, bitmapist.WithClock(func() time.Time { return clock }))
		// More than one pipeline's worth, over several days and events.
		n := bitmapist.MarkEventsBatchSize*2 + 17
		marks := make([]bitmapist.Mark, 0, n+1)
		for i := range n {
			marks = append(marks, bitmapist.Mark{
				Event:  []string{"view", "buy"}[i%2],
				UserID: uint64(i),
				Time:   day0.AddDate(0, 0, i%3),
			})
		}
		marks = append(marks, bitmapist.Mark{Event: "view", UserID: 0, Time: day0, Unmark: true})
		marks = append(marks, bitmapist.Mark{Event: "now", UserID: 1}) // zero time: the clock
		if err := c.MarkEvents(ctx, marks, bitmapist.TrackHourly(true)); err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for i := range n {
			if i == 0 {
				continue // unmarked again
			}
			want[c.Key([]string{"view", "buy"}[i%2], bitmapist.Days, day0.AddDate(0, 0, i%3))]++
		}
		for key, w := range want {
			if got, _ := c.KeySet(key).Count(ctx); got != w {
				t.Errorf("%s = %d, want %d", key, got, w)
			}
		}
		if got, _ := c.Month("view", day0).Count(ctx); got != int64((n+1)/2-1) {
			t.Errorf("month view = %d, want %d", got, (n+1)/2-1)
		}
		if got, _ := c.Hour("buy", day0).Count(ctx); got == 0 {
			t.Error("TrackHourly(true) wrote no hour bitmap")
		}
		if in, _ := c.Day("now", clock).Has(ctx, 1); !in {
			t.Error("a Mark without time was not marked at the clock's time")
		}
	})
}

func TestSnapshotMatchesRedis(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		mark(t, c, "a", day0, 1, 2, 3, 500)
		mark(t, c, "b", day0, 2, 9)
		a, bb, miss := c.Day("a", day0), c.Day("b", day0), c.Day("zz", day0)
		sets := []bitmapist.Set{
			a, bitmapist.And(a, bb), bitmapist.Or(a, bb, miss), bitmapist.Xor(a, bb),
			bitmapist.AndNot(a, bb),
			bitmapist.Or(bitmapist.And(a, miss), bitmapist.AndNot(bb, a)),
			c.Year("a", day0),
		}
		if onServer(b) { // Not is refused there, see TestNotPitfalls
			notRefused(t, c, bitmapist.And(a, bitmapist.Not(bb)))
		} else {
			sets = append(sets, bitmapist.Not(bb), bitmapist.And(a, bitmapist.Not(bb)))
		}
		snap, err := c.Fetch(ctx, sets...)
		if err != nil {
			t.Fatal(err)
		}
		if snap.Len() != 2+1+12 { // a, b, zz day keys + 12 months (a's May month key is one of them)
			t.Errorf("snapshot holds %d bitmaps", snap.Len())
		}
		for i, s := range sets {
			want, err := s.IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got := snap.Bitmap(s).IDs()
			if len(got) == 0 && len(want) == 0 {
				continue
			}
			if !equalIDs(got, want) {
				t.Errorf("set %d: snapshot %v, Redis %v", i, got, want)
			}
		}
		// Evaluating never changes the snapshot.
		before := snap.Bitmap(a).Clone()
		_ = snap.Bitmap(bitmapist.Or(a, bb, bb))
		if !equalIDs(snap.Bitmap(a).IDs(), before.IDs()) {
			t.Error("evaluation wrote into the snapshot")
		}
	})
}

func equalIDs(a, b []uint64) bool {
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

func TestTemporaryKeysExpire(t *testing.T) {
	// A client that dies between computing and deleting a result leaves a
	// key with a TTL; check the TTL is set by reading one mid-way.
	b := testutil.Miniredis(t)
	c := newClient(b, bitmapist.WithTempTTL(30*time.Second))
	mark(t, c, "a", day0, 1)
	mark(t, c, "b", day0, 1)
	ids, err := bitmapist.And(c.Day("a", day0), c.Day("b", day0)).IDs(context.Background())
	if err != nil || len(ids) != 1 {
		t.Fatalf("IDs = %v, %v", ids, err)
	}
	noTempKeys(t, b)
	for _, k := range b.Mini.Keys() {
		if ttl := b.Mini.TTL(k); ttl != 0 {
			t.Errorf("data key %s has a TTL %v", k, ttl)
		}
	}
}
