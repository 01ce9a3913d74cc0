package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"strings"
	"sync"

	"gorm.io/gorm"
)

// returning asks the plugin's connection pool to run one UPDATE or DELETE
// of a tracked model with a RETURNING clause appended and to keep the rows
// it returns, so that the plugin learns which rows the statement changed
// without a statement of its own. It travels in the statement's context
// (GORM passes db.Statement.Context to the pool) and serves only the first
// statement that starts with one of its prefixes, until closed.
type returning struct {
	prefixes [2]string // "UPDATE <table>", "DELETE FROM <table>", upper-cased
	suffix   string    // " RETURNING ..."
	scan     func(*sql.Rows) (reflect.Value, error)

	mu     sync.Mutex
	closed bool          // served a statement, or its statement is over
	ran    bool          // served a statement
	rows   reflect.Value // *[]Model returned by it
}

type returningKey struct{}

// withReturning returns ctx carrying r.
func withReturning(ctx context.Context, r *returning) context.Context {
	return context.WithValue(ctx, returningKey{}, r)
}

// claim reports whether query is r's statement, and if so closes r for
// any other statement.
func (r *returning) claim(query string) bool {
	head := strings.TrimLeft(query, " \t\r\n")
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	for _, p := range r.prefixes {
		if len(head) >= len(p) && strings.EqualFold(head[:len(p)], p) &&
			(len(head) == len(p) || strings.ContainsRune(" \t\r\n", rune(head[len(p)]))) {
			r.closed = true
			return true
		}
	}
	return false
}

// close stops r from serving any later statement.
func (r *returning) close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
}

// result returns the rows of r's statement, and whether it ran through r.
func (r *returning) result() (reflect.Value, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rows, r.ran
}

// execReturning runs query with r's RETURNING clause on q as a query,
// keeps the rows and returns the number of rows as the statement's
// result. Errors are the driver's own: those of the query, of reading its
// rows (a PostgreSQL error raised by a later row arrives there), and of
// closing them.
func execReturning(ctx context.Context, q gorm.ConnPool, r *returning, query string, args []any) (sql.Result, error) {
	rows, err := q.QueryContext(ctx, query+r.suffix, args...)
	if err != nil {
		return nil, err
	}
	dest, scanErr := r.scan(rows)
	closeErr := rows.Close()
	if err := errors.Join(scanErr, closeErr); err != nil {
		return nil, err
	}
	n := int64(dest.Elem().Len())
	r.mu.Lock()
	r.ran, r.rows = true, dest
	r.mu.Unlock()
	return rowsResult(n), nil
}

// returningFrom returns the request in ctx that claims query, if any.
func returningFrom(ctx context.Context, query string) *returning {
	if ctx == nil {
		return nil
	}
	r, _ := ctx.Value(returningKey{}).(*returning)
	if r == nil || !r.claim(query) {
		return nil
	}
	return r
}

// rowsResult is the sql.Result of a statement run through execReturning:
// its RowsAffected is the number of rows returned, which for an UPDATE or
// DELETE ... RETURNING is the number of rows changed.
type rowsResult int64

// errNoLastInsertID is LastInsertId's error for a statement run with
// RETURNING.
var errNoLastInsertID = errors.New("bitmapistplugin: LastInsertId is not available for an UPDATE or DELETE")

// LastInsertId returns errNoLastInsertID: UPDATE and DELETE insert nothing.
func (r rowsResult) LastInsertId() (int64, error) { return 0, errNoLastInsertID }

// RowsAffected returns the number of rows the statement returned.
func (r rowsResult) RowsAffected() (int64, error) { return int64(r), nil }
