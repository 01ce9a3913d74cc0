package cohort

import (
	"context"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/wordops"
)

// LifecycleQuery describes a lifecycle report: for each period of group
// TimeGroup from the one containing From to the one containing To (in the
// client's location), how the users active in it (who did Event) split
// into new, returning and resurrecting, and how many went dormant.
type LifecycleQuery struct {
	Event     string              // the activity event
	TimeGroup bitmapist.TimeGroup // the length of a period
	From, To  time.Time           // the first and last periods (included)
	// Segment, if not nil, is ANDed into every user set (history included):
	// the lifecycle of the users in Segment only.
	Segment bitmapist.Set
}

// LifecyclePeriod is one period p of a lifecycle. With A(p) the users who
// did the event in p and H(p) those who did it at any time before p:
//
//	New          = A(p) − H(p)                       (first ever event in p)
//	Returning    = A(p) ∩ A(p-1)
//	Resurrecting = (A(p) − A(p-1)) ∩ H(p-1)           (back after a gap)
//	Dormant      = −|A(p-1) − A(p)|                   (≤ 0)
//
// so New + Returning + Resurrecting = |A(p)| exactly (Active).
type LifecyclePeriod struct {
	Label        string    `json:"label"` // the period's label (TimeGroup.Label)
	Start        time.Time `json:"start"` // its first instant, client's location
	New          int64     `json:"new"`
	Returning    int64     `json:"returning"`
	Resurrecting int64     `json:"resurrecting"`
	Dormant      int64     `json:"dormant"` // a negative number (or 0)
}

// Active returns the number of users active in the period:
// New + Returning + Resurrecting.
func (p LifecyclePeriod) Active() int64 { return p.New + p.Returning + p.Resurrecting }

// Lifecycle is the result of GetLifecycle. In JSON:
// {"event", "time_group", "periods": [{"label", "start", "new",
// "returning", "resurrecting", "dormant"}]}.
type Lifecycle struct {
	Event     string              `json:"event"`
	TimeGroup bitmapist.TimeGroup `json:"time_group"`
	Periods   []LifecyclePeriod   `json:"periods"` // From's period first
}

// GetLifecycle computes the lifecycle q describes (the definition PostHog
// and Adobe use; see LifecyclePeriod). "Before p" is every stored period of
// the event: the history before the period ahead of From's is read as in
// a first-time cohort (Query.FirstTime: every stored month of the event,
// listed with a SCAN, plus the days and hours up to that period).
//
// It reads Redis in a SCAN of the event's keys, then every bitmap through
// bitmapist.Client.StripeSets (lengths in one round trip, then stripe by
// stripe in bounded GETRANGE pipelines, split per node on a Redis Cluster;
// nothing written; client memory bounded), and counts in memory over
// 64-bit words.
//
// Errors, before any Redis work: ErrNilClient; a *QueryError wrapping
// ErrInvalidQuery for a bad Event (CheckEventName), TimeGroup, a zero From
// or To, To before From, more than MaxReportPeriods periods, a From or To
// outside the years 1..9999 (bitmapist.Client.ReportRange; the period
// before the year 1 holds nobody), or a Segment that cannot be evaluated
// (Field "Segment"); bitmapist.ErrNoRedis for a client without Redis;
// Redis errors wrapped.
func GetLifecycle(ctx context.Context, c *bitmapist.Client, q LifecycleQuery) (*Lifecycle, error) {
	from, n, err := reportRange(c, q.Event, q.TimeGroup, q.From, q.To, q.Segment)
	if err != nil {
		return nil, err
	}
	if err := c.Ready(); err != nil {
		return nil, err
	}
	g := q.TimeGroup
	first := g.Add(from, -1)
	sets := make([]bitmapist.Set, n+1) // A(p-1) for From's p, then A(p)
	for k := range sets {
		sets[k] = c.Events(q.Event, g, g.Add(first, k))
	}
	var hist []string // who was active before first: nobody before the year 1
	if bitmapist.InKeyYears(first) {
		var err error
		if hist, err = history(ctx, c, q.Event, first); err != nil {
			return nil, err
		}
	} else {
		sets[0] = nil
	}
	for _, k := range hist {
		sets = append(sets, c.KeySet(k))
	}
	out := &Lifecycle{Event: q.Event, TimeGroup: g, Periods: make([]LifecyclePeriod, n)}
	for i := range out.Periods {
		s := g.Add(from, i)
		out.Periods[i].Label, out.Periods[i].Start = g.Label(s), s
	}
	accs, err := scanSets(ctx, c, sets, q.Segment, func() *lifeAcc { return newLifeAcc(n) },
		func(a *lifeAcc, ws [][]uint64, m int) { a.block(ws[:n+1], ws[n+1:], m) })
	if err != nil {
		return nil, err
	}
	sum := newLifeAcc(n)
	for _, a := range accs {
		sum.addAcc(a)
	}
	sum.fill(out.Periods)
	return out, nil
}

