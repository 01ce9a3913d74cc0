package bitmapistplugin_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"gorm.io/gorm/logger"
)

// sqlLog is a GORM logger keeping the SQL of every statement GORM runs
// (the plugin's pre-reads go through GORM too; a RETURNING clause the
// plugin's pool appends is below GORM and not seen).
type sqlLog struct {
	mu  sync.Mutex
	sql []string
}

func (l *sqlLog) LogMode(logger.LogLevel) logger.Interface { return l }
func (l *sqlLog) Info(context.Context, string, ...any)     {}
func (l *sqlLog) Warn(context.Context, string, ...any)     {}
func (l *sqlLog) Error(context.Context, string, ...any)    {}
func (l *sqlLog) reset()                                   { l.mu.Lock(); l.sql = nil; l.mu.Unlock() }
func (l *sqlLog) Trace(_ context.Context, _ time.Time, fc func() (string, int64), _ error) {
	q, _ := fc()
	l.mu.Lock()
	l.sql = append(l.sql, q)
	l.mu.Unlock()
}

// selects returns the SELECT statements logged.
func (l *sqlLog) selects() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []string
	for _, q := range l.sql {
		if strings.HasPrefix(strings.ToUpper(strings.TrimSpace(q)), "SELECT") {
			out = append(out, q)
		}
	}
	return out
}

// TestNoPreReadWhereReturning: on PostgreSQL and SQLite every update and
// delete whose rows the model value does not name (by condition, by key,
// soft and hard, owned models) learns its rows through RETURNING on the
// statement itself: the plugin sends no SELECT of its own, so it cannot
// change which transaction wins a lock. On MariaDB hard deletes do the
// same; updates and soft deletes (UPDATE statements: MariaDB has no
// UPDATE ... RETURNING) keep the locking pre-read, and with them the
// marks still match the rows.
func TestNoPreReadWhereReturning(t *testing.T) {
	forEachDB(t, func(t *testing.T, dc dbCase, b testutil.Backend) {
		e := newEnv(t, dc, b, nil)
		log := &sqlLog{}
		e.db.Config.Logger = log
		soft := []SoftUser{{Name: "a", Age: 1}, {Name: "b", Age: 2}, {Name: "c", Age: 3}, {Name: "d", Age: 4}}
		wantOK(t, e.db.Create(&soft))
		users := fiveUsers(t, e)
		wantOK(t, e.db.Create(&Order{UserID: 77, Amount: 1}))
		stmts := []struct {
			name    string
			run     func() error
			preRead bool // on MariaDB
		}{
			{"update by condition", func() error { return e.db.Model(&User{}).Where("age > ?", 3).Update("name", "x").Error }, true},
			{"soft delete by key", func() error { return e.db.Delete(&SoftUser{}, soft[0].ID).Error }, true},
			{"soft delete by condition", func() error { return e.db.Where("age = ?", 2).Delete(&SoftUser{}).Error }, true},
			{"hard delete by key", func() error { return e.db.Delete(&User{}, users[0].ID).Error }, false},
			{"unscoped delete by condition", func() error { return e.db.Unscoped().Where("age = ?", 3).Delete(&SoftUser{}).Error }, false},
			{"owned delete by condition", func() error { return e.db.Where("amount = ?", 1).Delete(&Order{}).Error }, false},
		}
		for _, s := range stmts {
			log.reset()
			if err := s.run(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			sel := log.selects()
			want := 0
			if e.db0 == "mysql" && s.preRead {
				want = 1
			}
			if len(sel) != want {
				t.Errorf("%s on %s: %d SELECTs (%q), want %d", s.name, e.db0, len(sel), sel, want)
			}
		}
		e.want(t, "user:updated", uint64(users[3].ID), uint64(users[4].ID))
		e.want(t, "softuser:deleted", uint64(soft[0].ID), uint64(soft[1].ID), uint64(soft[2].ID))
		e.want(t, "user:deleted", uint64(users[0].ID))
		e.want(t, "order:deleted", 77)
		e.noErrors(t)
	})
}
