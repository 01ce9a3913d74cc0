package cohort_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// hourTruth is the brute-force model of hourly marks in one zone: the hour
// keys of a span in wall-clock order (a repeated hour is one key), the
// first instant of each, and who did each event in each key's hour.
type hourTruth struct {
	loc   *time.Location
	keys  []string
	first []time.Time
	index map[string]int
	users map[string][]map[uint64]bool // users[event][key index]
}

// hourKey is t's hour key suffix in loc, as Python bitmapist writes it.
func hourKey(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	return fmt.Sprintf("%d-%d-%d-%d", l.Year(), l.Month(), l.Day(), l.Hour())
}

// newHourTruth scans [from, to) minute by minute for the keys.
func newHourTruth(loc *time.Location, from, to time.Time) *hourTruth {
	h := &hourTruth{loc: loc, index: map[string]int{}, users: map[string][]map[uint64]bool{}}
	for t := from; t.Before(to); t = t.Add(time.Minute) {
		if k := hourKey(t, loc); !h.has(k) {
			h.index[k] = len(h.keys)
			h.keys = append(h.keys, k)
			h.first = append(h.first, t.In(loc))
		}
	}
	return h
}

// has reports whether key k is in h.
func (h *hourTruth) has(k string) bool { _, ok := h.index[k]; return ok }

// at returns the key index of t.
func (h *hourTruth) at(t time.Time) int { return h.index[hourKey(t, h.loc)] }

// set returns who did event in key k (empty outside the span).
func (h *hourTruth) set(event string, k int) map[uint64]bool {
	if k < 0 || k >= len(h.keys) || h.users[event] == nil {
		return nil
	}
	return h.users[event][k]
}

// dstMarks marks events a and b, every 15 minutes of [from, to), for a
// pseudo-random part of users 0..11 (both halves of a repeated hour
// included), and records them in h.
func dstMarks(t *testing.T, c *bitmapist.Client, h *hourTruth, from, to time.Time) {
	t.Helper()
	var marks []bitmapist.Mark
	i := uint32(0)
	for at := from; at.Before(to); at, i = at.Add(15*time.Minute), i+1 {
		for ev, event := range []string{"a", "b"} {
			for u := uint32(0); u < 12; u++ {
				if (i*2654435761^(u*40503+uint32(ev)*977))%7 >= 2 {
					continue
				}
				marks = append(marks, bitmapist.Mark{Event: event, UserID: uint64(u), Time: at})
				if h.users[event] == nil {
					h.users[event] = make([]map[uint64]bool, len(h.keys))
				}
				k := h.at(at)
				if h.users[event][k] == nil {
					h.users[event][k] = map[uint64]bool{}
				}
				h.users[event][k][uint64(u)] = true
			}
		}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
}

// TestHourReportsAcrossClockChanges runs every report at hours
// granularity over ranges that contain a clock change (and one ending in
// the second half of a repeated hour) and compares each with a
// brute-force count from the marks: each hour key is one period, a
// repeated hour's users counted once, ranges ending at the right period.
func TestHourReportsAcrossClockChanges(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for ci, zc := range testutil.DSTChanges {
			t.Run(zc.Name, func(t *testing.T) {
				loc, err := time.LoadLocation(zc.Zone)
				if err != nil {
					t.Fatal(err)
				}
				mid, _ := time.Parse(time.RFC3339, zc.At)
				b := b
				b.Prefix = fmt.Sprintf("%sdst%d_", b.Prefix, ci)
				c := newClient(b, mid.Add(24*time.Hour), bitmapist.WithLocation(loc), bitmapist.WithTrackHourly(true))
				h := newHourTruth(loc, mid.Add(-9*time.Hour), mid.Add(9*time.Hour))
				dstMarks(t, c, h, mid.Add(-7*time.Hour), mid.Add(7*time.Hour))
				for _, r := range [][2]time.Time{
					{mid.Add(-5 * time.Hour), mid.Add(4 * time.Hour)},
					{mid.Add(-90 * time.Minute), mid.Add(30 * time.Minute)},
				} {
					from, to := h.at(r[0]), h.at(r[1])
					checkTrendTruth(t, c, h, r[0], r[1], from, to)
					checkLifecycleTruth(t, c, h, r[0], r[1], from, to)
					checkStickinessTruth(t, c, h, r[0], r[1], from, to)
					checkFunnelTruth(t, c, h, r[0], r[1], from, to)
					checkCohortTruth(t, c, h, r[0], from, to)
				}
			})
		}
	})
}

