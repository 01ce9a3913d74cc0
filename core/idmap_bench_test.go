package bitmapist_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults"
)

// privateRedis starts a redis-server of its own on port (from this
// package's range 6460-6469) for a benchmark.
func privateRedis(b *testing.B, port int) *redis.Client {
	srv, err := faults.StartRedis(context.Background(), faults.RedisConfig{Port: port})
	if err != nil {
		b.Skip("no redis-server:", err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// BenchmarkIDMap resolves 10,000 strings per op on a private redis-server:
// all new (IDs, one round trip), all known (IDs), and new ones one ID call
// each (the round trip per string that IDs avoids).
func BenchmarkIDMap(b *testing.B) {
	rdb := privateRedis(b, 6462)
	c := bitmapist.New(rdb)
	ctx := context.Background()
	strs := func(round int) []string {
		out := make([]string, 10_000)
		for i := range out {
			out[i] = "user-" + strconv.Itoa(round) + "-" + strconv.Itoa(i) + "@example.com"
		}
		return out
	}
	b.Run("IDs/new", func(b *testing.B) {
		m := c.IDMap("new")
		round := 0
		for b.Loop() {
			b.StopTimer()
			s := strs(round)
			round++
			b.StartTimer()
			if _, err := m.IDs(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "strings/s")
	})
	b.Run("IDs/known", func(b *testing.B) {
		m := c.IDMap("known")
		s := strs(0)
		if _, err := m.IDs(ctx, s); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := m.IDs(ctx, s); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(10_000*b.N)/b.Elapsed().Seconds(), "strings/s")
	})
	b.Run("ID-each/new", func(b *testing.B) {
		m := c.IDMap("each")
		round := 0
		for b.Loop() {
			b.StopTimer()
			s := strs(round)[:1000]
			round++
			b.StartTimer()
			for _, x := range s {
				if _, err := m.ID(ctx, x); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(1000*b.N)/b.Elapsed().Seconds(), "strings/s")
	})
}
