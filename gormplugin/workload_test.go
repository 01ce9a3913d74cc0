package bitmapistplugin_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// RAcct and REntry are the tables of the randomized workload.
type RAcct struct {
	ID  uint `gorm:"primaryKey;autoIncrement:false"`
	Bal int
	bitmapist.Tracked
}

type REntry struct {
	ID    uint
	Owner int `gorm:"index"`
	Note  string
	bitmapist.Tracked
}

// RShared are the rows every goroutine's transactions contend on: ids
// 1-6 are only updated (by key and by condition), 7-12 updated and deleted
// (by key and by condition), 100-105 only inserted (ON CONFLICT DO
// NOTHING: the same row whoever wins). Every change commutes (num grows by
// the amounts of the committed updates), so the final state does not
// depend on the order in which the database serialises the transactions;
// Tok, which records the last writer, is left out of the comparison.
type RShared struct {
	ID  uint `gorm:"primaryKey;autoIncrement:false"`
	Num int
	Tok string `gorm:"size:40"`
	bitmapist.Tracked
}

// RSlow rows are written only by the transactions whose context is
// cancelled while their COMMIT runs (PostgreSQL): a deferred constraint
// trigger holds COMMIT for 0.5 s and ignores the cancel, so the
// transaction commits although the application gets an error.
type RSlow struct {
	ID  uint
	Tok string `gorm:"size:40"`
	bitmapist.Tracked
}

// slowCommitTrigger makes COMMIT of a transaction that inserted into
// table sleep 0.5 s, ignoring query cancels: 20 sleeps of 25 ms, each
// catching the cancel, so that a cancel request that reaches the server
// late (a loaded machine) is ignored too.
func slowCommitTrigger(t *testing.T, db *gorm.DB, table string) {
	fn := table + "_slow"
	for _, q := range []string{
		fmt.Sprintf(`CREATE FUNCTION %s() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN FOR i IN 1..20 LOOP BEGIN PERFORM pg_sleep(0.025); EXCEPTION WHEN query_canceled THEN NULL; END; END LOOP; RETURN NULL; END $$`, fn),
		fmt.Sprintf(`CREATE CONSTRAINT TRIGGER %s AFTER INSERT ON %s DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION %s()`, fn, table, fn),
	} {
		wantOK(t, db.Exec(q))
	}
	t.Cleanup(func() { db.Exec(fmt.Sprintf(`DROP FUNCTION IF EXISTS %s() CASCADE`, fn)) })
}

// wlTruth is what the workload's committed transactions did, as the
// harness tracks it: the ids whose created/updated/deleted marks must
// exist (and no others).
type wlTruth struct {
	mu                        sync.Mutex
	created, updated, deleted map[uint64]bool
	acctUpdated               map[uint64]bool
	sharedUpdated             map[uint64]bool
	sharedCreated             map[uint64]bool
	unknown                   map[string]map[uint64]bool // event → ids of commits of unknown outcome (not marked)
	unknownTx                 int                        // transactions cancelled during COMMIT
	unknownCommitted          int                        // those that committed nevertheless
	unknownMarks              int64                      // the marks of their statements
}

// wlResult is one run of the workload.
type wlResult struct {
	classes []string // final class of each transaction, by (round, goroutine)
	retries int
	accts   []string
	entries []string
	shared  []string
	audit   map[string][2]int // event → phantom, missing
	marks   map[string]int    // event → marks expected
	unknown int64
	failed  int64

	unknownTx        int                        // commits of unknown outcome (cancelled during COMMIT)
	unknownIDs       map[string]map[uint64]bool // their ids, by event
	unknownReports   int                        // CommitUnknownErrors the handler got
	unknownWant      int64                      // marks of those commits
	unknownCommitted int                        // of them committed
}

// sharedAccts are the accounts the deadlock-prone transactions lock in
// opposite orders.
const sharedA, sharedB = 100, 101

// Workload modes: without the plugin, with it, with it and WithOutbox.
const (
	wlPlain  = ""
	wlPlugin = "plugin"
	wlOutbox = "outbox"
)

