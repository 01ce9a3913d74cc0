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

// BenchmarkAnd2Count: a cell of a table over a million ids (125 KB).
func BenchmarkAnd2Count(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	x, y := make(bitmapist.Bitmap, 125_000), make(bitmapist.Bitmap, 125_000)
	for i := range x {
		x[i], y[i] = byte(rng.Uint32()), byte(rng.Uint32())
	}
	b.Run("cohort", func(b *testing.B) {
		b.SetBytes(int64(len(x)))
		for b.Loop() {
			and2Count(x, y)
		}
	})
	b.Run("core", func(b *testing.B) {
		b.SetBytes(int64(len(x)))
		for b.Loop() {
			x.AndCount(y)
		}
	})
}
