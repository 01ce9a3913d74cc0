package bitmapistplugin_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	sqlite "github.com/glebarez/sqlite" // pure Go: no C compiler needed
	"github.com/google/uuid"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
)

// Models used by the tests.

type User struct {
	ID   uint
	Name string
	Age  int
	bitmapist.Tracked
}

type SoftUser struct {
	ID        uint
	Name      string
	Age       int
	DeletedAt gorm.DeletedAt `gorm:"index"`
	bitmapist.Tracked
}

// Order belongs to a user: its events are marked for UserID.
type Order struct {
	ID     uint
	UserID uint64
	Amount int
	bitmapist.Tracked
}

func (o Order) BitmapistUserID() uint64 { return o.UserID }

// Note names its owner by a string key, with a pointer receiver.
type Note struct {
	ID        uint
	AuthorKey string `gorm:"size:64"`
	bitmapist.Tracked
}

func (n *Note) BitmapistUserKey() string { return n.AuthorKey }

type Post struct {
	ID    uint
	Title string
	bitmapist.Tracked
}

type Account struct {
	ID   string `gorm:"primaryKey;size:64"`
	Name string
	bitmapist.Tracked
}

type Device struct {
	ID   uuid.UUID `gorm:"type:varchar(36);primaryKey"`
	Name string
	bitmapist.Tracked
}

type Member struct {
	ID uint
	bitmapist.Tracked
}

func (Member) BitmapistEventPrefix() string { return "club_member" }

// Pair has a composite primary key.
type Pair struct {
	A uint `gorm:"primaryKey;autoIncrement:false"`
	B uint `gorm:"primaryKey;autoIncrement:false"`
	bitmapist.Tracked
}

// Thing has a primary key the database does not generate.
type Thing struct {
	ID   uint `gorm:"primaryKey;autoIncrement:false"`
	Name string
	bitmapist.Tracked
}

// Plain is not tracked.
type Plain struct {
	ID   uint
	Name string
}

var allModels = []any{&User{}, &SoftUser{}, &Order{}, &Note{}, &Post{}, &Account{}, &Device{}, &Member{}, &Pair{}, &Thing{}, &Plain{}}

// testSendTimeout is the plugin's WithTimeout in tests that do not test
// timeouts: long, so that a loaded machine (a Redis round trip of several
// hundred milliseconds) does not make a send fail; tests assert outcomes,
// never timing. Tests of timeouts set their own, which wins.
const testSendTimeout = 10 * time.Second

// testNow is the fixed clock of every test client: marks without WithTime
// land in its day.
var testNow = time.Date(2025, 3, 12, 15, 4, 5, 0, time.UTC)

// dbCase is one SQL database the suite runs on.
type dbCase struct {
	name string
	open func(t testing.TB) gorm.Dialector
}

// dbCases returns SQLite (in memory) plus PostgreSQL and MariaDB when
// their DSNs are set (testutil.PostgresDSN, testutil.MySQLDSN).
func dbCases(t testing.TB) []dbCase {
	t.Helper()
	cases := []dbCase{{name: "sqlite", open: func(t testing.TB) gorm.Dialector {
		return sqlite.Open(fmt.Sprintf("file:%s?mode=memory&cache=shared&_pragma=busy_timeout(5000)", randomName(t, "mem")))
	}}}
	if dsn, ok := testutil.PostgresDSN(t); ok {
		cases = append(cases, dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector { return postgres.Open(dsn) }})
	}
	if dsn, ok := testutil.MySQLDSN(t); ok {
		cases = append(cases, dbCase{name: "mysql", open: func(testing.TB) gorm.Dialector { return mysql.Open(dsn) }})
	}
	return cases
}

func randomName(t testing.TB, prefix string) string {
	t.Helper()
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b[:])
}

// errRecorder collects what the plugin reports to its error handler.
type errRecorder struct {
	mu   sync.Mutex
	errs []error
}

func (r *errRecorder) handle(_ context.Context, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *errRecorder) all() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

// env is one test's database with the plugin installed, and its Redis.
type env struct {
	db   *gorm.DB
	p    *bitmapistplugin.Plugin
	c    *bitmapist.Client
	b    testutil.Backend
	db0  string // dialector name
	errs *errRecorder
}

// openDB opens dc with tables prefixed uniquely for this test, migrates
// allModels, and drops the tables when t ends.
func openDB(t testing.TB, dc dbCase, cfg *gorm.Config) *gorm.DB {
	t.Helper()
	if cfg == nil {
		cfg = &gorm.Config{}
	}
	cfg.NamingStrategy = schema.NamingStrategy{TablePrefix: randomName(t, "bmgp") + "_"}
	cfg.Logger = logger.Discard
	db, err := gorm.Open(dc.open(t), cfg)
	if err != nil {
		t.Fatalf("open %s: %v", dc.name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if dc.name != "sqlite" {
			if err := db.Migrator().DropTable(allModels...); err != nil {
				t.Errorf("drop tables: %v", err)
			}
		}
		_ = sqlDB.Close()
	})
	if err := db.AutoMigrate(allModels...); err != nil {
		t.Fatalf("migrate %s: %v", dc.name, err)
	}
	return db
}

