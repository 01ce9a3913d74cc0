// Package deadlockrun holds the rounds of gormplugin's deadlock program
// (issue 9), shared by the program (internal/faults/deadlock) and by
// gormplugin's TestDeadlockOutcomes, so both run the very same
// transactions: two goroutines start together; each inserts an Entry row,
// updates Acct X by condition, sleeps 30 ms and updates Acct Y (the second
// goroutine Y then X), so that every round deadlocks and the database picks
// a victim.
package deadlockrun

import (
	"errors"
	"fmt"
	"sync"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

// Acct is an account row; the rounds need Acct 1 and 2 to exist.
type Acct struct {
	ID  uint `gorm:"primaryKey;autoIncrement:false"`
	Bal int  // incremented once per committed transaction
	bitmapist.Tracked
}

// Entry is the row each transaction inserts (marked entry:created by the
// plugin).
type Entry struct {
	ID   uint
	Note string
	bitmapist.Tracked
}

// Round runs the two transactions of one round at once on db (whose
// tables Acct and Entry exist) and returns their errors, as db.Transaction
// returned them.
func Round(db *gorm.DB) [2]error {
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for g, order := range [2][2]uint{{1, 2}, {2, 1}} {
		wg.Go(func() {
			<-start
			if g == 1 {
				time.Sleep(5 * time.Millisecond) // the second waits second
			}
			errs[g] = db.Transaction(func(tx *gorm.DB) error { return transfer(tx, order) })
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// transfer is one transaction's work: an Entry, then the two accounts in
// order with 30 ms between them.
func transfer(tx *gorm.DB, order [2]uint) error {
	if err := tx.Create(&Entry{Note: "round"}).Error; err != nil {
		return err
	}
	for i, id := range order {
		if i == 1 {
			time.Sleep(30 * time.Millisecond)
		}
		if err := tx.Model(&Acct{}).Where("id = ?", id).Update("bal", gorm.Expr("bal + ?", 1)).Error; err != nil {
			return err
		}
	}
	return nil
}

// Rounds runs n rounds and returns how many transactions ended in each
// ErrClass.
func Rounds(db *gorm.DB, n int) map[string]int {
	classes := map[string]int{}
	for range n {
		for _, err := range Round(db) {
			classes[ErrClass(err)]++
		}
	}
	return classes
}

// ErrClass names a transaction's outcome: "ok", the driver's SQLSTATE or
// error number ("pg:40P01", "mysql:1213"), or "other: <error>".
func ErrClass(err error) string {
	var pe *pgconn.PgError
	var me *gomysql.MySQLError
	switch {
	case err == nil:
		return "ok"
	case errors.As(err, &pe):
		return "pg:" + pe.Code
	case errors.As(err, &me):
		return fmt.Sprintf("mysql:%d", me.Number)
	}
	return "other: " + err.Error()
}
