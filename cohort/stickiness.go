package cohort

import (
	"context"
	"math/bits"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
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
// users a binary counter held in ⌈log2(K+1)⌉ words is incremented by each
// period's word with a ripple carry, and the buckets are read off the
// counter's bit planes; no loop over user ids.
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
	accs, err := scanSets(ctx, c, sets, q.Segment, func() *stickAcc { return &stickAcc{hist: make([]int64, n+1)} },
		func(a *stickAcc, ws [][]uint64, m int) { a.block(ws, m) })
	if err != nil {
		return nil, err
	}
	hist := make([]int64, n+1)
	for _, a := range accs {
		for k, v := range a.hist {
			hist[k] += v
		}
	}
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

// stickAcc accumulates a stickiness histogram: hist[k] users active in
// exactly k periods; c is the scratch of the bit-sliced counters of one
// chunk of words (c[l][j]: bit l of the counters of word j).
type stickAcc struct {
	hist  []int64
	c     [maxPlanes][chunkWords]uint64
	carry [chunkWords]uint64
}

// block adds to a.hist[k] the users of the block active in exactly k of
// the periods ws. Chunk by chunk, every period's words are added to the
// counters with a ripple carry over the planes that k+1 additions can
// reach (no branch on the data), then the buckets are read off the
// planes word by word.
func (a *stickAcc) block(ws [][]uint64, m int) {
	planes := bits.Len(uint(len(ws)))
	for j0 := 0; j0 < m; j0 += chunkWords {
		n := min(chunkWords, m-j0)
		for l := range planes {
			clear(a.c[l][:n])
		}
		for k, w := range ws {
			carry := a.carry[:n]
			copy(carry, w[j0:j0+n])
			for l := range bits.Len(uint(k + 1)) {
				addPlane(a.c[l][:n], carry)
			}
		}
		for j := range n {
			var c [maxPlanes]uint64
			var any uint64
			for l := range planes {
				c[l] = a.c[l][j]
				any |= c[l]
			}
			if any != 0 {
				splitCount(a.hist, &c, planes-1, any, 0)
			}
		}
	}
}

// addPlane adds carry to one bit plane: plane ^= carry, carry = the bits
// that overflowed (carry at least as long as plane).
func addPlane(plane, carry []uint64) {
	carry = carry[:len(plane)]
	for j, p := range plane {
		c := carry[j]
		plane[j], carry[j] = p^c, p&c
	}
}

// splitCount adds to hist[v] the number of bits of mask whose counter
// value (bit planes c[0..l], higher planes already fixed to v's bits) is
// v: it splits mask by plane l, top down, and stops at empty masks.
func splitCount(hist []int64, c *[maxPlanes]uint64, l int, mask uint64, v int) {
	if l < 0 {
		hist[v] += int64(bits.OnesCount64(mask))
		return
	}
	if one := mask & c[l]; one != 0 {
		splitCount(hist, c, l-1, one, v|1<<l)
	}
	if zero := mask &^ c[l]; zero != 0 {
		splitCount(hist, c, l-1, zero, v)
	}
}
