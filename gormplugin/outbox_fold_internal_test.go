package bitmapistplugin

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

func testFold(table string) *fold {
	d, err := newOutboxDialect("postgres", table)
	if err != nil {
		panic(err)
	}
	return &fold{o: &outbox{d: d, lease: time.Second}, stmt: &gorm.Statement{Clauses: map[string]clause.Clause{}},
		pk: `"id"`, pkName: "id", event: "user:created", at: time.UnixMilli(1234)}
}

// TestFoldAttribute: errors of the outbox INSERT become the plugin's;
// the statement's own stay the driver's, their position moved back to
// the statement's SQL.
func TestFoldAttribute(t *testing.T) {
	f := testFold("app.bitmapist_outbox")
	user := `INSERT INTO "users" ("name") VALUES ($1) RETURNING "id"`
	head := int32(len(foldHead))
	n := int32(len(user))
	for _, tc := range []struct {
		pe      pgconn.PgError
		plugins bool
		pos     int32
	}{
		{pgconn.PgError{Code: "23505", TableName: "users"}, false, 0},
		{pgconn.PgError{Code: "42703", Position: head + 14}, false, 14},
		{pgconn.PgError{Code: "42703", Position: head + n}, false, n},
		{pgconn.PgError{Code: "42P01", Position: head + n + 30, Message: `relation "app.bitmapist_outbox" does not exist`}, true, head + n + 30},
		{pgconn.PgError{Code: "23505", TableName: "bitmapist_outbox"}, true, 0},
		{pgconn.PgError{Code: "42501", Message: "permission denied for table bitmapist_outbox"}, true, 0},
		{pgconn.PgError{Code: "42501", Message: "permission denied for table bitmapist_outbox_old"}, false, 0},
		{pgconn.PgError{Code: "40P01", Message: "deadlock detected"}, false, 0},
	} {
		pe := tc.pe
		err := f.attribute(&pe, len(user))
		var got *pgconn.PgError
		if !errors.As(err, &got) || got != &pe {
			t.Errorf("%v: attribute = %v, not the driver's error", tc.pe, err)
			continue
		}
		if plugins := strings.HasPrefix(err.Error(), "bitmapistplugin: outbox insert: "); plugins != tc.plugins || got.Position != tc.pos {
			t.Errorf("%s %q: plugin's %v, position %d; want %v, %d", tc.pe.Code, tc.pe.Message, plugins, got.Position, tc.plugins, tc.pos)
		}
	}
	other := errors.New("conn closed")
	if err := f.attribute(other, 10); err != other {
		t.Errorf("attribute(%v) = %v, want it as it is", other, err)
	}
}

// TestFoldRewrite: the forms folded (QueryContext with a RETURNING of the
// key or *, ExecContext without RETURNING) and those run as they are.
func TestFoldRewrite(t *testing.T) {
	f := testFold("bitmapist_outbox")
	q := `INSERT INTO "users" ("name") VALUES ($1)`
	if _, _, ok := f.rewrite(q, 1, false); ok {
		t.Error("a query without RETURNING was folded")
	}
	got, args, ok := f.rewrite(q, 1, true)
	want := `WITH bitmapist_rows AS (` + q + ` RETURNING "id"), bitmapist_ob AS (INSERT INTO "bitmapist_outbox" ` +
		`(batch, seq, event, user_id, user_key, at_ms, not_before, target) SELECT $2::bigint, (row_number() OVER ())::integer - 1, ` +
		`$3::text, bitmapist_rows."id"::bigint, '', $4::bigint, $5::bigint, $6::text FROM bitmapist_rows ` +
		`WHERE bitmapist_rows."id" BETWEEN 1 AND 4294967295) SELECT FROM bitmapist_rows`
	if !ok || got != want || len(args) != 5 || args[0] != f.batch || args[1] != "user:created" || args[2] != int64(1234) {
		t.Errorf("exec rewrite = %v %q %v, want\n%q", ok, got, args, want)
	}
	for cols, fold := range map[string]bool{"id": true, "*": true, "": true, "created_at": false} {
		var ret clause.Returning
		if cols != "" {
			ret.Columns = []clause.Column{{Name: cols}}
		}
		f.stmt.Clauses["RETURNING"] = clause.Clause{Expression: ret}
		got, _, ok := f.rewrite(q+" RETURNING x", 1, false)
		if ok != fold || (ok && !strings.HasSuffix(got, ") SELECT * FROM bitmapist_rows")) {
			t.Errorf("RETURNING %q: folded %v (%q), want %v", cols, ok, got, fold)
		}
	}
	if _, _, ok := f.rewrite(q+" RETURNING x", 1, true); ok {
		t.Error("an Exec with RETURNING was folded")
	}
	f.user = &rowID{key: "alice"}
	f.stmt.Clauses["RETURNING"] = clause.Clause{Expression: clause.Returning{}}
	got, args, _ = f.rewrite(q+" RETURNING x", 1, false)
	if !strings.Contains(got, `$7::bigint, $8::text, $4::bigint`) || strings.Contains(got, "WHERE") || args[5] != int64(0) || args[6] != "alice" {
		t.Errorf("WithUserKey rewrite = %q %v", got, args)
	}
}

func TestSameHour(t *testing.T) {
	kolkata := time.FixedZone("IST", 5*3600+1800)
	a := time.Date(2025, 3, 12, 10, 29, 59, 0, time.UTC)
	for _, tc := range []struct {
		b    time.Time
		loc  *time.Location
		same bool
	}{
		{a.Add(time.Second), time.UTC, true},
		{a.Add(31 * time.Minute), time.UTC, false},
		{a.Add(time.Second), kolkata, false}, // 15:59:59 and 16:00:00 there
		{a.Add(-time.Minute), kolkata, true},
		{a.Add(24 * time.Hour), time.UTC, false},
	} {
		if got := sameHour(a, tc.b, tc.loc); got != tc.same {
			t.Errorf("sameHour(%v, %v, %v) = %v, want %v", a, tc.b, tc.loc, got, tc.same)
		}
	}
}
