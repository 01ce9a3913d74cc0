package bitmapistplugin

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// execer is what the outbox writes through: a *sql.DB, a *sql.Tx or the
// transaction GORM runs a statement in.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// queryer also reads.
type queryer interface {
	execer
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// outboxDialect is the SQL of the outbox table for one database.
type outboxDialect struct {
	name       string // GORM dialector name: postgres, mysql, sqlite
	table      string // quoted table name
	skipLocked bool   // SELECT ... FOR UPDATE SKIP LOCKED
	target     string // the plugin's outbox target: its rows, and the only ones it claims
}

// validTable is what WithOutboxTable accepts: an identifier, optionally
// schema-qualified.
var validTable = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$`)

// newOutboxDialect returns the outbox SQL for GORM dialector name.
func newOutboxDialect(name, table string) (outboxDialect, error) {
	if !validTable.MatchString(table) {
		return outboxDialect{}, fmt.Errorf("%w: table name %q", ErrOutbox, table)
	}
	d := outboxDialect{name: name}
	q := func(s string) string { return `"` + s + `"` }
	switch name {
	case "postgres":
		d.skipLocked = true
	case "mysql":
		d.skipLocked = true
		q = func(s string) string { return "`" + s + "`" }
	case "sqlite":
	default:
		return outboxDialect{}, fmt.Errorf("%w: database %q not supported (postgres, mysql, sqlite)", ErrOutbox, name)
	}
	parts := strings.Split(table, ".")
	for i := range parts {
		parts[i] = q(parts[i])
	}
	d.table = strings.Join(parts, ".")
	return d, nil
}

// indexName is the name of the outbox's not_before index.
func (d outboxDialect) indexName(table string) string {
	return strings.ReplaceAll(table, ".", "_") + "_not_before"
}

// createSQL returns the statements that create the outbox table and its
// index when they do not exist.
func (d outboxDialect) createSQL(table string) []string {
	cols := `batch BIGINT NOT NULL,
	seq INTEGER NOT NULL,
	event TEXT NOT NULL,
	user_id BIGINT NOT NULL,
	user_key TEXT NOT NULL,
	at_ms BIGINT NOT NULL,
	not_before BIGINT NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	target VARCHAR(255) NOT NULL DEFAULT '',
	PRIMARY KEY (batch, seq)`
	idx := d.indexName(table)
	if d.name == "mysql" {
		return []string{"CREATE TABLE IF NOT EXISTS " + d.table + " (\n\t" + cols +
			",\n\tINDEX `" + idx + "` (not_before)\n)"}
	}
	return []string{
		"CREATE TABLE IF NOT EXISTS " + d.table + " (\n\t" + cols + "\n)",
		`CREATE INDEX IF NOT EXISTS "` + idx + `" ON ` + d.table + " (not_before)",
	}
}

// hasTarget reports whether the table has the target column (tables
// created before it was added do not).
func (d outboxDialect) hasTarget(ctx context.Context, db *sql.DB) bool {
	rs, err := db.QueryContext(ctx, "SELECT target FROM "+d.table+" WHERE 1 = 0")
	if err != nil {
		return false
	}
	_ = rs.Close()
	return true
}

// migrate adds the target column to a table created before it existed;
// its rows keep target "", which every relay claims (as before). Several
// processes may migrate at once: a failed ALTER is an error only if the
// column is still missing after it.
func (d outboxDialect) migrate(ctx context.Context, db *sql.DB) error {
	if d.hasTarget(ctx, db) {
		return nil
	}
	_, err := db.ExecContext(ctx, "ALTER TABLE "+d.table+" ADD COLUMN target VARCHAR(255) NOT NULL DEFAULT ''")
	if err != nil && !d.hasTarget(ctx, db) {
		return fmt.Errorf("%w: add column target: %w", ErrOutbox, err)
	}
	return nil
}

// ph returns the i-th (1-based) placeholder.
func (d outboxDialect) ph(i int) string {
	if d.name == "postgres" {
		return "$" + strconv.Itoa(i)
	}
	return "?"
}

// outboxRow is one mark in the outbox.
type outboxRow struct {
	batch    int64
	seq      int
	mark     pendingMark
	attempts int
}

// insertChunk bounds the rows of one INSERT (8 parameters each).
const insertChunk = 500

// insert writes marks as rows seq 0.. of batch, available to relays from
// notBefore (Unix ms).
func (d outboxDialect) insert(ctx context.Context, x execer, batch int64, marks []pendingMark, notBefore int64) error {
	for start := 0; start < len(marks); start += insertChunk {
		end := min(start+insertChunk, len(marks))
		var b strings.Builder
		b.WriteString("INSERT INTO " + d.table + " (batch, seq, event, user_id, user_key, at_ms, not_before, target) VALUES ")
		args := make([]any, 0, 8*(end-start))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&b, "(%s, %s, %s, %s, %s, %s, %s, %s)", d.ph(n+1), d.ph(n+2), d.ph(n+3), d.ph(n+4), d.ph(n+5), d.ph(n+6), d.ph(n+7), d.ph(n+8))
			m := marks[i]
			args = append(args, batch, i, m.event, int64(m.id.id), m.id.key, m.at.UnixMilli(), notBefore, d.target)
		}
		if _, err := x.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("bitmapistplugin: outbox insert: %w", err)
		}
	}
	return nil
}

// keyList returns "(batch, seq) IN ((?, ?), ...)" for rows, with its
// arguments, placeholders numbered from first.
func (d outboxDialect) keyList(rows []outboxRow, first int) (string, []any) {
	var b strings.Builder
	b.WriteString("(batch, seq) IN (")
	args := make([]any, 0, 2*len(rows))
	for i, r := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		n := first + len(args)
		fmt.Fprintf(&b, "(%s, %s)", d.ph(n), d.ph(n+1))
		args = append(args, r.batch, r.seq)
	}
	b.WriteString(")")
	return b.String(), args
}

// claim selects up to limit rows available at now (Unix ms), skipping rows
// other relays hold, and leases them until until: other relays do not take
// them before. x must be a transaction of the relay's own: the lease
// makes its commit asynchronous (asyncCommit).
func (d outboxDialect) claim(ctx context.Context, x queryer, now, until int64, limit int) ([]outboxRow, error) {
	q := "SELECT batch, seq, event, user_id, user_key, at_ms, attempts FROM " + d.table +
		" WHERE not_before <= " + d.ph(1) + " AND target IN (" + d.ph(2) + ", '')" +
		" ORDER BY not_before LIMIT " + strconv.Itoa(limit)
	if d.skipLocked {
		q += " FOR UPDATE SKIP LOCKED"
	}
	rs, err := x.QueryContext(ctx, q, now, d.target)
	if err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
	}
	var rows []outboxRow
	for rs.Next() {
		var (
			r       outboxRow
			uid, at int64
		)
		if err := rs.Scan(&r.batch, &r.seq, &r.mark.event, &uid, &r.mark.id.key, &at, &r.attempts); err != nil {
			_ = rs.Close()
			return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
		}
		r.mark.id.id = uint64(uid)
		r.mark.at = unixMilli(at)
		rows = append(rows, r)
	}
	if err := rs.Close(); err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	where, args := d.keyList(rows, 2)
	_, err = x.ExecContext(ctx, "UPDATE "+d.table+" SET not_before = "+d.ph(1)+", attempts = attempts + 1 WHERE "+where+d.asyncCommit(),
		append([]any{until}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox lease: %w", err)
	}
	return rows, nil
}

// relayExec runs fn, a statement of the relay outside any committer's
// transaction: on db directly (autocommit), except on MySQL/MariaDB, where
// it runs in a READ COMMITTED transaction of its own, so that InnoDB takes
// no gap locks and a committer's INSERT into the outbox never waits for
// (or deadlocks with) the relay.
func (d outboxDialect) relayExec(ctx context.Context, db *sql.DB, fn func(execer) error) error {
	if d.name != "mysql" {
		return fn(db)
	}
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return fmt.Errorf("bitmapistplugin: outbox: %w", err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("bitmapistplugin: outbox: %w", err)
	}
	return nil
}

// asyncCommit returns the condition that ends the relay's statements
// (claims' leases, deletes) on PostgreSQL: " AND (SELECT set_config(
// 'synchronous_commit', 'off', true)) = 'off'", always true, run once
// (an InitPlan), which makes the commit of the statement's transaction,
// and of no other, not wait for its WAL to reach the disk, so that the
// relay's commits cost no fsync that the committers' own wait behind.
// That is sound because these statements only lease or delete rows whose
// marks are idempotent: a crash of the server may undo the relay commits
// of its last few hundred milliseconds (never a committer's synchronous
// commit: its WAL precedes theirs, which come after its marks were sent),
// bringing back leased or sent rows, which the relay sends again (SETBIT
// of a bit already set): no mark is lost and none made up. It must never
// end a statement of a committer's transaction. "" on other databases.
func (d outboxDialect) asyncCommit() string {
	if d.name != "postgres" {
		return ""
	}
	return " AND (SELECT set_config('synchronous_commit', 'off', true)) = 'off'"
}

// deleteRows deletes rows (a relay statement: see asyncCommit).
func (d outboxDialect) deleteRows(ctx context.Context, x execer, rows []outboxRow) error {
	where, args := d.keyList(rows, 1)
	if _, err := x.ExecContext(ctx, "DELETE FROM "+d.table+" WHERE "+where+d.asyncCommit(), args...); err != nil {
		return fmt.Errorf("bitmapistplugin: outbox delete: %w", err)
	}
	return nil
}

// deleteBatches deletes every row of batches (a relay statement: see
// asyncCommit).
func (d outboxDialect) deleteBatches(ctx context.Context, x execer, batches []int64) error {
	where, args := d.batchList(batches, 1)
	if _, err := x.ExecContext(ctx, "DELETE FROM "+d.table+" WHERE "+where+d.asyncCommit(), args...); err != nil {
		return fmt.Errorf("bitmapistplugin: outbox delete: %w", err)
	}
	return nil
}

// batchList returns "batch IN (?, ...)" for batches, with its arguments,
// placeholders numbered from first.
func (d outboxDialect) batchList(batches []int64, first int) (string, []any) {
	var b strings.Builder
	b.WriteString("batch IN (")
	args := make([]any, len(batches))
	for i, id := range batches {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.ph(first + i))
		args[i] = id
	}
	b.WriteString(")")
	return b.String(), args
}

// relet gives the rows of batches the lease notBefore (Unix ms) and, when
// atMs is not nil, the event time *atMs.
func (d outboxDialect) relet(ctx context.Context, x execer, batches []int64, atMs *int64, notBefore int64) error {
	set, args := "not_before = "+d.ph(1), []any{notBefore}
	if atMs != nil {
		set += ", at_ms = " + d.ph(2)
		args = append(args, *atMs)
	}
	where, wargs := d.batchList(batches, len(args)+1)
	if _, err := x.ExecContext(ctx, "UPDATE "+d.table+" SET "+set+" WHERE "+where, append(args, wargs...)...); err != nil {
		return fmt.Errorf("bitmapistplugin: outbox insert: %w", err)
	}
	return nil
}

// count returns the number of rows in the outbox that this plugin's relay
// sends (its target's, and those without a target).
func (d outboxDialect) count(ctx context.Context, db *sql.DB) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+d.table+" WHERE target IN ("+d.ph(1)+", '')", d.target).Scan(&n)
	return n, err
}

// unixMilli is time.UnixMilli in UTC.
func unixMilli(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
