package bitmapistplugin

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// pool wraps the gorm.DB's connection pool so that every transaction GORM
// begins (its own per-statement transaction, db.Transaction, db.Begin) is a
// *txConn that holds marks until the database commit.
type pool struct {
	inner gorm.ConnPool
	p     *Plugin
}

var (
	_ gorm.ConnPool         = (*pool)(nil)
	_ gorm.ConnPoolBeginner = (*pool)(nil)
	_ gorm.GetDBConnector   = (*pool)(nil)
)

// PrepareContext delegates to the wrapped pool.
func (c *pool) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return c.inner.PrepareContext(ctx, query)
}

// ExecContext delegates to the wrapped pool; the statement of a
// RETURNING request in ctx (see returning) runs as a query with it.
func (c *pool) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if r := returningFrom(ctx, query); r != nil {
		return execReturning(ctx, c.inner, r, query, args)
	}
	return c.inner.ExecContext(ctx, query, args...)
}

// QueryContext delegates to the wrapped pool.
func (c *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.inner.QueryContext(ctx, query, args...)
}

// QueryRowContext delegates to the wrapped pool.
func (c *pool) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.inner.QueryRowContext(ctx, query, args...)
}

// BeginTx begins a transaction on the wrapped pool and wraps it.
func (c *pool) BeginTx(ctx context.Context, opts *sql.TxOptions) (gorm.ConnPool, error) {
	var (
		tx  gorm.ConnPool
		err error
	)
	switch b := c.inner.(type) {
	case gorm.TxBeginner:
		var stx *sql.Tx
		stx, err = b.BeginTx(ctx, opts)
		if stx != nil {
			tx = stx
		}
	case gorm.ConnPoolBeginner:
		tx, err = b.BeginTx(ctx, opts)
	default:
		return nil, gorm.ErrInvalidTransaction
	}
	if err != nil {
		return nil, err
	}
	return &txConn{inner: tx, from: c, p: c.p, begin: ctx, ctx: context.WithoutCancel(ctx)}, nil
}

// GetDBConn returns the *sql.DB under the pool, so that db.DB() works.
func (c *pool) GetDBConn() (*sql.DB, error) { return dbConnOf(c.inner) }

// Ping pings the wrapped pool when it can.
func (c *pool) Ping() error {
	if p, ok := c.inner.(interface{ Ping() error }); ok {
		return p.Ping()
	}
	return nil
}

// dbConnOf returns the *sql.DB under cp, if it can tell.
func dbConnOf(cp gorm.ConnPool) (*sql.DB, error) {
	switch v := cp.(type) {
	case *sql.DB:
		return v, nil
	case gorm.GetDBConnector:
		return v.GetDBConn()
	}
	return nil, gorm.ErrInvalidDB
}

// txConn is a database transaction that records the marks of the
// statements run in it and sends them only once Commit succeeds. Rollback
// drops them; ROLLBACK TO SAVEPOINT drops those recorded since the
// savepoint (GORM's nested db.Transaction).
type txConn struct {
	inner gorm.ConnPool
	from  *pool // the pool that began it
	p     *Plugin
	begin context.Context // the BeginTx context
	ctx   context.Context // the BeginTx context, without its cancellation

	mu         sync.Mutex
	pending    []pendingMark
	savepoints []savepoint
	done       bool
}

// savepoint remembers how many marks were pending when it was set.
type savepoint struct {
	name string
	n    int
}

var (
	_ gorm.Tx             = (*txConn)(nil)
	_ gorm.GetDBConnector = (*txConn)(nil)
)

// PrepareContext delegates to the wrapped transaction.
func (t *txConn) PrepareContext(ctx context.Context, query string) (*sql.Stmt, error) {
	return t.inner.PrepareContext(ctx, query)
}

// ExecContext runs query in the transaction, watching for SAVEPOINT,
// ROLLBACK TO SAVEPOINT and RELEASE SAVEPOINT statements; the statement of
// a RETURNING request in ctx (see returning) runs as a query with it.
func (t *txConn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if r := returningFrom(ctx, query); r != nil {
		return execReturning(ctx, t.inner, r, query, args)
	}
	kind, name := savepointStmt(query)
	inner := t.inner
	if kind != spNone {
		// GORM runs savepoint statements outside its prepared-statement
		// cache (MySQL cannot prepare them); do the same.
		if ps, ok := inner.(*gorm.PreparedStmtTX); ok {
			inner = ps.Tx
		}
	}
	res, err := inner.ExecContext(ctx, query, args...)
	if err == nil && kind != spNone {
		t.savepoint(kind, name)
	}
	return res, err
}

// QueryContext delegates to the wrapped transaction.
func (t *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return t.inner.QueryContext(ctx, query, args...)
}

// QueryRowContext delegates to the wrapped transaction.
func (t *txConn) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return t.inner.QueryRowContext(ctx, query, args...)
}

// StmtContext returns stmt bound to the transaction.
func (t *txConn) StmtContext(ctx context.Context, stmt *sql.Stmt) *sql.Stmt {
	if s, ok := t.inner.(interface {
		StmtContext(context.Context, *sql.Stmt) *sql.Stmt
	}); ok {
		return s.StmtContext(ctx, stmt)
	}
	return stmt
}

