//go:build unix

package bitmapistplugin_test

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// ratioBlocks is how many consecutive blocks BenchmarkCreateVsPlain splits
// its pairs into to report the spread of the ratio (ratio-lo, ratio-hi).
const ratioBlocks = 8

// BenchmarkCreateVsPlain measures what a plugin mode adds to a plain
// PostgreSQL Create without the drift between separate runs: each
// iteration does one db.Create of a tracked User on a database without
// the plugin ("plain") and one on a database with it (same PostgreSQL,
// same table shape, each with its own connection pool), alternating which
// goes first, and times each side on its own. Modes: "outbox"
// (WithOutbox, the synchronous send), "plugin" (the default, no outbox)
// and "outbox-async" (WithOutbox and WithQueue). Besides ns/op (both
// Creates of an iteration) it reports, per side, the mean ("plain-ns/op",
// "mode-ns/op") and median ("plain-med-ns", "mode-med-ns") Create time;
// "ratio" (mean over mean), "ratio-med" (median over median), "extra-us"
// (mean difference, µs), and the lowest and highest ratio of means of
// ratioBlocks consecutive blocks of iterations ("ratio-lo", "ratio-hi").
// The relay's background statements run meanwhile and are paid for by
// both sides. The final Flush and Close are not timed. Marks go to the
// Redis of BITMAPIST_TEST_REDIS_URL (else miniredis) through a client
// with the README's production options. Needs
// BITMAPIST_TEST_POSTGRES_DSN; run with -benchtime=Nx, N >= 8.
func BenchmarkCreateVsPlain(b *testing.B) {
	dsn, ok := testutil.PostgresDSN(b)
	if !ok {
		b.Skip("needs PostgreSQL (" + testutil.EnvPostgresDSN + ")")
	}
	for _, mode := range []struct {
		name   string
		outbox bool
		opts   []bitmapistplugin.Option
	}{
		{"outbox", true, nil},
		{"plugin", false, nil},
		{"outbox-async", true, []bitmapistplugin.Option{bitmapistplugin.WithQueue(1)}},
	} {
		b.Run(mode.name, func(b *testing.B) {
			plainRT, modeRT := newRoundTrips(), newRoundTrips()
			plainRT.split, modeRT.split = true, true
			plainDB := openDB(b, tracedPostgres(b, dsn, plainRT), nil)
			db := openDB(b, tracedPostgres(b, dsn, modeRT), nil)
			opts := mode.opts
			if mode.outbox {
				table := randomName(b, "bmob")
				opts = append(opts, bitmapistplugin.WithOutboxTable(table))
				b.Cleanup(func() { _ = db.Migrator().DropTable(table) })
			}
			p, c := installBenchPlugin(b, db, modeRT, opts...)
			plain, with := benchPairs(b, plainDB, db, plainRT, modeRT)
			if err := p.Flush(context.Background()); err != nil {
				b.Fatal(err)
			}
			if err := p.Close(); err != nil {
				b.Fatal(err)
			}
			if n := p.FailedMarks(); n != 0 {
				b.Fatalf("%d marks failed", n)
			}
			ids, err := c.Day("user:created", c.Now()).Count(context.Background())
			if err != nil || ids == 0 {
				b.Fatalf("no marks recorded: %d %v", ids, err)
			}
			reportPairs(b, plain, with)
			plainRT.reportAs(b, "plain", len(plain), meanDur(plain), true)
			modeRT.reportAs(b, "mode", len(with), meanDur(with), !strings.HasSuffix(mode.name, "-async"))
		})
	}
}

// tracedPostgres returns the PostgreSQL of dsn with every statement
// counted and timed by rt.
func tracedPostgres(b *testing.B, dsn string, rt *roundTrips) dbCase {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		b.Fatal(err)
	}
	cfg.Tracer = rt
	return dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector {
		return postgres.New(postgres.Config{Conn: stdlib.OpenDB(*cfg)})
	}}
}

// installBenchPlugin installs a plugin with opts on db, marking through a
// production client (see productionClient) into testutil.Redis, its
// calls timed by rt.
func installBenchPlugin(b *testing.B, db *gorm.DB, rt *roundTrips, opts ...bitmapistplugin.Option) (*bitmapistplugin.Plugin, *bitmapist.Client) {
	rb := testutil.Redis(b)
	rdb := productionClient(b, rb.Client)
	rdb.AddHook(rt)
	c := bitmapist.New(rdb, bitmapist.WithPrefix(rb.Prefix))
	p := bitmapistplugin.New(nil, append([]bitmapistplugin.Option{bitmapistplugin.WithClient(c)}, opts...)...)
	if err := db.Use(p); err != nil {
		b.Fatal(err)
	}
	return p, c
}

