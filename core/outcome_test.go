package bitmapist_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestWithMaxUserID(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithMaxUserID(1000))
		if got := c.MaxUserID(); got != 1000 {
			t.Fatalf("MaxUserID() = %d", got)
		}
		if err := c.MarkEvent(ctx, "max", 1001, bitmapist.At(day0)); !errors.Is(err, bitmapist.ErrInvalidUserID) {
			t.Fatalf("MarkEvent(1001) = %v, want ErrInvalidUserID", err)
		}
		if err := c.MarkUnique(ctx, "max", 5000); !errors.Is(err, bitmapist.ErrInvalidUserID) {
			t.Fatalf("MarkUnique(5000) = %v, want ErrInvalidUserID", err)
		}
		marks := []bitmapist.Mark{{Event: "max", UserID: 1000, Time: day0}, {Event: "max", UserID: 1 << 31, Time: day0}}
		err := c.MarkEvents(ctx, marks)
		var me *bitmapist.MarkError
		if !errors.As(err, &me) || me.Index != 1 || !errors.Is(err, bitmapist.ErrInvalidUserID) {
			t.Fatalf("MarkEvents = %v, want MarkError at 1 wrapping ErrInvalidUserID", err)
		}
		if n, _ := c.Day("max", day0).Count(ctx); n != 0 {
			t.Fatalf("a refused batch wrote %d bits", n)
		}
		if err := c.MarkEvent(ctx, "max", 1000, bitmapist.At(day0)); err != nil {
			t.Fatal(err)
		}
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 3 {
			t.Errorf("keys after one mark: %v", keys)
		}
		// The id map hands out 0..1000 only.
		m := c.IDMap("max").WithLimit(5000)
		strs := make([]string, 1002)
		for i := range strs {
			strs[i] = "u" + time.Duration(i).String()
		}
		if _, err := m.IDs(ctx, strs); !errors.Is(err, bitmapist.ErrIDMapFull) {
			t.Errorf("id map past WithMaxUserID: %v, want ErrIDMapFull", err)
		}
		_ = m.Delete(ctx)
	})
}

// hangingClient is a client on a fake Redis that stalls at hangOn.
func hangingClient(t *testing.T, hangOn string) *bitmapist.Client {
	rdb := redis.NewClient(&redis.Options{
		Addr: testutil.HangingRedis(t, hangOn), ReadTimeout: 200 * time.Millisecond,
		MaxRetries: -1, Protocol: 2,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return bitmapist.New(rdb)
}

func TestTimeoutAfterSendIsUnknownOutcome(t *testing.T) {
	ctx := context.Background()
	c := hangingClient(t, "MULTI")
	err := c.MarkEvent(ctx, "e", 7, bitmapist.At(day0))
	if !errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Fatalf("MarkEvent on a stalled Redis = %v, want ErrUnknownOutcome", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("the timeout itself is lost: %v", err)
	}
	u := hangingClient(t, "SETBIT")
	if err := u.MarkUnique(ctx, "e", 7); !errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Errorf("MarkUnique on a stalled Redis = %v, want ErrUnknownOutcome", err)
	}
	marks := make([]bitmapist.Mark, bitmapist.MarkEventsBatchSize*3+1)
	for i := range marks {
		marks[i] = bitmapist.Mark{Event: "e", UserID: uint64(i), Time: day0}
	}
	err = c.MarkEvents(ctx, marks)
	var be *bitmapist.BatchError
	if !errors.As(err, &be) || !errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Fatalf("MarkEvents on a stalled Redis = %v, want a BatchError with unknown outcome", err)
	}
	checkCovers(t, be, len(marks))
	if be.Unknown() == 0 {
		t.Error("no mark reported as unknown outcome")
	}
}

// checkCovers checks that be's ranges are ordered, disjoint and cover all
// n marks (on a Redis that answers nothing, none was written).
func checkCovers(t *testing.T, be *bitmapist.BatchError, n int) {
	t.Helper()
	next := 0
	for _, r := range be.Failed {
		if r.From != next || r.To <= r.From {
			t.Fatalf("ranges %+v do not tile 0..%d", be.Failed, n)
		}
		next = r.To
	}
	if next != n || be.Total != n {
		t.Fatalf("ranges %+v cover %d of %d (Total %d)", be.Failed, next, n, be.Total)
	}
}

func TestRefusedConnectionIsNotUnknown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	c := bitmapist.New(rdb)
	ctx := context.Background()
	err = c.MarkEvent(ctx, "e", 7, bitmapist.At(day0))
	if err == nil || errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Fatalf("MarkEvent with Redis down = %v, want a definite error", err)
	}
	err = c.MarkEvents(ctx, []bitmapist.Mark{{Event: "e", UserID: 1, Time: day0}, {Event: "e", UserID: 2, Time: day0}})
	var be *bitmapist.BatchError
	if !errors.As(err, &be) || errors.Is(err, bitmapist.ErrUnknownOutcome) || be.Unknown() != 0 {
		t.Fatalf("MarkEvents with Redis down = %v, want a definite BatchError", err)
	}
	checkCovers(t, be, 2)
}
