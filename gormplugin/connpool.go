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
	if f := foldFrom(ctx, query); f != nil {
		return foldExec(ctx, c.inner, f, query, args)
	}
	return c.inner.ExecContext(ctx, query, args...)
}

// QueryContext delegates to the wrapped pool; the Create of a fold in ctx
// (see fold) runs folded with the outbox INSERT.
func (c *pool) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if f := foldFrom(ctx, query); f != nil {
		return foldQuery(ctx, c.inner, f, query, args)
	}
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
	folds      []foldRec // the folded statements' batches, in the order of their marks
	savepoints []savepoint
	done       bool
}

// foldRec is a folded statement of the transaction (WithOutbox on
// PostgreSQL, see fold): its outbox rows were written by the statement
// itself, as batch; its marks are pending[start:start+n].
type foldRec struct {
	batch       int64
	start, n    int
	provisional bool  // the marks' time is the statement's (no WithTime)
	notBefore   int64 // the rows' lease, Unix ms
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
	if f := foldFrom(ctx, query); f != nil {
		return foldExec(ctx, t.inner, f, query, args)
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

// QueryContext delegates to the wrapped transaction; the Create of a fold
// in ctx (see fold) runs folded with the outbox INSERT.
func (t *txConn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if f := foldFrom(ctx, query); f != nil {
		return foldQuery(ctx, t.inner, f, query, args)
	}
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
	var batches []int64
	if !ended { // else database/sql has rolled it back: COMMIT fails
		var err error
		if batches, err = t.stageOutbox(); err != nil {
			// The plugin's own SQL failed: the transaction does not commit.
			_ = t.Rollback()
			return err
		}
	}
	err := c.Commit()
	t.mu.Lock()
	marks := t.pending
	t.pending, t.folds, t.savepoints, t.done = nil, nil, nil, true
	t.mu.Unlock()
	switch {
	case len(marks) == 0:
	case err == nil && len(batches) > 0:
		t.p.outbox.committed(t.ctx, batches, marks)
	case err == nil:
		t.p.dispatch(t.ctx, marks)
	case len(batches) > 0:
		// WithOutbox: the rows are in the outbox if and only if the
		// transaction committed, and the relay sends them then.
	case !ended && outcomeUnknown(err):
		t.p.commitUnknown(t.ctx, marks, err)
	}
	return err
}

// stageOutbox writes the pending marks that are not in the outbox yet
// into it, in the transaction (WithOutbox), and returns the batch ids of
// all of them (folded statements' and the staged INSERT's); none without
// an outbox or marks. The rows of folded statements get the commit time
// and a new lease when theirs went stale (see outbox.refresh).
func (t *txConn) stageOutbox() ([]int64, error) {
	o := t.p.outbox
	if o == nil {
		return nil, nil
	}
	t.mu.Lock()
	marks, folds := t.pending, t.folds
	t.mu.Unlock()
	if len(marks) == 0 {
		return nil, nil
	}
	batches := make([]int64, 0, len(folds)+1)
	for _, f := range folds {
		batches = append(batches, f.batch)
	}
	rest := marks
	if len(folds) > 0 {
		if err := o.refresh(t.ctx, t.inner, folds, marks); err != nil {
			return nil, err
		}
		t.p.stamp(marks) // rest shares no memory with marks
		rest = nil
		for _, m := range marks {
			if !m.folded {
				rest = append(rest, m)
			}
		}
		if len(rest) == 0 {
			return batches, nil
		}
	}
	batch, err := o.stage(t.ctx, t.inner, rest)
	return append(batches, batch), err
}

// Rollback rolls the transaction back and drops its marks.
func (t *txConn) Rollback() error {
	t.mu.Lock()
	t.pending, t.folds, t.savepoints, t.done = nil, nil, nil, true
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

// addFolded records the marks of folded statement f, whose outbox rows
// the statement wrote.
func (t *txConn) addFolded(marks []pendingMark, f *fold) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return
	}
	t.folds = append(t.folds, foldRec{batch: f.batch, start: len(t.pending), n: len(marks),
		provisional: f.provisional, notBefore: f.notBefore})
	t.pending = append(t.pending, marks...)
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
			for len(t.folds) > 0 && t.folds[len(t.folds)-1].start >= sp.n {
				t.folds = t.folds[:len(t.folds)-1] // its rows were rolled back too
			}
			t.savepoints = t.savepoints[:i+1]
		} else {
			t.savepoints = t.savepoints[:i]
		}
		return
	}
}
