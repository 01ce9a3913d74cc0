package bitmapistplugin_test

import (
	"errors"
	"sync"
	"testing"

	"gorm.io/gorm"
)

var errAbort = errors.New("abort")

func TestTransactionMarksWaitForCommit(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		var users []User
		err := e.db.Transaction(func(tx *gorm.DB) error {
			users = []User{{Name: "a"}, {Name: "b"}}
			if err := tx.Create(&users).Error; err != nil {
				return err
			}
			if err := tx.Model(&users[0]).Update("name", "A").Error; err != nil {
				return err
			}
			if got := e.ids(t, "user:created"); len(got) != 0 {
				t.Errorf("marked before commit: %v", got)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		e.want(t, "user:created", idsOf(users, userID)...)
		e.want(t, "user:updated", uint64(users[0].ID))
		e.noErrors(t)
	})
}

func TestTransactionRollbackMarksNothing(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		keep := User{Name: "keep"}
		wantOK(t, e.db.Create(&keep))
		err := e.db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&User{Name: "gone"}).Error; err != nil {
				return err
			}
			if err := tx.Model(&keep).Update("name", "changed").Error; err != nil {
				return err
			}
			if err := tx.Delete(&keep).Error; err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("Transaction = %v", err)
		}
		e.want(t, "user:created", uint64(keep.ID))
		e.want(t, "user:updated")
		e.want(t, "user:deleted")
		var n int64
		wantOK(t, e.db.Model(&User{}).Count(&n))
		if n != 1 {
			t.Errorf("%d rows after rollback, want 1", n)
		}
		e.noErrors(t)
	})
}

func TestBeginCommitAndBeginRollback(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		tx := e.db.Begin()
		a := User{Name: "a"}
		wantOK(t, tx.Create(&a))
		e.want(t, "user:created")
		wantOK(t, tx.Commit())
		e.want(t, "user:created", uint64(a.ID))

		tx = e.db.Begin()
		b := User{Name: "b"}
		wantOK(t, tx.Create(&b))
		wantOK(t, tx.Rollback())
		e.want(t, "user:created", uint64(a.ID))
		e.noErrors(t)
	})
}

func TestNestedTransactionRollbackToSavepoint(t *testing.T) {
	runNested(t, nil)
}

func TestNestedTransactionWithPreparedStatements(t *testing.T) {
	runNested(t, &gorm.Config{PrepareStmt: true})
}

func runNested(t *testing.T, cfg *gorm.Config) {
	runCfg(t, cfg, func(t *testing.T, e *env) {
		var a, b, c, d User
		err := e.db.Transaction(func(tx *gorm.DB) error {
			a = User{Name: "a"}
			if err := tx.Create(&a).Error; err != nil {
				return err
			}
			// Rolled back to its savepoint: b vanishes.
			err := tx.Transaction(func(tx2 *gorm.DB) error {
				b = User{Name: "b"}
				if err := tx2.Create(&b).Error; err != nil {
					return err
				}
				if err := tx2.Model(&a).Update("name", "A").Error; err != nil {
					return err
				}
				return errAbort
			})
			if !errors.Is(err, errAbort) {
				t.Errorf("nested Transaction = %v", err)
			}
			// Committed nested transaction: c stays.
			if err := tx.Transaction(func(tx2 *gorm.DB) error {
				c = User{Name: "c"}
				return tx2.Create(&c).Error
			}); err != nil {
				return err
			}
			d = User{Name: "d"}
			return tx.Create(&d).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		e.want(t, "user:created", uint64(a.ID), uint64(c.ID), uint64(d.ID))
		e.want(t, "user:updated")
		var names []string
		wantOK(t, e.db.Model(&User{}).Order("id").Pluck("name", &names))
		if len(names) != 3 || names[0] != "a" {
			t.Errorf("rows after commit: %v, want a c d", names)
		}
		e.noErrors(t)
	})
}

func TestNestedRollbackThenOuterRollback(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		err := e.db.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&User{Name: "a"}).Error; err != nil {
				return err
			}
			if err := tx.Transaction(func(tx2 *gorm.DB) error {
				return tx2.Create(&User{Name: "b"}).Error
			}); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("Transaction = %v", err)
		}
		e.want(t, "user:created")
	})
}

func TestManualSavepoints(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		tx := e.db.Begin()
		a, b := User{Name: "a"}, User{Name: "b"}
		wantOK(t, tx.Create(&a))
		wantOK(t, tx.SavePoint("sp_one"))
		wantOK(t, tx.Create(&b))
		wantOK(t, tx.RollbackTo("sp_one"))
		wantOK(t, tx.Commit())
		e.want(t, "user:created", uint64(a.ID))
	})
}

func TestDBAccessorsStillWork(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		sqlDB, err := e.db.DB()
		if err != nil || sqlDB == nil {
			t.Fatalf("db.DB() = %v, %v", sqlDB, err)
		}
		if err := sqlDB.Ping(); err != nil {
			t.Fatal(err)
		}
		err = e.db.Transaction(func(tx *gorm.DB) error {
			inner, err := tx.DB()
			if err != nil {
				return err
			}
			if inner != sqlDB {
				t.Errorf("tx.DB() = %p, want %p", inner, sqlDB)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestConcurrentTransactions(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		if e.db0 == "sqlite" {
			// Shared-cache SQLite serialises writers with table locks
			// that fail instead of waiting; one writer at a time.
			sqlDB, err := e.db.DB()
			if err != nil {
				t.Fatal(err)
			}
			sqlDB.SetMaxOpenConns(1)
		}
		const workers, each = 4, 6
		var (
			mu   sync.Mutex
			kept []uint64
			wg   sync.WaitGroup
		)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					u := User{Name: "w", Age: w*100 + i}
					err := e.db.Transaction(func(tx *gorm.DB) error {
						if err := tx.Create(&u).Error; err != nil {
							return err
						}
						if i%2 == 1 {
							return errAbort
						}
						return nil
					})
					switch {
					case err == nil:
						mu.Lock()
						kept = append(kept, uint64(u.ID))
						mu.Unlock()
					case !errors.Is(err, errAbort):
						t.Errorf("worker %d: %v", w, err)
					}
				}
			}()
		}
		wg.Wait()
		if len(kept) != workers*each/2 {
			t.Fatalf("%d transactions committed, want %d", len(kept), workers*each/2)
		}
		e.want(t, "user:created", kept...)
		e.noErrors(t)
	})
}
