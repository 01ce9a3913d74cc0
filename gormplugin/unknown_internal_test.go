package bitmapistplugin

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

func TestOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		err     error
		unknown bool
	}{
		{context.Canceled, true},
		{fmt.Errorf("timeout: %w", context.DeadlineExceeded), true},
		{io.ErrUnexpectedEOF, true},
		{mysql.ErrInvalidConn, true},
		{errors.New("conn closed"), true},
		{sql.ErrTxDone, false},
		{driver.ErrBadConn, false},
		{&pgconn.PgError{Code: "40001"}, false},
		{fmt.Errorf("commit: %w", &pgconn.PgError{Code: "23505"}), false},
		{&mysql.MySQLError{Number: 1213}, false},
		{errors.Join(errors.New("x"), &mysql.MySQLError{Number: 1205}), false},
	} {
		if got := outcomeUnknown(tc.err); got != tc.unknown {
			t.Errorf("outcomeUnknown(%v) = %v, want %v", tc.err, got, tc.unknown)
		}
	}
}

// fakeTx is a transaction whose Commit returns err.
type fakeTx struct {
	gorm.ConnPool
	err error
}

func (f *fakeTx) Commit() error   { return f.err }
func (f *fakeTx) Rollback() error { return nil }

func TestCommitUnknownReported(t *testing.T) {
	for _, tc := range []struct {
		name          string
		err           error
		ended         bool // the transaction's context ended before Commit
		unknown, fail int64
	}{
		{"cancelled in flight", context.Canceled, false, 2, 0},
		{"connection lost", io.ErrUnexpectedEOF, false, 2, 0},
		{"server refused", &pgconn.PgError{Code: "40001"}, false, 0, 0},
		{"context ended before commit", context.Canceled, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []error
			p := &Plugin{onError: func(_ context.Context, err error) { got = append(got, err) }}
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ended {
				cancel()
			}
			defer cancel()
			tx := &txConn{inner: &fakeTx{err: tc.err}, p: p, begin: ctx, ctx: context.WithoutCancel(ctx)}
			tx.add([]pendingMark{{event: "user:created", id: rowID{id: 1}}, {event: "user:updated", id: rowID{id: 1}}})
			if err := tx.Commit(); err != tc.err {
				t.Fatalf("Commit() = %v, want the driver's %v", err, tc.err)
			}
			if p.UnknownMarks() != tc.unknown || p.FailedMarks() != tc.fail {
				t.Errorf("UnknownMarks = %d, FailedMarks = %d, want %d, %d", p.UnknownMarks(), p.FailedMarks(), tc.unknown, tc.fail)
			}
			if tc.unknown == 0 {
				if len(got) != 0 {
					t.Errorf("reported %v, want nothing", got)
				}
				return
			}
			var ce *CommitUnknownError
			if len(got) != 1 || !errors.As(got[0], &ce) || !errors.Is(got[0], ErrCommitUnknown) || !errors.Is(got[0], tc.err) {
				t.Fatalf("reported %v, want one CommitUnknownError wrapping %v", got, tc.err)
			}
			if ce.Marks != 2 || len(ce.Events) != 2 || ce.Events[0] != "user:created" {
				t.Errorf("CommitUnknownError = %+v, want 2 marks of user:created, user:updated", ce)
			}
		})
	}
}
