package cohort_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// Benchmark data: benchUsers users over the 23 months that a 12×12
// monthly table reads (January 2024 .. November 2025), in two shapes:
//
//   - "sequential": ids are handed out at sign-up (a database's
//     auto-increment key, the usual bitmapist user id), so each month's
//     sign-ups are one range of ids; from its sign-up month on, a user is
//     active in a month with probability 0.3 and pays with probability 0.1.
//   - "random": each user signs up in a random month, and is active (0.3)
//     and pays (0.1) in any month independently: every bitmap spans all
//     ids, the worst case for reading only the bytes a cohort can use.
const (
	benchUsers = 1_000_000
	benchRows  = 12
	benchCols  = 12
)

var benchStart = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// benchQuery is the table: cohorts of "signup", returning as "active"
// AND "paid", with replacement (each cell counted on its own, which is
// what the reference's one BITOP + one BITCOUNT per cell computes). Every
// one of its 144 cells is in the past.
func benchQuery() cohort.Query {
	return cohort.Query{Primary: "signup", Secondary: "active",
		Additional: []cohort.Step{{Event: "paid", Op: cohort.And}},
		TimeGroup:  bitmapist.Months, Rows: benchRows, Cols: benchCols,
		Start: benchStart, Now: time.Date(2025, 12, 15, 0, 0, 0, 0, time.UTC), WithReplacement: true}
}

// writeBenchData writes the month bitmaps of the shape directly (SET),
// which is what marking the users month by month would leave.
func writeBenchData(b *testing.B, c *bitmapist.Client, sequential bool) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	months := benchRows + benchCols - 1
	bitmaps := map[string][]bitmapist.Bitmap{
		"signup": make([]bitmapist.Bitmap, months),
		"active": make([]bitmapist.Bitmap, months),
		"paid":   make([]bitmapist.Bitmap, months),
	}
	for id := uint64(0); id < benchUsers; id++ {
		m, from := rng.IntN(months), 0
		if sequential {
			m = int(id * uint64(months) / benchUsers)
			from = m
		}
		bitmaps["signup"][m], _ = bitmaps["signup"][m].Set(id) // ids < benchUsers: no error
		for k := from; k < months; k++ {
			if rng.Float64() < 0.3 {
				bitmaps["active"][k], _ = bitmaps["active"][k].Set(id) // ids < benchUsers: no error
			}
			if rng.Float64() < 0.1 {
				bitmaps["paid"][k], _ = bitmaps["paid"][k].Set(id) // ids < benchUsers: no error
			}
		}
	}
	p := c.Redis().Pipeline()
	for ev, bms := range bitmaps {
		for k, bm := range bms {
			p.Set(ctx, c.Key(ev, bitmapist.Months, bitmapist.Months.Add(benchStart, k)), []byte(bm), 0)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		b.Fatal(err)
	}
}

// referenceTable computes q's counts the way flask-bitmapist's get_cohort
// does on bitmapist: per row one BITCOUNT of the cohort, per cell one
// BITOP AND of the cohort with the return events into a temporary key and
// one BITCOUNT of it, each its own round trip; the temporary keys are
// deleted at the end (delete_runtime_bitop_keys). It works on a single
// Redis only (BITOP across cluster slots fails with CROSSSLOT).
func referenceTable(ctx context.Context, c *bitmapist.Client, q cohort.Query) ([][]int64, []int64, error) {
	rdb := c.Redis()
	g := q.TimeGroup
	var tmps []string
	totals := make([]int64, q.Rows)
	cells := make([][]int64, q.Rows)
	for i := range q.Rows {
		rowStart := g.Add(q.Start, i)
		primary := c.Key(q.Primary, g, rowStart)
		n, err := rdb.BitCount(ctx, primary, nil).Result()
		if err != nil {
			return nil, nil, err
		}
		totals[i] = n
		cells[i] = make([]int64, q.Cols)
		for j := range q.Cols {
			at := g.Add(rowStart, j)
			if n == 0 || at.After(q.Now) {
				cells[i][j] = none
				continue
			}
			keys := []string{primary, c.Key(q.Secondary, g, at)}
			for _, s := range q.Additional {
				keys = append(keys, c.Key(s.Event, g, at))
			}
			tmp := fmt.Sprintf("%sbitop_AND_%d_%d", c.Prefix(), i, j)
			tmps = append(tmps, tmp)
			if err := rdb.BitOpAnd(ctx, tmp, keys...).Err(); err != nil {
				return nil, nil, err
			}
			if cells[i][j], err = rdb.BitCount(ctx, tmp, nil).Result(); err != nil {
				return nil, nil, err
			}
		}
	}
	return cells, totals, rdb.Del(ctx, tmps...).Err()
}

