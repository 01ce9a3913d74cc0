// Command plugin is the gormplugin fault program: it writes rows through
// GORM with the bitmapist plugin at a fixed rate on PostgreSQL while a
// private Redis (internal/faults, loopback ports -port and -port+1) is
// killed, paused (CLIENT PAUSE), blackholed (a proxy that accepts and never
// answers) and out of memory for -fault each, and reports per fault: failed
// database writes, commit p50/p99 before the fault and while the circuit
// breaker is open, how often the breaker opened, how long after the fault
// ended it closed, and the marks lost (Stats.Failed) or left for the relay
// (WithOutbox: Stats.Deferred, sent later). Each tick also writes a row
// through a second connection without the plugin (the control): "excess"
// is (p99 while open - control p99 while open) - (p99 before - control p99
// before), the plugin's own addition to commit p99 once the breaker is
// open, with the rest of the machine's load cancelled out. It then kills a child process
// writing rows in the same mode (kill -9) during a 2 s Redis pause,
// flushes as the restarted application, and compares every committed row
// with its mark: rows without their mark (the parent's and the child's)
// and marks without their row (phantoms). -mode all (the default) runs the
// default mode, WithQueue and WithOutbox one after the other, each on a
// fresh Redis and table.
//
// Each breaker transition is logged with the error that caused it, how
// long after the last fault began or ended it came, the go-redis pool's
// counters and what the Redis client did since the previous line (dials,
// calls, calls over 100 ms, the relay's batches, failures by error);
// -trace also logs every probe answered. At the end it prints Redis's own
// stalls of 20 ms or more (LATENCY LATEST). -faults picks the faults
// (default kill,pause,blackhole,oom).
//
//	go run ./internal/faults/plugin -pg "host=127.0.0.1 user=postgres dbname=test sslmode=disable"
//
// It is not run by go test (it takes a minute or more per mode); the
// numbers are in docs/benchmarks.md.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/faults"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Row is the tracked model the program writes.
type Row struct {
	ID   uint
	Name string
	bitmapist.Tracked
}

type config struct {
	dsn, mode, table string
	only             string // comma-separated fault names (-faults)
	port, rate       int
	fault, settle    time.Duration
	base             time.Duration
	timeout          time.Duration
	child            bool
	ctxTimeout       bool
	trace            bool // -trace: log the probes' answers
	conns            int  // -conns
	childAddr        string
}

func main() {
	var c config
	flag.StringVar(&c.dsn, "pg", "host=127.0.0.1 user=postgres dbname=test sslmode=disable", "PostgreSQL DSN")
	flag.StringVar(&c.mode, "mode", "all", "plugin mode: default, queue, outbox or all")
	flag.StringVar(&c.only, "faults", "kill,pause,blackhole,oom", "the faults to inject, in this order")
	flag.IntVar(&c.port, "port", 6410, "loopback port of the private Redis (the proxy uses port+1)")
	flag.IntVar(&c.rate, "rate", 200, "Creates per second")
	flag.DurationVar(&c.fault, "fault", 10*time.Second, "length of each fault")
	flag.DurationVar(&c.base, "base", 10*time.Second, "load before each fault (the no-fault baseline)")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "load after each fault")
	flag.DurationVar(&c.timeout, "timeout", 100*time.Millisecond, "the plugin's WithTimeout")
	flag.BoolVar(&c.ctxTimeout, "ctxtimeout", true, "Redis client with ContextTimeoutEnabled (sends on the committing goroutine)")
	flag.IntVar(&c.conns, "conns", 8, "PostgreSQL connections of the plugin's writes and of the control's, each (all kept open)")
	flag.BoolVar(&c.trace, "trace", false, "log every probe the breaker's prober got an answer to, with its time")
	flag.BoolVar(&c.child, "child", false, "internal: run as the child that is killed")
	flag.StringVar(&c.table, "table", "", "internal: the child's table")
	flag.StringVar(&c.childAddr, "addr", "", "internal: the child's Redis address")
	flag.Parse()
	if c.child {
		runChild(c)
		return
	}
	modes := []string{c.mode}
	if c.mode == "all" {
		modes = []string{"default", "queue", "outbox"}
	}
	fmt.Printf("%d Creates/s on PostgreSQL, faults of %v, WithTimeout %v; %s\n", c.rate, c.fault, c.timeout, loadAvg())
	for _, m := range modes {
		c.mode = m
		if err := run(c); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println(loadAvg())
}

