package cohort_test

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// upstreamDaily marks flask-bitmapist's get_cohort test data:
// four days d0..d3, now on d3.
func upstreamDaily(t *testing.T, c *bitmapist.Client, now time.Time) {
	d := func(n int) time.Time { return now.AddDate(0, 0, n-3) }
	markIDs(t, c, "popped", d(0), span(100, 105)...)
	markIDs(t, c, "popped", d(1), span(106, 112)...)
	markIDs(t, c, "popped", d(3), span(113, 117)...)
	markIDs(t, c, "locked", d(0), span(100, 104)...)
	markIDs(t, c, "locked", d(1), 100, 101, 102, 106, 107)
	markIDs(t, c, "locked", d(2), 107, 108)
	markIDs(t, c, "locked", d(3), 105, 106, 107, 109, 110, 113, 114, 115, 116)
}

func TestGetUpstreamDaily(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now, bitmapist.WithRawReads(false)) // go-redis hooks see every read
		upstreamDaily(t, c, now)
		keysBefore := keyCount(t, b)
		rec := record(b)

		for _, tc := range []struct {
			name    string
			replace bool
			want    [][]int64
		}{
			{"without replacement", false, [][]int64{{5, 0, 0, 1}, {2, 1, 2, none}, {none, none, none, none}, {4, none, none, none}}},
			{"with replacement", true, [][]int64{{5, 3, 0, 1}, {2, 2, 4, none}, {none, none, none, none}, {4, none, none, none}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rec.reset()
				q := cohort.Query{Primary: "popped", Secondary: "locked", TimeGroup: bitmapist.Days,
					Rows: 4, Cols: 4, WithReplacement: tc.replace} // Now from the client's clock
				tab, err := cohort.Get(ctx, c, q)
				if err != nil {
					t.Fatal(err)
				}
				if got := grid(tab); !reflect.DeepEqual(got, tc.want) {
					t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(tc.want))
				}
				if want := []int64{6, 7, 0, 5}; !slices.Equal(tab.Totals, want) {
					t.Errorf("totals %v, want %v", tab.Totals, want)
				}
				for i, d := range tab.Dates {
					if want := time.Date(2025, 3, 1+i, 0, 0, 0, 0, time.UTC); !d.Equal(want) {
						t.Errorf("Dates[%d] = %v, want %v", i, d, want)
					}
				}
				if !tab.Query.Now.Equal(now) {
					t.Errorf("Query.Now = %v, want the clock's %v", tab.Query.Now, now)
				}
				if f := tab.Cells[0][0].Fraction; math.Abs(f-5.0/6) > 1e-12 {
					t.Errorf("fraction (0,0) = %v, want 5/6", f)
				}
				if f, want := tab.Cells[1][2].Fraction, float64(tc.want[1][2])/7; math.Abs(f-want) > 1e-12 {
					t.Errorf("fraction (1,2) = %v, want %v", f, want)
				}
				// column totals and averages over valid cells, zeros included
				wantCol := make([]int64, 4)
				var wantAvg [4][]float64
				for _, row := range tc.want {
					for j, v := range row {
						if v != none {
							wantCol[j] += v
							wantAvg[j] = append(wantAvg[j], float64(v))
						}
					}
				}
				if !slices.Equal(tab.ColTotals, wantCol) {
					t.Errorf("col totals %v, want %v", tab.ColTotals, wantCol)
				}
				for j, vs := range wantAvg {
					var sum float64
					for _, v := range vs {
						sum += v
					}
					if a := tab.Averages[j]; !a.Valid || math.Abs(a.Count-sum/float64(len(vs))) > 1e-12 {
						t.Errorf("average %d = %+v, want count %v", j, a, sum/float64(len(vs)))
					}
				}

				rt, cmds := rec.reset()
				readOnly(t, b.Prefix, cmds)
				want := 3 // STRLEN, BITPOS, GETRANGE
				if b.Name == testutil.NameBitmapistServer {
					want = 2 // whole GETs: for the extents, then for the cells
				}
				if b.Name != testutil.NameCluster && rt != want {
					t.Errorf("%d round trips (%v), want %d", rt, cmds, want)
				}
			})
		}
		if n := keyCount(t, b); n != keysBefore {
			t.Errorf("%d keys after the tables, %d before: keys left behind", n, keysBefore)
		}
	})
}