// benchPairs runs b's iterations, each one Create on plainDB and one on
// db in alternating order (after a few untimed ones on each, to open the
// connections; then rts forget them), and returns the time of each
// Create, by side. It reports the process's CPU time (user and system,
// every goroutine: the relay's included) per Create of each side as
// plain-cpu-us and mode-cpu-us.
func benchPairs(b *testing.B, plainDB, db *gorm.DB, rts ...*roundTrips) (plain, with []time.Duration) {
	var cpu [2]time.Duration // plain, mode
	tagged := context.WithValue(context.Background(), rtTag{}, true)
	create := func(db *gorm.DB, side int) time.Duration {
		c0 := processCPU(b)
		start := time.Now()
		err := db.WithContext(tagged).Create(&User{Name: "bench", Age: 1}).Error
		d := time.Since(start)
		cpu[side] += processCPU(b) - c0
		if err != nil {
			b.Fatal(err)
		}
		return d
	}
	for range 20 {
		create(plainDB, 0)
		create(db, 1)
	}
	for _, rt := range rts {
		rt.reset()
	}
	cpu = [2]time.Duration{}
	b.ReportAllocs()
	for b.Loop() {
		if len(plain)%2 == 0 {
			plain = append(plain, create(plainDB, 0))
			with = append(with, create(db, 1))
		} else {
			with = append(with, create(db, 1))
			plain = append(plain, create(plainDB, 0))
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(cpu[0].Microseconds())/float64(len(plain)), "plain-cpu-us")
	b.ReportMetric(float64(cpu[1].Microseconds())/float64(len(with)), "mode-cpu-us")
	return plain, with
}

// processCPU returns the CPU time the process has used (user and system).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportPairs reports the metrics of BenchmarkCreateVsPlain.
func reportPairs(b *testing.B, plain, with []time.Duration) {
	mp, mw := meanDur(plain), meanDur(with)
	b.ReportMetric(mp, "plain-ns/op")
	b.ReportMetric(mw, "mode-ns/op")
	b.ReportMetric(medianDur(plain), "plain-med-ns")
	b.ReportMetric(medianDur(with), "mode-med-ns")
	b.ReportMetric(mw/mp, "ratio")
	b.ReportMetric(medianDur(with)/medianDur(plain), "ratio-med")
	b.ReportMetric((mw-mp)/1e3, "extra-us")
	if len(plain) < ratioBlocks {
		return
	}
	lo, hi := 0.0, 0.0
	n := len(plain) / ratioBlocks
	for i := range ratioBlocks {
		r := meanDur(with[i*n:(i+1)*n]) / meanDur(plain[i*n:(i+1)*n])
		if i == 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	b.ReportMetric(lo, "ratio-lo")
	b.ReportMetric(hi, "ratio-hi")
}

// meanDur returns the mean of d in ns.
func meanDur(d []time.Duration) float64 {
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return float64(sum) / float64(len(d))
}

// medianDur returns the median of d in ns.
func medianDur(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[len(s)/2])
}

// reportAs reports, as side-<kind>-us, the mean µs per Create spent in
// each kind of round trip r counted over ops Creates (bg-<kind>: the
// relay's, which no Create waits for), and as side-rest-us
// what is left of the mean Create time (mean, ns) once the round trips
// the Create waited for are taken out: the client's own work (GORM, the
// plugin, the drivers) and its scheduling. redisOnPath says whether the
// Creates waited for their Redis calls.
func (r *roundTrips) reportAs(b *testing.B, side string, ops int, mean float64, redisOnPath bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rest := mean
	for kind, d := range r.d {
		us := float64(d.Nanoseconds()) / float64(ops) / 1e3
		b.ReportMetric(us, side+"-"+kind+"-us")
		if !strings.HasPrefix(kind, "bg-") && (kind != "redis" || redisOnPath) {
			rest -= float64(d.Nanoseconds()) / float64(ops)
		}
	}
	b.ReportMetric(rest/1e3, side+"-rest-us")
}
