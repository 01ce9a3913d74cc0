package cohort

import (
	"math/rand/v2"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// TestAndAll compares andAll with bit-by-bit intersection on random
// bitmaps of different lengths.
func TestAndAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() bitmapist.Bitmap {
		b := make(bitmapist.Bitmap, 1+rng.IntN(140))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for range 300 {
		fs := make([]bitmapist.Bitmap, 1+rng.IntN(4))
		for i := range fs {
			fs[i] = random()
		}
		var want []uint64
		for id := range uint64(8 * 140) {
			in := true
			for _, f := range fs {
				in = in && f.Has(id)
			}
			if in {
				want = append(want, id)
			}
		}
		if got := andAll(fs).IDs(); !slices.Equal(got, want) && len(got)+len(want) > 0 {
			t.Fatalf("andAll = %v, want %v", got, want)
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