// runWorkload runs rounds of g concurrent transactions generated from
// seed, each retried on deadlock/serialization failures, in mode (wlPlain,
// wlPlugin, wlOutbox), and returns outcomes and final state.
func runWorkload(t *testing.T, dc dbCase, mode string, seed uint64, rounds, g int) wlResult {
	plugin := mode != wlPlain
	db := openTables(t, dc, &RAcct{}, &REntry{}, &RShared{}, &RSlow{})
	if dc.name == "postgres" {
		slowCommitTrigger(t, db, db.NamingStrategy.TableName("RSlow"))
	}
	accts := []RAcct{{ID: sharedA}, {ID: sharedB}}
	for i := range g {
		accts = append(accts, RAcct{ID: uint(i + 1)})
	}
	wantOK(t, db.Create(&accts))
	var shared []RShared
	for id := range 12 {
		shared = append(shared, RShared{ID: uint(id + 1)})
	}
	wantOK(t, db.Create(&shared))
	var c *bitmapist.Client
	var unknown, failed func() int64
	var rec *errRecorder
	var flush func(context.Context) error
	if plugin {
		var opts []bitmapistplugin.Option
		if mode == wlOutbox {
			// A lease of 2.1 s: rows of commits of unknown outcome are
			// relayed soon after.
			opts = []bitmapistplugin.Option{outboxTableOption(t, db), bitmapistplugin.WithTimeout(time.Second)}
		}
		p, cl, r := installPlugin(t, db, opts...)
		c, unknown, failed, rec = cl, p.UnknownMarks, p.FailedMarks, r
		flush = p.Flush
	}
	truth := &wlTruth{created: map[uint64]bool{}, updated: map[uint64]bool{}, deleted: map[uint64]bool{}, acctUpdated: map[uint64]bool{},
		sharedUpdated: map[uint64]bool{}, sharedCreated: map[uint64]bool{}, unknown: map[string]map[uint64]bool{}}
	own := make([]map[uint64]string, g) // each goroutine's committed entries
	for i := range own {
		own[i] = map[uint64]string{}
	}
	res := wlResult{classes: make([]string, rounds*g)}
	rng := rand.New(rand.NewPCG(seed, 9))
	for r := range rounds {
		conflict := g > 1 && rng.IntN(3) == 0
		seeds := make([]uint64, g)
		for i := range seeds {
			seeds[i] = rng.Uint64()
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for gi := range g {
			wg.Go(func() {
				if conflict && gi == 1 {
					time.Sleep(5 * time.Millisecond)
				}
				class, tries := "", 0
				for ; tries < 6; tries++ {
					w := &wlTx{db: db, rng: rand.New(rand.NewPCG(seeds[gi], 1)), owner: gi + 1, own: own[gi], conflict: conflict, first: gi == 0,
						slowOK: dc.name == "postgres"}
					class = w.run()
					switch {
					case class == "ok":
						w.commitTruth(truth, own[gi])
					case w.slowTok != "":
						w.commitUnknown(truth, w.committedAnyway(t))
					}
					if !retryable(class) {
						break
					}
				}
				mu.Lock()
				res.classes[r*g+gi], res.retries = class, res.retries+tries
				mu.Unlock()
			})
		}
		wg.Wait()
	}
	var as []RAcct
	wantOK(t, db.Order("id").Find(&as))
	for _, a := range as {
		res.accts = append(res.accts, fmt.Sprint(a.ID, ":", a.Bal))
	}
	var es []REntry
	wantOK(t, db.Find(&es))
	for _, e := range es {
		res.entries = append(res.entries, fmt.Sprint(e.Owner, ":", e.Note))
	}
	slices.Sort(res.entries)
	sharedCreated, sharedDeleted := sharedState(t, db, &res)
	if !maps.Equal(sharedCreated, truth.sharedCreated) {
		t.Errorf("shared rows inserted %v, the transactions saw %v", slices.Sorted(maps.Keys(sharedCreated)), slices.Sorted(maps.Keys(truth.sharedCreated)))
	}
	if plugin {
		slow := map[uint64]bool{}
		if mode == wlOutbox {
			// In the outbox iff committed: sent by the relay.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			slow = truth.unknown["rslow:created"]
		}
		res.audit, res.marks = map[string][2]int{}, map[string]int{}
		for ev, ids := range map[string]map[uint64]bool{"rentry:created": truth.created, "rentry:updated": truth.updated, "rentry:deleted": truth.deleted, "racct:updated": truth.acctUpdated,
			"rshared:created": sharedCreated, "rshared:updated": truth.sharedUpdated, "rshared:deleted": sharedDeleted,
			"rslow:created": slow} {
			ph, mi := markAudit(t, c, ev, slices.Collect(maps.Keys(ids)))
			// Missing marks of commits of unknown outcome are reported
			// (CommitUnknownError, UnknownMarks), not silently missing.
			mi = slices.DeleteFunc(mi, func(id uint64) bool { return mode != wlOutbox && truth.unknown[ev][id] })
			res.audit[ev], res.marks[ev] = [2]int{len(ph), len(mi)}, len(ids)
		}
		res.unknown, res.failed = unknown(), failed()
		res.unknownTx, res.unknownIDs, res.unknownWant = truth.unknownTx, truth.unknown, truth.unknownMarks
		res.unknownCommitted = truth.unknownCommitted
		for _, err := range rec.all() {
			if _, ok := errors.AsType[*bitmapistplugin.CommitUnknownError](err); ok {
				res.unknownReports++
			}
		}
	}
	return res
}

// sharedState adds the final shared rows ("id:num") to res and returns
// the inserted ids present (100-105: never deleted) and the ids 7-12
// absent (deleted by a committed transaction).
func sharedState(t *testing.T, db *gorm.DB, res *wlResult) (created, deleted map[uint64]bool) {
	var rows []RShared
	wantOK(t, db.Order("id").Find(&rows))
	created, deleted = map[uint64]bool{}, map[uint64]bool{}
	for id := uint64(7); id <= 12; id++ {
		deleted[id] = true
	}
	for _, r := range rows {
		res.shared = append(res.shared, fmt.Sprint(r.ID, ":", r.Num))
		if r.ID >= 100 {
			created[uint64(r.ID)] = true
		}
		delete(deleted, uint64(r.ID))
	}
	return created, deleted
}

// wlTx is one transaction of the workload.
type wlTx struct {
	db       *gorm.DB
	rng      *rand.Rand
	owner    int
	own      map[uint64]string // committed entries of the owner (read only)
	conflict bool              // lock the shared accounts in opposite orders
	first    bool

	cur                       map[uint64]string // entries as this transaction sees them
	created, updated, deleted []uint64
	acct                      []uint64
	sharedUpd, sharedIns      []uint64

	slowOK  bool   // PostgreSQL: end 3 cancels the context while COMMIT runs
	slowTok string // the RSlow row of such a transaction
	slowID  uint64
}

var notes = []string{"a", "b", "c"}

// run runs the transaction and returns its errClass.
func (w *wlTx) run() (class string) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.cur = maps.Clone(w.own)
	ops := 2 + w.rng.IntN(5)
	end := w.rng.IntN(10) // 0: abort, 1: panic, 2: cancel, 3 (PostgreSQL): cancel during COMMIT, else commit
	slow := end == 3 && w.slowOK
	defer func() {
		if recover() != nil {
			class = "panic"
		}
	}()
	var stopWatch func()
	defer func() {
		if stopWatch != nil {
			stopWatch()
		}
	}()
	err := w.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if slow {
			// Only its RSlow row: whether such a commit survives the
			// client's cancel is the database's business (the cancel
			// request pgx sends may land while COMMIT finishes), so it
			// changes nothing the runs compare.
			var err error
			stopWatch, err = w.slowCommit(tx, cancel)
			return err
		}
		if w.conflict {
			order := []uint{sharedA, sharedB}
			if !w.first {
				order = []uint{sharedB, sharedA}
			}
			for i, id := range order {
				if i == 1 {
					time.Sleep(20 * time.Millisecond)
				}
				if err := w.acctOp(tx, id); err != nil {
					return err
				}
			}
		}
		shared := w.rng.IntN(2) == 0 // the last statement is on the shared rows
		for i := range ops {
			if end == 2 && i == ops-1 {
				cancel()
			}
			op := w.op
			if shared && i == ops-1 {
				op = w.sharedOp
			}
			if err := op(tx); err != nil {
				return err
			}
		}
		switch end {
		case 0:
			return errAbort
		case 1:
			panic("workload panic")
		}
		return nil
	})
	return errClass(err)
}

