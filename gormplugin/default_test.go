package bitmapistplugin_test

import (
	"context"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"gorm.io/gorm"
)

// inRedisNow returns the ids marked for event on testNow's day, read
// straight from Redis: no Flush, no wait.
func (e *env) inRedisNow(t testing.TB, event string) []uint64 {
	t.Helper()
	ids, err := e.c.Day(event, testNow).IDs(context.Background())
	if err != nil {
		t.Fatalf("IDs(%s): %v", event, err)
	}
	slices.Sort(ids)
	return ids
}

// wantNow fails t unless event's ids are exactly want the moment the
// write returned.
func (e *env) wantNow(t testing.TB, step, event string, want ...uint64) {
	t.Helper()
	want = slices.Clone(want)
	slices.Sort(want)
	if got := e.inRedisNow(t, event); !slices.Equal(got, want) {
		t.Errorf("after %s: %s in Redis = %v, want %v (marks must be sent before the write returns)", step, event, got, want)
	}
}

// TestDefaultMarksAreInRedisWhenTheWriteReturns is the regression test of
// the default being synchronous: with default sending options, every kind
// of tracked write has its marks in Redis by the time it returns.
func TestDefaultMarksAreInRedisWhenTheWriteReturns(t *testing.T) {
	run(t, func(t *testing.T, e *env) {
		one := User{Name: "one"}
		wantOK(t, e.db.Create(&one))
		created := []uint64{uint64(one.ID)}
		e.wantNow(t, "Create of one row", "user:created", created...)

		slice := []User{{Name: "s1"}, {Name: "s2"}, {Name: "s3"}}
		wantOK(t, e.db.Create(&slice))
		created = append(created, idsOf(slice, userID)...)
		e.wantNow(t, "Create of a slice", "user:created", created...)

		batches := []User{{Name: "b1"}, {Name: "b2"}, {Name: "b3"}}
		wantOK(t, e.db.CreateInBatches(&batches, 2))
		created = append(created, idsOf(batches, userID)...)
		e.wantNow(t, "CreateInBatches", "user:created", created...)

		saved := User{Name: "saved"}
		wantOK(t, e.db.Save(&saved)) // a new row: created
		created = append(created, uint64(saved.ID))
		e.wantNow(t, "Save of a new row", "user:created", created...)
		saved.Name = "saved again"
		wantOK(t, e.db.Save(&saved)) // an existing row: updated
		updated := []uint64{uint64(saved.ID)}
		e.wantNow(t, "Save of an existing row", "user:updated", updated...)

		wantOK(t, e.db.Model(&slice[0]).Updates(User{Name: "S1", Age: 3}))
		updated = append(updated, uint64(slice[0].ID))
		e.wantNow(t, "Updates", "user:updated", updated...)

		wantOK(t, e.db.Delete(&slice[1]))
		deleted := []uint64{uint64(slice[1].ID)}
		e.wantNow(t, "Delete of a row", "user:deleted", deleted...)
		wantOK(t, e.db.Where("name = ?", "b1").Delete(&User{}))
		deleted = append(deleted, uint64(batches[0].ID))
		e.wantNow(t, "Delete by condition", "user:deleted", deleted...)

		var inTx User
		err := e.db.Transaction(func(tx *gorm.DB) error {
			inTx = User{Name: "tx"}
			if err := tx.Create(&inTx).Error; err != nil {
				return err
			}
			if err := tx.Model(&one).Update("age", 9).Error; err != nil {
				return err
			}
			return tx.Delete(&batches[1]).Error
		})
		if err != nil {
			t.Fatalf("Transaction: %v", err)
		}
		e.wantNow(t, "a committed Transaction", "user:created", append(created, uint64(inTx.ID))...)
		e.wantNow(t, "a committed Transaction", "user:updated", append(updated, uint64(one.ID))...)
		e.wantNow(t, "a committed Transaction", "user:deleted", append(deleted, uint64(batches[1].ID))...)

		if errs := e.errs.all(); len(errs) > 0 {
			t.Errorf("plugin reported %d errors: %v", len(errs), errs)
		}
		if n := e.p.FailedMarks(); n != 0 {
			t.Errorf("FailedMarks = %d, want 0", n)
		}
	})
}

// TestShortLivedProgramKeepsEveryMark is the README's set-up in a program
// that creates five rows and exits without Flush or Close: every mark must
// already be in Redis.
func TestShortLivedProgramKeepsEveryMark(t *testing.T) {
	for _, dc := range dbCases(t) {
		t.Run(dc.name, func(t *testing.T) {
			t.Parallel()
			testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
				db := openDB(t, dc, nil)
				// Only the key prefix differs from New(rdb), so that tests
				// sharing one Redis do not collide, and the send timeout,
				// so that a loaded machine does not fail the sends.
				p := bitmapistplugin.New(b.Client, bitmapistplugin.WithClientOptions(bitmapist.WithPrefix(b.Prefix)),
					bitmapistplugin.WithTimeout(testSendTimeout))
				if err := db.Use(p); err != nil {
					t.Fatal(err)
				}
				var want []uint64
				for range 5 {
					u := User{Name: "u"}
					wantOK(t, db.Create(&u))
					want = append(want, uint64(u.ID))
				}
				// The program ends here. A reader elsewhere counts:
				c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
				day := c.Day("user:created", c.Now())
				n, err := day.Count(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				ids, err := day.IDs(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(ids)
				if n != 5 || !equalIDs(ids, want) {
					t.Errorf("Count = %d, ids %v; want 5, %v", n, ids, want)
				}
				if p.FailedMarks() != 0 {
					t.Errorf("FailedMarks = %d", p.FailedMarks())
				}
				// Flush and Close are not needed, but stay safe to call.
				if err := p.Flush(context.Background()); err != nil {
					t.Errorf("Flush = %v", err)
				}
				for range 2 {
					if err := p.Close(); err != nil {
						t.Errorf("Close = %v", err)
					}
				}
			})
		})
	}
}
