package bitmapistplugin

import (
	"context"
	"errors"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// UnknownSentMarks returns how many marks since New were sent to Redis
// with no reply confirming them (see Stats.UnknownSent): they may be
// recorded or not. They are counted neither in FailedMarks nor in
// UnknownMarks.
func (p *Plugin) UnknownSentMarks() int64 { return p.unknownSent.Load() }

// splitOutcome divides the n marks of a send that returned err into those
// written, those not written, and those whose outcome is unknown. A
// *bitmapist.BatchError of the whole send names its failed ranges (each
// either not written or of unknown outcome) and the rest were written;
// any other error wrapping bitmapist.ErrUnknownOutcome (a timeout or lost
// connection after the write was sent, or a send that outlived its wait,
// see bounded) leaves all n unknown; any other error, none written.
func splitOutcome(n int, err error) (written, failed, unknown int) {
	if err == nil {
		return n, 0, 0
	}
	var be *bitmapist.BatchError
	if errors.As(err, &be) && be.Total == n {
		for _, r := range be.Failed {
			if r.Unknown() {
				unknown += r.To - r.From
			} else {
				failed += r.To - r.From
			}
		}
		return n - failed - unknown, failed, unknown
	}
	if errors.Is(err, bitmapist.ErrUnknownOutcome) {
		return 0, 0, n
	}
	return 0, n, 0
}

// sendFailed counts and reports a failed send of marks that are kept
// nowhere else (default and queue modes): the written part as Sent, the
// part not written as Failed, the part of unknown outcome as UnknownSent.
func (p *Plugin) sendFailed(ctx context.Context, marks []pendingMark, err error) {
	written, failed, unknown := splitOutcome(len(marks), err)
	p.sent.Add(int64(written))
	p.failed.Add(int64(failed))
	p.unknownSent.Add(int64(unknown))
	p.onError(ctx, &SendError{Marks: failed + unknown, Unknown: unknown, Events: eventsOf(marks), Err: err})
}
