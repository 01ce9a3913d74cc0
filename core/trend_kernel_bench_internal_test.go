package bitmapist

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkKernelTrend: one 512-word block of a rolling 90-day trend's
// 209 daily bitmaps (ns/word is per word of one bitmap).
func BenchmarkKernelTrend(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := make([][]uint64, 209)
	for i := range ws {
		ws[i] = make([]uint64, 512)
		for j := range ws[i] {
			ws[i][j] = rng.Uint64() & rng.Uint64() & rng.Uint64()
		}
	}
	t := newTrendAcc(209, 29, 90, true)
	for b.Loop() {
		t.add(ws, 512)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(209*512), "ns/word")
}
