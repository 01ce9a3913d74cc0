package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/redis/go-redis/v9"
)

// MarkEventsBatchSize is how many marks MarkEvents sends per chunk (one
// MULTI/EXEC on a single Redis).
const MarkEventsBatchSize = 5000

// markEventsInFlight is how many MarkEvents chunks may await Redis at
// once: the next one is built while Redis runs the previous.
const markEventsInFlight = 3

// MarkEvents marks (or unmarks) many (event, user, time) triples, for
// imports and replays. opts apply to every entry (At is ignored: each Mark
// carries its own time).
//
// Every entry is validated first: if any is bad, MarkEvents returns a
// *MarkError naming its index (wrapping ErrInvalidEventName,
// ErrInvalidUserID or ErrInvalidTime) and writes nothing. Marks are then
// sent in chunks of MarkEventsBatchSize, each one MULTI/EXEC on a single
// Redis, so a chunk commits whole or not at all; on a cluster each chunk is
// one pipeline per node. Several chunks are in flight at once (one when the
// batch holds an Unmark, to keep order).
//
// If Redis fails part-way, no new chunk is sent and MarkEvents returns a
// *BatchError listing exactly the marks that were not written, or whose
// outcome is unknown (errors.Is(err, ErrUnknownOutcome)); the others were
// written. Marking is idempotent, so the failed ranges, or the whole call,
// can simply be retried. A ctx done before a chunk is sent leaves that
// chunk and the rest not written (their errors wrap ctx.Err(), not
// ErrUnknownOutcome); a ctx done when MarkEvents is called returns an error
// wrapping ctx.Err() and writes nothing.
func (c *Client) MarkEvents(ctx context.Context, marks []Mark, opts ...MarkOption) error {
	c = c.orNone()
	if err := c.checkMarks(marks); err != nil {
		return err
	}
	if err := c.ready(); err != nil {
		return err
	}
	if len(marks) == 0 {
		return nil
	}
	if err := ctxDone(ctx); err != nil {
		return fmt.Errorf("bitmapist: mark events: %w", err)
	}
	base := c.markConfig(opts)
	// A big batch on a single Redis goes on a connection of its own, in
	// RESP written directly (markraw.go). Retention's TTLs are queued by
	// the go-redis path only.
	if rdb, ok := c.rdb.(*redis.Client); ok && len(marks) >= rawMinMarks && c.keep == nil {
		err := c.markEventsRaw(ctx, rdb.Options(), marks, base)
		if !errors.Is(err, errRawUnsupported) {
			return err
		}
	}
	kc := newKeyCache(c, base, c.clock())
	keep, err := c.retainer(ctx)
	if err != nil {
		return fmt.Errorf("bitmapist: mark events: %w", err)
	}
	kc.keep = keep
	inflight := markEventsInFlight
	for i := range marks {
		if marks[i].Unmark {
			inflight = 1
			break
		}
	}
	var (
		wg     sync.WaitGroup
		sem    = make(chan struct{}, inflight)
		mu     sync.Mutex
		failed []FailedRange
	)
	start := 0
	for ; start < len(marks); start += MarkEventsBatchSize {
		mu.Lock()
		stop := len(failed) > 0
		mu.Unlock()
		if stop {
			break
		}
		end := min(start+MarkEventsBatchSize, len(marks))
		pipe := c.pipeline()
		kc.queue(ctx, pipe, marks[start:end])
		exec := func(start, end int) {
			if err := ctxDone(ctx); err != nil {
				mu.Lock()
				failed = append(failed, FailedRange{From: start, To: end, Err: fmt.Errorf("bitmapist: mark events: %w", err)})
				mu.Unlock()
				return
			}
			if _, err := pipe.Exec(ctx); err != nil {
				keep.failed()
				mu.Lock()
				failed = append(failed, FailedRange{From: start, To: end, Err: outcomeErr(err, !c.cluster)})
				mu.Unlock()
			}
		}
		if len(marks) <= MarkEventsBatchSize {
			// One chunk: sent from the caller's goroutine, no hand-off.
			exec(start, end)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(start, end int) {
			defer func() { <-sem; wg.Done() }()
			exec(start, end)
		}(start, end)
	}
	wg.Wait()
	return batchError(len(marks), start, failed)
}

// batchError returns nil when failed is empty, else the *BatchError of
// failed plus the marks from sent on, which were never sent.
func batchError(total, sent int, failed []FailedRange) error {
	if len(failed) == 0 {
		return nil
	}
	slices.SortFunc(failed, func(a, b FailedRange) int { return a.From - b.From })
	if sent < total {
		failed = append(failed, FailedRange{From: sent, To: total, Err: errNotSentAfter(failed[0].Err)})
	}
	return &BatchError{Total: total, Failed: failed}
}

// checkMarks validates every entry of a MarkEvents batch.
func (c *Client) checkMarks(marks []Mark) error {
	for i := range marks {
		if err := ValidateEventName(marks[i].Event); err != nil {
			return &MarkError{Index: i, Err: err}
		}
		if err := c.checkMarkID(marks[i].UserID); err != nil {
			return &MarkError{Index: i, Err: err}
		}
		if !marks[i].Time.IsZero() {
			if err := checkTime(marks[i].Time.In(c.loc)); err != nil {
				return &MarkError{Index: i, Err: err}
			}
		}
	}
	return nil
}
