package cohort

import (
	"math/rand/v2"
	"testing"
)

// TestStickinessBlockCounts checks the carry-save counters and the
// inclusion-exclusion of every number of periods that changes the number
// of planes (1..MaxReportPeriods), against a count user by user.
func TestStickinessBlockCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, k := range []int{1, 2, 3, 4, 7, 8, 9, 15, 16, 31, 32, 33, 100, 255, 256, MaxReportPeriods} {
		const words = 3*chunkWords + 5 // a short last chunk
		ws := make([][]uint64, k)
		for p := range ws {
			ws[p] = make([]uint64, words)
			for j := range ws[p] {
				ws[p][j] = r.Uint64() & r.Uint64() & r.Uint64() // 1/8 of the bits
				if p%5 == 0 {
					ws[p][j] |= r.Uint64() // some users in most periods
				}
			}
		}
		want := make([]int64, k+1)
		for j := range words {
			for b := range 64 {
				n := 0
				for p := range ws {
					n += int(ws[p][j] >> b & 1)
				}
				if n > 0 {
					want[n]++
				}
			}
		}
		a := newStickAcc(k)
		a.block(ws, words-7) // two calls, the second one reuses the scratch
		b := newStickAcc(k)
		tail := make([][]uint64, k)
		for p := range ws {
			tail[p] = ws[p][words-7:]
		}
		b.block(tail, 7)
		for v := range a.sup {
			a.sup[v] += b.sup[v]
		}
		got := histogram(a.sup, k)
		for v := range want {
			if got[v] != want[v] {
				t.Fatalf("%d periods: %d users active %d times, want %d", k, got[v], v, want[v])
			}
		}
	}
}
