package cohort

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Get computes the cohort table that q describes, with the semantics of
// flask-bitmapist's get_cohort and the extensions described on Query
// (first-time cohorts, on-or-after retention, Python bitmapist's
// get_dates_data blanks, a start date):
//
//   - Row i covers the period i after row 0's; Totals[i] is the size of
//     its cohort. An empty cohort gives a row without values.
//   - Cell (i, j) covers period i+j. A period that starts after Now has no
//     value. Otherwise the cell counts the cohort's users in the return set
//     (Secondary combined with Additional in that period); without
//     WithReplacement those users then leave the row's cohort.
//
// It reads Redis through core's Reader in bounded steps (see compute and
// the package doc): STRLEN and bounded BITPOS to find where each bitmap
// holds users, then only the bytes that can hold a cohort member, stripe
// by stripe in bounded GETRANGE pipelines, counted in memory. It writes
// nothing on Redis (on bitmapist-server only temporary keys, below); an
// event given several times is read once;
// client memory is bounded by WithMemory. FirstTime adds a SCAN of the
// primary event's keys. On bitmapist-server, whose GET walks a bitmap
// bit by bit while its BITOP and BITCOUNT are native roaring operations,
// the table is computed there instead: pipelined BITOPs into temporary
// keys (<prefix>bitop_cohort_..., expiring after the client's TempTTL,
// deleted at the end) and BITCOUNTs, about two commands per cell, and no
// bitmap byte is sent (see computeOnServer). Like the Python originals, it is not a snapshot of one
// instant: marks made while it runs may or may not be counted. q is not
// modified. A cancelled ctx stops the reads at the next step.
//
// Errors: ErrNilClient for a nil c; a *QueryError wrapping ErrInvalidQuery
// for a bad query, including one whose Now or rows (with IncludeFuture:
// cells) leave the years 1..9999 (cells after 9999 are after Now: blank) or
// whose Segment cannot be evaluated (Field "Segment"; before any Redis
// work), or one that would read more than MaxReadBytes
// or combine more than MaxCombineBytes (after the STRLEN/BITPOS step,
// before any bitmap byte is read); bitmapist.ErrNoRedis for a client made
// without Redis; otherwise the Redis error, wrapped.
func Get(ctx context.Context, c *bitmapist.Client, q Query, opts ...GetOption) (*Table, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	if err := q.validate(); err != nil {
		return nil, err
	}
	if err := checkSegment(c, q.Segment); err != nil {
		return nil, err
	}
	var o getOptions
	for _, fn := range opts {
		if fn != nil {
			fn(&o)
		}
	}
	return run(ctx, c, q, o.memory)
}

// GetOption tunes how Get computes a table (not what it computes).
type GetOption func(*getOptions)

type getOptions struct{ memory int64 }

// WithMemory bounds the bytes of bitmap Get holds at once while it reads a
// table (default bitmapist.DefaultStripeMemory, 32 MiB): the table is
// read in stripes of at most bytes / (2 × distinct bitmaps) bytes each
// (at least 4 KiB), whatever the number of users. Smaller means more
// round trips, not another result.
func WithMemory(bytes int64) GetOption { return func(o *getOptions) { o.memory = bytes } }

// run applies the client's defaults to a validated q, checks that every
// period the table reads lies in years 1..9999 (the years keys can hold),
// and computes the table. The periods read are Now, every row and, with
// IncludeFuture, every cell; without it a cell after Now is blank, so
// cells after the year 9999 (all after Now) are blank too, not an error.
// A client without Redis returns bitmapist.ErrNoRedis.
func run(ctx context.Context, c *bitmapist.Client, q Query, mem int64) (*Table, error) {
	if err := c.Ready(); err != nil {
		return nil, err
	}
	n := q.normalized(c)
	field := "Now"
	if !n.Start.IsZero() {
		field = "Start"
	}
	if err := tableRange(c, &n, field); err != nil {
		return nil, err
	}
	return compute(ctx, c, n, mem)
}

