package bitmapist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/wordops"
)

// MaxTrendPeriods is the largest number of periods a trend may cover
// (TrendQuery From..To), checked before any Redis work.
const MaxTrendPeriods = 400

// The rolling windows of a daily trend, in days ending on (and including)
// the period's day.
const (
	WAUDays = 7
	MAUDays = 30
)

// TrendQuery describes a trend: how many users did Event in each period of
// group Group from the period containing From to the one containing To
// (both included, in the client's location).
type TrendQuery struct {
	Event     string    // the event counted
	TimeGroup TimeGroup // the length of a period
	From      time.Time // the first period is the one containing From
	To        time.Time // the last period is the one containing To (not before From's)
	// Rolling adds, for days only, the rolling uniques WAU (users active in
	// the 7 days ending on the day) and MAU (the 30 days ending on it).
	Rolling bool
	// Segment, if not nil, is ANDed into every user set: the trend of the
	// users in Segment only (for example c.Unique("plan:pro")). A Not in
	// it is every user not in its argument (see EvalSegment), on every
	// backend.
	Segment Set
}

// TrendValue is one period's values.
type TrendValue struct {
	Label string    // the period's label (TimeGroup.Label)
	Start time.Time // the period's first instant, in the client's location
	Count int64     // users who did the event in the period (DAU for days)
	WAU   int64     // Rolling only: users in the 7 days ending on the day
	MAU   int64     // Rolling only: users in the 30 days ending on the day
}

// DAUMAU returns the stickiness ratio Count/MAU (0..1), 0 when MAU is 0.
func (v TrendValue) DAUMAU() float64 {
	if v.MAU == 0 {
		return 0
	}
	return float64(v.Count) / float64(v.MAU)
}

// TrendPeriod is one period of a trend and, for comparison, the period
// of the previous range at the same position: the range of the same
// number of periods that ends right before From's period, so Previous of
// period i is the period len(Trend.Periods) periods before it.
type TrendPeriod struct {
	TrendValue
	Previous TrendValue
}

// Trend is the result of Client.Trend.
type Trend struct {
	Event     string        // TrendQuery.Event
	TimeGroup TimeGroup     // TrendQuery.TimeGroup
	Rolling   bool          // whether WAU and MAU were computed
	Periods   []TrendPeriod // From's period first
	// Unique is the number of distinct users over the whole range, and
	// PreviousUnique over the previous range.
	Unique, PreviousUnique int64
}

