package cohort

import (
	"math/rand/v2"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// TestAndCountAndNotAll compares the fused operations with the core's
// Bitmap operations on random bitmaps of different lengths.
func TestAndCountAndNotAll(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	random := func() bitmapist.Bitmap {
		b := make(bitmapist.Bitmap, rng.IntN(140))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	for range 500 {
		a := random()
		fs := make([]bitmapist.Bitmap, 1+rng.IntN(4))
		for i := range fs {
			fs[i] = random()
		}
		all := andAll(fs)
		if got, want := andCount(a, fs), a.AndCount(all); got != want {
			t.Fatalf("andCount = %d, want %d", got, want)
		}
		want := a.AndNot(all)[:len(a)]
		got := a.Clone()
		andNotAll(got, fs)
		if string(got) != string(want) {
			t.Fatalf("andNotAll = %x, want %x (a %x, fs %x)", got, want, a, fs)
		}
	}
}
