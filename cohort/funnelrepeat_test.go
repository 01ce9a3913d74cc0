package cohort_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// funnelReach returns how many steps of the chain a user of entry period
// p reaches within window w, found by trying every assignment of steps to
// (period, event) marks: step 0 is the entry mark (p, steps[0]), each
// next step a mark of its event in a period no earlier than the previous
// step's and at most p+w, and no mark used twice (a bitmap holds one mark
// per user, event and period).
func funnelReach(l engageLog, id uint64, steps []string, p, w int) int {
	type mark struct {
		e string
		q int
	}
	used := map[mark]bool{{steps[0], p}: true}
	var try func(k, from int) int
	try = func(k, from int) int {
		if k == len(steps) {
			return k
		}
		best := k
		for q := from; q <= p+w && q < len(l[steps[k]]); q++ {
			m := mark{steps[k], q}
			if used[m] || !l[steps[k]][q][id] {
				continue
			}
			used[m] = true
			best = max(best, try(k+1, q))
			used[m] = false
		}
		return best
	}
	return try(1, p)
}

// TestFunnelRepeatedSteps checks funnels whose events repeat (adjacent or
// not, at the start, the middle or the end of the chain) for several
// windows, including 0, against funnelReach: a repeated event's step
// needs a mark of its own, in a later period than the step it repeats.
func TestFunnelRepeatedSteps(t *testing.T) {
	l := randomLog(17, 16, 300, "a", "b", "c")
	chains := [][]string{{"a", "a"}, {"a", "a", "a"}, {"a", "b", "a"}, {"a", "b", "b"}, {"b", "a", "a"},
		{"a", "b", "a", "b"}, {"a", "b", "c", "a"}, {"a", "b", "c"}}
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, engageStart)
		l.mark(t, c)
		for _, steps := range chains {
			for _, w := range []int{0, 1, 3} {
				q := cohort.FunnelQuery{Steps: steps, TimeGroup: bitmapist.Days, Window: w,
					From: engageStart.AddDate(0, 0, 2), To: engageStart.AddDate(0, 0, 9)}
				f, err := cohort.GetFunnel(ctx, c, q)
				if err != nil {
					t.Fatal(err)
				}
				for i, row := range f.Rows {
					p := 2 + i
					want := make([]int64, len(steps))
					for id := range l[steps[0]][p] {
						for k := range funnelReach(l, id, steps, p, w) {
							want[k]++
						}
					}
					for k, st := range row.Steps {
						if st.Users != want[k] {
							t.Errorf("%v window %d row %d step %d: %d users, want %d", steps, w, i, k, st.Users, want[k])
						}
					}
				}
			}
		}
	})
}

// TestFunnelRepeatExample: one user, "a" on days 0 and 2, "b" on day 2.
// a→a needs the second "a" in a later day than the entry; a→b→a needs an
// "a" after the day "b" was reached or on it, but not the entry's own mark.
func TestFunnelRepeatExample(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, engageStart)
		markIDs(t, c, "a", engageStart, 7)
		markIDs(t, c, "a", engageStart.AddDate(0, 0, 2), 7)
		markIDs(t, c, "b", engageStart.AddDate(0, 0, 2), 7)
		for _, tc := range []struct {
			steps []string
			w     int
			want  string
		}{
			{[]string{"a", "a"}, 0, "[1 0]"}, {[]string{"a", "a"}, 1, "[1 0]"}, {[]string{"a", "a"}, 2, "[1 1]"},
			{[]string{"a", "b", "a"}, 1, "[1 0 0]"}, {[]string{"a", "b", "a"}, 2, "[1 1 1]"},
			{[]string{"a", "a", "a"}, 5, "[1 1 0]"}, {[]string{"a", "b", "b"}, 5, "[1 1 0]"},
		} {
			f, err := cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: tc.steps, TimeGroup: bitmapist.Days,
				Window: tc.w, From: engageStart, To: engageStart})
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, s := range f.Rows[0].Steps {
				got = append(got, s.Users)
			}
			if fmt.Sprint(got) != tc.want {
				t.Errorf("%v window %d: %v, want %s", tc.steps, tc.w, got, tc.want)
			}
		}
	})
}