// lifeAcc accumulates a lifecycle's counts: act[i] = |A(i)| (act[0] the
// period before the first), ret[i] = |A(i+1) ∩ A(i)|, nw[i] = |A(i+1) −
// (A(i) ∪ H(i))|; the other counts follow (see fill).
type lifeAcc struct{ act, ret, nw []int64 }

func newLifeAcc(n int) *lifeAcc {
	return &lifeAcc{act: make([]int64, n+1), ret: make([]int64, n), nw: make([]int64, n)}
}

func (a *lifeAcc) addAcc(b *lifeAcc) {
	for i := range a.act {
		a.act[i] += b.act[i]
	}
	for i := range a.ret {
		a.ret[i] += b.ret[i]
		a.nw[i] += b.nw[i]
	}
}

// fill sets every period's counts: Active = New + Returning +
// Resurrecting, Dormant = −(|A(p-1)| − Returning).
func (a *lifeAcc) fill(ps []LifecyclePeriod) {
	for i := range ps {
		ps[i].Returning, ps[i].New = a.ret[i], a.nw[i]
		ps[i].Resurrecting = a.act[i+1] - a.ret[i] - a.nw[i]
		ps[i].Dormant = -(a.act[i] - a.ret[i])
	}
}

// lifeChunk is the number of words a lifecycle computes at a time: a
// whole block of bitmapist.WordBlocks (512 words), so that each period
// costs one call of the fused kernel per block (smaller chunks measured
// 1.3-2x slower per word; the chunk's three slices, 12 KiB, stay in L1).
const lifeChunk = 512

// block adds one block's counts: act[0] is the period before the first,
// act[i+1] period i; hist the history before act[0]. Chunk by chunk, so
// that every inner loop runs over consecutive words; one fused pass
// (lifeCounts) per period and chunk.
func (a *lifeAcc) block(act, hist [][]uint64, m int) {
	var before [lifeChunk]uint64 // H(p-1) of the chunk's words
	for j0 := 0; j0 < m; j0 += lifeChunk {
		c := min(lifeChunk, m-j0)
		bf := before[:c]
		clear(bf)
		for _, h := range hist {
			orInto(bf, h[j0:j0+c])
		}
		prev := act[0][j0 : j0+c]
		a.act[0] += popcount(prev)
		for i, w := range act[1:] {
			cur := w[j0 : j0+c]
			n, ret, nw := lifeCounts(cur, prev, bf)
			a.act[i+1] += n
			a.ret[i] += ret
			a.nw[i] += nw
			prev = cur
		}
	}
}

// lifeCounts returns |cur|, |cur ∩ prev| and |cur − (prev ∪ before)|, and
// adds prev to before (prev and before at least as long as cur): one
// fused pass (wordops.LifeCounts, AVX2 on amd64).
func lifeCounts(cur, prev, before []uint64) (n, ret, nw int64) {
	return wordops.LifeCounts(cur, prev, before)
}
