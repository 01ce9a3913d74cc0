package cohort

import (
	"context"
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

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
// It reads Redis in two pipelined round trips: where each row's primary
// bitmap holds users (BITPOS and STRLEN), then each distinct bitmap once,
// only the bytes that can hold a cohort member (GETRANGE). On a single
// Redis the second round trip is one MULTI/EXEC that also combines each
// period's return set (Secondary with Additional, several bitmaps) into
// one with BITOP AND/OR into a temporary key (<prefix>bitop_<OP>_<random>,
// the shape event listings leave out), reads that instead and deletes it
// in the same transaction, so no key is left behind even on error; it
// needs write permission (not a read-only replica). On a cluster, where
// those keys live in different slots, it writes nothing: pipelines are
// split per node, every command names one key, and the return sets are
// combined in memory. Every cell is computed in memory; FirstTime adds a
// SCAN of the primary event's keys. Like the references, it is not a
// snapshot of one instant: marks made while it runs may or may not be
// counted. q is not modified.
//
// Errors: ErrNilClient for a nil c; a *QueryError wrapping ErrInvalidQuery
// for a bad query, including one whose periods leave the years 1..9999
// (before any Redis work); bitmapist.ErrNoRedis for a client made without
// Redis; otherwise the Redis error, wrapped.
func Get(ctx context.Context, c *bitmapist.Client, q Query) (*Table, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	return run(ctx, c, q)
}

// run applies the client's defaults to a validated q, checks that every
// period of the table lies in years 1..9999 (the years keys can hold), and
// computes the table. A client without Redis returns bitmapist.ErrNoRedis.
func run(ctx context.Context, c *bitmapist.Client, q Query) (*Table, error) {
	if err := c.Ready(); err != nil {
		return nil, err
	}
	n := q.normalized(c)
	field := "Now"
	if !n.Start.IsZero() {
		field = "Start"
	}
	first := n.firstRow()
	last := n.TimeGroup.Add(first, n.Rows+n.Cols-2)
	for _, t := range []time.Time{n.Now, first, last} {
		if y := t.Year(); y < 1 || y > 9999 {
			return nil, queryErr(field, "the table would reach %s, outside the years 1..9999", n.TimeGroup.Label(t))
		}
	}
	return compute(ctx, c, n)
}

// plan lists the bitmaps a table reads.
type plan struct {
	starts  []time.Time           // starts[k]: first instant of period k (row 0's is k = 0)
	last    int                   // index of the last period computed (-1: none)
	rows    [][]string            // rows[i]: keys of Primary in row i's period (12 months for a year)
	narrow  [][]string            // narrow[i]: keys of PrimaryAnd in row i's period, or nil
	groups  [][]string            // the return set: the AND of groups, each the OR of its events
	ret     []map[string][]string // ret[k][event]: keys of event in period k, k <= last
	comb    []string              // comb[k]: temporary key holding period k's return set, "" if combined in memory
	history []string              // FirstTime: keys holding Primary before row 0
}

func newPlan(c *bitmapist.Client, q *Query) *plan {
	g := q.TimeGroup
	t0 := q.firstRow()
	p := &plan{starts: make([]time.Time, q.Rows+q.Cols-1), groups: chainGroups(q.Secondary, q.Additional)}
	for k := range p.starts {
		p.starts[k] = g.Add(t0, k)
	}
	p.last = len(p.starts) - 1
	if !q.IncludeFuture {
		for p.last >= 0 && p.starts[p.last].After(q.Now) {
			p.last--
		}
	}
	p.rows = make([][]string, q.Rows)
	p.narrow = make([][]string, q.Rows)
	for i := range p.rows {
		p.rows[i] = c.Events(q.Primary, g, p.starts[i]).Keys()
		if q.PrimaryAnd != "" {
			p.narrow[i] = c.Events(q.PrimaryAnd, g, p.starts[i]).Keys()
		}
	}
	p.ret = make([]map[string][]string, p.last+1)
	for k := range p.ret {
		p.ret[k] = map[string][]string{}
		for _, grp := range p.groups {
			for _, e := range grp {
				p.ret[k][e] = c.Events(e, g, p.starts[k]).Keys()
			}
		}
	}
	return p
}

// history returns the keys that hold every Primary event before t0: the
// stored months before t0's month, the days of t0's month before t0's day,
// and the hours of t0's day before t0.
func history(ctx context.Context, c *bitmapist.Client, event string, t0 time.Time) ([]string, error) {
	months, err := c.Periods(ctx, event, bitmapist.Months)
	if err != nil {
		return nil, fmt.Errorf("cohort: first-time history: %w", err)
	}
	m0 := bitmapist.Months.Start(t0)
	d0 := bitmapist.Days.Start(t0)
	var keys []string
	for _, m := range months {
		if m.Start().Before(m0) {
			keys = append(keys, m.Key())
		}
	}
	for d := m0; d.Before(d0); d = bitmapist.Days.Add(d, 1) {
		keys = append(keys, c.Key(event, bitmapist.Days, d))
	}
	for h := d0; h.Before(t0); h = bitmapist.Hours.Add(h, 1) {
		keys = append(keys, c.Key(event, bitmapist.Hours, h))
	}
	return keys, nil
}

// compute reads the table's bitmaps and fills the table. It reads in two
// pipelined round trips: first where each row's primary bitmaps hold set
// bits (BITPOS, STRLEN), then, with one GETRANGE per distinct key, only
// the bytes that can hold a cohort member: a row's own extent for its
// cohort, the hull of the extents of the rows that use a period for that
// period's return events. Cohorts of ids assigned at sign-up are narrow
// ranges, so most of each bitmap is never sent On a single Redis a period's
// return events are first combined server-side (plan.combine), so only
// their combination is read.
func compute(ctx context.Context, c *bitmapist.Client, q Query) (*Table, error) {
	p := newPlan(c, &q)
	rdb := c.Redis()
	be, err := c.Backend(ctx)
	if err != nil {
		return nil, err
	}
	server := be == bitmapist.BackendBitmapistServer

	var rowKeys []string
	for _, keys := range p.rows {
		rowKeys = append(rowKeys, keys...)
	}
	ext, err := extents(ctx, rdb, rowKeys, server)
	if err != nil {
		return nil, err
	}
	rowWin := make([]window, q.Rows)
	all := noWindow // every row's extent
	for i, keys := range p.rows {
		w := noWindow
		for _, k := range keys {
			w = w.hull(ext[k])
		}
		rowWin[i] = w
		all = all.hull(w)
	}
	if q.FirstTime && !all.empty() {
		if p.history, err = history(ctx, c, q.Primary, p.starts[0]); err != nil {
			return nil, err
		}
	}

	// The window read for each period's return events.
	retWin := make([]window, len(p.ret))
	for k := range retWin {
		switch {
		case all.empty():
			retWin[k] = noWindow // no cohort: nothing to compute
		case q.BlankEmpty:
			retWin[k] = fullWindow // emptiness is about the whole bitmap
		case q.OnOrAfter:
			retWin[k] = all // unions across periods need one window
		default:
			w := noWindow
			for i := max(0, k-q.Cols+1); i <= min(k, q.Rows-1); i++ {
				w = w.hull(rowWin[i])
			}
			retWin[k] = w
		}
	}

	need := map[string]window{}
	want := func(keys []string, w window) {
		for _, k := range keys {
			if old, ok := need[k]; ok {
				need[k] = old.hull(w)
			} else {
				need[k] = w // not hulled with the zero window{0, 0}: byte 0
			}
		}
	}
	for i := range p.rows {
		if !rowWin[i].empty() {
			want(p.rows[i], rowWin[i])
			want(p.narrow[i], rowWin[i])
		}
	}
	// On a single Redis each period's return set is combined server-side
	// (BITOP into temporary keys, in the MULTI of the reads): one bitmap
	// read per period. A cluster cannot (its keys live in different
	// slots), so it reads every event's bitmap and combines them here.
	ops := map[string][]bitop{} // ops[key]: the BITOPs that compute the temporary key
	p.comb = make([]string, len(p.ret))
	for k, events := range p.ret {
		if !c.IsCluster() && !retWin[k].empty() {
			var kops []bitop
			if p.comb[k], kops = p.combine(c, k); p.comb[k] != "" {
				ops[p.comb[k]] = kops
				want(p.comb[k:k+1], retWin[k])
				continue
			}
		}
		for _, keys := range events {
			want(keys, retWin[k])
		}
	}
	want(p.history, all)
	cs, err := readWindows(ctx, rdb, need, ops, server)
	if err != nil {
		return nil, err
	}

	// Return sets of every computed period, each over its window, as
	// factors whose AND is the set (counted without building it). With
	// OnOrAfter each is the union of its own and every later period's.
	ret := make([][]bitmapist.Bitmap, len(p.ret))
	for k := range ret {
		ret[k] = p.returnFactors(cs, k, retWin[k])
		if q.OnOrAfter || q.BlankEmpty {
			ret[k] = []bitmapist.Bitmap{andAll(ret[k])}
		}
	}
	if q.OnOrAfter {
		for k := len(ret) - 2; k >= 0; k-- {
			ret[k][0] = ret[k][0].Clone().OrWith(ret[k+1][0])
		}
	}
	var hasUsers []bool
	if q.BlankEmpty {
		hasUsers = make([]bool, len(ret))
		for k, fs := range ret {
			hasUsers[k] = fs[0].Count() > 0
		}
	}

	// FirstTime: everyone who did Primary before the current row, over the
	// window of all rows.
	var seen bitmapist.Bitmap
	if q.FirstTime && !all.empty() {
		seen = make(bitmapist.Bitmap, all.hi-all.lo+1)
		for _, k := range p.history {
			seen.OrWith(cs.view(k, all))
		}
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
	var fs []bitmapist.Bitmap // scratch: a cell's factors in the row's window
	for i := range t.Cells {
		t.Cells[i] = cells[i*q.Cols : (i+1)*q.Cols : (i+1)*q.Cols]
		rw := rowWin[i]
		if rw.empty() {
			continue
		}
		base := cs.union(p.rows[i], rw) // read-only: may alias the chunks
		cohort := base
		own := false // whether cohort is a bitmap of its own
		if q.FirstTime {
			before := sub(seen, all.lo, rw)
			cohort, own = base.AndNot(before), true
			before.OrWith(base) // in place: before spans all of rw
		}
		if p.narrow[i] != nil {
			cohort, own = cohort.And(cs.union(p.narrow[i], rw)), true
		}
		if !q.WithReplacement && !own {
			cohort = cohort.Clone() // it is emptied below
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
			fs = fs[:0]
			for _, f := range ret[k] {
				fs = append(fs, sub(f, retWin[k].lo, rw))
			}
			n := andCount(cohort, fs)
			t.Cells[i][j] = Cell{Count: n, Fraction: float64(n) / float64(total), Valid: true}
			if !q.WithReplacement && n > 0 {
				andNotAll(cohort, fs)
			}
		}
	}
	t.summarize()
	return t, nil
}

// returnFactors returns period k's return set over window w as factors
// whose AND is the set: the temporary key's bitmap alone when Redis
// combined it (p.comb[k]); otherwise one per group of chainGroups, the event's bitmap
// itself for a group of one event (aliasing the chunks: read-only), the OR
// of its events' bitmaps otherwise.
func (p *plan) returnFactors(cs chunks, k int, w window) []bitmapist.Bitmap {
	if p.comb[k] != "" {
		return []bitmapist.Bitmap{cs.view(p.comb[k], w)}
	}
	fs := make([]bitmapist.Bitmap, len(p.groups))
	for gi, grp := range p.groups {
		if len(grp) == 1 {
			fs[gi] = cs.union(p.ret[k][grp[0]], w)
			continue
		}
		var g bitmapist.Bitmap
		for _, e := range grp {
			g = g.OrWith(cs.union(p.ret[k][e], w)) // a new bitmap from the first OrWith on nil
		}
		fs[gi] = g
	}
	return fs
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
