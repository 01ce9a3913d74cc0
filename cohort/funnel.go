package cohort

import (
	"context"
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Bounds of a funnel, checked before any Redis work.
const (
	MaxFunnelSteps  = 10 // FunnelQuery.Steps: 2..MaxFunnelSteps events
	MaxFunnelWindow = 90 // FunnelQuery.Window: 0..MaxFunnelWindow periods
)

// FunnelQuery describes a funnel: the users who did Steps[0] (E1) in each
// entry period of group TimeGroup from the one containing From to the one
// containing To, and how far they got through Steps within Window periods.
//
// A user of the entry cohort of period p reaches step k in period q
// (p <= q <= p+Window) when they did Steps[k] in q and had reached step
// k-1 in a period <= q: steps are ordered at the granularity of the
// period (steps done in the same period count, in step order; use Hours,
// with hourly tracking on, for a finer order).
//
// A repeated event (E1 E1, E1 E2 E1) needs a mark of its own: a bitmap
// says that a user did an event in a period, not how many times, so one
// mark may not count as two steps. Step k whose event is also that of an
// earlier step j (the latest such) is reached in q only if step j was
// reached in a period before q (strictly); with E1 E1, the second step is
// E1 again in p+1..p+Window. (Tools that see every event require a later
// occurrence too; here "later" is "in a later period".)
//
// Period by period, R_1 = E1(p) (reached in p), and
// R_k(q) = R_k(q-1) ∪ (R_{k-1}(q) ∩ E_k(q) [∩ R_j(q-1) for a repeat of
// step j]); step k's users are |R_k(p+Window)|. It is bitmap algebra over
// 64-bit words, never a loop over users.
type FunnelQuery struct {
	Steps     []string            // E1..En, 2..MaxFunnelSteps event names (repeats allowed)
	TimeGroup bitmapist.TimeGroup // the length of a period
	Window    int                 // W: conversion window in periods after the entry period, 0..MaxFunnelWindow
	From, To  time.Time           // the first and last entry periods (included)
	// Segment, if not nil, is ANDed into every user set: the funnel of the
	// users in Segment only.
	Segment bitmapist.Set
}

// FunnelStep is one step of a funnel row.
type FunnelStep struct {
	Event string `json:"event"`
	Users int64  `json:"users"` // users who reached the step
	// FromPrevious is Users / the previous step's Users (0..1; 1 for the
	// first step, 0 when the previous step has no users).
	FromPrevious float64 `json:"from_previous"`
	// FromFirst is Users / the first step's Users (0..1; 0 when it has none).
	FromFirst float64 `json:"from_first"`
	// DropOff is the previous step's Users minus Users (0 for the first).
	DropOff int64 `json:"drop_off"`
}

// FunnelRow is the funnel of one entry period.
type FunnelRow struct {
	Label string       `json:"label"` // the entry period's label
	Start time.Time    `json:"start"` // its first instant, client's location
	Steps []FunnelStep `json:"steps"`
}

// Funnel is the result of GetFunnel. Steps is the total row: each step's
// Users is the sum over Rows (a user who entered in two periods counts in
// both, as in a cohort table's totals). In JSON: {"time_group", "window",
// "steps": [{"event", "users", "from_previous", "from_first",
// "drop_off"}], "rows": [{"label", "start", "steps": [...]}]}.
type Funnel struct {
	TimeGroup bitmapist.TimeGroup `json:"time_group"`
	Window    int                 `json:"window"`
	Steps     []FunnelStep        `json:"steps"`
	Rows      []FunnelRow         `json:"rows"`
}

// GetFunnel computes the funnel q describes (see FunnelQuery). It reads
// every distinct bitmap once (Steps[0] in the entry periods, the other
// steps in the entry periods through Window periods after the last)
// through bitmapist.Client.StripeSets (bounded GETRANGE pipelines, split
// per node on a Redis Cluster; nothing written; client memory bounded),
// and computes every row in memory.
//
// Errors, before any Redis work: ErrNilClient; a *QueryError wrapping
// ErrInvalidQuery for fewer than 2 or more than MaxFunnelSteps steps, a
// bad step name (Field "Steps[i]"), a Window outside 0..MaxFunnelWindow, a
// bad TimeGroup, From, To (more than MaxReportPeriods entry periods, or
// outside the years 1..9999: bitmapist.Client.ReportRange; window periods
// after the year 9999 hold nobody) or Segment; bitmapist.ErrNoRedis for a client without Redis; Redis errors
// wrapped.
func GetFunnel(ctx context.Context, c *bitmapist.Client, q FunnelQuery) (*Funnel, error) {
	if len(q.Steps) < 2 || len(q.Steps) > MaxFunnelSteps {
		return nil, queryErr("Steps", "%d steps, want 2..%d", len(q.Steps), MaxFunnelSteps)
	}
	for i, e := range q.Steps {
		if err := CheckEventName(e); err != nil {
			return nil, &QueryError{Field: fmt.Sprintf("Steps[%d]", i), Msg: err.Error(), Err: err}
		}
	}
	if q.Window < 0 || q.Window > MaxFunnelWindow {
		return nil, queryErr("Window", "%d is not in 0..%d", q.Window, MaxFunnelWindow)
	}
	from, n, err := reportRange(c, q.Steps[0], q.TimeGroup, q.From, q.To, q.Segment)
	if err != nil {
		return nil, err
	}
	g := q.TimeGroup
	span := n + q.Window // periods from's .. the last entry's window end
	// idx[k][t]: index in sets of step k's bitmap in period t (t < n for step 0)
	idx := make([][]int, len(q.Steps))
	var sets []bitmapist.Set
	seen := map[string]int{}
	for k, e := range q.Steps {
		m := span
		if k == 0 {
			m = n
		}
		idx[k] = make([]int, m)
		for t := range m {
			p := c.Events(e, g, g.Add(from, t))
			key := p.Key()
			if !bitmapist.InKeyYears(p.Start()) {
				key = "" // a window period after the year 9999: nobody
			}
			i, ok := seen[key]
			if !ok {
				i = len(sets)
				seen[key] = i
				if key == "" {
					sets = append(sets, nil)
				} else {
					sets = append(sets, p)
				}
			}
			idx[k][t] = i
		}
	}
	rep := repeats(q.Steps)
	accs, err := scanSets(ctx, c, sets, q.Segment, func() *funnelAcc { return newFunnelAcc(n, len(q.Steps)) },
		func(a *funnelAcc, ws [][]uint64, m int) { a.block(ws, idx, rep, q.Window, m) })
	if err != nil {
		return nil, err
	}
	users := newFunnelAcc(n, len(q.Steps)).users // users[row][step]
	for _, a := range accs {
		for i, u := range a.users {
			for k, x := range u {
				users[i][k] += x
			}
		}
	}
	return funnelResult(q, from, users), nil
}

// repeats returns, for each step, the latest earlier step of the same
// event (-1 when there is none): the step a repeated event must follow in
// a later period (see FunnelQuery).
func repeats(steps []string) []int {
	rep := make([]int, len(steps))
	for k, e := range steps {
		rep[k] = -1
		for j := k - 1; j >= 0; j-- {
			if steps[j] == e {
				rep[k] = j
				break
			}
		}
	}
	return rep
}

// funnelAcc accumulates a funnel's users per row and step; r and prev are
// the scratch of one chunk: r[k] who reached step k by the current period,
// prev[k] by the period before.
type funnelAcc struct {
	users   [][]int64
	r, prev [][]uint64
}

func newFunnelAcc(rows, steps int) *funnelAcc {
	a := &funnelAcc{users: make([][]int64, rows), r: make([][]uint64, steps), prev: make([][]uint64, steps)}
	for i := range a.users {
		a.users[i] = make([]int64, steps)
	}
	for k := range steps {
		a.r[k], a.prev[k] = make([]uint64, funnelChunk), make([]uint64, funnelChunk)
	}
	return a
}

// funnelChunk is the number of words a funnel computes at a time: a
// chunk of every bitmap of a block (up to ~100 for 30 entry days, three
// steps and a 7-day window) then stays in the L1 cache while the rows
// that share it (window+1 of them) reread it.
const funnelChunk = 512

// block adds one block's step counts of every row. ws[idx[k][t]] is step
// k's bitmap in period t; rep[k] is the earlier step whose event step k
// repeats (-1: none), whose period step k must come strictly after.
func (a *funnelAcc) block(ws [][]uint64, idx [][]int, rep []int, window, m int) {
	steps := len(idx)
	for j0 := 0; j0 < m; j0 += funnelChunk { // consecutive words in every inner loop
		c := min(funnelChunk, m-j0)
		for row := range a.users {
			r := a.r
			// R_0 is E1 of the entry period throughout: the block's own
			// words (never written; funnelPeriod writes r[1:] only).
			r[0] = ws[idx[0][row]][j0 : j0+c]
			for k := 1; k < steps; k++ {
				clear(r[k][:c])
			}
			for q := row; q <= row+window; q++ {
				a.funnelPeriod(ws, idx, rep, q, q == row, j0, c)
			}
			for k := range steps {
				a.users[row][k] += popcount(r[k][:c])
			}
		}
	}
}

// funnelPeriod advances the chunk's reach by period q:
// R_k(q) = R_k(q-1) ∪ (R_{k-1}(q) ∩ E_k(q) [∩ R_rep[k](q-1)]), with
// R_0(q-1) empty in the entry period (first).
func (a *funnelAcc) funnelPeriod(ws [][]uint64, idx [][]int, rep []int, q int, first bool, j0, c int) {
	for _, j := range rep {
		if j >= 0 {
			if j == 0 && first {
				clear(a.prev[0][:c])
			} else {
				copy(a.prev[j][:c], a.r[j][:c])
			}
		}
	}
	for k := 1; k < len(idx); k++ {
		e := ws[idx[k][q]][j0 : j0+c]
		if j := rep[k]; j >= 0 {
			orAnd3(a.r[k][:c], a.r[k-1][:c], e, a.prev[j][:c])
		} else {
			orAnd(a.r[k][:c], a.r[k-1][:c], e)
		}
	}
}

func funnelResult(q FunnelQuery, from time.Time, users [][]int64) *Funnel {
	g := q.TimeGroup
	out := &Funnel{TimeGroup: g, Window: q.Window, Rows: make([]FunnelRow, len(users))}
	total := make([]int64, len(q.Steps))
	for i, u := range users {
		s := g.Add(from, i)
		out.Rows[i] = FunnelRow{Label: g.Label(s), Start: s, Steps: funnelSteps(q.Steps, u)}
		for k, x := range u {
			total[k] += x
		}
	}
	out.Steps = funnelSteps(q.Steps, total)
	return out
}

// funnelSteps returns the steps of one row from its users per step.
func funnelSteps(events []string, users []int64) []FunnelStep {
	out := make([]FunnelStep, len(events))
	ratio := func(a, b int64) float64 {
		if b == 0 {
			return 0
		}
		return float64(a) / float64(b)
	}
	for k, e := range events {
		s := FunnelStep{Event: e, Users: users[k], FromFirst: ratio(users[k], users[0]), FromPrevious: 1}
		if k > 0 {
			s.FromPrevious = ratio(users[k], users[k-1])
			s.DropOff = users[k-1] - users[k]
		}
		out[k] = s
	}
	return out
}
