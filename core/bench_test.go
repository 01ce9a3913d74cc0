package bitmapist_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// Benchmarks run on the real Redis named by BITMAPIST_TEST_REDIS_URL, or on
// miniredis without it. See docs/benchmarks.md for results.

func BenchmarkMarkEvent(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	ctx := context.Background()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := c.MarkEvent(ctx, "bench", uint64(i%1_000_000), bitmapist.At(day0)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarkEvents100k(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	marks := make([]bitmapist.Mark, 100_000)
	for i := range marks {
		marks[i] = bitmapist.Mark{
			Event:  "import",
			UserID: uint64(r.IntN(1_000_000)),
			Time:   day0.Add(time.Duration(r.IntN(90*24)) * time.Hour),
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := c.MarkEvents(ctx, marks); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(marks)*b.N)/b.Elapsed().Seconds(), "marks/s")
}

// millionUsers stores a bitmap of 1,000,000 random users among 2,000,000
// ids under key and returns it.
func millionUsers(b *testing.B, be testutil.Backend, key string, seed uint64) bitmapist.Bitmap {
	b.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	bm := make(bitmapist.Bitmap, 2_000_000/8)
	for bm.Count() < 1_000_000 {
		bm, _ = bm.Set(uint64(r.IntN(2_000_000)))
	}
	if err := be.Client.Set(context.Background(), key, []byte(bm), 0).Err(); err != nil {
		b.Fatal(err)
	}
	return bm
}

func BenchmarkCount1M(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	millionUsers(b, be, c.Key("big", bitmapist.Days, day0), 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if n, err := c.Day("big", day0).Count(ctx); err != nil || n != 1_000_000 {
			b.Fatal(n, err)
		}
	}
}

func BenchmarkIDs1M(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	millionUsers(b, be, c.Key("big", bitmapist.Days, day0), 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ids, err := c.Day("big", day0).IDs(ctx); err != nil || len(ids) != 1_000_000 {
			b.Fatal(len(ids), err)
		}
	}
}

func BenchmarkAnd1Mx1M(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	x := millionUsers(b, be, c.Key("x", bitmapist.Days, day0), 1)
	y := millionUsers(b, be, c.Key("y", bitmapist.Days, day0), 2)
	want := x.AndCount(y)
	ctx := context.Background()
	s := bitmapist.And(c.Day("x", day0), c.Day("y", day0))
	b.Run("Count", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if n, err := s.Count(ctx); err != nil || n != want {
				b.Fatal(n, err)
			}
		}
	})
	b.Run("IDs", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if ids, err := s.IDs(ctx); err != nil || int64(len(ids)) != want {
				b.Fatal(len(ids), err)
			}
		}
	})
}

// BenchmarkSparseIDs lists the one id of a 92 MB bitmap; B/op shows that
// the client never holds the whole string.
func BenchmarkSparseIDs(b *testing.B) {
	be := testutil.Redis(b)
	c := newClient(be)
	if err := c.MarkEvent(context.Background(), "sparse", 739_480_532, bitmapist.At(day0)); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if ids, err := c.Day("sparse", day0).IDs(ctx); err != nil || len(ids) != 1 {
			b.Fatal(ids, err)
		}
	}
}

// BenchmarkAndCount: one cohort cell over a million ids (two 125 KB
// bitmaps), counted in memory.
func BenchmarkAndCount(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	x, y := make(bitmapist.Bitmap, 125_000), make(bitmapist.Bitmap, 125_000)
	for i := range x {
		x[i], y[i] = byte(r.Uint32()), byte(r.Uint32())
	}
	b.SetBytes(int64(len(x)))
	b.ReportAllocs()
	for b.Loop() {
		x.AndCount(y)
	}
}

// benchZones are the zones of the period arithmetic benchmarks: UTC (no
// transitions) and Europe/Berlin (two a year).
var benchZones = []string{"UTC", "Europe/Berlin"}

// BenchmarkPeriodStart is TimeGroup.Start of an instant, per group and
// zone, over a year of instants (changes included).
func BenchmarkPeriodStart(b *testing.B) {
	benchPeriods(b, func(g bitmapist.TimeGroup, t time.Time) time.Time { return g.Start(t) })
}

// BenchmarkPeriodAdd is TimeGroup.Add(t, 1) of an instant, per group and
// zone.
func BenchmarkPeriodAdd(b *testing.B) {
	benchPeriods(b, func(g bitmapist.TimeGroup, t time.Time) time.Time { return g.Add(t, 1) })
}

// BenchmarkPeriodAdd24 is TimeGroup.Add(t, 24): a step of many periods.
func BenchmarkPeriodAdd24(b *testing.B) {
	benchPeriods(b, func(g bitmapist.TimeGroup, t time.Time) time.Time { return g.Add(t, 24) })
}

// BenchmarkWallTime is WallTime of a zone-less reading (the parse of a
// --now, a dashboard parameter or an import row), per zone.
func BenchmarkWallTime(b *testing.B) {
	for _, z := range benchZones {
		loc, _ := time.LoadLocation(z)
		b.Run(z, func(b *testing.B) {
			b.ReportAllocs()
			w := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
			for i := 0; b.Loop(); i++ {
				if _, err := bitmapist.WallTime(w.Add(time.Duration(i%8760)*time.Hour+17*time.Minute), loc); err != nil && !errors.Is(err, bitmapist.ErrSkippedTime) {
					b.Fatal(err)
				}
			}
		})
	}
}

func benchPeriods(b *testing.B, f func(bitmapist.TimeGroup, time.Time) time.Time) {
	for _, z := range benchZones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			b.Fatal(err)
		}
		ts := make([]time.Time, 8760) // every hour of 2024 (+17 minutes)
		for i := range ts {
			ts[i] = time.Date(2024, 1, 1, 0, 17, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).In(loc)
		}
		for _, g := range []bitmapist.TimeGroup{bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months} {
			b.Run(z+"/"+g.String(), func(b *testing.B) {
				b.ReportAllocs()
				var sink time.Time
				for i := 0; b.Loop(); i++ {
					sink = f(g, ts[i%len(ts)])
				}
				_ = sink
			})
		}
	}
}
