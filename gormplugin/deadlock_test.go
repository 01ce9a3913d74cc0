package bitmapistplugin_test

import (
	"maps"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults/deadlockrun"
)

// deadlockOutcome is what one run of the deadlock program saw.
type deadlockOutcome struct {
	classes  map[string]int // transaction outcomes (errClass)
	balX     int
	balY     int
	entries  []uint64 // ids of the entry rows
	phantom  int      // marked entry:created ids without a row
	missing  int      // rows without their entry:created mark
	unknown  int64
	reported int
}

// runDeadlocks runs the deadlock program's rounds (deadlockrun.Rounds, the
// same as `go run ./internal/faults/deadlock`) on fresh tables of dc; with
// plugin it also audits the marks.
func runDeadlocks(t *testing.T, dc dbCase, plugin bool, rounds int) deadlockOutcome {
	db := openTables(t, dc, &deadlockrun.Acct{}, &deadlockrun.Entry{})
	wantOK(t, db.Create(&[]deadlockrun.Acct{{ID: 1}, {ID: 2}}))
	var out deadlockOutcome
	var c *bitmapist.Client
	var rec *errRecorder
	var unknown func() int64
	if plugin {
		p, cl, r := installPlugin(t, db)
		c, rec, unknown = cl, r, p.UnknownMarks
	}
	out.classes = deadlockrun.Rounds(db, rounds)
	var accts []deadlockrun.Acct
	wantOK(t, db.Order("id").Find(&accts))
	out.balX, out.balY = accts[0].Bal, accts[1].Bal
	var entries []deadlockrun.Entry
	wantOK(t, db.Order("id").Find(&entries))
	for _, e := range entries {
		out.entries = append(out.entries, uint64(e.ID))
	}
	if plugin {
		ph, mi := markAudit(t, c, "entry:created", out.entries)
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
