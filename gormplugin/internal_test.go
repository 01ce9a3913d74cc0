package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/google/uuid"
)

func TestSavepointStmt(t *testing.T) {
	for _, tc := range []struct {
		q    string
		kind spKind
		name string
	}{
		{"SAVEPOINT sp123", spSet, "sp123"},
		{"  savepoint `a`", spSet, "`a`"},
		{"ROLLBACK TO SAVEPOINT sp1", spRollback, "sp1"},
		{"rollback to sp1", spRollback, "sp1"},
		{"RELEASE SAVEPOINT sp1", spRelease, "sp1"},
		{"RELEASE sp1", spRelease, "sp1"},
		{"ROLLBACK", spNone, ""},
		{"SELECT 1", spNone, ""},
		{"UPDATE savepoint SET x = 1", spNone, ""},
		{"INSERT INTO t (a) VALUES ('SAVEPOINT x')", spNone, ""},
	} {
		kind, name := savepointStmt(tc.q)
		if kind != tc.kind || name != tc.name {
			t.Errorf("savepointStmt(%q) = %v %q, want %v %q", tc.q, kind, name, tc.kind, tc.name)
		}
	}
}

func TestSavepointBookkeeping(t *testing.T) {
	tx := &txConn{}
	mk := func(ev string) []pendingMark { return []pendingMark{{event: ev, id: rowID{id: 1}}} }
	events := func() []string {
		var out []string
		for _, m := range tx.pending {
			out = append(out, m.event)
		}
		return out
	}
	tx.add(mk("a"))
	tx.savepoint(spSet, "s1")
	tx.add(mk("b"))
	tx.savepoint(spSet, "s2")
	tx.add(mk("c"))
	tx.savepoint(spRollback, "s1") // drops b and c, and s2
	if got := events(); len(got) != 1 || got[0] != "a" {
		t.Fatalf("after ROLLBACK TO s1: %v, want [a]", got)
	}
	tx.add(mk("d"))
	tx.savepoint(spRollback, "s2") // s2 is gone: no effect
	tx.savepoint(spRollback, "S1") // s1 survives its own rollback; names are case-insensitive
	if got := events(); len(got) != 1 {
		t.Fatalf("after second ROLLBACK TO s1: %v, want [a]", got)
	}
	tx.add(mk("e"))
	tx.savepoint(spRelease, "s1")
	tx.savepoint(spRollback, "s1") // released: no effect
	if got := events(); len(got) != 2 || got[1] != "e" {
		t.Fatalf("after RELEASE: %v, want [a e]", got)
	}
}

func TestKeyID(t *testing.T) {
	u := uuid.MustParse("7d444840-9dc0-11d1-b245-5ffdce74fad2")
	n := 5
	for _, tc := range []struct {
		in   any
		want rowID
		zero bool
		err  error
	}{
		{uint(7), rowID{id: 7}, false, nil},
		{int64(9), rowID{id: 9}, false, nil},
		{int8(0), rowID{}, true, nil},
		{&n, rowID{id: 5}, false, nil},
		{(*int)(nil), rowID{}, true, nil},
		{int32(-1), rowID{}, false, ErrUnsupportedKey},
		{uint64(1 << 32), rowID{}, false, ErrUnsupportedKey},
		{uint64(1<<32 - 1), rowID{id: 1<<32 - 1}, false, nil},
		{"abc", rowID{key: "abc"}, false, nil},
		{"", rowID{key: ""}, true, nil},
		{u, rowID{key: u.String()}, false, nil},
		{uuid.UUID{}, rowID{}, true, nil},
		{[]byte("k"), rowID{key: "k"}, false, nil},
		{sql.NullInt64{Int64: 3, Valid: true}, rowID{id: 3}, false, nil},
		{sql.NullInt64{}, rowID{}, true, nil},
		{sql.NullString{String: "s", Valid: true}, rowID{key: "s"}, false, nil},
		{1.5, rowID{}, false, ErrUnsupportedKey},
	} {
		got, zero, err := keyID(tc.in)
		if got != tc.want || zero != tc.zero || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("keyID(%#v) = %+v, %v, %v; want %+v, %v, %v", tc.in, got, zero, err, tc.want, tc.zero, tc.err)
		}
	}
}

func TestInFlight(t *testing.T) {
	var f inFlight
	if err := f.wait(context.Background()); err != nil {
		t.Fatalf("wait with nothing running = %v", err)
	}
	f.add()
	f.add()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("wait with sends running and a cancelled ctx = %v", err)
	}
	waited := make(chan error, 1)
	go func() { waited <- f.wait(context.Background()) }()
	f.done()
	f.add() // a new send may start while someone waits
	f.done()
	f.done()
	if err := <-waited; err != nil {
		t.Fatal(err)
	}
	if f.n != 0 || f.idle != nil {
		t.Errorf("n = %d, idle = %v after all done", f.n, f.idle)
	}
}
