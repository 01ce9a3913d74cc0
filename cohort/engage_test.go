package cohort_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// engageLog is a random log of events per day for model tests: log[event][d]
// holds the users who did event on day d (day 0 = engageStart). Ids spread
// over several of the reports' 32,768-id word blocks.
type engageLog map[string][]map[uint64]bool

var engageStart = time.Date(2024, 11, 4, 0, 0, 0, 0, time.UTC) // a Monday

func randomLog(seed uint64, days, users int, events ...string) engageLog {
	r := rand.New(rand.NewPCG(seed, 2))
	ids := make([]uint64, users)
	for i := range ids {
		ids[i] = uint64(r.IntN(70_000))
	}
	l := engageLog{}
	for ei, e := range events {
		l[e] = make([]map[uint64]bool, days)
		for d := range days {
			l[e][d] = map[uint64]bool{}
			for _, id := range ids {
				if r.IntN(5+3*ei) == 0 {
					l[e][d][id] = true
				}
			}
		}
	}
	return l
}

func (l engageLog) mark(t *testing.T, c *bitmapist.Client) {
	t.Helper()
	var marks []bitmapist.Mark
	for e, days := range l {
		for d, set := range days {
			for id := range set {
				marks = append(marks, bitmapist.Mark{Event: e, UserID: id, Time: engageStart.AddDate(0, 0, d).Add(5 * time.Hour)})
			}
		}
	}
	for len(marks) > 0 { // small batches: miniredis copies a bitmap per SETBIT
		n := min(len(marks), 500)
		if err := c.MarkEvents(context.Background(), marks[:n]); err != nil {
			t.Fatal(err)
		}
		marks = marks[n:]
	}
}

// users returns the users who did event on days lo..hi, in seg (nil: all).
func (l engageLog) users(event string, lo, hi int, seg map[uint64]bool) map[uint64]bool {
	out := map[uint64]bool{}
	for d := max(lo, 0); d <= hi && d < len(l[event]); d++ {
		for id := range l[event][d] {
			if seg == nil || seg[id] {
				out[id] = true
			}
		}
	}
	return out
}

func TestLifecycleMatchesModel(t *testing.T) {
	l := randomLog(3, 9*7, 400, "play")
	// thin the early weeks so that new users keep arriving
	for d := range l["play"] {
		for id := range l["play"][d] {
			if id%9 < uint64(9-d/7) {
				delete(l["play"][d], id)
			}
		}
	}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, engageStart)
		l.mark(t, c)
		seg := l.users("play", 10, 10, nil)
		small := newClient(b, engageStart, bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 4096}))
		for i, segmented := range []bool{false, true, false, true} {
			c := c
			if i >= 2 {
				c = small // 4 KiB stripes: three of them
			}
			q := cohort.LifecycleQuery{Event: "play", TimeGroup: bitmapist.Weeks, From: engageStart.AddDate(0, 0, 21), To: engageStart.AddDate(0, 0, 8*7)}
			var s map[uint64]bool
			if segmented {
				q.Segment, s = c.Day("play", engageStart.AddDate(0, 0, 10)), seg
			}
			lc, err := cohort.GetLifecycle(ctx, c, q)
			if err != nil {
				t.Fatal(err)
			}
			if len(lc.Periods) != 6 {
				t.Fatalf("%d periods, want 6", len(lc.Periods))
			}
			for i, p := range lc.Periods {
				w := 3 + i
				cur, prev := l.users("play", 7*w, 7*w+6, s), l.users("play", 7*w-7, 7*w-1, s)
				before := l.users("play", 0, 7*w-8, s)
				var want cohort.LifecyclePeriod
				for id := range cur {
					switch {
					case prev[id]:
						want.Returning++
					case before[id]:
						want.Resurrecting++
					default:
						want.New++
					}
				}
				for id := range prev {
					if !cur[id] {
						want.Dormant--
					}
				}
				want.Label, want.Start = bitmapist.Weeks.Label(engageStart.AddDate(0, 0, 7*w)), engageStart.AddDate(0, 0, 7*w)
				if p != want || p.Active() != int64(len(cur)) {
					t.Errorf("segment %v week %d: got %+v, want %+v (active %d)", segmented, w, p, want, len(cur))
				}
			}
		}
	})
}

func TestStickinessMatchesModel(t *testing.T) {
	l := randomLog(5, 40, 500, "play")
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, engageStart)
		l.mark(t, c)
		seg := l.users("play", 0, 0, nil)
		small := newClient(b, engageStart, bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 4096}))
		for i, segmented := range []bool{false, true, false, true} {
			c := c
			if i >= 2 {
				c = small // 4 KiB stripes: three of them
			}
			q := cohort.StickinessQuery{Event: "play", TimeGroup: bitmapist.Days, From: engageStart.AddDate(0, 0, 2), To: engageStart.AddDate(0, 0, 32)}
			var s map[uint64]bool
			if segmented {
				q.Segment, s = c.Day("play", engageStart), seg
			}
			st, err := cohort.GetStickiness(ctx, c, q)
			if err != nil {
				t.Fatal(err)
			}
			want := make([]int64, 32)
			for id := range l.users("play", 2, 32, s) {
				k := 0
				for d := 2; d <= 32; d++ {
					if l["play"][d][id] {
						k++
					}
				}
				want[k]++
			}
			if st.NumPeriods != 31 || len(st.Buckets) != 31 {
				t.Fatalf("%d periods, %d buckets, want 31", st.NumPeriods, len(st.Buckets))
			}
			var total int64
			for i, bk := range st.Buckets {
				if bk.Periods != i+1 || bk.Users != want[i+1] {
					t.Errorf("segment %v bucket %d: got %+v, want %d users", segmented, i+1, bk, want[i+1])
				}
				total += want[i+1]
			}
			if st.Users != total {
				t.Errorf("users %d, want %d", st.Users, total)
			}
		}
	})
}