// GetDBConn returns the *sql.DB the transaction belongs to.
func (t *txConn) GetDBConn() (*sql.DB, error) {
	if db, err := dbConnOf(t.inner); err == nil {
		return db, nil
	}
	return t.from.GetDBConn()
}

// Commit commits the transaction and, when that succeeds, sends the marks
// of its statements in one batch. When COMMIT was sent but its outcome is
// unknown (outcomeUnknown: the context was cancelled while it was in
// flight, the connection was lost) the marks are reported as a
// *CommitUnknownError and counted by UnknownMarks instead. A transaction
// whose context had ended before Commit is rolled back by database/sql
// without sending COMMIT: its marks are dropped like a rollback's. With
// WithOutbox the marks are first written to the outbox in the transaction;
// if that fails the transaction is rolled back and the error returned.
func (t *txConn) Commit() error {
	c, ok := t.inner.(gorm.TxCommitter)
	if !ok {
		return gorm.ErrInvalidTransaction
	}
	ended := t.begin.Err() != nil
	var batch int64
	if !ended { // else database/sql has rolled it back: COMMIT fails
		var err error
		if batch, err = t.stageOutbox(); err != nil {
			// The plugin's own SQL failed: the transaction does not commit.
			_ = t.Rollback()
			return err
		}
	}
	err := c.Commit()
	t.mu.Lock()
	marks := t.pending
	t.pending, t.savepoints, t.done = nil, nil, true
	t.mu.Unlock()
	switch {
	case len(marks) == 0:
	case err == nil && batch != 0:
		t.p.outbox.committed(t.ctx, batch, marks)
	case err == nil:
		t.p.dispatch(t.ctx, marks)
	case batch != 0:
		// WithOutbox: the rows are in the outbox if and only if the
		// transaction committed, and the relay sends them then.
	case !ended && outcomeUnknown(err):
		t.p.commitUnknown(t.ctx, marks, err)
	}
	return err
}

// stageOutbox writes the pending marks into the outbox table in the
// transaction (WithOutbox) and returns their batch id; 0 without an outbox
// or marks.
func (t *txConn) stageOutbox() (int64, error) {
	if t.p.outbox == nil {
		return 0, nil
	}
	t.mu.Lock()
	marks := t.pending
	t.mu.Unlock()
	if len(marks) == 0 {
		return 0, nil
	}
	return t.p.outbox.stage(t.ctx, t.inner, marks)
}

// Rollback rolls the transaction back and drops its marks.
func (t *txConn) Rollback() error {
	t.mu.Lock()
	t.pending, t.savepoints, t.done = nil, nil, true
	t.mu.Unlock()
	c, ok := t.inner.(gorm.TxCommitter)
	if !ok {
		return gorm.ErrInvalidTransaction
	}
	return c.Rollback()
}

// add records marks to send at commit.
func (t *txConn) add(marks []pendingMark) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.done {
		t.pending = append(t.pending, marks...)
	}
}

type spKind int

const (
	spNone spKind = iota
	spSet
	spRollback
	spRelease
)

// savepointStmt recognises the savepoint statements that GORM's dialects
// issue ("SAVEPOINT sp1", "ROLLBACK TO SAVEPOINT sp1") and RELEASE
// SAVEPOINT, case-insensitively; name is the savepoint name.
func savepointStmt(q string) (spKind, string) {
	q = strings.TrimSpace(q)
	if len(q) < 9 {
		return spNone, ""
	}
	fields := strings.Fields(q)
	up := func(i int) string {
		if i < len(fields) {
			return strings.ToUpper(fields[i])
		}
		return ""
	}
	switch {
	case len(fields) == 2 && up(0) == "SAVEPOINT":
		return spSet, fields[1]
	case len(fields) == 4 && up(0) == "ROLLBACK" && up(1) == "TO" && up(2) == "SAVEPOINT":
		return spRollback, fields[3]
	case len(fields) == 3 && up(0) == "ROLLBACK" && up(1) == "TO":
		return spRollback, fields[2]
	case len(fields) == 3 && up(0) == "RELEASE" && up(1) == "SAVEPOINT":
		return spRelease, fields[2]
	case len(fields) == 2 && up(0) == "RELEASE":
		return spRelease, fields[1]
	}
	return spNone, ""
}

// savepoint applies a successful savepoint statement to the pending marks.
func (t *txConn) savepoint(kind spKind, name string) {
	name = strings.Trim(name, "`\"")
	t.mu.Lock()
	defer t.mu.Unlock()
	if kind == spSet {
		t.savepoints = append(t.savepoints, savepoint{name: name, n: len(t.pending)})
		return
	}
	for i := len(t.savepoints) - 1; i >= 0; i-- {
		sp := t.savepoints[i]
		if !strings.EqualFold(sp.name, name) {
			continue
		}
		if kind == spRollback {
			// The savepoint itself survives ROLLBACK TO; later ones do not.
			clear(t.pending[sp.n:])
			t.pending = t.pending[:sp.n]
			t.savepoints = t.savepoints[:i+1]
		} else {
			t.savepoints = t.savepoints[:i]
		}
		return
	}
}
