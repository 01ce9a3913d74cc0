package bitmapistplugin_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	sqlite "github.com/glebarez/sqlite"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
)

// outboxEnv is newEnv with WithOutbox on a table unique to the test,
// dropped when it ends.
func outboxEnv(t *testing.T, dc dbCase, b testutil.Backend, opts ...bitmapistplugin.Option) (*env, string) {
	t.Helper()
	table, drop := outboxTable(t)
	e := newEnv(t, dc, b, nil, append([]bitmapistplugin.Option{bitmapistplugin.WithOutboxTable(table)}, opts...)...)
	drop(e.db)
	return e, table
}

// outboxRows counts the rows of table.
func outboxRows(t testing.TB, db *gorm.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatalf("count %s: %v", table, err)
	}
	return n
}

func TestOutboxCommitRollbackSavepoint(t *testing.T) {
	for _, dc := range dbCases(t) {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
				e, table := outboxEnv(t, dc, b)
				u := User{Name: "a"}
				wantOK(t, e.db.Create(&u))
				// In Redis when Create returns: no Flush.
				has, err := e.c.Day("user:created", testNow).Has(context.Background(), uint64(u.ID))
				if err != nil || !has {
					t.Fatalf("mark not in Redis when Create returned: %v %v", has, err)
				}
				var kept User
				err = e.db.Transaction(func(tx *gorm.DB) error {
					kept = User{Name: "kept"}
					if err := tx.Create(&kept).Error; err != nil {
						return err
					}
					_ = tx.Transaction(func(tx2 *gorm.DB) error {
						if err := tx2.Create(&User{Name: "undone"}).Error; err != nil {
							return err
						}
						return errors.New("roll back to the savepoint")
					})
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				err = e.db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Create(&User{Name: "rolled back"}).Error; err != nil {
						return err
					}
					return errors.New("roll back")
				})
				if err == nil {
					t.Fatal("transaction did not fail")
				}
				e.flush(t)
				if n := outboxRows(t, e.db, table); n != 0 {
					t.Errorf("%d outbox rows after Flush, want 0", n)
				}
				e.want(t, "user:created", uint64(u.ID), uint64(kept.ID))
				e.noErrors(t)
				if s := e.p.Stats(); s.Sent != 2 || s.Failed != 0 || s.OutboxPending != 0 || s.Breaker != bitmapistplugin.BreakerClosed {
					t.Errorf("Stats = %+v, want 2 sent, none failed or pending, breaker closed", s)
				}
			})
		})
	}
}

func TestOutboxKeepsMarksWhileRedisDown(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e, table := outboxEnv(t, dc, b, bitmapistplugin.WithTimeout(200*time.Millisecond))
		b.Mini.Close()
		restarted := false
		t.Cleanup(func() {
			if !restarted {
				_ = b.Mini.Restart()
			}
		})
		users := []User{{Name: "a"}, {Name: "b"}}
		wantOK(t, e.db.Create(&users))
		wantOK(t, e.db.Model(&users[0]).Update("name", "A"))
		if n := outboxRows(t, e.db, table); n != 3 {
			t.Errorf("%d outbox rows while Redis is down, want 3", n)
		}
		if n := e.p.FailedMarks(); n != 0 {
			t.Errorf("FailedMarks = %d while the outbox keeps them, want 0", n)
		}
		if err := b.Mini.Restart(); err != nil {
			t.Fatal(err)
		}
		restarted = true
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := e.p.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if n := outboxRows(t, e.db, table); n != 0 {
			t.Errorf("%d outbox rows after Flush, want 0", n)
		}
		e.want(t, "user:created", idsOf(users, userID)...)
		e.want(t, "user:updated", uint64(users[0].ID))
		if n := e.p.FailedMarks(); n != 0 {
			t.Errorf("FailedMarks = %d, want 0", n)
		}
	})
}

// TestOutboxRelaysShareTheTable runs two plugins (two processes) on one
// database and outbox: the rows a crashed process left are sent once in
// all, each by one of them.
func TestOutboxRelaysShareTheTable(t *testing.T) {
	for _, dc := range dbCases(t) {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			b := testutil.Redis(t)
			table, drop := outboxTable(t)
			open := func() (*gorm.DB, *bitmapistplugin.Plugin) {
				db := openDB(t, dc, nil)
				c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithClock(func() time.Time { return testNow }))
				p := bitmapistplugin.New(nil, bitmapistplugin.WithClient(c), bitmapistplugin.WithOutboxTable(table),
					bitmapistplugin.WithTimeout(testSendTimeout))
				if err := db.Use(p); err != nil {
					t.Fatal(err)
				}
				return db, p
			}
			db1, p1 := open()
			drop(db1)
			// Rows of a process that crashed between commit and send.
			const n = 1200
			for start := 0; start < n; start += 400 {
				var vals []string
				for i := start; i < start+400; i++ {
					vals = append(vals, fmt.Sprintf("(%d, 0, 'user:created', %d, '', %d, 0)", i+1, i+1, testNow.UnixMilli()))
				}
				q := "INSERT INTO " + table + " (batch, seq, event, user_id, user_key, at_ms, not_before) VALUES " + join(vals)
				wantOK(t, db1.Exec(q))
			}
			db2, p2 := open()
			var wg sync.WaitGroup
			for _, p := range []*bitmapistplugin.Plugin{p1, p2} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					defer cancel()
					if err := p.Flush(ctx); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			s1, s2 := p1.Stats(), p2.Stats()
			if s1.Sent+s2.Sent != n {
				t.Errorf("sent %d + %d marks, want %d in all (each row once)", s1.Sent, s2.Sent, n)
			}
			count, err := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix)).Day("user:created", testNow).Count(context.Background())
			if err != nil || count != n {
				t.Errorf("user:created count %d, %v; want %d", count, err, n)
			}
			if outboxRows(t, db2, table) != 0 {
				t.Error("outbox not empty after Flush")
			}
			_ = p1.Close()
			_ = p2.Close()
		})
	}
}

