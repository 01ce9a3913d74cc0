package bitmapistplugin

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// TestRelayAsyncCommit: on PostgreSQL the relay's writes (a claim's
// lease, the deletes of sent rows) make the commit of their own
// transaction asynchronous (synchronous_commit off), and only theirs: the
// setting does not outlive the transaction, and the statements a
// committer's transaction runs (the staged INSERT, the lease and time
// refresh before COMMIT) leave it at the server's.
func TestRelayAsyncCommit(t *testing.T) {
	dsn, ok := testutil.PostgresDSN(t)
	if !ok {
		t.Skip("needs PostgreSQL (" + testutil.EnvPostgresDSN + ")")
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // every statement below runs on one connection
	ctx := context.Background()
	var rnd [5]byte
	_, _ = rand.Read(rnd[:])
	table := "bmobrelay" + hex.EncodeToString(rnd[:])
	d, err := newOutboxDialect("postgres", table)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range d.createSQL(table) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	defer db.ExecContext(ctx, "DROP TABLE "+d.table)
	server := showSyncCommit(t, db)
	if server == "off" {
		t.Skip("the server's synchronous_commit is off already")
	}
	marks := []pendingMark{{event: "e", id: rowID{id: 7}, at: time.UnixMilli(1000)}}
	for _, tc := range []struct {
		name  string
		relay bool
		run   func(x *sql.Tx) error
	}{
		{"stage", false, func(x *sql.Tx) error { return d.insert(ctx, x, 1, marks, 0) }},
		{"relet", false, func(x *sql.Tx) error { return d.relet(ctx, x, []int64{1}, nil, 5) }},
		{"claim", true, func(x *sql.Tx) error {
			rows, err := d.claim(ctx, x, 10, 20, 10)
			if err == nil && len(rows) != 1 {
				t.Errorf("claim took %d rows, want 1", len(rows))
			}
			return err
		}},
		{"deleteRows", true, func(x *sql.Tx) error { return d.deleteRows(ctx, x, []outboxRow{{batch: 1, seq: 0}}) }},
		{"deleteBatches", true, func(x *sql.Tx) error { return d.deleteBatches(ctx, x, []int64{1}) }},
	} {
		if tc.name == "deleteBatches" { // the row again, for a second delete
			if err := d.insert(ctx, db, 1, marks, 0); err != nil {
				t.Fatal(err)
			}
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := tc.run(tx); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		want := server
		if tc.relay {
			want = "off"
		}
		if got := showSyncCommit(t, tx); got != want {
			t.Errorf("%s: synchronous_commit %q in its transaction, want %q", tc.name, got, want)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := showSyncCommit(t, db); got != server {
			t.Errorf("after %s: synchronous_commit %q, want the server's %q", tc.name, got, server)
		}
	}
	if n, err := d.count(ctx, db); err != nil || n != 0 {
		t.Errorf("rows left: %d, %v; want 0", n, err)
	}
}

// showSyncCommit returns synchronous_commit as q's connection sees it.
func showSyncCommit(t *testing.T, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) string {
	t.Helper()
	var v string
	if err := q.QueryRowContext(context.Background(), "SHOW synchronous_commit").Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}
