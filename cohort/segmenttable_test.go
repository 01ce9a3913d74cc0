package cohort_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// segTable is the data of the segment tests: ids 1..segUsers, signups and
// actives per day over segDays days, and the segment attributes, chosen so
// that every segment cuts rows and cells differently.
const (
	segUsers = 400
	segDays  = 6
	segRows  = 4
	segCols  = 3
)

func segSignup(id uint64, k int) bool { return (id*7+uint64(k)*13)%5 == 0 || (id+uint64(k))%7 == 0 }
func segActive(id uint64, k int) bool { return (id*3+uint64(k))%4 == 0 || id%11 == uint64(k) }
func segPro(id uint64) bool           { return id >= 100 && id%3 == 0 } // first set bit past byte 12
func segDE(id uint64) bool            { return id%2 == 0 }

// segWant computes the table (without replacement) of the users in keep,
// from the rules above, without the library: totals and cells.
func segWant(keep func(uint64) bool) ([]int64, [][]int64) { return segWantFirst(keep, false) }

// segWantFirst is segWant, with first-time cohorts when first is set: a
// user is in row i's cohort when their first signup is in period i.
func segWantFirst(keep func(uint64) bool, first bool) ([]int64, [][]int64) {
	totals := make([]int64, segRows)
	cells := make([][]int64, segRows)
	for i := range segRows {
		cohort := map[uint64]bool{}
		for id := uint64(1); id <= segUsers; id++ {
			before := false
			for k := range i {
				before = before || segSignup(id, k)
			}
			if segSignup(id, i) && keep(id) && !(first && before) {
				cohort[id] = true
			}
		}
		totals[i] = int64(len(cohort))
		cells[i] = make([]int64, segCols)
		for j := range segCols {
			if totals[i] == 0 {
				cells[i][j] = none
				continue
			}
			for id := range cohort {
				if segActive(id, i+j) {
					cells[i][j]++
					delete(cohort, id)
				}
			}
		}
	}
	return totals, cells
}

func TestGetSegment(t *testing.T) {
	start := day(2025, 3, 3)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, start.AddDate(0, 0, segDays), bitmapist.WithTrackUnique(true))
		var marks []bitmapist.Mark
		for id := uint64(1); id <= segUsers; id++ {
			for k := range segDays {
				at := start.AddDate(0, 0, k)
				if segSignup(id, k) {
					marks = append(marks, bitmapist.Mark{Event: "signup", UserID: id, Time: at})
				}
				if segActive(id, k) {
					marks = append(marks, bitmapist.Mark{Event: "active", UserID: id, Time: at})
				}
			}
			if segPro(id) {
				marks = append(marks, bitmapist.Mark{Event: "plan:pro", UserID: id, Time: start})
			}
			if segDE(id) {
				marks = append(marks, bitmapist.Mark{Event: "country:de", UserID: id, Time: start})
			}
		}
		if err := c.MarkEvents(ctx, marks); err != nil {
			t.Fatal(err)
		}
		pro, de := c.Unique("plan:pro"), c.Unique("country:de")
		server := b.Name == testutil.NameBitmapistServer
		keys := keyCount(t, b)
		q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Days,
			Rows: segRows, Cols: segCols, Start: start}
		var plain *cohort.Table
		for _, tc := range []struct {
			name string
			seg  bitmapist.Set
			keep func(uint64) bool
		}{
			{"none", nil, func(uint64) bool { return true }},
			{"pro", pro, segPro},
			{"pro and de", bitmapist.And(pro, de), func(id uint64) bool { return segPro(id) && segDE(id) }},
			{"de and not pro", bitmapist.AndNot(de, pro), func(id uint64) bool { return segDE(id) && !segPro(id) }},
			{"pro or active day 0", bitmapist.Or(pro, c.Events("active", bitmapist.Days, start)),
				func(id uint64) bool { return segPro(id) || segActive(id, 0) }},
			{"empty", c.Unique("nobody"), func(uint64) bool { return false }},
		} {
			q.Segment = tc.seg
			rec := record(b)
			tab, err := cohort.Get(ctx, c, q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			_, cmds := rec.reset()
			readOnly(t, b.Prefix, cmds)
			totals, cells := segWant(tc.keep)
			if !slices.Equal(tab.Totals, totals) || fmtGrid(grid(tab)) != fmtGrid(cells) {
				t.Errorf("%s: totals %v cells\n%s want %v\n%s", tc.name, tab.Totals, fmtGrid(grid(tab)), totals, fmtGrid(cells))
			}
			if tc.seg == nil {
				plain = tab
			} else if !server && tc.name == "pro" && tab.BytesRead <= plain.BytesRead {
				t.Errorf("%s: read %d bytes, no more than %d without segment: the segment's bytes are not counted", tc.name, tab.BytesRead, plain.BytesRead)
			}
		}
		if n := keyCount(t, b); n != keys {
			t.Errorf("%d keys after the tables, %d before: temporary keys left", n, keys)
		}
		// First-time cohorts of the pro users.
		ft := q
		ft.FirstTime, ft.Segment = true, pro
		tab, err := cohort.Get(ctx, c, ft)
		if err != nil {
			t.Fatal(err)
		}
		if rec, _ := segWant(segPro); slices.Equal(rec, tab.Totals) {
			t.Errorf("first-time pro totals %v equal the recurring ones: the data does not tell them apart", rec)
		}
		if totals, cells := segWantFirst(segPro, true); !slices.Equal(tab.Totals, totals) || fmtGrid(grid(tab)) != fmtGrid(cells) {
			t.Errorf("first-time pro: totals %v cells\n%s want %v\n%s", tab.Totals, fmtGrid(grid(tab)), totals, fmtGrid(cells))
		}
		// Not(pro) is every user of the table not in pro (the segment
		// rule), on bitmapist-server too: past pro's last id 399 as well.
		q.Segment = bitmapist.Not(pro)
		tab, err = cohort.Get(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		totals, cells := segWant(func(id uint64) bool { return !segPro(id) })
		if !slices.Equal(tab.Totals, totals) || fmtGrid(grid(tab)) != fmtGrid(cells) {
			t.Errorf("not pro: totals %v cells\n%s want %v\n%s", tab.Totals, fmtGrid(grid(tab)), totals, fmtGrid(cells))
		}
	})
}