// tableRange checks the periods of a normalized q with the range check of
// every report (bitmapist.Client.ReportRange: Now's period, then the
// table's rows and, with IncludeFuture, its columns, in the years
// 1..9999; without IncludeFuture a cell after Now is blank, so cells after
// 9999 are blank, not an error), and returns its error
// as a *QueryError naming field (Start, or Now without one) with the
// message of the other reports, wrapping the *bitmapist.ReportError.
func tableRange(c *bitmapist.Client, q *Query, field string) error {
	first := q.firstRow()
	periods := q.Rows + q.Cols - 1
	last := q.Rows // the periods read: the rows, and with IncludeFuture every column
	if q.IncludeFuture {
		last = periods
	}
	for _, r := range []struct {
		field    string
		from, to time.Time
		n        int
	}{
		{"Now", q.Now, q.Now, 1},
		{field, first, q.TimeGroup.Add(first, last-1), periods},
	} {
		// A table may start at 0001-01-01 00:00 UTC, the zero time that
		// ReportRange reads as "not given": any instant of the period will do.
		for _, t := range []*time.Time{&r.from, &r.to} {
			if t.IsZero() {
				*t = t.Add(time.Nanosecond)
			}
		}
		if _, _, err := c.ReportRange(q.TimeGroup, r.from, r.to, r.n); err != nil {
			var re *bitmapist.ReportError
			if errors.As(err, &re) {
				return &QueryError{Field: r.field, Msg: re.Msg, Err: err}
			}
			return err
		}
	}
	return nil
}

// dedupGroups removes repeated events from each group (x OR x is x) and
// repeated groups (x AND x is x), so that an event given 20 times is read
// and combined once.
func dedupGroups(groups [][]string) [][]string {
	var out [][]string
	for _, g := range groups {
		var u []string
		for _, e := range g {
			if !slices.Contains(u, e) {
				u = append(u, e)
			}
		}
		slices.Sort(u)
		if !slices.ContainsFunc(out, func(o []string) bool { return slices.Equal(o, u) }) {
			out = append(out, u)
		}
	}
	return out
}

// plan lists the bitmaps a table reads.
type plan struct {
	starts  []time.Time           // starts[k]: first instant of period k (row 0's is k = 0)
	last    int                   // index of the last period computed (-1: none)
	rows    [][]string            // rows[i]: keys of Primary in row i's period (12 months for a year)
	narrow  [][]string            // narrow[i]: keys of PrimaryAnd in row i's period, or nil
	groups  [][]string            // the return set: the AND of groups, each the OR of its events
	ret     []map[string][]string // ret[k][event]: keys of event in period k, k <= last
	history []string              // FirstTime: keys holding Primary before row 0
	seg     []string              // Query.Segment's keys (nil: no segment)
}

