package bitmapistplugin_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/logger"
)

// foldEnv is a PostgreSQL database (its statements counted by kind, see
// sqlKind) with the plugin and an outbox on a table of its own, marking
// into Miniredis with the clock *now.
type foldEnv struct {
	*env
	rt    *roundTrips
	table string
	now   *atomic.Pointer[time.Time]
}

func newFoldEnv(t *testing.T, cfg *gorm.Config, opts ...bitmapistplugin.Option) *foldEnv {
	t.Helper()
	dsn, ok := testutil.PostgresDSN(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testutil.EnvPostgresDSN + ")")
	}
	rt := newRoundTrips()
	rt.tagged = true
	pc, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pc.Tracer = rt
	dc := dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector {
		return postgres.New(postgres.Config{Conn: stdlib.OpenDB(*pc)})
	}}
	b := testutil.Miniredis(t)
	now := &atomic.Pointer[time.Time]{}
	now.Store(&testNow)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithClock(func() time.Time { return *now.Load() }))
	db := openDB(t, dc, cfg)
	table, drop := outboxTable(t)
	drop(db)
	rec := &errRecorder{}
	p := bitmapistplugin.New(nil, append([]bitmapistplugin.Option{bitmapistplugin.WithClient(c),
		bitmapistplugin.WithTimeout(testSendTimeout), bitmapistplugin.WithErrorHandler(rec.handle),
		bitmapistplugin.WithOutboxTable(table)}, opts...)...)
	if err := db.Use(p); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() }) // before the table's drop
	rt.reset()
	// Only the test's own statements are counted, not the relay's.
	db = db.WithContext(context.WithValue(context.Background(), rtTag{}, true))
	return &foldEnv{env: &env{db: db, p: p, c: c, b: b, db0: "postgres", errs: rec}, rt: rt, table: table, now: now}
}

// counts returns how many statements of each kind ran since the last call.
func (e *foldEnv) counts() map[string]int {
	e.rt.mu.Lock()
	defer e.rt.mu.Unlock()
	out := map[string]int{}
	for k, n := range e.rt.n {
		if k != "pg-relay" && k != "pg-outbox-delete" && k != "redis" {
			out[k] = n
		}
	}
	clear(e.rt.n)
	return out
}

