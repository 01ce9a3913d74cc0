package bitmapistplugin_test

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"gorm.io/gorm"
)

// DLAcct and DLEntry are the tables of the deadlock program.
type DLAcct struct {
	ID  uint `gorm:"primaryKey;autoIncrement:false"`
	Bal int
	bitmapist.Tracked
}

type DLEntry struct {
	ID   uint
	Note string
	bitmapist.Tracked
}

// deadlockOutcome is what one run of the deadlock program saw.
type deadlockOutcome struct {
	classes  map[string]int // transaction outcomes (errClass)
	balX     int
	balY     int
	entries  []uint64 // ids of the entry rows
	phantom  int      // marked dlentry:created ids without a row
	missing  int      // rows without their dlentry:created mark
	unknown  int64
	reported int
}

// runDeadlocks is the deadlock program: two goroutines, rounds
// transactions each, started together per round; each inserts an entry,
// updates account X by condition, sleeps 30 ms and updates Y (the second
// goroutine Y then X), so every round deadlocks and the database picks a
// victim. With plugin it also audits the marks.
func runDeadlocks(t *testing.T, dc dbCase, plugin bool, rounds int) deadlockOutcome {
	db := openTables(t, dc, &DLAcct{}, &DLEntry{})
	wantOK(t, db.Create(&[]DLAcct{{ID: 1}, {ID: 2}}))
	out := deadlockOutcome{classes: map[string]int{}}
	var c *bitmapist.Client
	var rec *errRecorder
	var unknown func() int64
	if plugin {
		p, cl, r := installPlugin(t, db)
		c, rec, unknown = cl, r, p.UnknownMarks
	}
	var mu sync.Mutex
	for range rounds {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for g, order := range [2][2]uint{{1, 2}, {2, 1}} {
			wg.Go(func() {
				<-start
				if g == 1 {
					time.Sleep(5 * time.Millisecond) // the second waits second
				}
				err := db.Transaction(func(tx *gorm.DB) error {
					if err := tx.Create(&DLEntry{Note: "round"}).Error; err != nil {
						return err
					}
					for i, id := range order {
						if i == 1 {
							time.Sleep(30 * time.Millisecond)
						}
						if err := tx.Model(&DLAcct{}).Where("id = ?", id).Update("bal", gorm.Expr("bal + ?", 1)).Error; err != nil {
							return err
						}
					}
					return nil
				})
				mu.Lock()
				out.classes[errClass(err)]++
				mu.Unlock()
			})
		}
		close(start)
		wg.Wait()
	}
	var accts []DLAcct
	wantOK(t, db.Order("id").Find(&accts))
	out.balX, out.balY = accts[0].Bal, accts[1].Bal
	var entries []DLEntry
	wantOK(t, db.Order("id").Find(&entries))
	for _, e := range entries {
		out.entries = append(out.entries, uint64(e.ID))
	}
	if plugin {
		ph, mi := markAudit(t, c, "dlentry:created", out.entries)
		out.phantom, out.missing = len(ph), len(mi)
		out.unknown, out.reported = unknown(), len(rec.all())
	}
	return out
}

// TestDeadlockOutcomes runs the deadlock program without and with the
// plugin on PostgreSQL and MariaDB: every transaction must end as without
// the plugin (committed, or the driver's own deadlock error: 40P01, 1213),
// the data must stay consistent, and the marks must match the rows. Run
// with -v to see the numbers (docs/operations.md).
func TestDeadlockOutcomes(t *testing.T) {
	cases := serverCases(t, false)
	if len(cases) == 0 {
		t.Skip("needs PostgreSQL or MariaDB: set " + "BITMAPIST_TEST_POSTGRES_DSN / BITMAPIST_TEST_MYSQL_DSN")
	}
	const rounds = 10
	for _, dc := range cases {
		t.Run(dc.name, func(t *testing.T) {
			deadlock := map[string]string{"postgres": "pg:40P01", "mysql": "mysql:1213"}[dc.name]
			for _, plugin := range []bool{false, true} {
				o := runDeadlocks(t, dc, plugin, rounds)
				t.Logf("%s plugin=%v: outcomes %v, balances X=%d Y=%d, %d entries, marks: %d phantom, %d missing, %d unknown, %d reported",
					dc.name, plugin, o.classes, o.balX, o.balY, len(o.entries), o.phantom, o.missing, o.unknown, o.reported)
				for _, class := range slices.Sorted(maps.Keys(o.classes)) {
					if class != "ok" && class != deadlock {
						t.Errorf("plugin=%v: %d transactions ended with %s, want only ok or %s", plugin, o.classes[class], class, deadlock)
					}
				}
				ok := o.classes["ok"]
				if o.classes[deadlock] == 0 || ok+o.classes[deadlock] != 2*rounds {
					t.Errorf("plugin=%v: outcomes %v, want %d transactions, some of them deadlock victims", plugin, o.classes, 2*rounds)
				}
				if o.balX != ok || o.balY != ok || len(o.entries) != ok {
					t.Errorf("plugin=%v: X=%d Y=%d entries=%d, want all %d (one per committed transaction)", plugin, o.balX, o.balY, len(o.entries), ok)
				}
				if plugin && (o.phantom != 0 || o.missing != 0 || o.unknown != 0 || o.reported != 0) {
					t.Errorf("marks: %d phantom, %d missing, %d unknown, %d reported; want none", o.phantom, o.missing, o.unknown, o.reported)
				}
			}
		})
	}
}