func TestFunnelMatchesModel(t *testing.T) {
	steps := []string{"visit", "cart", "buy"}
	l := randomLog(11, 30, 400, steps...)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, engageStart)
		l.mark(t, c)
		seg := l.users("cart", 1, 1, nil)
		small := newClient(b, engageStart, bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 4096}))
		for i, segmented := range []bool{false, true, false, true} {
			c := c
			if i >= 2 {
				c = small // 4 KiB stripes: three of them
			}
			q := cohort.FunnelQuery{Steps: steps, TimeGroup: bitmapist.Days, Window: 4, From: engageStart.AddDate(0, 0, 3), To: engageStart.AddDate(0, 0, 20)}
			var s map[uint64]bool
			if segmented {
				q.Segment, s = c.Day("cart", engageStart.AddDate(0, 0, 1)), seg
			}
			f, err := cohort.GetFunnel(ctx, c, q)
			if err != nil {
				t.Fatal(err)
			}
			total := make([]int64, 3)
			for i, row := range f.Rows {
				p := 3 + i
				want := make([]int64, 3)
				for id := range l.users("visit", p, p, s) {
					// the earliest period each step is reached, per user
					reached := 0
					for q := p; q <= p+4; q++ {
						for reached < 3 && (reached == 0 || l[steps[reached]][q][id]) {
							reached++
						}
					}
					for k := range reached {
						want[k]++
					}
				}
				for k := range want {
					total[k] += want[k]
					if row.Steps[k].Users != want[k] {
						t.Errorf("segment %v row %d step %d: %d users, want %d", segmented, i, k, row.Steps[k].Users, want[k])
					}
				}
			}
			for k, st := range f.Steps {
				if st.Users != total[k] || st.Event != steps[k] {
					t.Errorf("total step %d: %+v, want %d users", k, st, total[k])
				}
			}
			if k := 2; total[1] > 0 && f.Steps[k].FromPrevious != float64(total[2])/float64(total[1]) || f.Steps[k].DropOff != total[1]-total[2] {
				t.Errorf("conversion: %+v", f.Steps[k])
			}
		}
	})
}

func TestReportsBadQueries(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, engageStart)
	ctx := context.Background()
	day := engageStart
	checkField := func(name string, err error, field string) {
		t.Helper()
		var qe *cohort.QueryError
		if !errors.As(err, &qe) || qe.Field != field || !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("%s: got %v, want a *QueryError on %s", name, err, field)
		}
	}
	_, err := cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "", TimeGroup: bitmapist.Weeks, From: day, To: day})
	checkField("lifecycle empty event", err, "Event")
	_, err = cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "e", TimeGroup: bitmapist.Days, From: day, To: day.AddDate(0, 0, cohort.MaxReportPeriods)})
	checkField("lifecycle too long", err, "To")
	_, err = cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: "e", TimeGroup: bitmapist.Days, From: day})
	checkField("stickiness no to", err, "To")
	_, err = cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: "e", TimeGroup: bitmapist.Days, From: day, To: day, Segment: c.Events("x", 77, day)})
	checkField("stickiness bad segment", err, "Segment")
	_, err = cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"a"}, TimeGroup: bitmapist.Days, From: day, To: day})
	checkField("funnel one step", err, "Steps")
	_, err = cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"a", "bitop_b"}, TimeGroup: bitmapist.Days, From: day, To: day})
	checkField("funnel bad step", err, "Steps[1]")
	_, err = cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"a", "b"}, TimeGroup: bitmapist.Days, Window: cohort.MaxFunnelWindow + 1, From: day, To: day})
	checkField("funnel window", err, "Window")
	_, err = cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"a", "b"}, TimeGroup: bitmapist.Days, From: day, To: day.AddDate(0, 0, -1)})
	checkField("funnel to before from", err, "To")
	if _, err := cohort.GetStickiness(ctx, nil, cohort.StickinessQuery{}); !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("nil client: %v", err)
	}
	if _, err := cohort.GetLifecycle(ctx, bitmapist.New(nil), cohort.LifecycleQuery{Event: "e", TimeGroup: bitmapist.Days, From: day, To: day}); !errors.Is(err, bitmapist.ErrNoRedis) {
		t.Errorf("no Redis: %v", err)
	}
	if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
		t.Errorf("bad queries wrote %v", keys)
	}
}