func checkTrendTruth(t *testing.T, c *bitmapist.Client, h *hourTruth, fromT, toT time.Time, from, to int) {
	t.Helper()
	tr, err := c.Trend(t.Context(), bitmapist.TrendQuery{Event: "a", TimeGroup: bitmapist.Hours, From: fromT, To: toT})
	if err != nil {
		t.Fatal(err)
	}
	n := to - from + 1
	if len(tr.Periods) != n {
		t.Fatalf("trend %v..%v: %d periods, want %d (%s..%s)", fromT, toT, len(tr.Periods), n, h.keys[from], h.keys[to])
	}
	union := map[uint64]bool{}
	for i, p := range tr.Periods {
		k := from + i
		if want := int64(len(h.set("a", k))); p.Count != want || !p.Start.Equal(h.first[k]) {
			t.Errorf("trend period %d: %d users from %v, want %d from %v (key %s)", i, p.Count, p.Start, want, h.first[k], h.keys[k])
		}
		if want := int64(len(h.set("a", k-n))); p.Previous.Count != want {
			t.Errorf("trend period %d: previous %d, want %d", i, p.Previous.Count, want)
		}
		for u := range h.set("a", k) {
			union[u] = true
		}
	}
	if tr.Unique != int64(len(union)) {
		t.Errorf("trend unique %d, want %d", tr.Unique, len(union))
	}
}

func checkLifecycleTruth(t *testing.T, c *bitmapist.Client, h *hourTruth, fromT, toT time.Time, from, to int) {
	t.Helper()
	lc, err := cohort.GetLifecycle(t.Context(), c, cohort.LifecycleQuery{Event: "a", TimeGroup: bitmapist.Hours, From: fromT, To: toT})
	if err != nil {
		t.Fatal(err)
	}
	if len(lc.Periods) != to-from+1 {
		t.Fatalf("lifecycle: %d periods, want %d", len(lc.Periods), to-from+1)
	}
	hist := map[uint64]bool{} // who did a before key k
	for k := range from {
		for u := range h.set("a", k) {
			hist[u] = true
		}
	}
	for i, p := range lc.Periods {
		k := from + i
		cur, prev := h.set("a", k), h.set("a", k-1)
		var want cohort.LifecyclePeriod
		for u := range cur {
			switch {
			case !hist[u]:
				want.New++
			case prev[u]:
				want.Returning++
			default:
				want.Resurrecting++
			}
		}
		for u := range prev {
			if !cur[u] {
				want.Dormant--
			}
		}
		if p.New != want.New || p.Returning != want.Returning || p.Resurrecting != want.Resurrecting || p.Dormant != want.Dormant || !p.Start.Equal(h.first[k]) {
			t.Errorf("lifecycle %s: %+v, want %+v from %v", h.keys[k], p, want, h.first[k])
		}
		for u := range cur {
			hist[u] = true
		}
	}
}

func checkStickinessTruth(t *testing.T, c *bitmapist.Client, h *hourTruth, fromT, toT time.Time, from, to int) {
	t.Helper()
	st, err := cohort.GetStickiness(t.Context(), c, cohort.StickinessQuery{Event: "a", TimeGroup: bitmapist.Hours, From: fromT, To: toT})
	if err != nil {
		t.Fatal(err)
	}
	n := to - from + 1
	active := map[uint64]int{}
	for k := from; k <= to; k++ {
		for u := range h.set("a", k) {
			active[u]++
		}
	}
	want := make([]int64, n+1)
	for _, m := range active {
		want[m]++
	}
	if st.NumPeriods != n || len(st.Buckets) != n || st.Users != int64(len(active)) {
		t.Fatalf("stickiness: %d periods, %d users, want %d, %d", st.NumPeriods, st.Users, n, len(active))
	}
	for _, bk := range st.Buckets {
		if bk.Users != want[bk.Periods] {
			t.Errorf("stickiness %d hours: %d users, want %d", bk.Periods, bk.Users, want[bk.Periods])
		}
	}
}