func TestGetSegmentErrors(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, day(2025, 3, 3))
	other := newClient(b, day(2025, 3, 3))
	q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Days, Rows: 2, Cols: 2}
	var many []bitmapist.Set
	for i := range cohort.MaxBitmaps + 1 {
		many = append(many, c.KeySet("k"+string(rune('a'+i%26))+string(rune(i))))
	}
	big := q
	big.Rows, big.Cols = 400, 400
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m", "n", "o", "p", "q", "r", "s", "t"} {
		big.Additional = append(big.Additional, cohort.Step{Event: s, Op: cohort.And})
	}
	var keys []bitmapist.Set
	for i := range 4000 {
		keys = append(keys, c.KeySet(string(rune(0x4e00+i))))
	}
	big.Segment = bitmapist.Or(keys...)
	for name, seg := range map[string]bitmapist.Set{
		"bad time group": c.Events("x", bitmapist.TimeGroup(99), day(2025, 1, 1)),
		"other client":   other.Unique("x"),
		"too many keys":  bitmapist.Or(many...),
	} {
		q.Segment = seg
		_, err := cohort.Get(context.Background(), c, q)
		var qe *cohort.QueryError
		if !errors.Is(err, cohort.ErrInvalidQuery) || !errors.As(err, &qe) || qe.Field != "Segment" {
			t.Errorf("%s: %v, want a Segment QueryError", name, err)
		}
	}
	if _, err := cohort.Get(context.Background(), c, big); !errors.Is(err, cohort.ErrInvalidQuery) {
		t.Errorf("400x400 with 20 events and a 4000-key segment: %v, want more than MaxBitmaps", err)
	}
	big.Segment = nil
	if _, err := cohort.Get(context.Background(), c, big); err != nil {
		t.Errorf("400x400 with 20 events without segment: %v", err)
	}
}

// TestGetSegmentNotAcrossStripes: a Not segment holds every user of the
// table not in its key, also in stripes that hold none of its bits (4 KiB
// stripes: the first one, ids 0..32767, holds no bit of pro, whose first
// id is 70000) and past its key's last byte (100008, 100009).
func TestGetSegmentNotAcrossStripes(t *testing.T) {
	at := day(2025, 3, 3)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, at)
		signup := append(span(0, 99), span(100000, 100009)...)
		markIDs(t, c, "signup", at, signup...)
		markIDs(t, c, "active", at, 5, 6, 100005, 100006, 100009)
		markIDs(t, c, "pro", at, 70000, 100005)
		q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Days, Rows: 1, Cols: 1,
			Segment: bitmapist.Not(c.Events("pro", bitmapist.Days, at))}
		tab, err := cohort.Get(ctx, c, q, cohort.WithMemory(1))
		if err != nil {
			t.Fatal(err)
		}
		// signup but 100005: 109 users; active among them 5, 6, 100006, 100009.
		if tab.Totals[0] != 109 || tab.Cells[0][0].Count != 4 {
			t.Errorf("not pro: total %d, cell %+v, want 109 and 4 (5, 6, 100006, 100009)", tab.Totals[0], tab.Cells[0][0])
		}
	})
}

// TestGetSegmentAllZeroKey (finding C): a segment key that exists with
// only zero bytes is an empty set, not a missing key: as a segment it
// leaves every cohort empty; Not of it, and Not of a missing key, hold
// every user of the table (the segment rule), on every backend.
func TestGetSegmentAllZeroKey(t *testing.T) {
	at := day(2025, 3, 3)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, at)
		markIDs(t, c, "signup", at, 1, 2, 3, 40, 41)
		markIDs(t, c, "active", at, 2, 3, 41)
		markIDs(t, c, "zero", at, 20) // bytes 0..2 of zero's day key
		if err := c.UnmarkEvent(ctx, "zero", 20, bitmapist.At(at)); err != nil {
			t.Fatal(err)
		}
		zero := c.Events("zero", bitmapist.Days, at)
		for _, tc := range []struct {
			name         string
			seg          bitmapist.Set
			total, cell0 int64
		}{
			{"zero", zero, 0, none},
			{"Not(zero)", bitmapist.Not(zero), 5, 3},
			{"Not(missing)", bitmapist.Not(c.Events("never", bitmapist.Days, at)), 5, 3},
		} {
			q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Days, Rows: 1, Cols: 1, Segment: tc.seg}
			tab, err := cohort.Get(ctx, c, q)
			if err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			if cell := grid(tab)[0][0]; tab.Totals[0] != tc.total || cell != tc.cell0 {
				t.Errorf("%s: total %d, cell %d; want %d and %d", tc.name, tab.Totals[0], cell, tc.total, tc.cell0)
			}
		}
	})
}
