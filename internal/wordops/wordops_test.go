package wordops

import (
	"math/rand/v2"
	"testing"
)

// words returns n random words at an offset of off words into a fresh
// buffer (so that the kernels see every alignment mod 32 bytes), each
// bit set with probability 1/2, or with density d of 0 (none), 1 (all).
func words(rng *rand.Rand, n, off int) []uint64 {
	buf := make([]uint64, n+off+3)
	ws := buf[off : off+n : off+n]
	mode := rng.IntN(4)
	for i := range ws {
		switch mode {
		case 0:
			ws[i] = rng.Uint64()
		case 1:
			ws[i] = ^uint64(0)
		case 2:
			ws[i] = rng.Uint64() & rng.Uint64() & rng.Uint64()
		case 3:
			ws[i] = rng.Uint64() | rng.Uint64()
		}
	}
	return ws
}

// bitCount is the reference popcount: bit by bit.
func bitCount(w uint64) int64 {
	var n int64
	for ; w != 0; w >>= 1 {
		n += int64(w & 1)
	}
	return n
}

func bitCount64s(ws []uint64) int64 {
	var n int64
	for _, w := range ws {
		n += bitCount(w)
	}
	return n
}

// TestKernelsMatchReference compares every kernel (assembly where the CPU
// has it) with a bit-by-bit reference and with the pure-Go version, on
// random words of every length 0..300 at offsets 0..3 words (odd
// alignments), with all-ones and sparse words among them.
func TestKernelsMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for n := 0; n <= 300; n++ {
		for off := range 4 {
			x, p, h := words(rng, n, off), words(rng, n, (off+1)%4), words(rng, n, (off+3)%4)
			var wantPop, wantRet, wantNew, wantOr int64
			wantH := make([]uint64, n)
			for j := range x {
				wantPop += bitCount(x[j])
				wantRet += bitCount(x[j] & p[j])
				wantNew += bitCount(x[j] &^ (p[j] | h[j]))
				wantOr += bitCount(x[j] | p[j])
				wantH[j] = h[j] | p[j]
			}
			if got := Popcount(x); got != wantPop || popcountGo(x) != wantPop {
				t.Fatalf("n=%d off=%d: Popcount = %d (Go %d), want %d", n, off, got, popcountGo(x), wantPop)
			}
			if got := OrCount(x, p); got != wantOr || orCountGo(x, p) != wantOr {
				t.Fatalf("n=%d off=%d: OrCount = %d, want %d", n, off, got, wantOr)
			}
			dst := words(rng, n, (off+2)%4)
			Or(dst, x, p)
			for j := range dst {
				if dst[j] != x[j]|p[j] {
					t.Fatalf("n=%d off=%d: Or word %d = %x, want %x", n, off, j, dst[j], x[j]|p[j])
				}
			}
			var wantAnd int64
			for j := range x {
				wantAnd += bitCount(x[j] & p[j])
			}
			and, andGo := words(rng, n, off), make([]uint64, n)
			if got, gotGo := AndCount(and, x, p), andCountGo(andGo, x, p); got != wantAnd || gotGo != wantAnd {
				t.Fatalf("n=%d off=%d: AndCount = %d (Go %d), want %d", n, off, got, gotGo, wantAnd)
			}
			oa := words(rng, n, (off+1)%4)
			want := make([]uint64, n)
			for j := range oa {
				want[j] = oa[j] | x[j]&h[j]
			}
			OrAnd(oa, x, h)
			for j := range oa {
				if oa[j] != want[j] || and[j] != x[j]&p[j] || andGo[j] != and[j] {
					t.Fatalf("n=%d off=%d: OrAnd/AndCount word %d wrong", n, off, j)
				}
			}
			sum, carry := words(rng, n, (off+1)%4), words(rng, n, off)
			FullAdd(sum, carry, x, p, h)
			for j := range sum {
				ones := bitCount(x[j]&1) + bitCount(p[j]&1) + bitCount(h[j]&1)
				if sum[j] != x[j]^p[j]^h[j] || carry[j] != x[j]&p[j]|x[j]&h[j]|p[j]&h[j] || int64(sum[j]&1)+2*int64(carry[j]&1) != ones {
					t.Fatalf("n=%d off=%d: FullAdd word %d wrong", n, off, j)
				}
			}
			acc, accGo := words(rng, n, (off+3)%4), make([]uint64, n)
			copy(accGo, acc)
			wantAccWords := make([]uint64, n)
			for j := range acc {
				wantAccWords[j] = acc[j] | x[j] | p[j]
			}
			var wantAcc, wantSelf int64
			for j := range acc {
				wantAcc += bitCount(acc[j] | x[j] | h[j])
				wantSelf += bitCount(acc[j] | x[j] | p[j])
			}
			if got, gotGo := OrAccOrCount(acc, x, h), orAccOrCountGo(accGo, x, h); got != wantAcc || gotGo != wantAcc {
				t.Fatalf("n=%d off=%d: OrAccOrCount = %d (Go %d), want %d", n, off, got, gotGo, wantAcc)
			}
			if got := OrAccOrCount(acc, p, acc); got != wantSelf {
				t.Fatalf("n=%d off=%d: OrAccOrCount(dst, src, dst) = %d, want %d", n, off, got, wantSelf)
			}
			if got, gotGo := OrAccPop(acc, x), orAccPopGo(accGo, p); got != wantPop || gotGo != bitCount64s(p) {
				t.Fatalf("n=%d off=%d: OrAccPop = %d, want %d", n, off, got, wantPop)
			}
			for j := range acc {
				if acc[j] != accGo[j] || acc[j] != wantAccWords[j] {
					t.Fatalf("n=%d off=%d: OrAcc word %d = %x, Go %x", n, off, j, acc[j], accGo[j])
				}
			}
			hGo := append([]uint64(nil), h...)
			a, b, d := LifeCounts(x, p, h)
			ga, gb, gd := lifeCountsGo(x, p, hGo)
			if a != wantPop || b != wantRet || d != wantNew || ga != a || gb != b || gd != d {
				t.Fatalf("n=%d off=%d: LifeCounts = %d %d %d (Go %d %d %d), want %d %d %d", n, off, a, b, d, ga, gb, gd, wantPop, wantRet, wantNew)
			}
			for j := range h {
				if h[j] != wantH[j] || hGo[j] != wantH[j] {
					t.Fatalf("n=%d off=%d: before word %d = %x, want %x", n, off, j, h[j], wantH[j])
				}
			}
		}
	}
}

