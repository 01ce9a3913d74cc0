package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/redis/go-redis/v9"
)

// outcomeErr returns err, the error of a write made through go-redis,
// wrapped with ErrUnknownOutcome unless it shows that nothing was applied.
// atomic says the write was one command or one MULTI/EXEC, where an error
// reply from Redis means the write was refused whole.
func outcomeErr(err error, atomic bool) error {
	if err == nil || notApplied(err, atomic) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnknownOutcome, err)
}

// notApplied reports whether err proves that a write never reached Redis
// or was refused whole.
func notApplied(err error, atomic bool) bool {
	if errors.Is(err, redis.ErrPoolTimeout) || errors.Is(err, redis.ErrClosed) ||
		errors.Is(err, ErrNoRedis) || errors.Is(err, errNotSent) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var rerr redis.Error
	if errors.As(err, &rerr) {
		// WRONGTYPE comes from EXEC after the other commands ran.
		return atomic && !strings.HasPrefix(rerr.Error(), "WRONGTYPE")
	}
	return false
}

// errNotSent is the cause of marks that were never sent: an earlier chunk
// of MarkEvents failed, or the context was done before the write.
var errNotSent = errors.New("bitmapist: not sent")

// ctxDone returns, when ctx is already done, an error wrapping ctx.Err()
// and errNotSent (never ErrUnknownOutcome): a write checked with it before
// being sent has not been written.
func ctxDone(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w, the context was done before the write: %w", errNotSent, err)
	}
	return nil
}

// FailedRange is one run of marks of a MarkEvents batch that failed.
type FailedRange struct {
	From, To int   // the marks marks[From:To] of the batch
	Err      error // why; wraps ErrUnknownOutcome when they may have been written
}

// Unknown reports whether the marks of r may have been written (their write
// was sent, no reply confirmed it); otherwise none of them was.
func (r FailedRange) Unknown() bool { return errors.Is(r.Err, ErrUnknownOutcome) }

// BatchError is what MarkEvents returns when Redis failed part-way. Failed
// lists, in index order and without overlap, every mark that was not
// written or whose outcome is unknown; every other mark of the batch was
// written. errors.Is(err, ErrUnknownOutcome) is true when some range is
// unknown; errors.As reaches the Redis errors of the ranges.
type BatchError struct {
	Total  int           // marks in the batch
	Failed []FailedRange // the failed runs, From ascending
}

// Error names the failed ranges and the first cause.
func (e *BatchError) Error() string {
	var b strings.Builder
	n := 0
	for _, r := range e.Failed {
		n += r.To - r.From
	}
	fmt.Fprintf(&b, "bitmapist: mark events: %d of %d marks failed", n, e.Total)
	for i, r := range e.Failed {
		if i == 3 {
			fmt.Fprintf(&b, "; and %d more ranges", len(e.Failed)-3)
			break
		}
		fmt.Fprintf(&b, "; %d..%d: %v", r.From, r.To-1, r.Err)
	}
	return b.String()
}

// Unwrap returns the cause of every failed range.
func (e *BatchError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, r := range e.Failed {
		out[i] = r.Err
	}
	return out
}

// Unknown counts the marks whose outcome is unknown.
func (e *BatchError) Unknown() int {
	n := 0
	for _, r := range e.Failed {
		if r.Unknown() {
			n += r.To - r.From
		}
	}
	return n
}

// errNotSentAfter is the error of marks left unsent after cause.
func errNotSentAfter(cause error) error {
	return fmt.Errorf("%w: an earlier chunk failed (%v)", errNotSent, cause)
}
