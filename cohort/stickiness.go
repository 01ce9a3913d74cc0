package cohort

import (
	"context"
	"math/bits"
	"slices"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/wordops"
)

// StickinessQuery describes a stickiness report: of the users who did
// Event at least once in the K periods of group TimeGroup from the one
// containing From to the one containing To (in the client's location),
// how many did it in exactly k of them, for k = 1..K.
type StickinessQuery struct {
	Event     string              // the activity event
	TimeGroup bitmapist.TimeGroup // the length of a period
	From, To  time.Time           // the first and last periods (included)
	// Segment, if not nil, is ANDed into every user set: the stickiness
	// of the users in Segment only.
	Segment bitmapist.Set
}

// StickinessBucket is the number of users active in exactly Periods of the
// report's periods.
type StickinessBucket struct {
	Periods int   `json:"periods"` // k, 1..K
	Users   int64 `json:"users"`   // users active in exactly k periods
}

// Stickiness is the result of GetStickiness. In JSON: {"event",
// "time_group", "from", "to", "num_periods", "users", "buckets":
// [{"periods": k, "users": n}]}.
type Stickiness struct {
	Event      string              `json:"event"`
	TimeGroup  bitmapist.TimeGroup `json:"time_group"`
	From       string              `json:"from"`        // label of the first period
	To         string              `json:"to"`          // label of the last period
	NumPeriods int                 `json:"num_periods"` // K
	Users      int64               `json:"users"`       // active at least once: the sum of the buckets
	Buckets    []StickinessBucket  `json:"buckets"`     // k = 1..K, in order
}

// GetStickiness computes the stickiness report q describes. Each user's
// number of active periods is counted bit-sliced: for every 64-bit word of
// users a binary counter held in ⌈log2(K+1)⌉ words adds up the periods'
// words (a carry-save adder tree), and the buckets are read off the
// counter's bit planes (a popcount per subset of planes, then
// inclusion-exclusion once at the end); no loop over user ids.
//
// It reads the K bitmaps through bitmapist.Client.StripeSets (bounded
// GETRANGE pipelines, split per node on a Redis Cluster; nothing written;
// client memory bounded).
//
// Errors, before any Redis work: ErrNilClient; a *QueryError wrapping
// ErrInvalidQuery for a bad Event, TimeGroup, From, To (To before From,
// more than MaxReportPeriods periods, outside the years 1..9999) or
// Segment; bitmapist.ErrNoRedis for a client without Redis; Redis errors
// wrapped.
func GetStickiness(ctx context.Context, c *bitmapist.Client, q StickinessQuery) (*Stickiness, error) {
	from, n, err := reportRange(c, q.Event, q.TimeGroup, q.From, q.To, q.Segment)
	if err != nil {
		return nil, err
	}
	g := q.TimeGroup
	sets := make([]bitmapist.Set, n)
	for k := range sets {
		sets[k] = c.Events(q.Event, g, g.Add(from, k))
	}
	accs, err := scanSets(ctx, c, sets, q.Segment, func() *stickAcc { return newStickAcc(n) },
		func(a *stickAcc, ws [][]uint64, m int) { a.block(ws, m) })
	if err != nil {
		return nil, err
	}
	sup := newStickAcc(n).sup
	for _, a := range accs {
		for v, x := range a.sup {
			sup[v] += x
		}
	}
	hist := histogram(sup, n)
	out := &Stickiness{Event: q.Event, TimeGroup: g, From: g.Label(from), To: g.Label(g.Add(from, n-1)),
		NumPeriods: n, Buckets: make([]StickinessBucket, n)}
	for k := range out.Buckets {
		out.Buckets[k] = StickinessBucket{Periods: k + 1, Users: hist[k+1]}
		out.Users += hist[k+1]
	}
	return out, nil
}

// maxPlanes is the number of counter bit planes MaxReportPeriods needs.
const maxPlanes = 9 // 2^9 = 512 > MaxReportPeriods

// stickAcc accumulates a stickiness report: sup[v] is the number of users
// whose count of active periods has (at least) the bits of v set, from
// which the histogram follows (hist). cnt is the carry-save counter of one
// chunk of words; and[v] is the chunk's AND of the planes of v, in sub
// (its own words) or a plane itself.
type stickAcc struct {
	sup []int64
	cnt csaCounter
	and [1 << maxPlanes][]uint64
	sub []uint64 // len(sup) chunks
}

func newStickAcc(periods int) *stickAcc {
	n := 1 << bits.Len(uint(periods))
	return &stickAcc{sup: make([]int64, n), sub: make([]uint64, n*chunkWords)}
}

