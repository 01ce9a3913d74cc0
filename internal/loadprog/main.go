// Command loadprog measures heavy reads on a Redis of its own (never the
// shared one): it writes random bitmaps of N users with whole-string SETs
// (no SETBIT per user), then times cohort tables, the flask-bitmapist way
// (one BITOP + BITCOUNT round trip per cell) and a 30-day unique count
// (bench), or runs table readers and a MarkEvent loop at once and reports
// the markers' latency and SLOWLOG (load). See docs/benchmarks.md.
//
//	go run ./internal/loadprog -addr 127.0.0.1:6420 -users 100000000 gen
//	go run ./internal/loadprog -addr 127.0.0.1:6420 -users 100000000 bench
//	go run ./internal/loadprog -addr 127.0.0.1:6420 -users 1000000 -daily gen
//	go run ./internal/loadprog -addr 127.0.0.1:6420 -users 1000000 load
//	go run ./internal/loadprog -users 1000000 -clients 50 dash
//	# or readers and markers in two processes:
//	go run ./internal/loadprog -users 1000000 read & go run ./internal/loadprog -users 1000000 mark
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// now is the "now" of every table: the last row's period.
var now = time.Date(2025, 12, 20, 12, 0, 0, 0, time.UTC)

func main() {
	addr := flag.String("addr", "127.0.0.1:6420", "address of a Redis of your own (SLOWLOG is reset by load)")
	users := flag.Int64("users", 1_000_000, "number of user ids (bitmaps are users/8 bytes)")
	daily := flag.Bool("daily", false, "gen: also 800 days of signup and active (load's worst-case query)")
	seq := flag.Bool("seq", false, "gen: ids sequential (each bitmap's users a contiguous range) instead of random over the whole range")
	runs := flag.Int("runs", 3, "bench: interleaved runs (the median is reported)")
	clients := flag.Int("clients", 20, "load: table readers")
	dur := flag.Duration("for", 20*time.Second, "load: how long")
	inflight := flag.Int64("inflight", 0, "bytes in flight per client (0: core's default)")
	pipe := flag.Int64("pipeline", 0, "bytes per pipelined round trip (0: core's default)")
	prof := flag.String("cpuprofile", "", "write a CPU profile of the command to this file")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	rdb := redis.NewClient(&redis.Options{Addr: *addr})
	c := bitmapist.New(rdb, bitmapist.WithPrefix(fmt.Sprintf("lp%d_", *users)), bitmapist.WithClock(func() time.Time { return now }),
		bitmapist.WithReadLimits(bitmapist.ReadLimits{InFlight: *inflight, Pipeline: *pipe}))
	ctx := context.Background()
	var err error
	switch flag.Arg(0) {
	case "gen":
		err = gen(ctx, rdb, c, *users, *seq, *daily)
	case "bench":
		err = bench(ctx, rdb, c, *runs)
	case "load":
		err = load(ctx, rdb, c, *clients, *dur, true)
	case "read":
		err = load(ctx, rdb, c, *clients, *dur, false)
	case "dash":
		err = dash(ctx, c, *clients)
	case "mark":
		err = markOnly(ctx, rdb, c, *dur)
	default:
		err = fmt.Errorf("usage: loadprog [flags] gen|bench|load|read|mark|dash")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadprog:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

// periods returns the keys gen writes: months and weeks of "active" and
// "paid" (the return event and the additional AND event), days of
// "active" (the 30-day count), and the first-period keys of "signup".
func periods(c *bitmapist.Client) map[string][]string {
	out := map[string][]string{}
	for _, e := range []string{"active", "paid"} {
		for k := range 12 {
			out["months"] = append(out["months"], c.Key(e, bitmapist.Months, bitmapist.Months.Add(now, -k)))
		}
		for k := range 52 {
			out["weeks"] = append(out["weeks"], c.Key(e, bitmapist.Weeks, bitmapist.Weeks.Add(now, -k)))
		}
	}
	for k := range 30 {
		out["days"] = append(out["days"], c.Key("active", bitmapist.Days, bitmapist.Days.Add(now, -k)))
	}
	return out
}

// gen writes every bitmap: random bits where 1/4 (months), 1/8 (weeks),
// 1/32 (days) or 1/16 (signup) of the ids are set; with seq, each
// bitmap's users are one contiguous run of that share of the ids instead.
// With daily, it also writes 800 days of signup and active (the load
// program's worst-case 400x400 daily query).
func gen(ctx context.Context, rdb *redis.Client, c *bitmapist.Client, users int64, seq, daily bool) error {
	n := (users + 7) / 8
	ands := map[string]int{"months": 2, "weeks": 3, "days": 5}
	rng := rand.New(rand.NewPCG(uint64(users), 7))
	buf := make([]byte, n)
	put := func(key string, k, i int) error {
		end := fill(buf, k, seq, i, rng)
		return rdb.Set(ctx, key, buf[:end], 0).Err()
	}
	for kind, keys := range periods(c) {
		for i, k := range keys {
			if err := put(k, ands[kind], i); err != nil {
				return err
			}
		}
	}
	for k := range 52 {
		if err := put(c.Key("signup", bitmapist.Weeks, bitmapist.Weeks.Add(now, -k)), 4, k); err != nil {
			return err
		}
	}
	for k := range 12 {
		if err := put(c.Key("signup", bitmapist.Months, bitmapist.Months.Add(now, -k)), 4, k); err != nil {
			return err
		}
	}
	for k := 0; daily && k < 800; k++ {
		for _, e := range []string{"signup", "active"} {
			if err := put(c.Key(e, bitmapist.Days, bitmapist.Days.Add(now, -k)), 5, k); err != nil {
				return err
			}
		}
	}
	fmt.Printf("wrote %d-user bitmaps of %d bytes\n", users, n)
	return nil
}

// fill sets 1/2^ands of buf's bits at random (the AND of ands random
// words); with seq, a contiguous run of that share starting at a place
// that moves with i. It returns the length of the bitmap: with seq the end
// of the run, as SETBIT leaves a bitmap (it ends at its highest id).
func fill(buf []byte, ands int, seq bool, i int, rng *rand.Rand) int {
	clear(buf)
	if seq {
		run := len(buf) >> ands
		start := (i * len(buf) / 60) % max(1, len(buf)-run)
		for j := start; j < start+run; j++ {
			buf[j] = 0xff
		}
		return start + run
	}
	for j := 0; j < len(buf); j += 8 {
		w := ^uint64(0)
		for range ands {
			w &= rng.Uint64()
		}
		for b := 0; b < 8 && j+b < len(buf); b++ {
			buf[j+b] = byte(w >> (8 * b))
		}
	}
	return len(buf)
}

func query(g bitmapist.TimeGroup, n int) cohort.Query {
	return cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: g, Rows: n, Cols: n, Now: now,
		WithReplacement: true, Additional: []cohort.Step{{Event: "paid", Op: cohort.And}}}
}

// flaskWay computes the 12x12 monthly table as flask-bitmapist does: per
// cell one BITOP AND into a temporary key and one BITCOUNT, a round trip
// each, plus one BITCOUNT per row.
func flaskWay(ctx context.Context, rdb *redis.Client, c *bitmapist.Client, n int) error {
	g := bitmapist.Months
	t0 := g.Add(now, -(n - 1))
	for i := range n {
		row := c.Key("signup", g, g.Add(t0, i))
		if err := rdb.BitCount(ctx, row, nil).Err(); err != nil {
			return err
		}
		for j := 0; i+j < n; j++ {
			t := g.Add(t0, i+j)
			tmp := c.Prefix() + "bitop_AND_flask"
			if err := rdb.BitOpAnd(ctx, tmp, row, c.Key("active", g, t), c.Key("paid", g, t)).Err(); err != nil {
				return err
			}
			if err := rdb.BitCount(ctx, tmp, nil).Err(); err != nil {
				return err
			}
		}
	}
	return rdb.Del(ctx, c.Prefix()+"bitop_AND_flask").Err()
}

func timed(fn func() error) (time.Duration, error) {
	start := time.Now()
	err := fn()
	return time.Since(start), err
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// bench runs the measured reads interleaved, runs times, and prints the
// medians, the bytes read and the peak RSS.
func bench(ctx context.Context, rdb *redis.Client, c *bitmapist.Client, runs int) error {
	names := []string{"12x12 monthly (cohort.Get)", "12x12 monthly (flask way)", "52x52 weekly (cohort.Get)", "30-day unique count"}
	times := make([][]time.Duration, len(names))
	var read [3]int64
	days := make([]bitmapist.Set, 30)
	for k := range days {
		days[k] = c.Day("active", bitmapist.Days.Add(now, -k))
	}
	var count int64
	for range runs {
		steps := []func() error{
			func() error {
				t, err := cohort.Get(ctx, c, query(bitmapist.Months, 12))
				read[0] = bytesOf(t)
				return err
			},
			func() error { return flaskWay(ctx, rdb, c, 12) },
			func() error {
				t, err := cohort.Get(ctx, c, query(bitmapist.Weeks, 52))
				read[2] = bytesOf(t)
				return err
			},
			func() error { var err error; count, err = bitmapist.Or(days...).Count(ctx); return err },
		}
		for i, fn := range steps {
			d, err := timed(fn)
			if err != nil {
				return fmt.Errorf("%s: %w", names[i], err)
			}
			times[i] = append(times[i], d)
		}
	}
	for i, n := range names {
		fmt.Printf("%-28s median %8.1f ms  runs %v\n", n, float64(median(times[i]).Microseconds())/1000, times[i])
	}
	fmt.Printf("bytes read: 12x12 %d, 52x52 %d; 30-day count %d users\n", read[0], read[2], count)
	fmt.Printf("ratio flask/Get 12x12: %.1fx; peak RSS %d MB\n", float64(median(times[1]))/float64(median(times[0])), peakRSS()>>20)
	return nil
}

func bytesOf(t *cohort.Table) int64 {
	if t == nil {
		return 0
	}
	return t.BytesRead
}

// peakRSS returns the process's peak resident set size in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Maxrss << 10 // kilobytes on Linux
}

// load runs clients goroutines computing 52x52 weekly tables, one running
// a worst-case valid query (400x400 daily, the return event given 20
// times), and a MarkEvent loop, for d; then prints the markers' latency
// percentiles and the slowest SLOWLOG entries.
// With mark false (the "read" command) it runs only the readers, for a
// marker loop in another process ("mark"), so that the markers' latency
// does not include this process's scheduling.
func load(ctx context.Context, rdb *redis.Client, c *bitmapist.Client, clients int, d time.Duration, mark bool) error {
	if err := rdb.ConfigSet(ctx, "slowlog-log-slower-than", "10000").Err(); err != nil {
		return err
	}
	rdb.SlowLogReset(ctx)
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	tables, errs := 0, 0
	reader := func(q cohort.Query) {
		defer wg.Done()
		for ctx.Err() == nil {
			_, err := cohort.Get(ctx, c, q)
			mu.Lock()
			if err == nil {
				tables++
			} else if ctx.Err() == nil {
				errs++
				fmt.Fprintln(os.Stderr, "table:", err)
			}
			mu.Unlock()
		}
	}
	for range clients {
		wg.Add(1)
		go reader(query(bitmapist.Weeks, 52))
	}
	worst := query(bitmapist.Days, 400)
	worst.Additional = slices.Repeat([]cohort.Step{{Event: "active", Op: cohort.And}}, 20)
	wg.Add(1)
	go reader(worst)
	var lat []time.Duration
	if mark {
		lat = markLoop(ctx, c)
	}
	wg.Wait()
	return report(context.Background(), rdb, lat, tables, errs)
}

// markOnly runs the MarkEvent loop alone for d and reports it.
func markOnly(ctx context.Context, rdb *redis.Client, c *bitmapist.Client, d time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return report(context.Background(), rdb, markLoop(ctx, c), 0, 0)
}

// markLoop marks one event every millisecond until ctx ends and returns
// each call's latency.
func markLoop(ctx context.Context, c *bitmapist.Client) []time.Duration {
	var lat []time.Duration
	for id := uint64(0); ctx.Err() == nil; id++ {
		d, _ := timed(func() error { return c.MarkEvent(context.Background(), "marker", id%1_000_000, bitmapist.At(now)) })
		lat = append(lat, d)
		time.Sleep(time.Millisecond)
	}
	return lat
}

func report(ctx context.Context, rdb *redis.Client, lat []time.Duration, tables, errs int) error {
	if len(lat) == 0 {
		lat = []time.Duration{0}
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("marks %d: p50 %s p99 %s max %s; tables done %d, errors %d; GOMAXPROCS %d\n",
		len(lat), pct(0.5), pct(0.99), lat[len(lat)-1], tables, errs, runtime.GOMAXPROCS(0))
	logs, err := rdb.SlowLogGet(ctx, 10).Result()
	if err != nil {
		return err
	}
	fmt.Printf("SLOWLOG entries over 10 ms: %d\n", len(logs))
	for _, l := range logs {
		fmt.Printf("  %6.1f ms %.80v\n", float64(l.Duration.Microseconds())/1000, l.Args)
	}
	return nil
}