// slowCommit inserts the transaction's RSlow row (its COMMIT will take a
// while) and starts watching its backend from another connection:
// cancel is called once the backend runs COMMIT (sleeping in the trigger). The returned function
// stops the watcher.
func (w *wlTx) slowCommit(tx *gorm.DB, cancel func()) (func(), error) {
	w.slowTok = fmt.Sprintf("slow-%d-%d", w.owner, w.rng.Uint64())
	row := RSlow{Tok: w.slowTok}
	if err := tx.Create(&row).Error; err != nil {
		return nil, err
	}
	w.slowID = uint64(row.ID)
	var pid int
	if err := tx.Raw("SELECT pg_backend_pid()").Scan(&pid).Error; err != nil {
		return nil, err
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			var q string
			// Cancel only once COMMIT sleeps in the trigger, which then
			// ignores the cancel: earlier, the cancel would abort COMMIT.
			w.db.Raw("SELECT query FROM pg_stat_activity WHERE pid = ? AND state = 'active' AND wait_event = 'PgSleep'", pid).Scan(&q)
			if strings.EqualFold(strings.TrimSpace(q), "commit") {
				cancel()
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	return func() { close(stop); <-done }, nil
}

// committedAnyway reports whether a transaction cancelled during its
// COMMIT committed (its RSlow row appears: PostgreSQL finishes the commit
// on its own, unless the cancel request lands after the trigger), waiting
// for it up to 5 s.
func (w *wlTx) committedAnyway(t *testing.T) bool {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var n int64
		wantOK(t, w.db.Model(&RSlow{}).Where("tok = ?", w.slowTok).Count(&n))
		if n > 0 {
			return true
		}
	}
	return false
}

// commitUnknown records a transaction cancelled while its COMMIT ran:
// its mark must be reported as of unknown outcome instead of being sent,
// and its row, if it committed, is the database's.
func (w *wlTx) commitUnknown(tr *wlTruth, committed bool) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.unknownTx++
	tr.unknownMarks++
	if committed {
		tr.unknownCommitted++
		if tr.unknown["rslow:created"] == nil {
			tr.unknown["rslow:created"] = map[uint64]bool{}
		}
		tr.unknown["rslow:created"][w.slowID] = true
	}
}

