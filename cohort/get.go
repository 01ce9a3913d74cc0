package cohort

import (
	"context"
	"errors"
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// errNilClient is returned when Get or DatesData is given no client.
var errNilClient = errors.New("cohort: nil bitmapist client")

// Get computes the cohort table that q describes, with the semantics of
// flask-bitmapist's get_cohort (reference §4) and the extensions described
// on Query (first-time cohorts, on-or-after retention, get_dates_data's
// blanks, a start date):
//
//   - Row i covers the period i after row 0's; Totals[i] is the size of
//     its cohort. An empty cohort gives a row without values.
//   - Cell (i, j) covers period i+j. A period that starts after Now has no
//     value. Otherwise the cell counts the cohort's users in the return set
//     (Secondary combined with Additional in that period); without
//     WithReplacement those users then leave the row's cohort.
//
// It reads every distinct bitmap the table needs once, in one pipelined
// round trip (cluster-safe: split per node), computes in memory, writes
// nothing and leaves no keys behind; FirstTime adds a SCAN of the primary
// event's keys first. q is not modified.
//
// Errors: a *QueryError wrapping ErrInvalidQuery for a bad query (before
// any Redis work); otherwise the Redis error, wrapped.
func Get(ctx context.Context, c *bitmapist.Client, q Query) (*Table, error) {
	if c == nil {
		return nil, errNilClient
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	return compute(ctx, c, q.normalized(c))
}

// plan lists the sets a table reads.
type plan struct {
	starts  []time.Time     // starts[k]: first instant of period k (row 0's is k = 0)
	last    int             // index of the last period computed (-1: none)
	primary []bitmapist.Set // primary[i]: Primary in row i's period
	narrow  []bitmapist.Set // narrow[i]: PrimaryAnd in row i's period, or nil
	ret     []bitmapist.Set // ret[k]: the return set of period k, k <= last
	history []bitmapist.Set // FirstTime: Primary before row 0
}

func newPlan(ctx context.Context, c *bitmapist.Client, q *Query) (*plan, error) {
	g := q.TimeGroup
	t0 := q.firstRow()
	p := &plan{starts: make([]time.Time, q.Rows+q.Cols-1)}
	for k := range p.starts {
		p.starts[k] = g.Add(t0, k)
	}
	p.last = len(p.starts) - 1
	if !q.IncludeFuture {
		for p.last >= 0 && p.starts[p.last].After(q.Now) {
			p.last--
		}
	}
	p.primary = make([]bitmapist.Set, q.Rows)
	p.narrow = make([]bitmapist.Set, q.Rows)
	for i := range p.primary {
		p.primary[i] = c.Events(q.Primary, g, p.starts[i])
		if q.PrimaryAnd != "" {
			p.narrow[i] = c.Events(q.PrimaryAnd, g, p.starts[i])
		}
	}
	p.ret = make([]bitmapist.Set, p.last+1)
	for k := range p.ret {
		start := p.starts[k]
		p.ret[k] = chainSet(func(e string) bitmapist.Set { return c.Events(e, g, start) }, q.Secondary, q.Additional)
	}
	if q.FirstTime {
		h, err := history(ctx, c, q.Primary, t0)
		if err != nil {
			return nil, err
		}
		p.history = h
	}
	return p, nil
}

// history returns the sets that hold every Primary event before t0: the
// stored months before t0's month, the days of t0's month before t0's day,
// and the hours of t0's day before t0.
func history(ctx context.Context, c *bitmapist.Client, event string, t0 time.Time) ([]bitmapist.Set, error) {
	months, err := c.Periods(ctx, event, bitmapist.Months)
	if err != nil {
		return nil, fmt.Errorf("cohort: first-time history: %w", err)
	}
	m0 := bitmapist.Months.Start(t0)
	d0 := bitmapist.Days.Start(t0)
	var sets []bitmapist.Set
	for _, m := range months {
		if m.Start().Before(m0) {
			sets = append(sets, m)
		}
	}
	for d := m0; d.Before(d0); d = bitmapist.Days.Add(d, 1) {
		sets = append(sets, c.Day(event, d))
	}
	for h := d0; h.Before(t0); h = bitmapist.Hours.Add(h, 1) {
		sets = append(sets, c.Hour(event, h))
	}
	return sets, nil
}

func (p *plan) sets() []bitmapist.Set {
	all := make([]bitmapist.Set, 0, len(p.history)+2*len(p.primary)+len(p.ret))
	all = append(all, p.history...)
	all = append(all, p.primary...)
	for _, s := range p.narrow {
		if s != nil {
			all = append(all, s)
		}
	}
	return append(all, p.ret...)
}

func compute(ctx context.Context, c *bitmapist.Client, q Query) (*Table, error) {
	p, err := newPlan(ctx, c, &q)
	if err != nil {
		return nil, err
	}
	snap, err := c.Fetch(ctx, p.sets()...)
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}

	// Return sets of every computed period; with OnOrAfter, each is the
	// union of its own and every later computed period's.
	ret := make([]bitmapist.Bitmap, len(p.ret))
	for k, s := range p.ret {
		ret[k] = snap.Bitmap(s)
	}
	if q.OnOrAfter {
		for k := len(ret) - 1; k >= 0; k-- {
			u := ret[k].Clone()
			if k+1 < len(ret) {
				u = u.OrWith(ret[k+1])
			}
			ret[k] = u
		}
	}
	var hasUsers []bool
	if q.BlankEmpty {
		hasUsers = make([]bool, len(ret))
		for k, b := range ret {
			hasUsers[k] = b.Count() > 0
		}
	}

	var seen bitmapist.Bitmap // FirstTime: everyone who did Primary before the current row
	for _, s := range p.history {
		seen = seen.OrWith(snap.Bitmap(s))
	}

	t := &Table{
		Query:     q,
		Dates:     p.starts[:q.Rows:q.Rows],
		Totals:    make([]int64, q.Rows),
		Cells:     make([][]Cell, q.Rows),
		ColTotals: make([]int64, q.Cols),
		Averages:  make([]Average, q.Cols),
	}
	cells := make([]Cell, q.Rows*q.Cols)
	for i := range t.Cells {
		t.Cells[i] = cells[i*q.Cols : (i+1)*q.Cols : (i+1)*q.Cols]
		base := snap.Bitmap(p.primary[i])
		cohort := base
		if q.FirstTime {
			cohort = cohort.AndNot(seen) // a new bitmap
			seen = seen.OrWith(base)
		}
		if p.narrow[i] != nil {
			cohort = cohort.And(snap.Bitmap(p.narrow[i])) // a new bitmap
		}
		if !q.WithReplacement && !q.FirstTime && p.narrow[i] == nil {
			cohort = cohort.Clone() // it is emptied below: never touch the snapshot
		}
		total := cohort.Count()
		t.Totals[i] = total
		if total == 0 {
			continue
		}
		for j := range t.Cells[i] {
			k := i + j
			if k >= len(ret) || (q.BlankEmpty && !hasUsers[k]) {
				continue
			}
			n := cohort.AndCount(ret[k])
			t.Cells[i][j] = Cell{Count: n, Fraction: float64(n) / float64(total), Valid: true}
			if !q.WithReplacement && n > 0 {
				cohort.AndNotWith(ret[k])
			}
		}
	}
	t.summarize()
	return t, nil
}

// summarize fills ColTotals and Averages from Cells.
func (t *Table) summarize() {
	for j := range t.ColTotals {
		var n int
		var sumFrac float64
		var sum int64
		for i := range t.Cells {
			if c := t.Cells[i][j]; c.Valid {
				n++
				sum += c.Count
				sumFrac += c.Fraction
			}
		}
		t.ColTotals[j] = sum
		if n > 0 {
			t.Averages[j] = Average{Count: float64(sum) / float64(n), Fraction: sumFrac / float64(n), Valid: true}
		}
	}
}
