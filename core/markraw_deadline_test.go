package bitmapist_test

import (
	"context"
	"errors"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

// TestMarkEventsRawHandshakeDeadline: a big batch (written on a raw
// connection of its own) to a server that accepts and never answers, with
// a database to SELECT (the raw handshake waits for its reply), ends by
// the ctx deadline (100 ms) with a "not written" error, not after the
// client's 30 s ReadTimeout (the handshake had no deadline at all).
func TestMarkEventsRawHandshakeDeadline(t *testing.T) {
	addr, _ := testutil.SilentRedis(t)
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: 3, ReadTimeout: 30 * time.Second,
		WriteTimeout: 30 * time.Second, ContextTimeoutEnabled: true, MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	c := bitmapist.New(rdb, bitmapist.WithBackend(bitmapist.BackendRedis))
	marks := make([]bitmapist.Mark, 1000)
	for i := range marks {
		marks[i] = bitmapist.Mark{Event: "hole", UserID: uint64(i + 1), Time: time.Now()}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.MarkEvents(ctx, marks)
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("MarkEvents took %v against a server that never answers, ctx deadline 100ms", d)
	}
	if err == nil || errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Fatalf("MarkEvents = %v, want a not-written error", err)
	}
}
