package cohort

import (
	"math/rand/v2"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// TestArenaOps compares the arena's operations (andAll, or, andNot,
// clone), on one arena reused round after round as a table's blocks reuse
// it, with bit-by-bit set operations on random bitmaps of different
// lengths.
func TestArenaOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() bitmapist.Bitmap {
		b := make(bitmapist.Bitmap, 1+rng.IntN(140))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var ar arena
	for range 300 {
		ar.reset()
		ar.take(1 + rng.IntN(100)) // garbage before the results
		fs := make([]bitmapist.Bitmap, 1+rng.IntN(4))
		for i := range fs {
			fs[i] = random()
		}
		var wantAnd, wantOr, wantNot []uint64
		for id := range uint64(8 * 140) {
			in, any := true, false
			for _, f := range fs {
				in = in && f.Has(id)
				any = any || f.Has(id)
			}
			if in {
				wantAnd = append(wantAnd, id)
			}
			if any {
				wantOr = append(wantOr, id)
			}
			if fs[0].Has(id) && !fs[len(fs)-1].Has(id) {
				wantNot = append(wantNot, id)
			}
		}
		and, or := ar.andAll(fs), ar.or(fs...)
		not, cl := ar.andNot(fs[0], fs[len(fs)-1]), ar.clone(fs[0])
		for _, c := range []struct {
			name      string
			got, want []uint64
		}{{"andAll", and.IDs(), wantAnd}, {"or", or.IDs(), wantOr}, {"andNot", not.IDs(), wantNot}, {"clone", cl.IDs(), fs[0].IDs()}} {
			if !slices.Equal(c.got, c.want) && len(c.got)+len(c.want) > 0 {
				t.Fatalf("%s = %v, want %v", c.name, c.got, c.want)
			}
		}
		if and.Count() != int64(len(wantAnd)) || (len(fs) > 1 && cap(and) != len(and)) {
			t.Fatalf("andAll: count %d of %d, cap %d len %d", and.Count(), len(wantAnd), cap(and), len(and))
		}
	}
}

// TestDedupGroups: repeated events and repeated groups collapse.
func TestDedupGroups(t *testing.T) {
	got := dedupGroups([][]string{{"a"}, {"b", "c", "b"}, {"a"}, {"c", "b"}, {"d"}})
	want := [][]string{{"a"}, {"b", "c"}, {"d"}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("dedupGroups = %v, want %v", got, want)
	}
}
