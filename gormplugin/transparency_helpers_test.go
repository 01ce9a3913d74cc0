package bitmapistplugin_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/faults/deadlockrun"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/glebarez/sqlite"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	"gorm.io/gorm/schema"
)

// serverCases returns PostgreSQL and MariaDB when their DSNs are set, with
// session settings that make lock conflicts resolve fast: a deadlock is
// detected after 50 ms on PostgreSQL (immediately on MariaDB) and a lock
// wait gives up after 3 s. withSQLite adds a file-backed SQLite.
func serverCases(t testing.TB, withSQLite bool) []dbCase {
	t.Helper()
	var cases []dbCase
	if withSQLite {
		cases = append(cases, dbCase{name: "sqlite", open: func(t testing.TB) gorm.Dialector {
			return sqlite.Open(t.TempDir() + "/t.db?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
		}})
	}
	if dsn, ok := testutil.PostgresDSN(t); ok {
		dsn += " deadlock_timeout=50ms lock_timeout=3s"
		cases = append(cases, dbCase{name: "postgres", open: func(testing.TB) gorm.Dialector { return postgres.Open(dsn) }})
	}
	if dsn, ok := testutil.MySQLDSN(t); ok {
		sep := "?"
		if strings.Contains(dsn, "?") {
			sep = "&"
		}
		dsn += sep + "innodb_lock_wait_timeout=3"
		cases = append(cases, dbCase{name: "mysql", open: func(testing.TB) gorm.Dialector { return mysql.Open(dsn) }})
	}
	return cases
}

// openTables opens dc with a table prefix of its own, migrates models and
// drops their tables when t ends.
func openTables(t testing.TB, dc dbCase, models ...any) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(dc.open(t), &gorm.Config{
		NamingStrategy: schema.NamingStrategy{TablePrefix: randomName(t, "bmtr") + "_"},
		Logger:         logger.Discard,
	})
	if err != nil {
		t.Fatalf("open %s: %v", dc.name, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	sqlDB.SetMaxOpenConns(16)
	t.Cleanup(func() {
		if err := db.Migrator().DropTable(models...); err != nil {
			t.Errorf("drop tables: %v", err)
		}
		_ = sqlDB.Close()
	})
	if err := db.AutoMigrate(models...); err != nil {
		t.Fatalf("migrate %s: %v", dc.name, err)
	}
	return db
}

// installPlugin installs a plugin marking into a miniredis of its own,
// with opts.
func installPlugin(t testing.TB, db *gorm.DB, opts ...bitmapistplugin.Option) (*bitmapistplugin.Plugin, *bitmapist.Client, *errRecorder) {
	t.Helper()
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithClock(func() time.Time { return testNow }))
	rec := &errRecorder{}
	p := bitmapistplugin.New(nil, append([]bitmapistplugin.Option{bitmapistplugin.WithClient(c), bitmapistplugin.WithErrorHandler(rec.handle),
		bitmapistplugin.WithTimeout(testSendTimeout)}, opts...)...)
	if err := db.Use(p); err != nil {
		t.Fatalf("Use: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p, c, rec
}

// errClass names the kind of a transaction's outcome so that runs with
// and without the plugin can be compared: "ok", the driver's SQLSTATE or
// error number ("pg:40P01", "mysql:1213"), or a class of Go error.
func errClass(err error) string {
	switch {
	case errors.Is(err, errAbort):
		return "abort"
	case errors.Is(err, errPanicked):
		return "panic"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return "cancel"
	case errors.Is(err, gorm.ErrRecordNotFound):
		return "notfound"
	}
	c := deadlockrun.ErrClass(err) // ok, pg:SQLSTATE, mysql:NUMBER
	if !strings.HasPrefix(c, "other: ") {
		return c
	}
	if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "database is locked") {
		return "sqlite:busy"
	}
	return "other:" + err.Error()
}

var errPanicked = errors.New("transaction panicked")

// retryable reports whether class is a deadlock or serialization failure
// that an application retries (40P01, 40001, MySQL 1213).
func retryable(class string) bool {
	return class == "pg:40P01" || class == "pg:40001" || class == "mysql:1213" || class == "sqlite:busy"
}

// markAudit compares the ids marked for event on testNow's day with the
// ids the database holds: phantoms are marked but absent, missing are
// present but unmarked.
func markAudit(t testing.TB, c *bitmapist.Client, event string, committed []uint64) (phantom, missing []uint64) {
	t.Helper()
	marked, err := c.Day(event, testNow).IDs(context.Background())
	if err != nil {
		t.Fatalf("IDs(%s): %v", event, err)
	}
	for _, id := range marked {
		if !slices.Contains(committed, id) {
			phantom = append(phantom, id)
		}
	}
	for _, id := range committed {
		if !slices.Contains(marked, id) {
			missing = append(missing, id)
		}
	}
	return phantom, missing
}
