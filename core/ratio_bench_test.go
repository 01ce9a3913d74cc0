package bitmapist_test

import (
	"context"
	"math/rand/v2"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults"
)

// ratioPort is the loopback port of the private redis-server that
// BenchmarkMarkEventsVsLimit runs on, so that other load on the shared
// Redis does not skew the ratio.
const ratioPort = 6460

// importMarks returns n marks of one event: random users 0..999,999 at
// random hours over 90 days from day0 (3 SETBITs each into ~106 keys).
func importMarks(n int) []bitmapist.Mark {
	r := rand.New(rand.NewPCG(3, 4))
	marks := make([]bitmapist.Mark, n)
	for i := range marks {
		marks[i] = bitmapist.Mark{
			Event:  "import",
			UserID: uint64(r.IntN(1_000_000)),
			Time:   day0.Add(time.Duration(r.IntN(90*24*3600)) * time.Second),
		}
	}
	return marks
}

var rpsRe = regexp.MustCompile(`([0-9.]+) requests per second`)

// pipelinedLimit runs redis-benchmark -P 1000 -c 1 with n SETBITs (of one
// offset: redis-benchmark's random values have leading zeros, which SETBIT
// refuses) and returns its requests per second.
func pipelinedLimit(b *testing.B, port, n int) float64 {
	out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-P", "1000", "-c", "1", "-n", strconv.Itoa(n), "-q",
		"SETBIT", "limit", "999999", "1").CombinedOutput()
	if err != nil {
		b.Fatalf("redis-benchmark: %v: %s", err, out)
	}
	m := rpsRe.FindAllSubmatch(out, -1)
	if m == nil {
		b.Fatalf("redis-benchmark said %q", out)
	}
	v, _ := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
	return v
}

// BenchmarkMarkEventsVsLimit runs, interleaved, redis-benchmark's pipelined
// SETBIT limit (-P 1000 -c 1) and MarkEvents of 1,000,000 marks (3,000,000
// SETBITs, MULTI/EXEC per chunk) on a private redis-server, and reports the
// ratio of MarkEvents' SETBITs per second to the limit's (median of the
// rounds), plus allocations per mark. As the machine may be loaded, it
// also reports cpu-ratio: the Redis server's CPU time per SETBIT under
// redis-benchmark over that under MarkEvents, the ratio of the throughputs
// Redis allows each when it is the bottleneck. Needs redis-server and
// redis-benchmark on PATH. Each round is 100,000 marks against 300,000 SETBITs of
// redis-benchmark; run with -benchtime=20x for twenty rounds.
func BenchmarkMarkEventsVsLimit(b *testing.B) {
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		b.Skip("redis-benchmark not on PATH")
	}
	ctx := context.Background()
	srv, err := faults.StartRedis(ctx, faults.RedisConfig{Port: ratioPort})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	c := bitmapist.New(rdb)
	marks := importMarks(1_000_000)
	// Warm up both: the bitmaps exist from then on.
	pipelinedLimit(b, srv.Port(), 1_000_000)
	if err := c.MarkEvents(ctx, marks); err != nil {
		b.Fatal(err)
	}
	var ratios, rates, limits, cpuRatios []float64
	var mallocs uint64
	var ms runtime.MemStats
	const part = 100_000 // marks per round: short rounds see the same load
	for b.Loop() {
		// Rounds alternate which side goes first (ABBA), against drift.
		var limit, rate, limitCPU, markCPU float64
		limitRound := func() {
			cpu := redisCPU(b, rdb)
			limit = pipelinedLimit(b, srv.Port(), 3*part)
			limitCPU = redisCPU(b, rdb) - cpu
		}
		markRound := func() {
			cpu := redisCPU(b, rdb)
			defer func() { markCPU = redisCPU(b, rdb) - cpu }()
			chunk := marks[(len(ratios)*part)%len(marks):][:part]
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			start := time.Now()
			if err := c.MarkEvents(ctx, chunk); err != nil {
				b.Fatal(err)
			}
			rate = 3 * part / time.Since(start).Seconds()
			runtime.ReadMemStats(&ms)
			mallocs += ms.Mallocs - before
		}
		if len(ratios)%2 == 0 {
			limitRound()
			markRound()
		} else {
			markRound()
			limitRound()
		}
		ratios, rates, limits = append(ratios, rate/limit), append(rates, rate), append(limits, limit)
		cpuRatios = append(cpuRatios, limitCPU/markCPU)
		b.Logf("round %d: MarkEvents %.0f SETBIT/s (%.0f marks/s), limit %.0f SETBIT/s, ratio %.3f; Redis CPU per SETBIT %.0f ns vs %.0f ns (ratio %.3f)",
			len(ratios), rate, rate/3, limit, rate/limit, markCPU/(3*part)*1e9, limitCPU/(3*part)*1e9, limitCPU/markCPU)
	}
	b.ReportMetric(median(ratios), "ratio")
	b.ReportMetric(median(cpuRatios), "cpu-ratio")
	b.ReportMetric(median(rates)/3, "marks/s")
	b.ReportMetric(median(limits), "limit-SETBIT/s")
	b.ReportMetric(float64(mallocs)/float64(len(ratios)*part), "allocs/mark")
}

// redisCPU returns the seconds of CPU (user + system) the server has used.
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for _, f := range []string{"used_cpu_user", "used_cpu_sys"} {
		m := regexp.MustCompile(`(?m)^` + f + `:([0-9.]+)`).FindStringSubmatch(info)
		if m == nil {
			b.Fatalf("INFO cpu has no %s: %q", f, info)
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		total += v
	}
	return total
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}