// hourFunnelReach is how many steps of events a user reaches from entry
// period p within window periods, greedily: each step in the earliest
// period it can take, a repeated event in a period after its earlier step's.
func hourFunnelReach(h *hourTruth, u uint64, events []string, p, window int) int {
	if !h.set(events[0], p)[u] {
		return 0
	}
	at := []int{p}
	for s := 1; s < len(events); s++ {
		lo := at[s-1]
		for j := s - 1; j >= 0; j-- {
			if events[j] == events[s] {
				lo = max(lo, at[j]+1)
				break
			}
		}
		q := lo
		for q <= p+window && !h.set(events[s], q)[u] {
			q++
		}
		if q > p+window {
			return s
		}
		at = append(at, q)
	}
	return len(events)
}

func checkFunnelTruth(t *testing.T, c *bitmapist.Client, h *hourTruth, fromT, toT time.Time, from, to int) {
	t.Helper()
	events := []string{"a", "b", "a"}
	fu, err := cohort.GetFunnel(t.Context(), c, cohort.FunnelQuery{Steps: events, TimeGroup: bitmapist.Hours, Window: 2, From: fromT, To: toT})
	if err != nil {
		t.Fatal(err)
	}
	if len(fu.Rows) != to-from+1 {
		t.Fatalf("funnel: %d rows, want %d", len(fu.Rows), to-from+1)
	}
	for i, row := range fu.Rows {
		p := from + i
		want := make([]int64, len(events))
		for u := range uint64(12) {
			for s := range hourFunnelReach(h, u, events, p, 2) {
				want[s]++
			}
		}
		if !row.Start.Equal(h.first[p]) {
			t.Errorf("funnel row %d starts %v, want %v", i, row.Start, h.first[p])
		}
		for s, st := range row.Steps {
			if st.Users != want[s] {
				t.Errorf("funnel %s step %d: %d users, want %d", h.keys[p], s, st.Users, want[s])
			}
		}
	}
}

func checkCohortTruth(t *testing.T, c *bitmapist.Client, h *hourTruth, fromT time.Time, from, to int) {
	t.Helper()
	const cols = 3
	now := h.first[to+1].Add(time.Minute) // periods up to to+1 have started
	for _, repl := range []bool{true, false} {
		tb, err := cohort.Get(t.Context(), c, cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Hours,
			Rows: to - from + 1, Cols: cols, Start: fromT, Now: now, WithReplacement: repl})
		if err != nil {
			t.Fatal(err)
		}
		for i := range tb.Dates {
			r := from + i
			cohortUsers := h.set("a", r)
			if !tb.Dates[i].Equal(h.first[r]) || tb.Totals[i] != int64(len(cohortUsers)) {
				t.Errorf("cohort row %d: %v, %d users, want %v, %d", i, tb.Dates[i], tb.Totals[i], h.first[r], len(cohortUsers))
			}
			counted := map[uint64]bool{}
			for j, cell := range tb.Cells[i] {
				valid := len(cohortUsers) > 0 && r+j <= to+1
				var want int64
				for u := range cohortUsers {
					if h.set("b", r+j)[u] && (repl || !counted[u]) {
						want++
						counted[u] = true
					}
				}
				if cell.Valid != valid || (valid && cell.Count != want) {
					t.Errorf("cohort (replacement %v) %s +%d: %+v, want %d (valid %v)", repl, h.keys[r], j, cell, want, valid)
				}
			}
		}
	}
}