// wantCounts fails t unless the statements since the last call were want.
func (e *foldEnv) wantCounts(t *testing.T, what string, want map[string]int) {
	t.Helper()
	if got := e.counts(); !mapsEqual(got, want) {
		t.Errorf("%s: statements %v, want %v", what, got, want)
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// folded is what one Create in its own transaction sends when folded.
var folded = map[string]int{"pg-begin": 1, "pg-insert-folded": 1, "pg-commit": 1}

// TestOutboxFoldsCreate: on PostgreSQL a Create writes its outbox rows in
// its own statement (no INSERT into the outbox at commit), and returns
// exactly what it returns without the plugin: its rows in order, its
// RowsAffected, for each form of Create that is folded.
func TestOutboxFoldsCreate(t *testing.T) {
	e := newFoldEnv(t, nil)
	plain := openDB(t, dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector {
		dsn, _ := testutil.PostgresDSN(t)
		return postgres.Open(dsn)
	}}, nil)
	e.counts()
	for _, db := range []*gorm.DB{plain, e.db} {
		one := User{Name: "one"}
		if tx := wantOK(t, db.Create(&one)); tx.RowsAffected != 1 || one.ID != 1 {
			t.Errorf("Create: %d rows, id %d; want 1, 1", tx.RowsAffected, one.ID)
		}
		many := []User{{Name: "b"}, {Name: "c"}, {Name: "d"}}
		if tx := wantOK(t, db.Create(&many)); tx.RowsAffected != 3 || !slices.Equal(idsOf(many, userID), []uint64{2, 3, 4}) {
			t.Errorf("Create of 3: %d rows, ids %v; want 3, [2 3 4]", tx.RowsAffected, idsOf(many, userID))
		}
		for _, u := range many { // each element got its own row's key
			var got User
			wantOK(t, db.First(&got, u.ID))
			if got.Name != u.Name {
				t.Errorf("row %d is %q, want %q", u.ID, got.Name, u.Name)
			}
		}
		things := []Thing{{ID: 7, Name: "x"}, {ID: 8, Name: "y"}} // no RETURNING: ExecContext
		if tx := wantOK(t, db.Create(&things)); tx.RowsAffected != 2 {
			t.Errorf("Create of 2 things: %d rows, want 2", tx.RowsAffected)
		}
		if tx := wantOK(t, db.CreateInBatches([]User{{Name: "e"}, {Name: "f"}, {Name: "g"}}, 2)); tx.RowsAffected != 3 {
			t.Errorf("CreateInBatches: %d rows, want 3", tx.RowsAffected)
		}
		if db == plain {
			continue
		}
		e.wantCounts(t, "plugin", map[string]int{"pg-begin": 4, "pg-insert-folded": 5, "pg-commit": 4, "pg-other": 3})
	}
	e.want(t, "user:created", 1, 2, 3, 4, 5, 6, 7)
	e.want(t, "thing:created", 7, 8)
	if n := outboxRows(t, e.db, e.table); n != 0 {
		t.Errorf("%d outbox rows after Flush, want 0", n)
	}
	e.noErrors(t)
}

// TestOutboxFoldForms: WithUser, PrepareStmt, SkipDefaultTransaction and
// explicit transactions fold too; ON CONFLICT and owned models keep the
// INSERT staged at commit, marking as they always did.
func TestOutboxFoldForms(t *testing.T) {
	e := newFoldEnv(t, nil)
	ctx := bitmapistplugin.WithUser(e.db.Statement.Context, 42)
	wantOK(t, e.db.WithContext(ctx).Create(&[]Post{{Title: "a"}, {Title: "b"}}))
	e.wantCounts(t, "WithUser", folded)
	wantOK(t, e.db.Session(&gorm.Session{PrepareStmt: true}).Create(&User{Name: "p"}))
	e.wantCounts(t, "PrepareStmt", folded)
	wantOK(t, e.db.Session(&gorm.Session{SkipDefaultTransaction: true}).Create(&User{Name: "s"}))
	e.wantCounts(t, "SkipDefaultTransaction", map[string]int{"pg-insert-folded": 1})
	wantOK(t, e.db.Session(&gorm.Session{SkipDefaultTransaction: true, PrepareStmt: true}).Create(&User{Name: "s2"}))
	e.wantCounts(t, "SkipDefaultTransaction+PrepareStmt", map[string]int{"pg-insert-folded": 1})
	users := e.db.Model(&User{}).Statement.Table
	wantOK(t, e.db.Table(users).Create(&User{Name: "t"}))
	e.wantCounts(t, "db.Table", folded)
	// Rows 100 and 3 (3 not inserted: it exists) are both marked, as ever.
	wantOK(t, e.db.Clauses(clause.OnConflict{DoNothing: true}).Create(&[]User{{ID: 100, Name: "n"}, {ID: 3, Name: "dup"}}))
	e.wantCounts(t, "ON CONFLICT", map[string]int{"pg-begin": 1, "pg-insert": 1, "pg-outbox-insert": 1, "pg-commit": 1})
	wantOK(t, e.db.Create(&Order{UserID: 9, Amount: 1}))
	e.wantCounts(t, "owned", map[string]int{"pg-begin": 1, "pg-insert": 1, "pg-outbox-insert": 1, "pg-commit": 1})
	err := e.db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&User{Name: "kept"}).Error; err != nil { // 5
			return err
		}
		_ = tx.Transaction(func(tx2 *gorm.DB) error {
			if err := tx2.Create(&User{Name: "undone"}).Error; err != nil { // 6, rolled back
				return err
			}
			return errors.New("roll back to the savepoint")
		})
		if err := tx.Model(&User{}).Where("name = ?", "p").Update("age", 1).Error; err != nil {
			return err // staged at commit: one INSERT for the update's mark only
		}
		return tx.Create(&User{Name: "after"}).Error // 7
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, "transaction", map[string]int{"pg-begin": 1, "pg-insert-folded": 3, "pg-other": 3, "pg-outbox-insert": 1, "pg-commit": 1})
	e.want(t, "post:created", 42)
	e.want(t, "user:created", 1, 2, 3, 4, 5, 7, 100)
	e.want(t, "user:updated", 1)
	e.want(t, "order:created", 9)
	if n := outboxRows(t, e.db, e.table); n != 0 {
		t.Errorf("%d outbox rows after Flush, want 0", n)
	}
	e.noErrors(t)
}