// newEnv installs a plugin marking into b on a fresh database of dc.
func newEnv(t testing.TB, dc dbCase, b testutil.Backend, cfg *gorm.Config, opts ...bitmapistplugin.Option) *env {
	t.Helper()
	db := openDB(t, dc, cfg)
	rec := &errRecorder{}
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap), bitmapist.WithClock(func() time.Time { return testNow }))
	p := bitmapistplugin.New(nil, append([]bitmapistplugin.Option{
		bitmapistplugin.WithClient(c),
		bitmapistplugin.WithTimeout(testSendTimeout),
		bitmapistplugin.WithErrorHandler(rec.handle),
	}, opts...)...)
	if err := db.Use(p); err != nil {
		t.Fatalf("Use: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return &env{db: db, p: p, c: c, b: b, db0: dc.name, errs: rec}
}

// run runs fn once per database (dbCases) and Redis backend
// (testutil.ForEachRedis), databases in parallel.
func run(t *testing.T, fn func(t *testing.T, e *env), opts ...bitmapistplugin.Option) {
	t.Helper()
	runCfg(t, nil, fn, opts...)
}

// runCfg is run with a gorm.Config (copied per database).
func runCfg(t *testing.T, cfg *gorm.Config, fn func(t *testing.T, e *env), opts ...bitmapistplugin.Option) {
	t.Helper()
	for _, dc := range dbCases(t) {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
				var c *gorm.Config
				if cfg != nil {
					cp := *cfg
					c = &cp
				}
				e := newEnv(t, dc, b, c, opts...)
				fn(t, e)
				if t.Failed() {
					t.Logf("reported errors: %v", e.errs.all())
				}
			})
		})
	}
}

// idsOn returns the ids marked for event on day at (sorted), once the
// marks queued so far have been sent.
func (e *env) idsOn(t testing.TB, event string, at time.Time) []uint64 {
	t.Helper()
	e.flush(t)
	ids, err := e.c.Day(event, at).IDs(context.Background())
	if err != nil {
		t.Fatalf("IDs(%s): %v", event, err)
	}
	slices.Sort(ids)
	return ids
}

// ids returns the ids marked for event on testNow's day.
func (e *env) ids(t testing.TB, event string) []uint64 {
	t.Helper()
	return e.idsOn(t, event, testNow)
}

// want fails t unless event's ids on testNow's day are exactly want.
func (e *env) want(t testing.TB, event string, want ...uint64) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if got := e.ids(t, event); !slices.Equal(got, want) {
		if len(got) == 0 && len(want) == 0 {
			return
		}
		t.Errorf("%s: marked ids %v, want %v", event, got, want)
	}
}

// wantOK fails t if the statement failed.
func wantOK(t testing.TB, tx *gorm.DB) *gorm.DB {
	t.Helper()
	if tx.Error != nil {
		t.Fatalf("statement failed: %v", tx.Error)
	}
	return tx
}

// flush waits for the plugin's queued marks.
func (e *env) flush(t testing.TB) {
	t.Helper()
	if err := e.p.Flush(context.Background()); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// noErrors fails t if the plugin reported anything.
func (e *env) noErrors(t testing.TB) {
	t.Helper()
	e.flush(t)
	if errs := e.errs.all(); len(errs) > 0 {
		t.Errorf("plugin reported %d errors: %v", len(errs), errs)
	}
	if n := e.p.FailedMarks(); n != 0 {
		t.Errorf("FailedMarks = %d, want 0", n)
	}
}

// eventNames lists every event with data under the test prefix.
func (e *env) eventNames(t testing.TB) []string {
	t.Helper()
	e.flush(t)
	names, err := e.c.EventNames(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func idsOf[T any](rows []T, id func(T) uint) []uint64 {
	out := make([]uint64, len(rows))
	for i, r := range rows {
		out[i] = uint64(id(r))
	}
	return out
}

func userID(u User) uint { return u.ID }

// errorsIs reports whether any reported error wraps target.
func errorsIs(errs []error, target error) bool {
	return slices.ContainsFunc(errs, func(err error) bool { return errors.Is(err, target) })
}

func equalIDs(got, want []uint64) bool {
	want = slices.Clone(want)
	slices.Sort(want)
	return slices.Equal(got, want)
}