func TestGetDoesNotModifyQuery(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	b := testutil.Miniredis(t)
	c := newClient(b, now)
	upstreamDaily(t, c, now)
	steps := []cohort.Step{{Event: "a", Op: cohort.Or}, {Event: "b", Op: cohort.And}, {Event: "c", Op: cohort.Or}}
	q := cohort.Query{Primary: "popped", Secondary: "locked", Additional: steps, TimeGroup: bitmapist.Days,
		Rows: 4, Cols: 4, OnOrAfter: true}
	orig := q
	orig.Additional = slices.Clone(steps)
	tab, err := cohort.Get(context.Background(), c, q)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(q, orig) {
		t.Errorf("query modified: %+v, was %+v", q, orig)
	}
	tab.Query.Additional[0].Event = "changed"
	if steps[0].Event != "a" {
		t.Error("Table.Query.Additional shares memory with the caller's slice")
	}
	if !tab.Query.WithReplacement {
		t.Error("Table.Query.WithReplacement not set for OnOrAfter")
	}
}

// TestGetOrEventsEveryCell: flask-bitmapist deletes the Or steps from the
// caller's list while building the first cell, so later cells lose them.
// Here every cell keeps them.
func TestGetOrEventsEveryCell(t *testing.T) {
	now := time.Date(2025, 5, 10, 12, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		d0 := now.AddDate(0, 0, -3)
		markIDs(t, c, "signup", d0, 1, 2, 3, 4)
		for k := range 4 {
			at := d0.AddDate(0, 0, k)
			markIDs(t, c, "web", at, 1)       // secondary: only user 1
			markIDs(t, c, "ios", at, 2, 3)    // or ios: users 2, 3
			markIDs(t, c, "paid", at, 1, 2)   // and paid: 1, 2
			markIDs(t, c, "android", at, 3+1) // or android: 4 (joins paid)
		}
		steps := []cohort.Step{{Event: "ios", Op: cohort.Or}, {Event: "paid", Op: cohort.And}, {Event: "android", Op: cohort.Or}}
		q := cohort.Query{Primary: "signup", Secondary: "web", Additional: steps, TimeGroup: bitmapist.Days,
			Rows: 1, Cols: 4, Start: d0, WithReplacement: true}
		tab, err := cohort.Get(context.Background(), c, q)
		if err != nil {
			t.Fatal(err)
		}
		// (web OR ios) AND (paid OR android) = {1,2,3} AND {1,2,4} = {1,2}
		if got, want := grid(tab), [][]int64{{2, 2, 2, 2}}; !reflect.DeepEqual(got, want) {
			t.Errorf("cells %v, want %v", got, want)
		}
		if steps[0].Op != cohort.Or || len(steps) != 3 {
			t.Errorf("steps modified: %v", steps)
		}
	})
}

// TestGetWeeksAcrossNewYear: 2024-12-30 .. 2025-01-05 is ISO week
// 2025-W01; flask-bitmapist keyed it with the calendar year (2024-W1).
func TestGetWeeksAcrossNewYear(t *testing.T) {
	now := time.Date(2025, 1, 8, 9, 0, 0, 0, time.UTC) // Wednesday of 2025-W02
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		markIDs(t, c, "signup", day(2024, 12, 18), 1, 2)    // 2024-W51
		markIDs(t, c, "signup", day(2024, 12, 31), 3, 4, 5) // 2025-W01 (Tuesday)
		markIDs(t, c, "signup", day(2025, 1, 2), 6)         // 2025-W01 (Thursday)
		markIDs(t, c, "active", day(2024, 12, 30), 1, 3)    // 2025-W01 (Monday)
		markIDs(t, c, "active", day(2025, 1, 5), 4, 6)      // 2025-W01 (Sunday)
		markIDs(t, c, "active", day(2025, 1, 6), 2, 5)      // 2025-W02 (Monday)
		markIDs(t, c, "active", day(2024, 12, 29), 2)       // 2024-W52 (Sunday)
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "signup", Secondary: "active",
			TimeGroup: bitmapist.Weeks, Rows: 4, Cols: 3, WithReplacement: true})
		if err != nil {
			t.Fatal(err)
		}
		wantLabels := []string{"2024-W51", "2024-W52", "2025-W01", "2025-W02"}
		wantDates := []time.Time{day(2024, 12, 16), day(2024, 12, 23), day(2024, 12, 30), day(2025, 1, 6)}
		for i := range 4 {
			if got := tab.RowLabel(i); got != wantLabels[i] {
				t.Errorf("RowLabel(%d) = %q, want %q", i, got, wantLabels[i])
			}
			if !tab.Dates[i].Equal(wantDates[i]) {
				t.Errorf("Dates[%d] = %v, want %v", i, tab.Dates[i], wantDates[i])
			}
		}
		want := [][]int64{
			{0, 1, 1}, // {1,2}: W52 {2}, W01 {1}
			{none, none, none},
			{3, 1, none}, // {3,4,5,6}: W01 {3,4,6}, W02 {5}
			{none, none, none},
		}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
		if want := []int64{2, 0, 4, 0}; !slices.Equal(tab.Totals, want) {
			t.Errorf("totals %v, want %v", tab.Totals, want)
		}
	})
}

