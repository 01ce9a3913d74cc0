package cohort

import (
	"math/rand/v2"
	"testing"
)

// randBlocks returns k bitmaps of n random words each, laid out as the
// Reader lays out a stripe: one buffer, each bitmap 3,912 words (a
// 1M-user stripe's span) after the one before, not at multiples of 4 KiB.
func randBlocks(rng *rand.Rand, k, n int) [][]uint64 {
	const span = 3912
	buf := make([]uint64, k*max(span, n))
	ws := make([][]uint64, k)
	for i := range ws {
		ws[i] = buf[i*max(span, n) : i*max(span, n)+n]
		for j := range ws[i] {
			ws[i][j] = rng.Uint64() & rng.Uint64()
		}
	}
	return ws
}

// BenchmarkKernelLifecycle: one 512-word block of 53 weekly bitmaps
// (ns/op / (52*512) is the cost per period and word).
func BenchmarkKernelLifecycle(b *testing.B) {
	ws := randBlocks(rand.New(rand.NewPCG(1, 2)), 53, 512)
	a := newLifeAcc(52)
	for b.Loop() {
		a.block(ws, nil, 512)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(52*512), "ns/word")
}

func BenchmarkKernelStickiness(b *testing.B) {
	ws := randBlocks(rand.New(rand.NewPCG(1, 2)), 30, 512)
	a := newStickAcc(30)
	for b.Loop() {
		a.block(ws, 512)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(30*512), "ns/word")
}

func BenchmarkKernelFunnel(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := randBlocks(rng, 104, 512)
	idx := [][]int{make([]int, 30), make([]int, 37), make([]int, 37)}
	for t := range 30 {
		idx[0][t] = t
	}
	for t := range 37 {
		idx[1][t], idx[2][t] = 30+t, 67+t
	}
	a := newFunnelAcc(30, 3)
	rep := repeats([]string{"a", "b", "c"})
	for b.Loop() {
		a.block(ws, idx, rep, 7, 512)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(104*512), "ns/word")
}

func BenchmarkKernelPopcount(b *testing.B) {
	ws := randBlocks(rand.New(rand.NewPCG(1, 2)), 53, 512)
	var n int64
	for b.Loop() {
		for _, w := range ws {
			n += popcount(w)
		}
	}
	_ = n
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/(53*512), "ns/word")
}
