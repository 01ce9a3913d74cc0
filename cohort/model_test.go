package cohort_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// modelMark is one recorded event, for the model.
type modelMark struct {
	event string
	id    uint64
	at    time.Time
}

type idSet map[uint64]bool

// modelEvents returns the users who did event in the period of g starting
// at start.
func modelEvents(marks []modelMark, event string, g bitmapist.TimeGroup, start time.Time) idSet {
	out := idSet{}
	for _, m := range marks {
		if m.event == event && g.Start(m.at).Equal(start) {
			out[m.id] = true
		}
	}
	return out
}

func (s idSet) and(o idSet) idSet {
	out := idSet{}
	for id := range s {
		if o[id] {
			out[id] = true
		}
	}
	return out
}

func (s idSet) or(o idSet) idSet {
	out := idSet{}
	for id := range s {
		out[id] = true
	}
	for id := range o {
		out[id] = true
	}
	return out
}

// modelTable computes q's counts from the marks directly, following the
// documented semantics, with sets of ids instead of bitmaps.
func modelTable(marks []modelMark, q cohort.Query) (cells [][]int64, totals []int64) {
	g := q.TimeGroup
	t0 := g.Add(q.Now, -(q.Rows - 1))
	if !q.Start.IsZero() {
		t0 = g.Start(q.Start)
	}
	n := q.Rows + q.Cols - 1
	starts := make([]time.Time, n)
	last := -1
	for k := range starts {
		starts[k] = g.Add(t0, k)
		if q.IncludeFuture || !starts[k].After(q.Now) {
			last = k
		}
	}
	ret := make([]idSet, n)
	for k := 0; k <= last; k++ {
		r := modelEvents(marks, q.Secondary, g, starts[k])
		var group idSet = r
		var groups []idSet
		for _, s := range q.Additional {
			e := modelEvents(marks, s.Event, g, starts[k])
			if s.Op == cohort.Or {
				group = group.or(e)
			} else {
				groups = append(groups, group)
				group = e
			}
		}
		groups = append(groups, group)
		r = groups[0]
		for _, x := range groups[1:] {
			r = r.and(x)
		}
		ret[k] = r
	}
	if q.OnOrAfter {
		for k := last - 1; k >= 0; k-- {
			ret[k] = ret[k].or(ret[k+1])
		}
	}
	cells = make([][]int64, q.Rows)
	totals = make([]int64, q.Rows)
	for i := range q.Rows {
		cohortSet := modelEvents(marks, q.Primary, g, starts[i])
		if q.FirstTime {
			for _, m := range marks {
				if m.event == q.Primary && m.at.Before(starts[i]) {
					delete(cohortSet, m.id)
				}
			}
		}
		if q.PrimaryAnd != "" {
			cohortSet = cohortSet.and(modelEvents(marks, q.PrimaryAnd, g, starts[i]))
		}
		totals[i] = int64(len(cohortSet))
		cells[i] = make([]int64, q.Cols)
		for j := range q.Cols {
			k := i + j
			cells[i][j] = none
			if totals[i] == 0 || k > last || (q.BlankEmpty && len(ret[k]) == 0) {
				continue
			}
			both := cohortSet.and(ret[k])
			cells[i][j] = int64(len(both))
			if !q.WithReplacement && !q.OnOrAfter {
				for id := range both {
					delete(cohortSet, id)
				}
			}
		}
	}
	return cells, totals
}

// TestGetMatchesModel compares Get with modelTable on random data and
// random queries. Ids come in a few separate ranges (as ids handed out at
// sign-up do) so that the byte windows Get reads differ between rows.
func TestGetMatchesModel(t *testing.T) {
	now := time.Date(2025, 4, 20, 13, 30, 0, 0, time.UTC)
	events := []string{"a", "b", "c", "d"}
	rng := rand.New(rand.NewPCG(7, 11))
	ranges := [][2]uint64{{0, 40}, {1000, 1100}, {5000, 5030}, {20000, 20200}, {70001, 70003}}
	from := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	var marks []modelMark
	for range 3000 {
		r := ranges[rng.IntN(len(ranges))]
		at := from.Add(time.Duration(rng.Int64N(int64(now.Add(72 * time.Hour).Sub(from)))))
		if rng.IntN(4) == 0 { // cluster some marks on the last days
			at = now.Add(-time.Duration(rng.Int64N(int64(96 * time.Hour))))
		}
		marks = append(marks, modelMark{events[rng.IntN(len(events))], r[0] + rng.Uint64N(r[1]-r[0]+1), at})
	}
	queries := make([]cohort.Query, 60)
	for n := range queries {
		q := cohort.Query{Primary: events[rng.IntN(4)], Secondary: events[rng.IntN(4)],
			TimeGroup: bitmapist.TimeGroups()[rng.IntN(5)], Rows: 1 + rng.IntN(6), Cols: 1 + rng.IntN(6), Now: now,
			WithReplacement: rng.IntN(2) == 0, FirstTime: rng.IntN(2) == 0, OnOrAfter: rng.IntN(4) == 0,
			BlankEmpty: rng.IntN(3) == 0, IncludeFuture: rng.IntN(4) == 0}
		for range rng.IntN(3) {
			q.Additional = append(q.Additional, cohort.Step{Event: events[rng.IntN(4)], Op: cohort.Op(rng.IntN(2))})
		}
		if rng.IntN(4) == 0 {
			q.PrimaryAnd = events[rng.IntN(4)]
		}
		if rng.IntN(4) == 0 {
			q.Start = now.AddDate(0, -rng.IntN(3), -rng.IntN(20))
		}
		if q.TimeGroup == bitmapist.Hours {
			q.Start = time.Time{}
		}
		queries[n] = q
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now, bitmapist.WithTrackHourly(true))
		bm := make([]bitmapist.Mark, len(marks))
		for i, m := range marks {
			bm[i] = bitmapist.Mark{Event: m.event, UserID: m.id, Time: m.at}
		}
		if err := c.MarkEvents(context.Background(), bm); err != nil {
			t.Fatal(err)
		}
		nonEmpty := 0
		for _, q := range queries {
			tab, err := cohort.Get(context.Background(), c, q)
			if err != nil {
				t.Fatal(err)
			}
			wantCells, wantTotals := modelTable(marks, q)
			if !reflect.DeepEqual(tab.Totals, wantTotals) || !reflect.DeepEqual(grid(tab), wantCells) {
				t.Errorf("%s: totals %v, cells\n%swant totals %v, cells\n%s", describe(q), tab.Totals, fmtGrid(grid(tab)),
					wantTotals, fmtGrid(wantCells))
			}
			for _, n := range wantTotals {
				if n > 0 {
					nonEmpty++
				}
			}
		}
		if nonEmpty < len(queries) {
			t.Errorf("only %d non-empty rows over %d queries: the data does not exercise the tables", nonEmpty, len(queries))
		}
	})
}

func describe(q cohort.Query) string {
	return fmt.Sprintf("%s(%s) -> %s %v %v %dx%d start=%v repl=%v first=%v after=%v blank=%v future=%v",
		q.Primary, q.PrimaryAnd, q.Secondary, q.Additional, q.TimeGroup, q.Rows, q.Cols, q.Start.Format(time.DateOnly),
		q.WithReplacement, q.FirstTime, q.OnOrAfter, q.BlankEmpty, q.IncludeFuture)
}
