package bitmapistplugin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/redis/go-redis/v9"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// roundTrips counts the round trips of one benchmark by kind (PostgreSQL
// statements through a pgx tracer, Redis calls through a go-redis hook)
// and the time each kind took, summed over all goroutines: the plugin's
// relay included.
type roundTrips struct {
	mu     sync.Mutex
	n      map[string]int
	d      map[string]time.Duration
	tagged bool // count only statements whose context has an rtTag
	split  bool // count those without one as "bg-<kind>" (the relay's)
}

// rtTag marks the contexts of the statements a tagged roundTrips counts.
type rtTag struct{}

type rtStart struct {
	kind string
	at   time.Time
}

type rtKey struct{}

func newRoundTrips() *roundTrips {
	return &roundTrips{n: map[string]int{}, d: map[string]time.Duration{}}
}

func (r *roundTrips) add(kind string, d time.Duration) {
	r.mu.Lock()
	r.n[kind]++
	r.d[kind] += d
	r.mu.Unlock()
}

// sqlKind names a statement: begin, commit, insert (the row),
// insert-folded (the row and its outbox rows, see WithOutbox),
// outbox-insert, outbox-update (a folded transaction's rows given the
// commit time), outbox-delete, relay (the relay's claims and counts),
// other.
func sqlKind(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	switch {
	case strings.HasPrefix(q, "begin"):
		return "begin"
	case strings.HasPrefix(q, "commit"):
		return "commit"
	case strings.HasPrefix(q, "with bitmapist_rows"):
		return "insert-folded"
	case strings.HasPrefix(q, `insert into "bmob`):
		return "outbox-insert"
	case strings.HasPrefix(q, `update "bmob`) && strings.Contains(q, "at_ms"):
		return "outbox-update"
	case strings.HasPrefix(q, `delete from "bmob`):
		return "outbox-delete"
	case strings.HasPrefix(q, "insert"):
		return "insert"
	case strings.Contains(q, `"bmob`):
		return "relay"
	}
	return "other"
}

// TraceQueryStart is part of pgx.QueryTracer.
func (r *roundTrips) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if r.tagged && ctx.Value(rtTag{}) == nil {
		return ctx
	}
	return context.WithValue(ctx, rtKey{}, rtStart{kind: r.bg(ctx) + "pg-" + sqlKind(data.SQL), at: time.Now()})
}

// TraceQueryEnd is part of pgx.QueryTracer.
func (r *roundTrips) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(rtKey{}).(rtStart); ok {
		r.add(s.kind, time.Since(s.at))
	}
}

// bg returns the prefix of the kind of a call with ctx: "bg-" for an
// untagged one when r splits, else "".
func (r *roundTrips) bg(ctx context.Context) string {
	if r.split && ctx.Value(rtTag{}) == nil {
		return "bg-"
	}
	return ""
}

// DialHook is part of redis.Hook.
func (r *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

// ProcessHook is part of redis.Hook.
func (r *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmd)
		r.add(r.bg(ctx)+"redis", time.Since(start))
		return err
	}
}

// ProcessPipelineHook is part of redis.Hook.
func (r *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		start := time.Now()
		err := next(ctx, cmds)
		r.add(r.bg(ctx)+"redis", time.Since(start))
		return err
	}
}

// report adds, per created row, the count and the microseconds of each
// kind of round trip to b's results (e.g. "pg-outbox-insert-calls/op",
// "pg-outbox-insert-us/op").
func (r *roundTrips) report(b *testing.B, ops int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for kind, n := range r.n {
		b.ReportMetric(float64(n)/float64(ops), kind+"-calls/op")
		b.ReportMetric(float64(r.d[kind].Microseconds())/float64(ops), kind+"-us/op")
	}
}

// BenchmarkCreateRoundTrips is BenchmarkCreate on PostgreSQL with every
// round trip counted and timed (see roundTrips.report): what a Create of
// one tracked row costs in each mode, statement by statement, the relay's
// statements included. Needs BITMAPIST_TEST_POSTGRES_DSN.
func BenchmarkCreateRoundTrips(b *testing.B) {
	dsn, ok := testutil.PostgresDSN(b)
	if !ok {
		b.Skip("needs PostgreSQL (" + testutil.EnvPostgresDSN + ")")
	}
	ob1, ob2 := randomName(b, "bmob"), randomName(b, "bmob")
	for _, mode := range []struct {
		name  string
		opts  []bitmapistplugin.Option
		table string
	}{
		{"plain", nil, ""},
		{"plugin", []bitmapistplugin.Option{}, ""},
		{"plugin-outbox", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob1)}, ob1},
		{"plugin-outbox-async", []bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(ob2), bitmapistplugin.WithQueue(1)}, ob2},
	} {
		b.Run(mode.name, func(b *testing.B) {
			rt := newRoundTrips()
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				b.Fatal(err)
			}
			cfg.Tracer = rt
			dc := dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector {
				return postgres.New(postgres.Config{Conn: stdlib.OpenDB(*cfg)})
			}}
			db := openDB(b, dc, nil)
			var p *bitmapistplugin.Plugin
			if mode.opts != nil {
				rb := testutil.Redis(b)
				rdb := productionClient(b, rb.Client)
				rdb.AddHook(rt)
				c := bitmapist.New(rdb, bitmapist.WithPrefix(rb.Prefix))
				p = bitmapistplugin.New(nil, append([]bitmapistplugin.Option{bitmapistplugin.WithClient(c)}, mode.opts...)...)
				if err := db.Use(p); err != nil {
					b.Fatal(err)
				}
				if mode.table != "" {
					b.Cleanup(func() { _ = db.Migrator().DropTable(mode.table) })
				}
			}
			rt.reset()
			ops := 0
			b.ReportAllocs()
			for b.Loop() {
				ops++
				if err := db.Create(&User{Name: "bench", Age: 1}).Error; err != nil {
					b.Fatal(err)
				}
			}
			if p != nil {
				if err := p.Flush(context.Background()); err != nil {
					b.Fatal(err)
				}
				_ = p.Close()
			}
			b.StopTimer()
			rt.report(b, ops)
		})
	}
}

// reset forgets what was counted so far (the set-up's statements).
func (r *roundTrips) reset() {
	r.mu.Lock()
	clear(r.n)
	clear(r.d)
	r.mu.Unlock()
}

var _ redis.Hook = (*roundTrips)(nil)