// loadAvg returns the machine's load averages (/proc/loadavg).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "load average unknown"
	}
	f := strings.Fields(string(b))
	return "load average " + strings.Join(f[:3], " ")
}

// env is the database, Redis and plugin of one run.
type env struct {
	db    *gorm.DB
	p     *bitmapistplugin.Plugin
	c     *bitmapist.Client
	rdb   *redis.Client
	table string
	start time.Time
	ctl   *gorm.DB // the same database without the plugin (the control writes)

	mu    sync.Mutex
	event string    // the last fault event ("kill broken", "kill mended")
	at    time.Time // when it happened
}

// mark records a fault event for the breaker log.
func (e *env) mark(event string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.event, e.at = event, time.Now()
}

// phase says how long ago the last fault event was.
func (e *env) phase() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.event == "" {
		return "before any fault"
	}
	return fmt.Sprintf("%v after %s", time.Since(e.at).Round(time.Millisecond), e.event)
}

// poolStats formats the go-redis pool counters of rdb and the dials and
// failed calls its hook counted.
func poolStats(rdb *redis.Client) string {
	s := rdb.PoolStats()
	return fmt.Sprintf("pool misses %d total %d idle %d stale %d; %s",
		s.Misses, s.TotalConns, s.IdleConns, s.StaleConns, hookStats(rdb))
}

// callHook counts what the Redis client did: dials (and failed ones, the
// slowest), calls and failed calls by the error's text.
type callHook struct {
	mu          sync.Mutex
	dials       int
	dialErrs    int
	slowestDial time.Duration
	calls       int
	slow        int // calls over 100 ms
	slowest     time.Duration
	big, bigBad int // pipelines of more than 10 commands (the relay's), and those over 100 ms or failed
	fails       map[string]int
	trace       bool // log each probe answered
}

var hooks sync.Map // *redis.Client -> *callHook

// hookStats formats and resets the counts of rdb's hook.
func hookStats(rdb *redis.Client) string {
	v, ok := hooks.Load(rdb)
	if !ok {
		return ""
	}
	h := v.(*callHook)
	h.mu.Lock()
	defer h.mu.Unlock()
	out := fmt.Sprintf("since last: dials %d (failed %d, slowest %v), calls %d (over 100ms %d, slowest %v; batches %d, slow or failed %d), failed %v",
		h.dials, h.dialErrs, h.slowestDial.Round(time.Millisecond), h.calls, h.slow, h.slowest.Round(time.Millisecond), h.big, h.bigBad, h.fails)
	h.dials, h.dialErrs, h.slowestDial, h.calls, h.slow, h.slowest, h.fails = 0, 0, 0, 0, 0, 0, map[string]int{}
	h.big, h.bigBad = 0, 0
	return out
}

func (h *callHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		start := time.Now()
		c, err := next(ctx, network, addr)
		h.mu.Lock()
		h.dials++
		if err != nil {
			h.dialErrs++
		}
		h.slowestDial = max(h.slowestDial, time.Since(start))
		h.mu.Unlock()
		return c, err
	}
}

func (h *callHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		h.count(err, time.Since(start))
		if a := cmd.Args(); h.trace && len(a) == 4 && a[0] == "set" && err == nil {
			log.Printf("    probe answered in %v", time.Since(start).Round(time.Millisecond))
		}
		return err
	}
}

func (h *callHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		h.count(err, time.Since(start))
		if len(cmds) > 10 {
			h.mu.Lock()
			h.big++
			if err != nil || time.Since(start) > 100*time.Millisecond {
				h.bigBad++
			}
			h.mu.Unlock()
		}
		return err
	}
}

// count records one call's outcome.
func (h *callHook) count(err error, d time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.calls++
	if d > 100*time.Millisecond {
		h.slow++
	}
	h.slowest = max(h.slowest, d)
	if err != nil {
		k := err.Error()
		if i := strings.LastIndex(k, ": "); i >= 0 {
			k = k[i+2:]
		}
		if strings.Contains(k, "setinfo") || strings.Contains(k, "maint_notif") {
			return // go-redis's handshake extras that Redis 7.0 does not know
		}
		if len(k) > 40 {
			k = k[:40]
		}
		h.fails[k]++
	}
}