func newPlan(c *bitmapist.Client, q *Query) *plan {
	g := q.TimeGroup
	t0 := q.firstRow()
	p := &plan{starts: make([]time.Time, q.Rows+q.Cols-1), groups: dedupGroups(chainGroups(q.Secondary, q.Additional))}
	for k := range p.starts {
		p.starts[k] = g.Add(t0, k)
	}
	p.last = len(p.starts) - 1
	if q.Segment != nil {
		p.seg = q.Segment.Keys()
	}
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

// layout holds where a table reads: each row's window (the bytes where
// its primary bitmaps hold users), the hull of all rows, and the window of
// each period's return events.
type layout struct {
	rowWin []window
	all    window
	retWin []window
}

// sums accumulates a table's counts over stripes (counts add up, as every
// operation of a table is bitwise, user by user).
type sums struct {
	mu       sync.Mutex
	totals   []int64 // totals[i]: row i's cohort size
	cells    []int64 // cells[i*cols+j]
	retUsers []int64 // retUsers[k]: users in period k's return set (BlankEmpty)
}

// compute reads the table's bitmaps and fills the table. It reads
// through the client's Reader (core's bounded read primitive): first where
// every bitmap holds set bits (STRLEN and bounded BITPOS, no bitmap byte
// sent), then only the bytes that can hold a cohort member (a row's own
// extent for its cohort, the hull of the extents of the rows that use a
// period for that period's return events), stripe by stripe: every stripe
// is a byte range of all those bitmaps, read in bounded GETRANGE pipelines
// and counted while the next one is read, so client memory is bounded by
// the stripes (cohort.DefaultMemory) whatever the number of users, and
// every Redis call touches a bounded number of bytes. Identical events of
// the return set are read once. The bytes to read and to combine are
// checked against MaxReadBytes and MaxCombineBytes before any bitmap byte
// is read.
func compute(ctx context.Context, c *bitmapist.Client, q Query, mem int64) (*Table, error) {
	p := newPlan(c, &q)
	if q.FirstTime {
		var err error
		if p.history, err = history(ctx, c, q.Primary, p.starts[0]); err != nil {
			return nil, err
		}
	}
	backend, err := c.Backend(ctx)
	if err != nil {
		return nil, fmt.Errorf("cohort: %w", err)
	}
	if backend == bitmapist.BackendBitmapistServer {
		return computeOnServer(ctx, c, q, p)
	}
	ext, err := extents(ctx, c, p.allKeys())
	if err != nil {
		return nil, err
	}
	lay := p.layout(&q, ext)
	need := p.need(&q, lay)
	sp, read := spans(need, ext)
	if err := checkCost(&q, lay, read, len(p.groups)); err != nil {
		return nil, err
	}
	sm := &sums{totals: make([]int64, q.Rows), cells: make([]int64, q.Rows*q.Cols), retUsers: make([]int64, len(p.ret))}
	err = c.Reader().Stripes(ctx, sp, bitmapist.StripeOptions{Memory: mem}, func(off, n int64, bufs []bitmapist.Bitmap) error {
		cs := make(chunks, len(sp))
		for i, s := range sp {
			cs[s.Key] = chunk{off: off, data: bufs[i]}
		}
		p.stripe(&q, lay, cs, window{off, off + n - 1}, sm)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cohort: read %d bitmaps: %w", len(sp), err)
	}
	t := p.table(&q, sm)
	t.BytesRead = read
	return t, nil
}

// allKeys returns every key the plan may read, each once.
func (p *plan) allKeys() []string {
	seen := map[string]bool{}
	var out []string
	add := func(keys []string) {
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	for i := range p.rows {
		add(p.rows[i])
		add(p.narrow[i])
	}
	for _, events := range p.ret {
		for _, keys := range events {
			add(keys)
		}
	}
	add(p.history)
	add(p.seg)
	return out
}

// layout computes the windows of the table from the keys' extents.
func (p *plan) layout(q *Query, ext map[string]window) layout {
	lay := layout{rowWin: make([]window, q.Rows), all: noWindow, retWin: make([]window, len(p.ret))}
	for i, keys := range p.rows {
		w := noWindow
		for _, k := range keys {
			w = w.hull(ext[k])
		}
		lay.rowWin[i] = w
		lay.all = lay.all.hull(w)
	}
	for k := range lay.retWin {
		switch {
		case lay.all.empty():
			lay.retWin[k] = noWindow // no cohort: nothing to compute
		case q.BlankEmpty:
			lay.retWin[k] = fullWindow // emptiness is about the whole bitmap
		case q.OnOrAfter:
			lay.retWin[k] = lay.all // unions across periods need one window
		default:
			w := noWindow
			for i := max(0, k-q.Cols+1); i <= min(k, q.Rows-1); i++ {
				w = w.hull(lay.rowWin[i])
			}
			lay.retWin[k] = w
		}
	}
	return lay
}

// need returns the window to read of every key.
func (p *plan) need(q *Query, lay layout) map[string]window {
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
		if !lay.rowWin[i].empty() {
			want(p.rows[i], lay.rowWin[i])
			want(p.narrow[i], lay.rowWin[i])
		}
	}
	for k, events := range p.ret {
		for _, keys := range events {
			want(keys, lay.retWin[k])
		}
	}
	if q.FirstTime {
		want(p.history, lay.all)
	}
	if !lay.all.empty() {
		want(p.seg, lay.all)
	}
	return need
}

// stripe adds to sm the counts of the table over the bytes of s, block
// by block: every count of a table is a sum over users, so a stripe is
// counted in blocks small enough that a block of every bitmap and of
// every scratch bitmap stays in the CPU's cache while each of its cells is
// counted (one read of each source byte from memory), with the scratch
// bitmaps taken from one reused arena.
func (p *plan) stripe(q *Query, lay layout, cs chunks, s window, sm *sums) {
	acc := &counts{totals: make([]int64, q.Rows), cells: make([]int64, q.Rows*q.Cols), retUsers: make([]int64, len(p.ret))}
	ar := arenas.Get().(*arena)
	defer arenas.Put(ar)
	blk := blockLen(len(cs) + len(p.ret) + q.Rows)
	for lo := s.lo; lo <= s.hi; lo += blk {
		ar.reset()
		p.block(q, lay, cs, window{lo, min(lo+blk-1, s.hi)}, acc, ar)
	}
	sm.add(acc.totals, acc.cells, acc.retUsers)
}

// counts are the counts of a table over some bytes (see sums).
type counts struct{ totals, cells, retUsers []int64 }

var arenas = sync.Pool{New: func() any { return &arena{} }}

// blockCache is the bytes of bitmap one block of a table keeps in the
// CPU's cache (every source and scratch bitmap's block): half of this
// machine's 1 MiB L2 per core.
const blockCache = 512 << 10

// blockLen returns the length of a block for n bitmaps: blockCache / n
// bytes, a multiple of 64, from 1 KiB to 64 KiB.
func blockLen(n int) int64 {
	return min(64<<10, max(1<<10, int64(blockCache/max(1, n))&^63))
}

// block adds to acc the counts of the table over the bytes of s.
func (p *plan) block(q *Query, lay layout, cs chunks, s window, acc *counts, ar *arena) {
	all := lay.all.intersect(s)
	retWin := make([]window, len(lay.retWin))
	ret := make([]bitmapist.Bitmap, len(p.ret))
	for k := range ret {
		retWin[k] = lay.retWin[k].intersect(s)
		ret[k] = ar.andAll(p.returnFactors(cs, k, retWin[k], ar))
	}
	if q.OnOrAfter {
		for k := len(ret) - 2; k >= 0; k-- {
			ret[k] = ar.or(ret[k], ret[k+1])
		}
	}
	if q.BlankEmpty {
		for k, r := range ret {
			acc.retUsers[k] += r.Count()
		}
	}
	var seen bitmapist.Bitmap // FirstTime: who did Primary before the row
	if q.FirstTime && !all.empty() {
		seen = ar.zero(int(all.hi - all.lo + 1))
		for _, k := range p.history {
			seen.OrWith(cs.view(k, all))
		}
	}
	seg := p.segment(q, cs, all)
	for i := range q.Rows {
		rw := lay.rowWin[i].intersect(s)
		if rw.empty() {
			continue
		}
		cohort := p.cohort(q, cs, i, rw, sub(seen, all.lo, rw), ar)
		if q.Segment != nil {
			cohort = ar.and(cohort, sub(seg, all.lo, rw))
		}
		total := cohort.Count()
		acc.totals[i] += total
		for j := 0; j < q.Cols && i+j < len(ret) && total > 0; j++ {
			k := i + j
			f := sub(ret[k], retWin[k].lo, rw)
			n := cohort.AndCount(f)
			acc.cells[i*q.Cols+j] += n
			if !q.WithReplacement && n > 0 {
				cohort.AndNotWith(f)
			}
		}
	}
}

// cohort returns row i's cohort over window rw: a bitmap of its own
// (in the arena) unless the query neither narrows nor removes returners
// (then it may alias the chunks: read-only). before is FirstTime's history
// over rw, which it extends with the row's users in place.
func (p *plan) cohort(q *Query, cs chunks, i int, rw window, before bitmapist.Bitmap, ar *arena) bitmapist.Bitmap {
	base := cs.union(p.rows[i], rw, ar)
	cohort, own := base, false
	if q.FirstTime {
		cohort, own = ar.andNot(base, before), true
		before.OrWith(base) // in place: before spans all of rw
	}
	if p.narrow[i] != nil {
		cohort, own = ar.and(cohort, cs.union(p.narrow[i], rw, ar)), true
	}
	if !q.WithReplacement && !own {
		cohort = ar.clone(cohort) // it is emptied as users return
	}
	return cohort
}

func (sm *sums) add(totals, cells, retUsers []int64) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	for i, v := range totals {
		sm.totals[i] += v
	}
	for i, v := range cells {
		sm.cells[i] += v
	}
	for i, v := range retUsers {
		sm.retUsers[i] += v
	}
}

// table builds the Table from the summed counts.
func (p *plan) table(q *Query, sm *sums) *Table {
	t := &Table{
		Query:     *q,
		Dates:     p.starts[:q.Rows:q.Rows],
		Totals:    sm.totals,
		Cells:     make([][]Cell, q.Rows),
		ColTotals: make([]int64, q.Cols),
		Averages:  make([]Average, q.Cols),
	}
	cells := make([]Cell, q.Rows*q.Cols)
	for i := range t.Cells {
		t.Cells[i] = cells[i*q.Cols : (i+1)*q.Cols : (i+1)*q.Cols]
		total := sm.totals[i]
		if total == 0 {
			continue
		}
		for j := range t.Cells[i] {
			k := i + j
			if k >= len(p.ret) || (q.BlankEmpty && sm.retUsers[k] == 0) {
				continue
			}
			n := sm.cells[i*q.Cols+j]
			t.Cells[i][j] = Cell{Count: n, Fraction: float64(n) / float64(total), Valid: true}
		}
	}
	t.summarize()
	return t
}

// returnFactors returns period k's return set over window w as factors
// whose AND is the set: one per group of chainGroups, the event's bitmap
// itself for a group of one event (aliasing the chunks: read-only), the
// OR of its events' bitmaps (in the arena) otherwise.
func (p *plan) returnFactors(cs chunks, k int, w window, ar *arena) []bitmapist.Bitmap {
	fs := make([]bitmapist.Bitmap, len(p.groups))
	for gi, grp := range p.groups {
		if len(grp) == 1 {
			fs[gi] = cs.union(p.ret[k][grp[0]], w, ar)
			continue
		}
		bs := make([]bitmapist.Bitmap, len(grp))
		for ei, e := range grp {
			bs[ei] = cs.union(p.ret[k][e], w, ar)
		}
		fs[gi] = ar.or(bs...)
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