// Trend computes the trend q describes: the number of users per period
// and, with Rolling on days, the rolling WAU and MAU and the DAU/MAU
// ratio, each with the value of the previous range (see TrendPeriod).
// With a Segment every count is of the users in the segment only.
//
// It reads 2N bitmaps for N periods (29 more with Rolling) and the
// segment's through StripeSets: their lengths in one round trip, then
// stripe by stripe in bounded GETRANGE pipelines (split per node on a
// Redis Cluster, one key per command, nothing written), so client memory
// stays bounded (StripeOptions' default, 32 MiB) whatever the number of
// users; each stripe is counted in memory over 64-bit words.
//
// Errors, before any Redis work: a *ReportError wrapping ErrInvalidReport
// for an event name that cannot be read, an invalid TimeGroup, a zero From or
// To, To before From, more than MaxTrendPeriods periods, Rolling on
// another group than Days, a From or To outside the years 1..9999
// (ReportRange; the previous range and look-back before the year 1 count
// nobody), or a
// Segment that cannot be evaluated or belongs to another client;
// ErrNoRedis for a client without Redis. Redis errors are returned
// wrapped.
func (c *Client) Trend(ctx context.Context, q TrendQuery) (*Trend, error) {
	c = c.orNone()
	pl, err := c.planTrend(q)
	if err != nil {
		return nil, err
	}
	if err := c.ready(); err != nil {
		return nil, err
	}
	sets := make([]Set, len(pl.periods), len(pl.periods)+1)
	for k, p := range pl.periods {
		if InKeyYears(p.Start()) { // before the year 1 (look-back, previous range): nobody
			sets[k] = p
		}
	}
	m := len(pl.periods)
	var mu sync.Mutex
	var free, made []*trendAcc // one per goroutine counting, reused stripe after stripe
	err = c.StripeSets(ctx, append(sets, q.Segment), StripeOptions{Concurrent: true, SegmentNot: true}, func(_ int64, bms []Bitmap) error {
		mu.Lock()
		if len(free) == 0 {
			a := newTrendAcc(m, pl.lead, pl.n, q.Rolling)
			free, made = append(free, a), append(made, a)
		}
		acc := free[len(free)-1]
		free = free[:len(free)-1]
		mu.Unlock()
		acc.wb.Walk(bms[:m], bms[m], q.Segment != nil, acc.add)
		mu.Lock()
		free = append(free, acc)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	sum := newTrendAcc(m, pl.lead, pl.n, q.Rolling)
	for _, a := range made {
		sum.merge(a)
	}
	return sum.result(q, pl), nil
}

// trendPlan lists a trend's periods, oldest first: lead look-back days
// (29 with Rolling), then the previous range's n periods, then the range's.
type trendPlan struct {
	periods []*Period
	lead, n int
}

func (c *Client) planTrend(q TrendQuery) (*trendPlan, error) {
	if err := checkReadName("Event", q.Event); err != nil {
		return nil, err
	}
	if !q.TimeGroup.Valid() {
		return nil, &ReportError{Field: "TimeGroup", Msg: "not a time group", Err: ErrInvalidTimeGroup}
	}
	if q.Rolling && q.TimeGroup != Days {
		return nil, reportErr("Rolling", "rolling WAU/MAU need days, not %s", q.TimeGroup)
	}
	from, n, err := c.ReportRange(q.TimeGroup, q.From, q.To, MaxTrendPeriods)
	if err != nil {
		return nil, err
	}
	lead := 0
	if q.Rolling {
		lead = MAUDays - 1
	}
	first := q.TimeGroup.Add(from, -n-lead)
	if err := c.CheckSegment(q.Segment); err != nil {
		return nil, err
	}
	pl := &trendPlan{lead: lead, n: n, periods: make([]*Period, lead+2*n)}
	for k := range pl.periods {
		pl.periods[k] = c.period(q.Event, q.TimeGroup, q.TimeGroup.Add(first, k))
	}
	return pl, nil
}

// ReportRange is the one range check of every report (Trend, and
// package cohort's lifecycle, stickiness and funnels): From and To given,
// both in the years 1..9999 in the client's location, To's period not
// before From's, at most maxN periods. It returns the start of From's
// period (in the client's location) and the number of periods. The
// periods a report reads beside its range (a trend's previous range and
// rolling look-back, a lifecycle's period before From, a funnel's window
// after To) are not checked: outside the years 1..9999 no key can name
// them, so they hold nobody and read as empty (InKeyYears). Errors: a
// *ReportError with Field "From" or "To" (wrapping ErrTooManyPeriods for
// more than maxN periods); it does not contact Redis.
func (c *Client) ReportRange(g TimeGroup, from, to time.Time, maxN int) (time.Time, int, error) {
	c = c.orNone()
	if from.IsZero() {
		return from, 0, reportErr("From", "is required")
	}
	if to.IsZero() {
		return from, 0, reportErr("To", "is required")
	}
	if !g.Valid() {
		return from, 0, &ReportError{Field: "TimeGroup", Msg: "not a time group", Err: ErrInvalidTimeGroup}
	}
	for _, f := range []struct {
		name string
		t    time.Time
	}{{"From", from}, {"To", to}} {
		if err := checkYears(f.name, g, f.t.In(c.loc)); err != nil {
			return from, 0, err
		}
	}
	from, to = g.Start(from.In(c.loc)), g.Start(to.In(c.loc))
	if to.Before(from) {
		return from, 0, reportErr("To", "%s is before From %s", g.Label(to), g.Label(from))
	}
	n := 1
	for t := from; n <= maxN && t.Before(to); t = g.Add(t, 1) {
		n++
	}
	if n > maxN {
		return from, 0, &ReportError{Field: "To", Msg: fmt.Sprintf("%s..%s is more than %d %s", g.Label(from), g.Label(to), maxN, g), Err: ErrTooManyPeriods}
	}
	return from, n, nil
}

// InKeyYears reports whether t lies in the years 1..9999, the years a key
// can name: a period starting outside them holds nobody, and the reports
// read it as empty.
func InKeyYears(t time.Time) bool { y := t.Year(); return y >= 1 && y <= 9999 }

// trendAcc accumulates a trend's counts block by block.
type trendAcc struct {
	lead, n       int
	rolling       bool
	count         []int64 // per period index
	wau, mau      []int64
	unique, prevU int64
	u, pu         []uint64 // one chunk of the range's and the previous range's union
	pre, suf      []uint64 // scratch of the rolling OR: one chunk, MAUDays chunks
	wb            WordBlocks
}

// merge adds b's counts to t's.
func (t *trendAcc) merge(b *trendAcc) {
	for k := range t.count {
		t.count[k] += b.count[k]
		if t.rolling {
			t.wau[k] += b.wau[k]
			t.mau[k] += b.mau[k]
		}
	}
	t.unique += b.unique
	t.prevU += b.prevU
}

// trendChunk is the number of words the trend computes at a time: every
// inner loop (a call of a wordops kernel) runs over this many consecutive
// words, long enough that a call's fixed cost is small beside its work
// (a 512-word block of 209 days: 1.3-1.8 ns per word and day at 128-256
// words, 3.0-3.2 with the 64-word chunks before), short enough that
// the rolling OR's scratch (MAUDays chunks, 60 KiB) stays in the L2
// cache.
const trendChunk = 256

func newTrendAcc(m, lead, n int, rolling bool) *trendAcc {
	t := &trendAcc{lead: lead, n: n, rolling: rolling, count: make([]int64, m),
		u: make([]uint64, trendChunk), pu: make([]uint64, trendChunk)}
	if rolling {
		t.wau, t.mau = make([]int64, m), make([]int64, m)
		t.pre, t.suf = make([]uint64, trendChunk), make([]uint64, MAUDays*trendChunk)
	}
	return t
}

// add counts one block: ws[k][j] is word j of period k, chunk by chunk.
func (t *trendAcc) add(ws [][]uint64, n int) {
	for j0 := 0; j0 < n; j0 += trendChunk {
		c := min(trendChunk, n-j0)
		u, pu := t.u[:c], t.pu[:c]
		clear(u)
		clear(pu)
		for k, w := range ws {
			w = w[j0 : j0+c]
			switch {
			case k >= t.lead+t.n:
				t.count[k] += wordops.OrAccPop(u, w)
			case k >= t.lead:
				t.count[k] += wordops.OrAccPop(pu, w)
			default:
				t.count[k] += popcount(w)
			}
		}
		t.unique += popcount(u)
		t.prevU += popcount(pu)
		if t.rolling {
			t.window(ws, j0, c, WAUDays, t.wau)
			t.window(ws, j0, c, MAUDays, t.mau)
		}
	}
}

// window adds to out[k] (k >= lead) the number of users of words
// j0..j0+c-1 in the OR of periods k-w+1..k: the van Herk/Gil-Werman
// sliding OR over blocks of w periods. Within a block starting at s, a
// running prefix P = OR of periods s..k is ORed with the suffix of the
// block before, OR of periods k-w+1..s-1 (kept from that block's
// backward pass), and counted in the same pass (wordops.OrAccOrCount);
// then the block's own suffixes are computed backwards for the next
// block. Two kernel passes per period and word whatever w.
func (t *trendAcc) window(ws [][]uint64, j0, c, w int, out []int64) {
	m := len(ws)
	pre := t.pre[:c]
	suf := func(i int) []uint64 { return t.suf[i*trendChunk : i*trendChunk+c] } // i = offset in the block
	for start := 0; start < m; start += w {
		end := min(start+w, m)
		clear(pre)
		for k := start; k < end; k++ {
			x := ws[k][j0 : j0+c]
			// the window's part before start: offsets k-start+1..w-1 of the
			// block before (none in the first block, or when k ends a block)
			s := pre
			if i := k - start + 1; start > 0 && i < w {
				s = suf(i)
			}
			if k < t.lead {
				orInto64(pre, x)
				continue
			}
			out[k] += wordops.OrAccOrCount(pre, x, s)
		}
		if end-start < w {
			break // the last block: no block after it reads its suffixes
		}
		copy(suf(w-1), ws[end-1][j0:j0+c])
		for k := end - 2; k >= start; k-- {
			orOf(suf(k-start), suf(k-start+1), ws[k][j0:j0+c])
		}
	}
}

// The trend's word kernels (package wordops: AVX2 on amd64, pure Go
// elsewhere).

// popcount returns the number of set bits of ws.
func popcount(ws []uint64) int64 { return wordops.Popcount(ws) }

// orCount returns the number of set bits of a OR b (b at least as long).
func orCount(a, b []uint64) int64 { return wordops.OrCount(a, b) }

// orInto64 sets dst |= src (src at least as long).
func orInto64(dst, src []uint64) { wordops.Or(dst, dst, src) }

// orOf sets dst = a | b (a and b at least as long).
func orOf(dst, a, b []uint64) { wordops.Or(dst, a, b) }

func (t *trendAcc) value(pl *trendPlan, k int) TrendValue {
	p := pl.periods[k]
	v := TrendValue{Label: p.Label(), Start: p.Start(), Count: t.count[k]}
	if t.rolling {
		v.WAU, v.MAU = t.wau[k], t.mau[k]
	}
	return v
}

func (t *trendAcc) result(q TrendQuery, pl *trendPlan) *Trend {
	tr := &Trend{Event: q.Event, TimeGroup: q.TimeGroup, Rolling: q.Rolling, Unique: t.unique, PreviousUnique: t.prevU,
		Periods: make([]TrendPeriod, t.n)}
	for i := range tr.Periods {
		tr.Periods[i] = TrendPeriod{TrendValue: t.value(pl, t.lead+t.n+i), Previous: t.value(pl, t.lead+i)}
	}
	return tr
}