// open connects GORM to the table with the plugin in mode, marking into
// the Redis at addr.
func open(c config, table, addr string) (*env, error) {
	db, err := gorm.Open(postgres.Open(c.dsn), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	poolDB(sqlDB, c.conns)
	// The README's production options (-ctxtimeout=false: go-redis's
	// default, the sends then run on goroutines of their own).
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, ContextTimeoutEnabled: c.ctxTimeout,
		DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	h := &callHook{fails: map[string]int{}, trace: c.trace}
	rdb.AddHook(h)
	hooks.Store(rdb, h)
	bc := bitmapist.New(rdb, bitmapist.WithPrefix("faults_"))
	e := &env{db: db, c: bc, rdb: rdb, table: table, start: time.Now()}
	opts := []bitmapistplugin.Option{bitmapistplugin.WithClient(bc), bitmapistplugin.WithTimeout(c.timeout),
		bitmapistplugin.WithErrorHandler(func(_ context.Context, err error) {
			if be := (*bitmapistplugin.BreakerError)(nil); errors.As(err, &be) && !c.child {
				log.Printf("  %s +%.3fs (%s): %v; %s", c.mode, time.Since(e.start).Seconds(), e.phase(), err, poolStats(rdb))
			}
		})}
	switch c.mode {
	case "queue":
		opts = append(opts, bitmapistplugin.WithQueue(4096))
	case "outbox":
		opts = append(opts, bitmapistplugin.WithOutboxTable(table+"_outbox"))
	}
	e.p = bitmapistplugin.New(nil, opts...)
	if err := db.Use(e.p); err != nil {
		return nil, err
	}
	if err := db.Table(table).AutoMigrate(&Row{}); err != nil {
		return nil, err
	}
	if e.ctl, err = gorm.Open(postgres.Open(c.dsn), &gorm.Config{Logger: logger.Discard}); err != nil {
		return nil, err
	}
	if sqlDB, err := e.ctl.DB(); err == nil {
		poolDB(sqlDB, c.conns)
	}
	if err := e.ctl.Table(table + "_ctl").AutoMigrate(&Row{}); err != nil {
		return nil, err
	}
	return e, nil
}

// poolDB sizes a database pool: n connections at most, all kept open
// between commits. database/sql keeps 2 idle by default, so every burst
// of commits beyond 2 forked new PostgreSQL backends and closed them
// again, a load of its own that stalled the commits it measured (base
// p99s of seconds at 40 connections on a loaded machine).
func poolDB(db *sql.DB, n int) {
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
}

// sample is one Create.
type sample struct {
	start time.Time
	d     time.Duration
	err   error
	ctl   bool // a control write (no plugin)
}

// load writes rows at rate until stop is closed, and returns the samples.
// With control, each tick also writes a row through e.ctl (no plugin)
// into a table of its own: the difference between the two latencies is
// the plugin's, whatever else loads the machine.
func load(e *env, rate int, control bool, stop <-chan struct{}) []sample {
	var (
		mu  sync.Mutex
		out []sample
		wg  sync.WaitGroup
	)
	create := func(db *gorm.DB, table string, ctl bool) {
		defer wg.Done()
		start := time.Now()
		err := db.Table(table).Create(&Row{Name: "f"}).Error
		mu.Lock()
		out = append(out, sample{start: start, d: time.Since(start), err: err, ctl: ctl})
		mu.Unlock()
	}
	t := time.NewTicker(time.Second / time.Duration(rate))
	defer t.Stop()
	for {
		select {
		case <-stop:
			wg.Wait()
			return out
		case <-t.C:
		}
		wg.Add(1)
		go create(e.db, e.table, false)
		if control {
			wg.Add(1)
			go create(e.ctl, e.table+"_ctl", true)
		}
	}
}

// pct returns the q-quantile of the durations of the samples (control or
// not) in [from, to).
func pct(s []sample, ctl bool, from, to time.Time, q float64) time.Duration {
	var ds []time.Duration
	for _, x := range s {
		if x.ctl == ctl && !x.start.Before(from) && x.start.Before(to) {
			ds = append(ds, x.d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(q*float64(len(ds))))]
}

// fault is one way to break Redis and to mend it.
type fault struct {
	name         string
	break_, mend func(ctx context.Context) error
}

// run runs every fault, the kill -9 of a writer and the final check in
// c.mode, on a fresh private Redis and table.
func run(c config) error {
	ctx := context.Background()
	// Persistence on every write, so that killing Redis loses no mark
	// that it acknowledged: what goes missing is the plugin's doing.
	r, err := faults.StartRedis(ctx, faults.RedisConfig{Port: c.port, Args: []string{"--appendonly", "yes", "--appendfsync", "always",
		"--latency-monitor-threshold", "20"}})
	if err != nil {
		return err
	}
	defer r.Close()
	px, err := faults.NewProxy(fmt.Sprintf("127.0.0.1:%d", c.port+1), r.Addr())
	if err != nil {
		return err
	}
	defer px.Close()
	table := fmt.Sprintf("faults_rows_%d", time.Now().UnixNano())
	e, err := open(c, table, px.Addr())
	if err != nil {
		return err
	}
	defer e.db.Migrator().DropTable(table, table+"_outbox", table+"_ctl")
	defer e.p.Close()
	fs := []fault{
		{name: "kill", break_: func(context.Context) error { return r.Kill() }, mend: r.Restart},
		{name: "pause", break_: func(ctx context.Context) error { return r.Pause(ctx, c.fault) }, mend: func(context.Context) error { return nil }},
		{name: "blackhole", break_: func(context.Context) error { px.Blackhole(); return nil }, mend: func(context.Context) error { px.Forward(); return nil }},
		{name: "oom", break_: r.FillMemory, mend: r.ClearMemory},
	}
	fmt.Printf("\nmode %s (%s)\n", c.mode, loadAvg())
	fmt.Printf("%-10s %7s %7s %9s %9s %9s %9s %9s %9s %9s %6s %9s %6s %6s\n", "fault", "writes", "failed", "p50 base", "p99 base", "ctl p99",
		"p50 open", "p99 open", "ctl p99", "excess", "opens", "recovery", "lost", "later")
	for _, name := range strings.Split(c.only, ",") {
		i := slices.IndexFunc(fs, func(f fault) bool { return f.name == name })
		if i < 0 {
			return fmt.Errorf("-faults: unknown fault %q", name)
		}
		line, err := runFault(ctx, c, e, fs[i])
		if err != nil {
			return err
		}
		fmt.Println(line)
	}
	before, err := maxID(e)
	if err != nil {
		return err
	}
	if err := crashChild(ctx, c, e, px.Addr()); err != nil {
		return err
	}
	return check(ctx, e, before)
}

// maxID returns the largest id in e's table (0 when empty).
func maxID(e *env) (uint64, error) {
	var id *uint64
	if err := e.db.Table(e.table).Select("MAX(id)").Scan(&id).Error; err != nil || id == nil {
		return 0, err
	}
	return *id, nil
}

// window is what runFault saw of one fault.
type window struct {
	broke, opened, mended, closed time.Time
	opens                         int64
	lost, deferred                int64 // Stats.Failed and (outbox) Stats.Deferred during the fault and settle
}

// breakAndWatch breaks Redis with f, watches the breaker for c.fault,
// mends it and watches for c.settle more.
func breakAndWatch(ctx context.Context, c config, e *env, f fault) (window, error) {
	var w window
	s0 := e.p.Stats()
	w.broke = time.Now()
	log.Printf("  %s: breaking (%s)", f.name, poolStats(e.rdb))
	e.mark(f.name + " broken")
	if err := f.break_(ctx); err != nil {
		return w, fmt.Errorf("%s: %w", f.name, err)
	}
	for time.Since(w.broke) < c.fault {
		if w.opened.IsZero() && e.p.Stats().Breaker != bitmapistplugin.BreakerClosed {
			w.opened = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	w.mended = time.Now()
	if err := f.mend(ctx); err != nil {
		return w, fmt.Errorf("%s: mend: %w", f.name, err)
	}
	e.mark(f.name + " mended")
	log.Printf("  %s: mended (%s)", f.name, poolStats(e.rdb))
	for time.Since(w.mended) < c.settle {
		if w.closed.IsZero() && e.p.Stats().Breaker == bitmapistplugin.BreakerClosed {
			w.closed = time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	s1 := e.p.Stats()
	w.opens, w.lost = s1.BreakerOpens-s0.BreakerOpens, s1.Failed-s0.Failed
	if c.mode == "outbox" {
		w.deferred = s1.Deferred - s0.Deferred
	}
	return w, nil
}

// runFault loads e for c.base (the baseline), breaks Redis for c.fault,
// mends it, loads for c.settle more, and formats the results.
func runFault(ctx context.Context, c config, e *env, f fault) (string, error) {
	stop := make(chan struct{})
	res := make(chan []sample, 1)
	go func() { res <- load(e, c.rate, true, stop) }()
	time.Sleep(c.base)
	w, err := breakAndWatch(ctx, c, e, f)
	close(stop)
	s := <-res
	if err != nil {
		return "", err
	}
	failed := 0
	for _, x := range s {
		if x.err != nil && !x.ctl {
			if failed == 0 {
				log.Printf("%s: first failed write: %v", f.name, x.err)
			}
			failed++
		}
	}
	from := w.broke.Add(-c.base)
	b50, b99, cb99 := pct(s, false, from, w.broke, 0.5), pct(s, false, from, w.broke, 0.99), pct(s, true, from, w.broke, 0.99)
	o50, o99, co99 := time.Duration(0), time.Duration(0), time.Duration(0)
	if !w.opened.IsZero() {
		o50, o99, co99 = pct(s, false, w.opened, w.mended, 0.5), pct(s, false, w.opened, w.mended, 0.99), pct(s, true, w.opened, w.mended, 0.99)
	}
	rec := "never"
	if !w.closed.IsZero() {
		rec = w.closed.Sub(w.mended).Round(time.Millisecond).String()
	}
	r := func(d time.Duration) time.Duration { return d.Round(10 * time.Microsecond) }
	return fmt.Sprintf("%-10s %7d %7d %9v %9v %9v %9v %9v %9v %9v %6d %9s %6d %6d", f.name, len(s)/2, failed,
		r(b50), r(b99), r(cb99), r(o50), r(o99), r(co99), r((o99-co99)-(b99-cb99)), w.opens, rec, w.lost, w.deferred), nil
}

// runChild writes rows until killed.
func runChild(c config) {
	e, err := open(c, c.table, c.childAddr)
	if err != nil {
		log.Fatal(err)
	}
	load(e, c.rate, false, make(chan struct{}))
}

// crashChild runs a child writing rows into e's table in the same mode,
// pauses Redis 2 s in for 2 s, kills the child with SIGKILL 1 s into the
// pause, and waits for it: e's plugin is the restarted process on the
// same table (and outbox).
func crashChild(ctx context.Context, c config, e *env, addr string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-child", "-pg", c.dsn, "-mode", c.mode, "-table", e.table, "-addr", addr,
		"-rate", fmt.Sprint(c.rate), "-timeout", c.timeout.String(), "-conns", fmt.Sprint(c.conns),
		"-ctxtimeout="+fmt.Sprint(c.ctxTimeout))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	// A 2 s pause: the child's marks of that time wait in its queue or
	// outbox (or fail, in the default mode).
	if err := e.rdb.Do(ctx, "CLIENT", "PAUSE", 2000, "ALL").Err(); err != nil {
		log.Printf("pause: %v", err)
	}
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if c.mode == "outbox" {
		var pending int64
		e.db.Table(e.table + "_outbox").Count(&pending)
		fmt.Printf("kill -9 of a writing process 1 s into a 2 s Redis pause: it left %d outbox rows\n", pending)
	}
	time.Sleep(1200 * time.Millisecond) // until the pause is over
	return nil
}

// check flushes and compares the table's rows with the row:created marks:
// the rows up to before are the faults' (the parent's), the later ones
// the killed child's.
func check(ctx context.Context, e *env, before uint64) error {
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := e.p.Flush(fctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	var ids []uint64
	if err := e.db.Table(e.table).Order("id").Pluck("id", &ids).Error; err != nil {
		return err
	}
	marked, err := markedIDs(ctx, e)
	if err != nil {
		return err
	}
	var missing, childRows, childMissing int
	for _, id := range ids {
		if id > before {
			childRows++
		}
		if !marked[id] {
			if id > before {
				childMissing++
			} else {
				missing++
			}
		}
		delete(marked, id)
	}
	s := e.p.Stats()
	fmt.Printf("after Flush: %d committed rows (%d by the killed child); without their mark: %d of the faults' rows "+
		"(FailedMarks %d), %d of the child's; %d phantom marks\n", len(ids), childRows, missing, s.Failed, childMissing, len(marked))
	fmt.Printf("Stats %+v\n", s)
	// Redis's own stalls of 20 ms or more (LATENCY LATEST: event, time,
	// latest ms, max ms).
	if v, err := e.rdb.Do(ctx, "LATENCY", "LATEST").Result(); err == nil {
		fmt.Printf("Redis LATENCY LATEST (event, unix time, latest ms, max ms): %v\n", v)
	}
	return nil
}

// markedIDs returns the ids with a row:created mark on the days of the run.
func markedIDs(ctx context.Context, e *env) (map[uint64]bool, error) {
	out := map[uint64]bool{}
	for _, day := range []time.Time{e.start, time.Now()} {
		ids, err := e.c.Day("row:created", day).IDs(ctx)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			out[id] = true
		}
	}
	return out, nil
}
