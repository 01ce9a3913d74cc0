package bitmapist_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// ctxWrites are every write of a Client, each given the context to use.
func ctxWrites(c *bitmapist.Client) map[string]func(ctx context.Context) error {
	batch := func(n int) []bitmapist.Mark {
		marks := make([]bitmapist.Mark, n)
		for i := range marks {
			marks[i] = bitmapist.Mark{Event: "cx", UserID: uint64(i), Time: day0}
		}
		return marks
	}
	return map[string]func(ctx context.Context) error{
		"MarkEvent":        func(ctx context.Context) error { return c.MarkEvent(ctx, "cx", 1, bitmapist.At(day0)) },
		"UnmarkEvent":      func(ctx context.Context) error { return c.UnmarkEvent(ctx, "cx", 1, bitmapist.At(day0)) },
		"MarkUnique":       func(ctx context.Context) error { return c.MarkUnique(ctx, "cx", 1) },
		"UnmarkUnique":     func(ctx context.Context) error { return c.UnmarkUnique(ctx, "cx", 1) },
		"MarkLogin":        func(ctx context.Context) error { return c.MarkLogin(ctx, 1, bitmapist.At(day0)) },
		"MarkLogout":       func(ctx context.Context) error { return c.MarkLogout(ctx, 1, bitmapist.At(day0)) },
		"MarkEventString":  func(ctx context.Context) error { return c.MarkEventString(ctx, "cx", "alice", bitmapist.At(day0)) },
		"IDMap.ID":         func(ctx context.Context) error { _, err := c.Users().ID(ctx, "bob"); return err },
		"MarkEvents/10":    func(ctx context.Context) error { return c.MarkEvents(ctx, batch(10)) },
		"MarkEvents/12000": func(ctx context.Context) error { return c.MarkEvents(ctx, batch(12000)) },
		"MarkEvents/unmark": func(ctx context.Context) error {
			return c.MarkEvents(ctx, append(batch(10), bitmapist.Mark{Event: "cx", UserID: 3, Time: day0, Unmark: true}))
		},
	}
}

// checkNotWritten fails unless err says "not written because of the
// context" and Redis holds no key of b's prefix.
func checkNotWritten(t *testing.T, b testutil.Backend, name string, err, want error) {
	t.Helper()
	if err == nil || !errors.Is(err, want) || errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Errorf("%s: err = %v, want one wrapping %v and not ErrUnknownOutcome", name, err, want)
	}
	var be *bitmapist.BatchError
	if errors.As(err, &be) && be.Unknown() != 0 {
		t.Errorf("%s: %d marks reported unknown: %v", name, be.Unknown(), err)
	}
	if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
		t.Errorf("%s wrote keys with a done context: %v", name, keys)
	}
}

// A context done before the call: every write returns an error wrapping
// ctx.Err(), not ErrUnknownOutcome, and writes nothing.
func TestDoneContextIsNotWritten(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		cancelled, cancel := context.WithCancel(context.Background())
		cancel()
		expired, stop := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer stop()
		for name, write := range ctxWrites(newClient(b)) {
			checkNotWritten(t, b, name+"/cancelled", write(cancelled), context.Canceled)
			checkNotWritten(t, b, name+"/expired", write(expired), context.DeadlineExceeded)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "string ids need a Redis id map"))
}

// A context cancelled after the call began but before its write is sent
// (here: when the mark's time is read from the clock) is not a write
// either, on the go-redis and the raw MarkEvents paths.
func TestContextDoneBeforeSendIsNotWritten(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, n := range []int{10, 600, 12000} {
			ctx, cancel := context.WithCancel(context.Background())
			c := newClient(b, bitmapist.WithClock(func() time.Time { cancel(); return day0 }))
			marks := make([]bitmapist.Mark, n)
			for i := range marks {
				marks[i] = bitmapist.Mark{Event: "cy", UserID: uint64(i)}
			}
			err := c.MarkEvents(ctx, marks)
			checkNotWritten(t, b, fmt.Sprintf("MarkEvents/%d", n), err, context.Canceled)
			var be *bitmapist.BatchError
			if !errors.As(err, &be) || be.Total != n || be.Failed[0].From != 0 || be.Failed[len(be.Failed)-1].To != n {
				t.Errorf("MarkEvents/%d: %v, want a BatchError covering 0..%d", n, err, n-1)
			}
			ctx2, cancel2 := context.WithCancel(context.Background())
			c2 := newClient(b, bitmapist.WithClock(func() time.Time { cancel2(); return day0 }))
			checkNotWritten(t, b, "MarkEvent", c2.MarkEvent(ctx2, "cy", 1), context.Canceled)
		}
	})
}