func join(vals []string) string {
	out := ""
	for i, v := range vals {
		if i > 0 {
			out += ", "
		}
		out += v
	}
	return out
}

// TestOutboxInsertFailureFailsCommit: the plugin's own SQL failing fails
// the transaction, which then has not committed.
func TestOutboxInsertFailureFailsCommit(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e, table := outboxEnv(t, dc, b)
		if err := e.db.Migrator().DropTable(table); err != nil {
			t.Fatal(err)
		}
		err := e.db.Create(&User{Name: "a"}).Error
		if err == nil {
			t.Fatal("Create succeeded without its outbox table")
		}
		var n int64
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n != 0 {
			t.Errorf("%d rows after the failed commit, want 0", n)
		}
		ids, err := e.c.Day("user:created", testNow).IDs(context.Background())
		if err != nil || len(ids) != 0 {
			t.Errorf("marked %v, %v; want none", ids, err)
		}
	})
}

func TestOutboxBadTable(t *testing.T) {
	db := openDB(t, dbCases(t)[0], nil)
	err := db.Use(bitmapistplugin.New(testutil.Miniredis(t).Client, bitmapistplugin.WithOutboxTable("x; DROP TABLE y")))
	if !errors.Is(err, bitmapistplugin.ErrOutbox) {
		t.Errorf("Use = %v, want ErrOutbox", err)
	}
}

// sharedCase returns dc with every open reaching the same database (for
// SQLite, one shared in-memory database instead of one per open).
func sharedCase(t *testing.T, dc dbCase) dbCase {
	if dc.name != "sqlite" {
		return dc
	}
	dsn := fmt.Sprintf("file:%s?mode=memory&cache=shared&_pragma=busy_timeout(5000)", randomName(t, "mem"))
	return dbCase{name: dc.name, open: func(testing.TB) gorm.Dialector { return sqlite.Open(dsn) }}
}

// TestOutboxTargetsShareOneTable: a process on another Redis (here a dead
// one) writes outbox rows into the same table; this process's relay
// neither delivers them to its Redis nor waits for them in Flush, and its
// own rows are delivered.
func TestOutboxTargetsShareOneTable(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		dc = sharedCase(t, dc)
		table, drop := outboxTable(t)
		dead := redis.NewClient(&redis.Options{Addr: refusedAddr(t), DialerRetries: 1, MaxRetries: -1})
		t.Cleanup(func() { _ = dead.Close() })
		dbA := openDB(t, dc, nil)
		drop(dbA)
		pA := bitmapistplugin.New(dead, bitmapistplugin.WithOutboxTable(table),
			bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(b.Prefix)), // same prefix, other Redis
			bitmapistplugin.WithErrorHandler(func(context.Context, error) {}))
		if err := dbA.Use(pA); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pA.Close() })
		for range 3 {
			wantOK(t, dbA.Create(&User{Name: "elsewhere"}))
		}
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithOutboxTable(table))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := e.p.Flush(ctx); err != nil {
			t.Fatalf("Flush waited for another target's rows: %v", err)
		}
		u := User{Name: "here"}
		wantOK(t, e.db.Create(&u))
		e.flush(t)
		e.want(t, "user:created", uint64(u.ID)) // and none of the other process's
		if n := outboxRows(t, e.db, table); n != 3 {
			t.Errorf("%d outbox rows, want the other target's 3", n)
		}
		if s := e.p.Stats(); s.OutboxPending != 0 {
			t.Errorf("OutboxPending = %d, want 0 (the other target's rows are not ours)", s.OutboxPending)
		}
	})
}

// TestOutboxMigratesTableWithoutTarget: a table created before the target
// column existed gets it at Initialize, and its rows (target "") are
// still delivered.
func TestOutboxMigratesTableWithoutTarget(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		dc = sharedCase(t, dc)
		table, drop := outboxTable(t)
		old := openDB(t, dc, nil)
		drop(old)
		for _, q := range []string{
			"CREATE TABLE " + table + ` (batch BIGINT NOT NULL, seq INTEGER NOT NULL, event TEXT NOT NULL,
				user_id BIGINT NOT NULL, user_key TEXT NOT NULL, at_ms BIGINT NOT NULL, not_before BIGINT NOT NULL,
				attempts INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (batch, seq))`,
			fmt.Sprintf("INSERT INTO %s (batch, seq, event, user_id, user_key, at_ms, not_before) VALUES (7, 0, 'user:created', 42, '', %d, 0)",
				table, testNow.UnixMilli()),
		} {
			if err := old.Exec(q).Error; err != nil {
				t.Fatal(err)
			}
		}
		e := newEnv(t, dc, b, nil, bitmapistplugin.WithOutboxTable(table))
		e.flush(t) // the old row first: SQLite's shared cache fails an INSERT while the relay claims
		e.want(t, "user:created", 42)
		u := User{Name: "new"}
		wantOK(t, e.db.Create(&u))
		e.flush(t)
		e.want(t, "user:created", 42, uint64(u.ID))
		if n := outboxRows(t, e.db, table); n != 0 {
			t.Errorf("%d outbox rows after Flush, want 0", n)
		}
		// A second plugin on the migrated table migrates nothing more.
		e2 := newEnv(t, dc, b, nil, bitmapistplugin.WithOutboxTable(table))
		e2.noErrors(t)
	})
}