// TestGetMonthsNowOn31st: counting back months from the 31st must not skip
// or repeat a month (AddDate(0,-1,0) from March 31st gives March 3rd).
func TestGetMonthsNowOn31st(t *testing.T) {
	now := time.Date(2025, 3, 31, 22, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		markIDs(t, c, "signup", day(2024, 12, 31), 1)
		markIDs(t, c, "signup", day(2025, 1, 31), 2, 3)
		markIDs(t, c, "signup", day(2025, 2, 28), 4, 5, 6)
		markIDs(t, c, "signup", day(2025, 3, 31), 7, 8, 9, 10)
		markIDs(t, c, "buy", day(2025, 2, 1), 2, 4)
		markIDs(t, c, "buy", day(2025, 3, 1), 3, 5, 6, 7)
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "signup", Secondary: "buy",
			TimeGroup: bitmapist.Months, Rows: 3, Cols: 3})
		if err != nil {
			t.Fatal(err)
		}
		wantDates := []time.Time{day(2025, 1, 1), day(2025, 2, 1), day(2025, 3, 1)}
		if !slices.EqualFunc(tab.Dates, wantDates, time.Time.Equal) {
			t.Errorf("dates %v, want %v", tab.Dates, wantDates)
		}
		if want := []int64{2, 3, 4}; !slices.Equal(tab.Totals, want) {
			t.Errorf("totals %v, want %v", tab.Totals, want)
		}
		want := [][]int64{{0, 1, 1}, {1, 2, none}, {1, none, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
		if got := tab.RowLabel(1); got != "2025-02" {
			t.Errorf("RowLabel(1) = %q", got)
		}
	})
}

func TestGetOnOrAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		upstreamDaily(t, c, now)
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", Secondary: "locked",
			TimeGroup: bitmapist.Days, Rows: 4, Cols: 4, OnOrAfter: true})
		if err != nil {
			t.Fatal(err)
		}
		// row 0 {100..105}: returned on d0 or later {100..105}, d1.. {100,101,102,105},
		// d2.. {105}, d3 {105}; row 1 {106..112}: d1.. {106..110}, d2.. {106..110},
		// d3 {106,107,109,110}; row 3 {113..117}: d3 {113..116}.
		want := [][]int64{{6, 4, 1, 1}, {5, 5, 4, none}, {none, none, none, none}, {4, none, none, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
	})
}

func TestGetBlankEmptyAndIncludeFuture(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		upstreamDaily(t, c, now)
		markIDs(t, c, "locked", now.AddDate(0, 0, 1), 117) // tomorrow
		q := cohort.Query{Primary: "popped", Secondary: "locked", TimeGroup: bitmapist.Days, Rows: 4, Cols: 3,
			WithReplacement: true}
		q.BlankEmpty = true
		tab, err := cohort.Get(context.Background(), c, q)
		if err != nil {
			t.Fatal(err)
		}
		// d2 has locked users, none from row 0: 0, not blank.
		want := [][]int64{{5, 3, 0}, {2, 2, 4}, {none, none, none}, {4, none, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("BlankEmpty cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
		q.IncludeFuture = true
		tab, err = cohort.Get(context.Background(), c, q)
		if err != nil {
			t.Fatal(err)
		}
		// tomorrow has {117}; the day after has nobody: blank.
		want = [][]int64{{5, 3, 0}, {2, 2, 4}, {none, none, none}, {4, 1, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("IncludeFuture cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
	})
}

func TestGetStartAndPrimaryAnd(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 30, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now)
		upstreamDaily(t, c, now)
		markIDs(t, c, "mobile", now.AddDate(0, 0, -2), 106, 107, 108) // d1
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "popped", PrimaryAnd: "mobile",
			Secondary: "locked", TimeGroup: bitmapist.Days, Rows: 2, Cols: 3, Start: day(2025, 3, 2),
			WithReplacement: true})
		if err != nil {
			t.Fatal(err)
		}
		if !tab.Dates[0].Equal(day(2025, 3, 2)) {
			t.Errorf("row 0 starts %v, want 2025-03-02", tab.Dates[0])
		}
		if want := []int64{3, 0}; !slices.Equal(tab.Totals, want) {
			t.Errorf("totals %v, want %v", tab.Totals, want)
		}
		// cohort {106,107,108}: d1 {106,107}, d2 {107,108}, d3 {106,107}
		want := [][]int64{{2, 2, 2}, {none, none, none}}
		if got := grid(tab); !reflect.DeepEqual(got, want) {
			t.Errorf("cells:\n%swant\n%s", fmtGrid(got), fmtGrid(want))
		}
	})
}

