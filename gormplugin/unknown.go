package bitmapistplugin

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
)

// ErrCommitUnknown is wrapped by the *CommitUnknownError the error handler
// gets for a transaction whose COMMIT was sent but whose outcome the
// driver could not report (the context was cancelled while COMMIT was in
// flight, the connection was lost): the database may have committed it or
// not. Test with errors.Is.
var ErrCommitUnknown = errors.New("bitmapistplugin: commit outcome unknown")

// CommitUnknownError reports the marks of a transaction whose commit
// outcome is unknown (see ErrCommitUnknown). They are not sent, since the
// rows may not exist; Marks of them are added to (*Plugin).UnknownMarks.
// It unwraps to both ErrCommitUnknown and the driver's error, so
// errors.Is(err, context.Canceled) and errors.As to the driver's error type
// work.
type CommitUnknownError struct {
	Marks  int      // how many marks are in doubt
	Events []string // distinct event names of those marks, in first-seen order
	Err    error    // the error Commit returned
}

// Error says how many marks of which events are in doubt, and why.
func (e *CommitUnknownError) Error() string {
	return fmt.Sprintf("bitmapistplugin: commit outcome unknown, %d marks (%v) not sent: %v", e.Marks, e.Events, e.Err)
}

// Unwrap returns ErrCommitUnknown and the cause.
func (e *CommitUnknownError) Unwrap() []error { return []error{ErrCommitUnknown, e.Err} }

// UnknownMarks returns how many marks since New belonged to transactions
// whose commit outcome is unknown (see CommitUnknownError). They are
// counted here and not in FailedMarks.
func (p *Plugin) UnknownMarks() int64 { return p.unknown.Load() }

// commitUnknown counts and reports the marks of a transaction whose
// commit outcome is unknown.
func (p *Plugin) commitUnknown(ctx context.Context, marks []pendingMark, err error) {
	p.unknown.Add(int64(len(marks)))
	p.onError(context.WithoutCancel(ctx), &CommitUnknownError{Marks: len(marks), Events: eventsOf(marks), Err: err})
}

// eventsOf lists the distinct event names of marks in first-seen order.
func eventsOf(marks []pendingMark) []string {
	var events []string
	seen := map[string]bool{}
	for _, m := range marks {
		if !seen[m.event] {
			seen[m.event] = true
			events = append(events, m.event)
		}
	}
	return events
}

// outcomeUnknown reports whether err, returned by a COMMIT that was sent
// to the driver, leaves open whether the transaction committed. A reply of
// the server (a PostgreSQL, MySQL or SQLite error: the commit failed and
// the transaction is rolled back), sql.ErrTxDone (the transaction had
// already ended) and driver.ErrBadConn (the driver did not send the
// commit) are known outcomes; anything else (a context error, a network
// error, a closed connection) is unknown.
func outcomeUnknown(err error) bool {
	if err == nil || errors.Is(err, sql.ErrTxDone) || errors.Is(err, driver.ErrBadConn) {
		return false
	}
	return !serverError(err)
}

// serverError reports whether err's chain holds an error the database
// server (or SQLite) returned: one with a SQLState method (pgx's
// *pgconn.PgError), a go-sql-driver *mysql.MySQLError, or a SQLite error
// with a Code method (glebarez/modernc) or mattn's sqlite3.Error. The driver packages are recognised by their type so
// that the plugin does not import (and register) every driver.
func serverError(err error) bool {
	for _, e := range chain(err) {
		switch e.(type) {
		case interface{ SQLState() string }, interface{ Code() int }:
			return true
		}
		t := reflect.TypeOf(e)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		switch {
		case t.Name() == "MySQLError" && t.PkgPath() == "github.com/go-sql-driver/mysql",
			t.Name() == "Error" && t.PkgPath() == "github.com/mattn/go-sqlite3":
			return true
		}
	}
	return false
}

// chain lists err and every error it wraps, depth first.
func chain(err error) []error {
	var out []error
	var walk func(error)
	walk = func(e error) {
		if e == nil || len(out) > 64 {
			return
		}
		out = append(out, e)
		switch u := e.(type) {
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		case interface{ Unwrap() []error }:
			for _, x := range u.Unwrap() {
				walk(x)
			}
		}
	}
	walk(err)
	return out
}