// block adds one block of the periods ws. Chunk by chunk, the periods'
// words are added into bit-sliced counters by a carry-save adder tree
// (about one full adder, five word operations, per period and word, no
// branch on the data); then for every subset v of the counters' planes,
// one fused AND and popcount over the chunk (wordops.AndCount, of the
// AND of v without its top plane and that plane) adds the users whose
// count has v's bits to sup[v].
func (a *stickAcc) block(ws [][]uint64, m int) {
	planes := bits.Len(uint(len(ws)))
	for j0 := 0; j0 < m; j0 += chunkWords {
		n := min(chunkWords, m-j0)
		a.cnt.start(n, planes)
		for _, w := range ws {
			a.cnt.push(0, w[j0:j0+n], false)
		}
		pl := a.cnt.finish()
		for v := 1; v < len(a.sup); v++ {
			top := bits.Len(uint(v)) - 1
			if rest := v &^ (1 << top); rest != 0 {
				dst := a.sub[v*chunkWords : v*chunkWords+n]
				a.sup[v] += wordops.AndCount(dst, a.and[rest], pl[top])
				a.and[v] = dst
			} else {
				a.and[v] = pl[top][:n]
				a.sup[v] += wordops.Popcount(a.and[v])
			}
		}
	}
}

// histogram returns the histogram from sup: hist[k] users active in exactly k
// periods (k >= 1), by inclusion-exclusion over the supersets of k.
func histogram(sup []int64, periods int) []int64 {
	ex := slices.Clone(sup)
	for b := 1; b < len(ex); b <<= 1 {
		for v := range ex {
			if v&b == 0 {
				ex[v] -= ex[v|b]
			}
		}
	}
	ex[0] = 0
	return ex[:periods+1]
}

// csaCounter adds chunks of words (each bit a 0/1 input) into bit-sliced
// counters with a carry-save adder tree: pend[w] holds at most two
// chunks of weight 2^w not yet added; a third one makes a full adder,
// whose sum stays at w and whose carry goes to w+1.
type csaCounter struct {
	n, planes int
	pend      [maxPlanes][]csaSlot
	free      [][]uint64
	zero      []uint64
}

type csaSlot struct {
	w     []uint64
	owned bool // a scratch chunk of the counter (else a caller's, read only)
}

func (c *csaCounter) start(n, planes int) {
	c.n, c.planes = n, planes
	for w := range c.pend {
		for _, s := range c.pend[w] {
			c.release(s)
		}
		c.pend[w] = c.pend[w][:0]
	}
}

func (c *csaCounter) scratch() []uint64 {
	if k := len(c.free); k > 0 {
		b := c.free[k-1]
		c.free = c.free[:k-1]
		return b[:c.n]
	}
	return make([]uint64, chunkWords)[:c.n]
}

func (c *csaCounter) release(s csaSlot) {
	if s.owned {
		c.free = append(c.free, s.w)
	}
}

// push adds chunk b at weight 2^w. Weights past the planes only ever
// get zero chunks (a counter never exceeds the number of inputs).
func (c *csaCounter) push(w int, b []uint64, owned bool) {
	if w >= c.planes {
		c.release(csaSlot{b, owned})
		return
	}
	c.pend[w] = append(c.pend[w], csaSlot{b, owned})
	if len(c.pend[w]) < 3 {
		return
	}
	x, y, z := c.pend[w][0], c.pend[w][1], c.pend[w][2]
	sum, carry := c.scratch(), c.scratch()
	fullAdd(sum, carry, x.w, y.w, z.w)
	c.release(x)
	c.release(y)
	c.release(z)
	c.pend[w] = append(c.pend[w][:0], csaSlot{sum, true})
	c.push(w+1, carry, true)
}

// finish adds up what is pending, from the lowest weight up, and returns
// the counters' planes (valid until the next start).
func (c *csaCounter) finish() (out [maxPlanes][]uint64) {
	if len(c.zero) < c.n {
		c.zero = make([]uint64, chunkWords)
	}
	for w := range c.planes {
		if p := c.pend[w]; len(p) == 2 {
			sum, carry := c.scratch(), c.scratch()
			halfAdd(sum, carry, p[0].w, p[1].w)
			c.release(p[0])
			c.release(p[1])
			c.pend[w] = append(p[:0], csaSlot{sum, true})
			c.push(w+1, carry, true)
		}
		out[w] = c.zero[:c.n]
		if len(c.pend[w]) == 1 {
			out[w] = c.pend[w][0].w
		}
	}
	return out
}

// fullAdd sets sum, carry = the bitwise sum of x, y and z (all as long as
// sum; wordops.FullAdd, AVX2 on amd64).
func fullAdd(sum, carry, x, y, z []uint64) { wordops.FullAdd(sum, carry, x, y, z) }

// halfAdd sets sum, carry = the bitwise sum of x and y.
func halfAdd(sum, carry, x, y []uint64) {
	carry, x, y = carry[:len(sum)], x[:len(sum)], y[:len(sum)]
	for j := range sum {
		sum[j], carry[j] = x[j]^y[j], x[j]&y[j]
	}
}