// TestKernelsLongRuns checks the kernels' accumulators on long slices
// of all-ones words (no byte or quadword counter may wrap).
func TestKernelsLongRuns(t *testing.T) {
	const n = 1 << 16
	ones := make([]uint64, n)
	for i := range ones {
		ones[i] = ^uint64(0)
	}
	zero := make([]uint64, n)
	if got := Popcount(ones); got != 64*n {
		t.Errorf("Popcount = %d, want %d", got, 64*n)
	}
	if got := OrCount(ones, zero); got != 64*n {
		t.Errorf("OrCount = %d, want %d", got, 64*n)
	}
	if a, b, d := LifeCounts(ones, zero, make([]uint64, n)); a != 64*n || b != 0 || d != 64*n {
		t.Errorf("LifeCounts = %d %d %d, want %d 0 %d", a, b, d, 64*n, 64*n)
	}
}

// FuzzLifeCounts compares LifeCounts with the pure-Go version on fuzzed
// words at fuzzed offsets.
func FuzzLifeCounts(f *testing.F) {
	f.Add(uint64(1), 37, 1)
	f.Fuzz(func(t *testing.T, seed uint64, n, off int) {
		n, off = n&511, off&3
		rng := rand.New(rand.NewPCG(seed, 1))
		x, p, h := words(rng, n, off), words(rng, n, 3-off), words(rng, n, (off+1)&3)
		hGo := append([]uint64(nil), h...)
		a, b, d := LifeCounts(x, p, h)
		ga, gb, gd := lifeCountsGo(x, p, hGo)
		if a != ga || b != gb || d != gd || Popcount(x) != popcountGo(x) || OrCount(x, p) != orCountGo(x, p) {
			t.Fatalf("asm %d %d %d, Go %d %d %d", a, b, d, ga, gb, gd)
		}
	})
}

func benchWords(b *testing.B, k int, f func(ws [][]uint64)) {
	rng := rand.New(rand.NewPCG(1, 2))
	ws := make([][]uint64, k)
	for i := range ws {
		ws[i] = words(rng, 512, 0)
	}
	for b.Loop() {
		f(ws)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(k*512), "ns/word")
}

// BenchmarkPopcount and the others: 53 slices of 512 words (a lifecycle
// block), ns/word per word of one slice.
func BenchmarkPopcount(b *testing.B) {
	benchWords(b, 53, func(ws [][]uint64) {
		for _, w := range ws {
			Popcount(w)
		}
	})
}

func BenchmarkPopcountGo(b *testing.B) {
	benchWords(b, 53, func(ws [][]uint64) {
		for _, w := range ws {
			popcountGo(w)
		}
	})
}

func BenchmarkLifeCounts(b *testing.B) {
	h := make([]uint64, 512)
	benchWords(b, 53, func(ws [][]uint64) {
		for i := 1; i < len(ws); i++ {
			LifeCounts(ws[i], ws[i-1], h)
		}
	})
}

func BenchmarkLifeCountsGo(b *testing.B) {
	h := make([]uint64, 512)
	benchWords(b, 53, func(ws [][]uint64) {
		for i := 1; i < len(ws); i++ {
			lifeCountsGo(ws[i], ws[i-1], h)
		}
	})
}
