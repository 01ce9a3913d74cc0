package cohort_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// tempKeys returns b's temporary operation keys (<prefix>bitop_*).
func tempKeys(t *testing.T, b testutil.Backend) []string {
	t.Helper()
	keys, err := b.Client.Keys(context.Background(), b.Prefix+"bitop_*").Result()
	if err != nil && b.Name != testutil.NameCluster { // KEYS on a cluster asks one node; keyCount covers all
		t.Fatal(err)
	}
	return keys
}

// TestGetCombinesReturnSets: with additional events, every backend reads
// the events' byte ranges through core's Reader (no BITOP, nothing
// written) and combines them in the client, stripe by stripe. All give
// the tables of the model (the in-memory sets), the same on every backend,
// leave no key behind and take 3 round trips on a single Redis (STRLEN,
// BITPOS, GETRANGE; 4 with FirstTime's SCAN).
func TestGetCombinesReturnSets(t *testing.T) {
	now := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	var marks []modelMark
	add := func(event string, at time.Time, ids ...uint64) {
		for _, id := range ids {
			marks = append(marks, modelMark{event, id, at})
		}
	}
	for m := range 6 {
		at := time.Date(2025, time.January+time.Month(m), 10, 9, 0, 0, 0, time.UTC)
		base := uint64(1000 * m)
		add("signup", at, span(base, base+40)...)
		for k := m; k < 6; k++ {
			at := time.Date(2025, time.January+time.Month(k), 12+k, 9, 0, 0, 0, time.UTC)
			add("active", at, span(base+uint64(k), base+uint64(k)+25)...)
			add("paid", at, span(base+uint64(3*k), base+uint64(3*k)+10)...)
			add("shared", at, span(base+uint64(20-k), base+30)...)
			add("referred", at, base+uint64(2*k), base+33)
		}
	}
	add("signup", time.Date(2024, 11, 3, 0, 0, 0, 0, time.UTC), span(0, 5)...)
	add("active", time.Date(2024, 12, 9, 0, 0, 0, 0, time.UTC), span(0, 5)...)
	add("paid", time.Date(2024, 12, 10, 0, 0, 0, 0, time.UTC), span(2, 3)...)

	and := func(e string) cohort.Step { return cohort.Step{Event: e, Op: cohort.And} }
	or := func(e string) cohort.Step { return cohort.Step{Event: e, Op: cohort.Or} }
	queries := []cohort.Query{
		{Additional: []cohort.Step{and("paid")}, WithReplacement: true},
		{Additional: []cohort.Step{and("paid")}},
		{Additional: []cohort.Step{or("shared")}},
		{Additional: []cohort.Step{or("shared"), and("paid"), or("referred")}, WithReplacement: true},
		{Additional: []cohort.Step{and("paid"), and("shared")}, OnOrAfter: true},
		{Additional: []cohort.Step{and("referred")}, BlankEmpty: true, WithReplacement: true},
		{Additional: []cohort.Step{or("paid")}, FirstTime: true, PrimaryAnd: "active"},
		{Additional: []cohort.Step{and("paid")}, TimeGroup: bitmapist.Years, Rows: 2, Cols: 2, WithReplacement: true},
		{Additional: []cohort.Step{and("active")}, Secondary: "paid", TimeGroup: bitmapist.Weeks, Rows: 10, Cols: 8},
	}
	for i := range queries {
		q := &queries[i]
		q.Primary, q.Now, q.Start = "signup", now, time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
		if q.Secondary == "" {
			q.Secondary = "active"
		}
		if q.TimeGroup == bitmapist.Hours { // the zero value: months unless set
			q.TimeGroup, q.Rows, q.Cols = bitmapist.Months, 8, 8
		}
		if q.TimeGroup == bitmapist.Years {
			q.Start = time.Time{}
		}
	}

	results := map[string][][][]int64{} // backend name -> grid of each query
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now, bitmapist.WithRawReads(false)) // go-redis hooks see every read
		bm := make([]bitmapist.Mark, len(marks))
		for i, m := range marks {
			bm[i] = bitmapist.Mark{Event: m.event, UserID: m.id, Time: m.at}
		}
		if err := c.MarkEvents(ctx, bm); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Backend(ctx); err != nil { // detected once, before counting round trips
			t.Fatal(err)
		}
		keysBefore := keyCount(t, b)
		rec := record(b)
		for _, q := range queries {
			rec.reset() // the previous query's checks
			tab, err := cohort.Get(ctx, c, q)
			if err != nil {
				t.Fatalf("%s: %v", describe(q), err)
			}
			rt, cmds := rec.reset()
			readOnly(t, b.Prefix, cmds)
			bitops := 0
			for _, cmd := range cmds {
				if strings.HasPrefix(cmd, "BITOP ") {
					bitops++
				}
			}
			want := 3 + btoi(q.FirstTime) // FirstTime: a SCAN of the history
			switch {
			case b.Name == testutil.NameBitmapistServer:
				// Computed there (computeOnServer): BITOPs into temporary
				// keys, one pipeline, then their DEL.
				want = 2 + btoi(q.FirstTime)
				if bitops == 0 || slices.Contains(cmds, "GET") {
					t.Errorf("%s: %d BITOPs (%v), want the table computed on the server", describe(q), bitops, cmds)
				}
			case bitops != 0 || slices.Contains(cmds, "MULTI"):
				t.Errorf("%s: sent %d BITOPs (%v), want the return sets combined in the client", describe(q), bitops, cmds)
			}
			if b.Name != testutil.NameCluster && rt != want {
				t.Errorf("%s: %d round trips, want %d", describe(q), rt, want)
			}
			if tmps := tempKeys(t, b); len(tmps) > 0 {
				t.Errorf("%s: temporary keys left behind: %v", describe(q), tmps)
			}
			wantCells, wantTotals := modelTable(marks, q)
			if !reflect.DeepEqual(tab.Totals, wantTotals) || !reflect.DeepEqual(grid(tab), wantCells) {
				t.Errorf("%s: totals %v, cells\n%swant totals %v, cells\n%s", describe(q), tab.Totals, fmtGrid(grid(tab)),
					wantTotals, fmtGrid(wantCells))
			}
			if slices.Max(wantTotals) == 0 || slices.Max(slices.Concat(wantCells...)) <= 0 {
				t.Errorf("%s: empty table, the data do not exercise it", describe(q))
			}
			results[b.Name] = append(results[b.Name], grid(tab))
		}
		if n := keyCount(t, b); n != keysBefore {
			t.Errorf("%d keys after the tables, %d before: keys left behind", n, keysBefore)
		}
	})
	for name, r := range results {
		if !reflect.DeepEqual(r, results[testutil.NameMiniredis]) {
			t.Errorf("%s gives other tables than miniredis", name)
		}
	}
}