func TestGetLocation(t *testing.T) {
	// Periods are cut in the client's location (UTC+2 here): both marks
	// fall on January 1st there, and so does row 0.
	loc := time.FixedZone("UTC+2", 2*3600)
	now := time.Date(2021, 1, 1, 12, 0, 0, 0, loc)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, now, bitmapist.WithLocation(loc))
		markIDs(t, c, "a", time.Date(2021, 1, 1, 0, 30, 0, 0, loc), 1)
		markIDs(t, c, "a", time.Date(2020, 12, 31, 23, 30, 0, 0, time.UTC), 2) // 01:30 on Jan 1st there
		tab, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "a", Secondary: "a",
			TimeGroup: bitmapist.Days, Rows: 1, Cols: 1})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Totals[0] != 2 || !tab.Dates[0].Equal(time.Date(2021, 1, 1, 0, 0, 0, 0, loc)) || tab.Dates[0].Location() != loc {
			t.Errorf("totals %v, dates %v; want 2 users on 2021-01-01 in %v", tab.Totals, tab.Dates, loc)
		}
	})
}

func TestGetInvalidQuery(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, time.Now())
	rec := record(b)
	ok := cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Days, Rows: 3, Cols: 3}
	for _, tc := range []struct {
		field  string
		change func(q *cohort.Query)
		cause  error
	}{
		{"Rows", func(q *cohort.Query) { q.Rows = 0 }, nil},
		{"Rows", func(q *cohort.Query) { q.Rows = -1 }, nil},
		{"Rows", func(q *cohort.Query) { q.Rows = cohort.MaxRows + 1 }, nil},
		{"Cols", func(q *cohort.Query) { q.Cols = 0 }, nil},
		{"Cols", func(q *cohort.Query) { q.Cols = cohort.MaxCols + 1 }, nil},
		{"Primary", func(q *cohort.Query) { q.Primary = "" }, bitmapist.ErrInvalidEventName},
		{"PrimaryAnd", func(q *cohort.Query) { q.PrimaryAnd = "a\tb" }, bitmapist.ErrInvalidEventName},
		{"Secondary", func(q *cohort.Query) { q.Secondary = "x\xff" }, bitmapist.ErrInvalidEventName},
		{"Additional[1]", func(q *cohort.Query) { q.Additional = []cohort.Step{{Event: "c"}, {Event: "d", Op: 7}} }, nil},
		{"Additional[0]", func(q *cohort.Query) { q.Additional = []cohort.Step{{Event: ""}} }, bitmapist.ErrInvalidEventName},
		{"TimeGroup", func(q *cohort.Query) { q.TimeGroup = 9 }, bitmapist.ErrInvalidTimeGroup},
	} {
		q := ok
		tc.change(&q)
		_, err := cohort.Get(context.Background(), c, q)
		var qe *cohort.QueryError
		switch {
		case !errors.Is(err, cohort.ErrInvalidQuery) || !errors.As(err, &qe):
			t.Errorf("%s: error %v, want a *QueryError wrapping ErrInvalidQuery", tc.field, err)
		case qe.Field != tc.field:
			t.Errorf("error %q names field %q, want %q", err, qe.Field, tc.field)
		case tc.cause != nil && !errors.Is(err, tc.cause):
			t.Errorf("%s: error %v does not wrap %v", tc.field, err, tc.cause)
		}
	}
	if rt, cmds := rec.reset(); rt != 0 {
		t.Errorf("invalid queries sent %d round trips: %v", rt, cmds)
	}
	// Rows and columns at the limits are fine.
	q := ok
	q.Rows, q.Cols = cohort.MaxRows, cohort.MaxCols
	if _, err := cohort.Get(context.Background(), c, q); err != nil {
		t.Errorf("MaxRows × MaxCols: %v", err)
	}
	if _, err := cohort.Get(context.Background(), nil, ok); !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("nil client: error %v, want ErrNilClient", err)
	}
}

func TestGetRedisError(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: time.Second,
		DialerRetries: 1, DialerRetryTimeout: time.Millisecond})
	defer rdb.Close()
	c := bitmapist.New(rdb)
	_, err := cohort.Get(context.Background(), c, cohort.Query{Primary: "a", Secondary: "b",
		TimeGroup: bitmapist.Days, Rows: 2, Cols: 2})
	if err == nil || errors.Is(err, cohort.ErrInvalidQuery) {
		t.Fatalf("error %v, want a Redis error", err)
	}
	_, err = cohort.Get(context.Background(), c, cohort.Query{Primary: "a", Secondary: "b",
		TimeGroup: bitmapist.Days, Rows: 2, Cols: 2, FirstTime: true})
	if err == nil || errors.Is(err, cohort.ErrInvalidQuery) {
		t.Fatalf("first time: error %v, want a Redis error", err)
	}
}