// op runs one random statement, or a savepoint holding two.
func (w *wlTx) op(tx *gorm.DB) error {
	switch w.rng.IntN(8) {
	case 0:
		return w.acctOp(tx, uint(w.owner))
	case 1: // savepoint: two statements, kept or rolled back
		saved := []any{maps.Clone(w.cur), len(w.created), len(w.updated), len(w.deleted), len(w.acct)}
		keep := w.rng.IntN(2) == 0
		err := tx.Transaction(func(tx *gorm.DB) error {
			for range 2 {
				if err := w.entryOp(tx); err != nil {
					return err
				}
			}
			if !keep {
				return errAbort
			}
			return nil
		})
		if err == errAbort {
			w.cur = saved[0].(map[uint64]string)
			w.created, w.updated = w.created[:saved[1].(int)], w.updated[:saved[2].(int)]
			w.deleted, w.acct = w.deleted[:saved[3].(int)], w.acct[:saved[4].(int)]
			return nil
		}
		return err
	}
	return w.entryOp(tx)
}

// acctOp adds a non-zero amount to account id, by condition.
func (w *wlTx) acctOp(tx *gorm.DB, id uint) error {
	d := 1 + w.rng.IntN(9)
	if err := tx.Model(&RAcct{}).Where("id = ?", id).Update("bal", gorm.Expr("bal + ?", d)).Error; err != nil {
		return err
	}
	w.acct = append(w.acct, uint64(id))
	return nil
}