// plainOn returns a *gorm.DB on db's database and tables without the
// plugin.
func plainOn(t *testing.T, db *gorm.DB) *gorm.DB {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), &gorm.Config{NamingStrategy: db.NamingStrategy, Logger: logger.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return plain
}

// TestOutboxFoldErrors: a folded Create fails as it does without the
// plugin: a duplicate key is the driver's own *pgconn.PgError 23505,
// field for field, with 0 rows; a missing outbox table fails it with the
// plugin's error (wrapping the driver's 42P01) and writes nothing.
func TestOutboxFoldErrors(t *testing.T) {
	e := newFoldEnv(t, nil)
	plain := plainOn(t, e.db)
	wantOK(t, plain.Create(&Thing{ID: 1, Name: "a"}))
	wantOK(t, plain.Create(&User{ID: 1, Name: "a"}))
	for _, create := range []func(db *gorm.DB) *gorm.DB{
		func(db *gorm.DB) *gorm.DB { return db.Create(&Thing{ID: 1, Name: "b"}) },                 // ExecContext
		func(db *gorm.DB) *gorm.DB { return db.Create(&[]User{{Name: "b"}, {ID: 1, Name: "b"}}) }, // QueryContext
	} {
		want, got := create(plain), create(e.db)
		var wpe, pe *pgconn.PgError
		if !errors.As(want.Error, &wpe) || wpe.Code != "23505" {
			t.Fatalf("plain duplicate Create: %v", want.Error)
		}
		if !errors.As(got.Error, &pe) || *pe != *wpe || got.Error.Error() != want.Error.Error() || got.RowsAffected != want.RowsAffected {
			t.Errorf("duplicate Create: %#v (%d rows), want %#v (%d rows)", got.Error, got.RowsAffected, want.Error, want.RowsAffected)
		}
	}
	e.wantCounts(t, "duplicates", map[string]int{"pg-begin": 2, "pg-insert-folded": 2, "pg-other": 2})
	if err := e.db.Migrator().DropTable(e.table); err != nil {
		t.Fatal(err)
	}
	err := e.db.Create(&User{Name: "c"}).Error
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" || !strings.HasPrefix(err.Error(), "bitmapistplugin: outbox insert: ") {
		t.Errorf("Create without the outbox table = %v, want the plugin's error wrapping 42P01", err)
	}
	var n int64
	wantOK(t, plain.Model(&User{}).Where("name = ?", "c").Count(&n))
	if n != 0 {
		t.Errorf("%d rows of the failed Create, want 0", n)
	}
}

// TestOutboxFoldCommitInAnotherHour: a folded statement's rows get the
// commit time when the transaction commits in another hour (here another
// day), as staged rows do; in the same hour nothing more is sent.
func TestOutboxFoldCommitInAnotherHour(t *testing.T) {
	e := newFoldEnv(t, nil)
	day1 := time.Date(2025, 3, 12, 23, 59, 59, 0, time.UTC)
	day2 := day1.Add(2 * time.Second)
	e.now.Store(&day1)
	var u1, u2 User
	err := e.db.Transaction(func(tx *gorm.DB) error {
		u1 = User{Name: "late"}
		if err := tx.Create(&u1).Error; err != nil {
			return err
		}
		e.now.Store(&day2)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, "another hour", map[string]int{"pg-begin": 1, "pg-insert-folded": 1, "pg-outbox-update": 1, "pg-commit": 1})
	err = e.db.Transaction(func(tx *gorm.DB) error {
		u2 = User{Name: "same hour"}
		return tx.Create(&u2).Error
	})
	if err != nil {
		t.Fatal(err)
	}
	e.wantCounts(t, "same hour", folded)
	if got := e.idsOn(t, "user:created", day1); len(got) != 0 {
		t.Errorf("marked on the statement's day: %v", got)
	}
	if got := e.idsOn(t, "user:created", day2); !slices.Equal(got, []uint64{uint64(u1.ID), uint64(u2.ID)}) {
		t.Errorf("marked on the commit's day: %v, want %d %d", got, u1.ID, u2.ID)
	}
	e.noErrors(t)
}
