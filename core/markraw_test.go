package bitmapist_test

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestMarkEventsMatchesMarkEvent: a batch written by MarkEvents (on its
// own connection, grouped by key, BITFIELD where the server has it) leaves
// exactly the keys and bytes that marking each entry with
// MarkEvent/UnmarkEvent in order leaves.
func TestMarkEventsMatchesMarkEvent(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, loc := range []*time.Location{time.UTC, paris} {
			ctx := context.Background()
			r := rand.New(rand.NewPCG(7, 8))
			marks := make([]bitmapist.Mark, 1500)
			for i := range marks {
				marks[i] = bitmapist.Mark{
					Event:  []string{"a", "b:c", "d"}[r.IntN(3)],
					UserID: uint64(r.IntN(3000)),
					Time:   day0.Add(time.Duration(r.IntN(10*24*3600)) * time.Second),
				}
				if i == 700 {
					marks[i].UserID = 1<<20 + 3 // a larger offset lands right too (128 KiB bitmaps)
				}
				if i > 0 && r.IntN(10) == 0 { // unmark a bit marked just before
					marks[i] = marks[i-1]
					marks[i].Unmark = true
				}
			}
			opts := []bitmapist.MarkOption{bitmapist.TrackHourly(true), bitmapist.TrackUnique(true)}
			pa, pb := b.Prefix+loc.String()[:3]+"a_", b.Prefix+loc.String()[:3]+"b_"
			batch := bitmapist.New(b.Client, bitmapist.WithPrefix(pa), bitmapist.WithLocation(loc))
			if err := batch.MarkEvents(ctx, marks, opts...); err != nil {
				t.Fatal(err)
			}
			one := bitmapist.New(b.Client, bitmapist.WithPrefix(pb), bitmapist.WithLocation(loc))
			for _, m := range marks {
				f := one.MarkEvent
				if m.Unmark {
					f = one.UnmarkEvent
				}
				if err := f(ctx, m.Event, m.UserID, append(opts, bitmapist.At(m.Time))...); err != nil {
					t.Fatal(err)
				}
			}
			ka, kb := testutil.Keys(t, b.Client, pa), testutil.Keys(t, b.Client, pb)
			if len(ka) != len(kb) || len(ka) < 100 {
				t.Fatalf("%s: MarkEvents wrote %d keys, MarkEvent %d", loc, len(ka), len(kb))
			}
			for i := range ka {
				if strings.TrimPrefix(ka[i], pa) != strings.TrimPrefix(kb[i], pb) {
					t.Fatalf("%s: key %s vs %s", loc, ka[i], kb[i])
				}
				va, _ := b.Client.Get(ctx, ka[i]).Result()
				vb, _ := b.Client.Get(ctx, kb[i]).Result()
				if va != vb {
					t.Fatalf("%s: %s differs from one-by-one marking", loc, ka[i])
				}
			}
			b.Client.Del(ctx, append(ka, kb...)...)
		}
	})
}