// TestGetCombineFailureLeavesNoKeys: an event key that is not a string
// makes Get return Redis's WRONGTYPE error and leaves no key behind.
func TestGetCombineFailureLeavesNoKeys(t *testing.T) {
	now := time.Date(2025, 3, 20, 12, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now)
		markIDs(t, c, "signup", now, 1, 2, 3)
		markIDs(t, c, "active", now, 2, 3)
		markIDs(t, c, "shared", now, 3)
		if err := b.Client.LPush(ctx, c.Key("paid", bitmapist.Months, now), "x").Err(); err != nil {
			t.Fatal(err)
		}
		keysBefore := keyCount(t, b)
		q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Months, Rows: 1, Cols: 1, Now: now,
			Additional: []cohort.Step{{Event: "shared", Op: cohort.Or}, {Event: "paid", Op: cohort.And}}}
		if _, err := cohort.Get(ctx, c, q); err == nil || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Errorf("Get over a list key: %v, want a WRONGTYPE error", err)
		}
		if tmps := tempKeys(t, b); len(tmps) > 0 {
			t.Errorf("temporary keys left behind: %v", tmps)
		}
		if n := keyCount(t, b); n != keysBefore {
			t.Errorf("%d keys after, %d before: keys left behind", n, keysBefore)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it holds bitmaps only: no key of another type to make a read fail"))
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestGetReadsOnlyCohortBytes: every GETRANGE stays within the bytes of
// the only cohort (ids 8000..8015: bytes 1000..1001), for the cohort's own
// bitmap and for the return events' (combined or not), whose bitmaps span
// ids 0..9000.
func TestGetReadsOnlyCohortBytes(t *testing.T) {
	now := time.Date(2025, 4, 20, 12, 0, 0, 0, time.UTC)
	march := time.Date(2025, 3, 5, 0, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now, bitmapist.WithRawReads(false)) // go-redis hooks see every read
		markIDs(t, c, "signup", march, span(8000, 8015)...)
		for _, at := range []time.Time{march, now} {
			markIDs(t, c, "active", at, append(span(0, 10), span(8003, 9000)...)...)
			markIDs(t, c, "paid", at, append(span(0, 10), 8005, 8006, 8007, 9000)...)
		}
		rec := record(b)
		for _, add := range [][]cohort.Step{nil, {{Event: "paid", Op: cohort.And}}} {
			rec.reset()
			tab, err := cohort.Get(ctx, c, cohort.Query{Primary: "signup", Secondary: "active", Additional: add,
				TimeGroup: bitmapist.Months, Rows: 2, Cols: 2, Start: march, WithReplacement: true})
			if err != nil {
				t.Fatal(err)
			}
			want := [][]int64{{13, 13}, {none, none}}
			if add != nil {
				want = [][]int64{{3, 3}, {none, none}}
			}
			if !reflect.DeepEqual(grid(tab), want) {
				t.Errorf("%v: cells %v, want %v", add, grid(tab), want)
			}
			_, cmds := rec.reset()
			if b.Name == testutil.NameBitmapistServer {
				// Computed there (BITOP, BITCOUNT): no bitmap is read, and
				// nothing the server lacks is sent.
				for _, cmd := range cmds {
					if name, _, _ := strings.Cut(cmd, " "); slices.Contains([]string{"GETRANGE", "BITPOS", "STRLEN", "GET"}, name) {
						t.Errorf("%v: %s sent to bitmapist-server", add, cmd)
					}
				}
				if !slices.Contains(cmds, "BITCOUNT") {
					t.Errorf("%v: no BITCOUNT in %v", add, cmds)
				}
				continue
			}
			reads := 0
			for _, cmd := range cmds {
				var key string
				var lo, hi int64
				if _, err := fmt.Sscanf(cmd, "GETRANGE %s %d %d", &key, &lo, &hi); err != nil {
					continue
				}
				reads++
				if lo < 1000 || hi > 1001 {
					t.Errorf("%v: GETRANGE %s %d %d, want bytes within 1000..1001", add, key, lo, hi)
				}
			}
			if reads == 0 {
				t.Errorf("%v: no GETRANGE in %v", add, cmds)
			}
		}
	})
}
