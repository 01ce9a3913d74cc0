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
	s := &chunkSender{c: c, ctx: ctx, kc: kc, sem: make(chan struct{}, chunksInFlight(marks))}
	sent := s.sendAll(marks)
	return batchError(len(marks), sent, s.failed)
}

// chunksInFlight returns how many chunks of marks may await Redis at
// once: markEventsInFlight, or 1 when an Unmark makes order matter.
func chunksInFlight(marks []Mark) int {
	for i := range marks {
		if marks[i].Unmark {
			return 1
		}
	}
	return markEventsInFlight
}

// chunkSender sends the chunks of one MarkEvents call and collects the
// ranges that failed.
type chunkSender struct {
	c      *Client
	ctx    context.Context
	kc     *keyCache
	sem    chan struct{} // one slot per chunk awaiting Redis
	wg     sync.WaitGroup
	mu     sync.Mutex
	failed []FailedRange // guarded by mu
}

// sendAll sends marks in chunks of MarkEventsBatchSize until one fails,
// waits for those in flight, and returns the index of the first mark not
// sent (len(marks) when every chunk was sent). A single chunk is sent
// from the caller's goroutine, with no hand-off.
func (s *chunkSender) sendAll(marks []Mark) int {
	start := 0
	for ; start < len(marks) && !s.anyFailed(); start += MarkEventsBatchSize {
		end := min(start+MarkEventsBatchSize, len(marks))
		pipe := s.c.pipeline()
		s.kc.queue(s.ctx, pipe, marks[start:end])
		if len(marks) <= MarkEventsBatchSize {
			s.exec(pipe, start, end)
			continue
		}
		s.sem <- struct{}{}
		s.wg.Add(1)
		go func(start, end int) {
			defer func() { <-s.sem; s.wg.Done() }()
			s.exec(pipe, start, end)
		}(start, end)
	}
	s.wg.Wait()
	return start
}

// anyFailed reports whether a chunk has failed so far.
func (s *chunkSender) anyFailed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.failed) > 0
}

// exec sends the chunk of marks start..end-1 queued on pipe, recording
// its range as failed when ctx is done or Redis fails.
func (s *chunkSender) exec(pipe redis.Pipeliner, start, end int) {
	var err error
	if cerr := ctxDone(s.ctx); cerr != nil {
		err = fmt.Errorf("bitmapist: mark events: %w", cerr)
	} else if _, perr := pipe.Exec(s.ctx); perr != nil {
		s.kc.keep.failed()
		err = outcomeErr(perr, !s.c.cluster)
	}
	if err != nil {
		s.mu.Lock()
		s.failed = append(s.failed, FailedRange{From: start, To: end, Err: err})
		s.mu.Unlock()
	}
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