// entryOp creates, updates or deletes the owner's entries, by key or by
// condition; every update changes the value.
func (w *wlTx) entryOp(tx *gorm.DB) error {
	keys := slices.Sorted(maps.Keys(w.cur))
	n := notes[w.rng.IntN(len(notes))]
	kind := w.rng.IntN(5)
	if len(keys) == 0 {
		kind = 0
	}
	switch kind {
	case 0:
		e := REntry{Owner: w.owner, Note: n}
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		w.cur[uint64(e.ID)] = n
		w.created = append(w.created, uint64(e.ID))
	case 1: // update by key
		id := keys[w.rng.IntN(len(keys))]
		n = next(w.cur[id])
		if err := tx.Model(&REntry{ID: uint(id)}).Update("note", n).Error; err != nil {
			return err
		}
		w.cur[id] = n
		w.updated = append(w.updated, id)
	case 2: // update by condition
		n2 := next(n)
		if err := tx.Model(&REntry{}).Where("owner = ? AND note = ?", w.owner, n).Update("note", n2).Error; err != nil {
			return err
		}
		for id, v := range w.cur {
			if v == n {
				w.cur[id] = n2
				w.updated = append(w.updated, id)
			}
		}
	case 3: // delete by key
		id := keys[w.rng.IntN(len(keys))]
		if err := tx.Delete(&REntry{}, id).Error; err != nil {
			return err
		}
		delete(w.cur, id)
		w.deleted = append(w.deleted, id)
	case 4: // delete by condition
		if err := tx.Where("owner = ? AND note = ?", w.owner, n).Delete(&REntry{}).Error; err != nil {
			return err
		}
		for id, v := range w.cur {
			if v == n {
				delete(w.cur, id)
				w.deleted = append(w.deleted, id)
			}
		}
	}
	return nil
}

// sharedOp runs one statement on the shared rows (see RShared): an
// update by key or by condition, a delete by key or by condition, or an
// insert that does nothing on conflict. It is the last statement of its
// transaction, and touches at most one row another single statement also
// touches (or the same rows in the same order), so that contention makes
// transactions wait but never deadlock: outcomes stay those of the seed.
// The rows it updated or inserted it reads back by their token (its own
// writes; a plain read, no lock).
func (w *wlTx) sharedOp(tx *gorm.DB) error {
	tok := fmt.Sprintf("%d-%d", w.owner, w.rng.Uint64())
	d := 1 + w.rng.IntN(9)
	var err error
	kind := w.rng.IntN(5)
	switch kind {
	case 0: // update by key
		id := uint(1 + w.rng.IntN(12))
		err = tx.Model(&RShared{ID: id}).Updates(map[string]any{"num": gorm.Expr("num + ?", d), "tok": tok}).Error
	case 1: // update by condition
		err = tx.Model(&RShared{}).Where("id <= 12 AND id % 3 = ?", w.rng.IntN(3)).
			Updates(map[string]any{"num": gorm.Expr("num + ?", d), "tok": tok}).Error
	case 2: // delete by key
		err = tx.Delete(&RShared{}, 7+w.rng.IntN(6)).Error
	case 3: // delete by condition
		err = tx.Where("id > 6 AND id <= 12 AND id % 2 = ?", w.rng.IntN(2)).Delete(&RShared{}).Error
	case 4: // insert, nothing on conflict
		err = tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&RShared{ID: uint(100 + w.rng.IntN(6)), Tok: tok}).Error
	}
	if err != nil || kind == 2 || kind == 3 {
		return err
	}
	var ids []uint64
	if err := tx.Model(&RShared{}).Where("tok = ?", tok).Pluck("id", &ids).Error; err != nil {
		return err
	}
	if kind == 4 {
		w.sharedIns = append(w.sharedIns, ids...)
	} else {
		w.sharedUpd = append(w.sharedUpd, ids...)
	}
	return nil
}

func next(n string) string {
	i := slices.Index(notes, n)
	return notes[(i+1)%len(notes)]
}

