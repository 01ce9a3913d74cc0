// Command plugin is the gormplugin fault program: it writes rows through
// GORM with the bitmapist plugin at a fixed rate on PostgreSQL while a
// private Redis (internal/faults, loopback ports -port and -port+1) is
// killed, paused (CLIENT PAUSE), blackholed (a proxy that accepts and never
// answers) and out of memory for -fault each, and reports per fault: failed
// database writes, commit p50/p99 before the fault and while the circuit
// breaker is open, and how long after the fault ended the breaker closed.
// With -mode outbox it then kills a child process writing rows (kill -9)
// mid-load, restarts, flushes, and checks that every committed row has its
// mark and that no mark lacks its row.
//
//	go run ./internal/faults/plugin -pg "host=127.0.0.1 user=postgres dbname=test sslmode=disable" -mode outbox
//
// It is not run by go test (it takes a minute or more per mode); the
// numbers are in docs/benchmarks.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"sort"
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
	port, rate       int
	fault, settle    time.Duration
	child            bool
	childAddr        string
}

func main() {
	var c config
	flag.StringVar(&c.dsn, "pg", "host=127.0.0.1 user=postgres dbname=test sslmode=disable", "PostgreSQL DSN")
	flag.StringVar(&c.mode, "mode", "outbox", "plugin mode: default, queue or outbox")
	flag.IntVar(&c.port, "port", 6410, "loopback port of the private Redis (the proxy uses port+1)")
	flag.IntVar(&c.rate, "rate", 200, "Creates per second")
	flag.DurationVar(&c.fault, "fault", 10*time.Second, "length of each fault")
	flag.DurationVar(&c.settle, "settle", 3*time.Second, "load before and after each fault")
	flag.BoolVar(&c.child, "child", false, "internal: run as the child that is killed")
	flag.StringVar(&c.table, "table", "", "internal: the child's table")
	flag.StringVar(&c.childAddr, "addr", "", "internal: the child's Redis address")
	flag.Parse()
	if c.child {
		runChild(c)
		return
	}
	if err := run(c); err != nil {
		log.Fatal(err)
	}
}

// env is the database, Redis and plugin of one run.
type env struct {
	db    *gorm.DB
	p     *bitmapistplugin.Plugin
	c     *bitmapist.Client
	rdb   *redis.Client
	table string
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
	// Within PostgreSQL's max_connections (100) while commits pile up.
	sqlDB.SetMaxOpenConns(40)
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: time.Second})
	bc := bitmapist.New(rdb, bitmapist.WithPrefix("faults_"))
	opts := []bitmapistplugin.Option{bitmapistplugin.WithClient(bc), bitmapistplugin.WithTimeout(100 * time.Millisecond),
		bitmapistplugin.WithErrorHandler(func(_ context.Context, err error) {
			var be *bitmapistplugin.BreakerError
			if asBreaker(err, &be) {
				log.Printf("handler: %v", err)
			}
		})}
	switch c.mode {
	case "queue":
		opts = append(opts, bitmapistplugin.WithQueue(4096))
	case "outbox":
		opts = append(opts, bitmapistplugin.WithOutboxTable(table+"_outbox"))
	}
	p := bitmapistplugin.New(nil, opts...)
	if err := db.Use(p); err != nil {
		return nil, err
	}
	if err := db.Table(table).AutoMigrate(&Row{}); err != nil {
		return nil, err
	}
	return &env{db: db, p: p, c: bc, rdb: rdb, table: table}, nil
}

// sample is one Create.
type sample struct {
	start time.Time
	d     time.Duration
	err   error
}

// load writes rows at rate until stop is closed, and returns the samples.
func load(e *env, rate int, stop <-chan struct{}) []sample {
	var (
		mu  sync.Mutex
		out []sample
		wg  sync.WaitGroup
	)
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
		go func() {
			defer wg.Done()
			start := time.Now()
			err := e.db.Table(e.table).Create(&Row{Name: "f"}).Error
			mu.Lock()
			out = append(out, sample{start: start, d: time.Since(start), err: err})
			mu.Unlock()
		}()
	}
}

