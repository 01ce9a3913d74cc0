package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/schollz/progressbar/v3"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults"
)

// log1M returns a 1,000,000-row CSV event log with RFC 3339 times over 90
// days and two events: integer ids 0..999,999, or (strings) 64-hex-digit
// ids of 100,000 distinct users.
func log1M(strings bool) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	var buf bytes.Buffer
	buf.WriteString("user,time,event\n")
	start := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for range 1_000_000 {
		at := start.Add(time.Duration(r.IntN(90*24*3600)) * time.Second).Format(time.RFC3339)
		ev := []string{"app:open", "purchase"}[r.IntN(2)]
		if strings {
			u := r.IntN(100_000)
			fmt.Fprintf(&buf, "%016x%016x%016x%016x,%s,%s\n", u, u*7, u*13, u*31, at, ev)
		} else {
			fmt.Fprintf(&buf, "%d,%s,%s\n", r.IntN(1_000_000), at, ev)
		}
	}
	return buf.Bytes()
}

// BenchmarkImport1M imports log1M end to end (CSV parsing, checks, id map,
// marking) with a progress bar counting the bytes read, on a private
// redis-server (port 6463), and reports rows/s and each stage's busy time.
func BenchmarkImport1M(b *testing.B) {
	srv, err := faults.StartRedis(context.Background(), faults.RedisConfig{Port: 6463})
	if err != nil {
		b.Skip("no redis-server:", err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	for _, strs := range []bool{false, true} {
		name := map[bool]string{false: "int", true: "string"}[strs]
		data := log1M(strs)
		b.Run(name, func(b *testing.B) {
			c := bitmapist.New(rdb, bitmapist.WithPrefix("imp_"+name+"_"))
			cfg := importConfig{UserCol: "user", TimeCol: "time", EventCol: "event", TimeFormat: "rfc3339", StringIDs: strs}
			var st importStages
			for b.Loop() {
				bar := progressbar.NewOptions64(int64(len(data)), progressbar.OptionSetWriter(io.Discard),
					progressbar.OptionShowBytes(true), progressbar.OptionThrottle(100*time.Millisecond))
				sum, err := importCSV(b.Context(), c, io.TeeReader(bytes.NewReader(data), bar), cfg)
				if err != nil || sum.Marked != 1_000_000 {
					b.Fatalf("marked %d, %v", sum.Marked, err)
				}
				st.add(sum.Stages)
			}
			b.ReportMetric(float64(1_000_000*b.N)/b.Elapsed().Seconds(), "rows/s")
			total := b.Elapsed().Seconds()
			b.ReportMetric(st.Parse.Seconds()/total, "parse-share")
			b.ReportMetric(st.IDMap.Seconds()/total, "idmap-share")
			b.ReportMetric(st.Mark.Seconds()/total, "mark-share")
		})
	}
}