// commitTruth records a committed transaction's effects.
func (w *wlTx) commitTruth(tr *wlTruth, own map[uint64]string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, s := range []struct {
		ids []uint64
		m   map[uint64]bool
	}{{w.created, tr.created}, {w.updated, tr.updated}, {w.deleted, tr.deleted}, {w.acct, tr.acctUpdated},
		{w.sharedUpd, tr.sharedUpdated}, {w.sharedIns, tr.sharedCreated}} {
		for _, id := range s.ids {
			s.m[id] = true
		}
	}
	clear(own)
	maps.Copy(own, w.cur)
}

// TestRandomWorkloadTransparent runs a seeded random workload of
// concurrent transactions (inserts, updates and deletes by key and by
// condition, savepoints kept and rolled back, aborts, panics, cancels,
// deadlock-prone lock orders with retry loops) twice, without and with the
// plugin: final states and per-transaction outcomes must be identical, and
// the marks must match what committed (0 phantom, 0 missing).
func TestRandomWorkloadTransparent(t *testing.T) {
	for _, dc := range serverCases(t, true) {
		t.Run(dc.name, func(t *testing.T) {
			g, rounds := 2, 40
			if dc.name == "sqlite" {
				g = 1 // one writer at a time: no row locks to contend on
			}
			const seed = 20260512
			plain := runWorkload(t, dc, wlPlain, seed, rounds, g)
			modes := []string{wlPlugin}
			if dc.name == "postgres" {
				modes = append(modes, wlOutbox) // Creates folded with their outbox rows
			}
			for _, mode := range modes {
				with := runWorkload(t, dc, mode, seed, rounds, g)
				compareWorkload(t, mode, plain, with)
				if dc.name == "postgres" && with.unknownCommitted == 0 {
					t.Error("no commit was cancelled while it ran: the seed no longer tests it")
				}
			}
		})
	}
}

// compareWorkload fails t unless the run with the plugin in mode had the
// outcomes and final state of the run without it, and exactly the marks
// of what committed.
func compareWorkload(t *testing.T, mode string, plain, with wlResult) {
	t.Helper()
	count := func(cs []string) map[string]int {
		m := map[string]int{}
		for _, c := range cs {
			m[c]++
		}
		return m
	}
	t.Logf("%s: without plugin: %v, %d retries; with: %v, %d retries; marks expected %v, (phantom, missing): %v; unknown %d, failed %d",
		mode, count(plain.classes), plain.retries, count(with.classes), with.retries, with.marks, with.audit, with.unknown, with.failed)
	if !slices.Equal(plain.classes, with.classes) {
		t.Errorf("per-transaction outcomes differ:\nwithout %v\nwith    %v", plain.classes, with.classes)
	}
	if !slices.Equal(plain.accts, with.accts) || !slices.Equal(plain.entries, with.entries) || !slices.Equal(plain.shared, with.shared) {
		t.Errorf("final states differ:\nwithout %v %v %v\nwith    %v %v %v", plain.accts, plain.entries, plain.shared, with.accts, with.entries, with.shared)
	}
	for ev, pm := range with.audit {
		if pm != [2]int{} {
			t.Errorf("%s: %d phantom, %d missing marks, want none", ev, pm[0], pm[1])
		}
	}
	t.Logf("transactions cancelled during COMMIT: %d (%d committed nevertheless), %d CommitUnknownErrors, UnknownMarks %d",
		with.unknownTx, with.unknownCommitted, with.unknownReports, with.unknown)
	wantUnknown, wantReports := with.unknownWant, with.unknownTx
	if mode == wlOutbox { // sent if committed: nothing of unknown outcome
		wantUnknown, wantReports = 0, 0
	}
	if with.failed != 0 || with.unknown != wantUnknown || with.unknownReports != wantReports {
		t.Errorf("FailedMarks %d, UnknownMarks %d, CommitUnknownErrors %d; want 0, %d (the marks of the %d commits of unknown outcome), %d",
			with.failed, with.unknown, with.unknownReports, wantUnknown, with.unknownTx, wantReports)
	}
}