// pct returns the q-quantile of the durations of samples in [from, to).
func pct(s []sample, from, to time.Time, q float64) (time.Duration, int) {
	var ds []time.Duration
	for _, x := range s {
		if !x.start.Before(from) && x.start.Before(to) {
			ds = append(ds, x.d)
		}
	}
	if len(ds) == 0 {
		return 0, 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[min(len(ds)-1, int(q*float64(len(ds))))], len(ds)
}

// fault is one way to break Redis and to mend it.
type fault struct {
	name         string
	break_, mend func(ctx context.Context) error
}

func run(c config) error {
	ctx := context.Background()
	// Persistence on every write, so that killing Redis loses no mark
	// that it acknowledged: what goes missing is the plugin's doing.
	r, err := faults.StartRedis(ctx, faults.RedisConfig{Port: c.port, Args: []string{"--appendonly", "yes", "--appendfsync", "always"}})
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
	defer e.db.Migrator().DropTable(table, table+"_outbox")
	fs := []fault{
		{name: "kill", break_: func(context.Context) error { return r.Kill() }, mend: r.Restart},
		{name: "pause", break_: func(ctx context.Context) error { return r.Pause(ctx, c.fault) }, mend: func(context.Context) error { return nil }},
		{name: "blackhole", break_: func(context.Context) error { px.Blackhole(); return nil }, mend: func(context.Context) error { px.Forward(); return nil }},
		{name: "oom", break_: r.FillMemory, mend: r.ClearMemory},
	}
	fmt.Printf("mode %s, %d Creates/s, faults of %v (machine shared with other work: numbers are noisy)\n", c.mode, c.rate, c.fault)
	fmt.Printf("%-10s %8s %8s %10s %10s %10s %10s %9s\n", "fault", "writes", "failed", "p50 base", "p99 base", "p50 open", "p99 open", "recovery")
	for _, f := range fs {
		line, err := runFault(ctx, c, e, f)
		if err != nil {
			return err
		}
		fmt.Println(line)
	}
	if c.mode == "outbox" {
		if err := crashChild(ctx, c, e, px.Addr()); err != nil {
			return err
		}
	}
	return check(ctx, e)
}

// runFault loads e for settle, breaks Redis for c.fault, mends it, loads
// for settle more, and formats the results.
func runFault(ctx context.Context, c config, e *env, f fault) (string, error) {
	stop := make(chan struct{})
	res := make(chan []sample, 1)
	go func() { res <- load(e, c.rate, stop) }()
	time.Sleep(c.settle)
	broke := time.Now()
	if err := f.break_(ctx); err != nil {
		close(stop)
		<-res
		return "", fmt.Errorf("%s: %w", f.name, err)
	}
	var opened time.Time
	for time.Since(broke) < c.fault {
		if opened.IsZero() && e.p.Stats().Breaker != bitmapistplugin.BreakerClosed {
			opened = time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	mended := time.Now()
	if err := f.mend(ctx); err != nil {
		close(stop)
		<-res
		return "", fmt.Errorf("%s: mend: %w", f.name, err)
	}
	var closed time.Time
	for time.Since(mended) < c.settle {
		if closed.IsZero() && e.p.Stats().Breaker == bitmapistplugin.BreakerClosed {
			closed = time.Now()
		}
		time.Sleep(5 * time.Millisecond)
	}
	close(stop)
	s := <-res
	failed := 0
	for _, x := range s {
		if x.err != nil {
			if failed == 0 {
				log.Printf("%s: first failed write: %v", f.name, x.err)
			}
			failed++
		}
	}
	b50, _ := pct(s, broke.Add(-c.settle), broke, 0.5)
	b99, _ := pct(s, broke.Add(-c.settle), broke, 0.99)
	o50, o99 := time.Duration(0), time.Duration(0)
	if !opened.IsZero() {
		o50, _ = pct(s, opened, mended, 0.5)
		o99, _ = pct(s, opened, mended, 0.99)
	}
	rec := "never"
	if !closed.IsZero() {
		rec = closed.Sub(mended).Round(time.Millisecond).String()
	}
	return fmt.Sprintf("%-10s %8d %8d %10v %10v %10v %10v %9s", f.name, len(s), failed,
		b50.Round(10*time.Microsecond), b99.Round(10*time.Microsecond),
		o50.Round(10*time.Microsecond), o99.Round(10*time.Microsecond), rec), nil
}

// asBreaker is errors.As for *BreakerError.
func asBreaker(err error, be **bitmapistplugin.BreakerError) bool {
	for err != nil {
		if b, ok := err.(*bitmapistplugin.BreakerError); ok {
			*be = b
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// runChild writes rows until killed.
func runChild(c config) {
	e, err := open(c, c.table, c.childAddr)
	if err != nil {
		log.Fatal(err)
	}
	load(e, c.rate, make(chan struct{}))
}

// crashChild runs a child writing rows into e's table, pauses Redis,
// kills the child with SIGKILL 3 s in, and waits for it: e's plugin is the
// restarted process on the same outbox.
func crashChild(ctx context.Context, c config, e *env, addr string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self, "-child", "-pg", c.dsn, "-mode", "outbox", "-table", e.table, "-addr", addr,
		"-rate", fmt.Sprint(c.rate))
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	// A 2 s pause: the child's marks of that time wait in its outbox.
	if err := e.rdb.Do(ctx, "CLIENT", "PAUSE", 2000, "ALL").Err(); err != nil {
		log.Printf("pause: %v", err)
	}
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	var pending int64
	e.db.Table(e.table + "_outbox").Count(&pending)
	fmt.Printf("kill -9 of a writing process during a Redis pause: it left %d outbox rows\n", pending)
	return nil
}

// check flushes and compares the table's rows with the row:created marks.
func check(ctx context.Context, e *env) error {
	fctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := e.p.Flush(fctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	var ids []uint64
	if err := e.db.Table(e.table).Order("id").Pluck("id", &ids).Error; err != nil {
		return err
	}
	marked, err := e.c.Day("row:created", time.Now()).IDs(ctx)
	if err != nil {
		return err
	}
	rows, marks := map[uint64]bool{}, map[uint64]bool{}
	for _, id := range ids {
		rows[id] = true
	}
	for _, id := range marked {
		marks[id] = true
	}
	missing, phantom := 0, 0
	for id := range rows {
		if !marks[id] {
			missing++
		}
	}
	for id := range marks {
		if !rows[id] {
			phantom++
		}
	}
	s := e.p.Stats()
	fmt.Printf("after Flush: %d committed rows, %d without their mark, %d phantom marks; Stats %+v\n",
		len(rows), missing, phantom, s)
	return nil
}