// roundTripCounter counts round trips: one per command sent alone, one
// per pipeline.
type roundTripCounter struct{ n int64 }

func (r *roundTripCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (r *roundTripCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { r.n++; return next(ctx, cmd) }
}
func (r *roundTripCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { r.n++; return next(ctx, cmds) }
}

// benchBackends runs fn as sub-benchmarks "redis" (testutil.Redis: the
// real one when BITMAPIST_TEST_REDIS_URL is set, else miniredis) and
// "bitmapist-server" (when BITMAPIST_TEST_BITMAPIST_SERVER is set; skipped
// with that reason otherwise).
func benchBackends(b *testing.B, fn func(b *testing.B, be testutil.Backend)) {
	b.Run("redis", func(b *testing.B) { fn(b, testutil.Redis(b)) })
	b.Run("bitmapist-server", func(b *testing.B) {
		be, ok := testutil.BitmapistServer(b)
		if !ok {
			b.Skip("not run: " + testutil.EnvBitmapistServer + " is not set")
		}
		fn(b, be)
	})
}

// BenchmarkTable12x12Monthly computes a 12×12 monthly table over 1,000,000
// users with one additional event, on Redis and on bitmapist-server
// (benchBackends), both ways in the same run and on the same data:
// "bitmapist" (cohort.Get) and "reference" (one BITOP and one BITCOUNT
// round trip per cell). Both must give the same table.
func BenchmarkTable12x12Monthly(b *testing.B) {
	for _, shape := range []string{"sequential", "random"} {
		b.Run(shape, func(b *testing.B) {
			benchBackends(b, func(b *testing.B, be testutil.Backend) {
				ctx := context.Background()
				c := bitmapist.New(be.Client, bitmapist.WithPrefix(be.Prefix))
				writeBenchData(b, c, shape == "sequential")
				q := benchQuery()

				tab, err := cohort.Get(ctx, c, q)
				if err != nil {
					b.Fatal(err)
				}
				refCells, refTotals, err := referenceTable(ctx, c, q)
				if err != nil {
					b.Fatal(err)
				}
				got := grid(tab)
				for i := range q.Rows {
					if tab.Totals[i] != refTotals[i] {
						b.Fatalf("row %d: total %d, reference %d", i, tab.Totals[i], refTotals[i])
					}
					for j := range q.Cols {
						if got[i][j] != refCells[i][j] {
							b.Fatalf("cell (%d,%d) = %d, reference %d", i, j, got[i][j], refCells[i][j])
						}
					}
				}

				counter := &roundTripCounter{}
				be.Client.AddHook(counter)
				run := func(b *testing.B, table func() error) {
					b.ReportAllocs()
					counter.n = 0
					for b.Loop() {
						if err := table(); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(counter.n)/float64(b.N), "roundtrips/op")
				}
				b.Run("bitmapist", func(b *testing.B) {
					run(b, func() error { _, err := cohort.Get(ctx, c, q); return err })
				})
				b.Run("reference", func(b *testing.B) {
					run(b, func() error { _, _, err := referenceTable(ctx, c, q); return err })
				})
			})
		})
	}
}

// latencyHook adds a fixed delay to every round trip, as a network between
// the application and Redis would (loopback has almost none). It waits by
// spinning: time.Sleep rounds 200 µs up to about a millisecond here.
type latencyHook struct{ d time.Duration }

func (h latencyHook) wait() {
	for start := time.Now(); time.Since(start) < h.d; {
	}
}

func (h latencyHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h latencyHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.wait(); return next(ctx, cmd) }
}
func (h latencyHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.wait(); return next(ctx, cmds) }
}

// BenchmarkTable12x12MonthlyNetwork is BenchmarkTable12x12Monthly with
// 200 µs added to every round trip, a network round trip within one data
// centre: what the reference's 301 round trips cost when Redis is not on
// the same machine.
func BenchmarkTable12x12MonthlyNetwork(b *testing.B) {
	for _, shape := range []string{"sequential", "random"} {
		b.Run(shape, func(b *testing.B) {
			be := testutil.Redis(b)
			ctx := context.Background()
			c := bitmapist.New(be.Client, bitmapist.WithPrefix(be.Prefix))
			writeBenchData(b, c, shape == "sequential")
			q := benchQuery()
			be.Client.AddHook(latencyHook{200 * time.Microsecond})
			b.Run("bitmapist", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := cohort.Get(ctx, c, q); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("reference", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, _, err := referenceTable(ctx, c, q); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
