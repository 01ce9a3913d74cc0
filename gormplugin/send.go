package bitmapistplugin

import (
	"context"
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// pendingMark is one event for one user, waiting for its commit.
type pendingMark struct {
	event string
	id    rowID
	at    time.Time // zero until dispatch stamps the commit time (WithTime sets it)
}

// dispatch sends the marks of one commit: at once, or through the
// background queue.
func (p *Plugin) dispatch(ctx context.Context, marks []pendingMark) {
	ctx = context.WithoutCancel(ctx)
	// Stamp the commit time now, not when the (queued) send happens.
	now := p.client.Now()
	for i := range marks {
		if marks[i].at.IsZero() {
			marks[i].at = now
		}
	}
	p.qmu.RLock()
	if p.queue != nil && !p.closed {
		select {
		case p.queue <- batch{ctx: ctx, marks: marks}:
		default:
			p.fail(ctx, marks, ErrQueueFull)
		}
		p.qmu.RUnlock()
		return
	}
	p.qmu.RUnlock()
	p.sendBounded(ctx, marks)
}

// sendBounded sends marks from a goroutine of its own and waits for it at
// most the timeout (plus a little slack for scheduling), so that the
// committing statement is never held longer even when the Redis client
// overruns its context deadline (go-redis can, e.g. while handshaking a new
// connection to a server that accepts but does not answer). A send that
// outlives the wait still finishes in the background and reports its own
// outcome; at most maxInFlight such sends exist at once, beyond which marks
// are dropped with ErrQueueFull. Close waits for them.
func (p *Plugin) sendBounded(ctx context.Context, marks []pendingMark) {
	select {
	case p.inflight <- struct{}{}:
	default:
		p.fail(ctx, marks, fmt.Errorf("%w: %d sends to Redis still unfinished", ErrQueueFull, cap(p.inflight)))
		return
	}
	done := make(chan struct{})
	p.sends.add()
	go func() {
		defer p.sends.done()
		defer func() { <-p.inflight }()
		defer close(done)
		p.send(ctx, marks)
	}()
	t := time.NewTimer(p.timeout + waitSlack)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}

// waitSlack is how much longer than the send timeout a committing
// statement waits for its send goroutine before moving on.
const waitSlack = 10 * time.Millisecond

// maxInFlight bounds the sends still running after their statement moved
// on (see sendBounded).
const maxInFlight = 256

// run is the background sender. It merges the batches waiting in the queue
// (up to bitmapist.MarkEventsBatchSize marks) into one send, so that it
// keeps up with commits that come faster than Redis round trips.
func (p *Plugin) run() {
	defer p.worker.Done()
	for b := range p.queue {
		ctx, marks := b.ctx, b.marks
		var flushed []chan struct{}
		if b.flushed != nil {
			flushed = append(flushed, b.flushed)
		}
	drain:
		for b.flushed == nil && len(marks) < bitmapist.MarkEventsBatchSize {
			select {
			case next, ok := <-p.queue:
				if !ok {
					break drain
				}
				if next.flushed != nil {
					flushed = append(flushed, next.flushed)
					break drain
				}
				if ctx == nil {
					ctx = next.ctx
				}
				marks = append(marks, next.marks...)
			default:
				break drain
			}
		}
		if len(marks) > 0 {
			p.send(ctx, marks)
		}
		for _, f := range flushed {
			close(f)
		}
	}
}

// send writes marks to Redis in one bounded attempt: one id map call for
// the string ids, then one MarkEvents batch.
func (p *Plugin) send(ctx context.Context, marks []pendingMark) {
	if len(marks) == 0 {
		return
	}
	base := context.WithoutCancel(ctx) // what the error handler gets
	ctx, cancel := context.WithTimeout(base, p.timeout)
	defer cancel()

	var (
		keys  []string
		index map[string]int
	)
	for _, m := range marks {
		if m.id.key == "" {
			continue
		}
		if index == nil {
			index = map[string]int{}
		}
		if _, ok := index[m.id.key]; !ok {
			index[m.id.key] = len(keys)
			keys = append(keys, m.id.key)
		}
	}
	var ids []uint64
	if len(keys) > 0 {
		var err error
		if ids, err = p.idMap.IDs(ctx, keys); err != nil {
			p.fail(base, marks, err)
			return
		}
	}
	out := make([]bitmapist.Mark, len(marks))
	for i, m := range marks {
		id := m.id.id
		if m.id.key != "" {
			id = ids[index[m.id.key]]
		}
		out[i] = bitmapist.Mark{Event: m.event, UserID: id, Time: m.at}
	}
	if err := p.client.MarkEvents(ctx, out); err != nil {
		p.fail(base, marks, err)
	}
}

// fail counts marks as lost and reports them.
func (p *Plugin) fail(ctx context.Context, marks []pendingMark, err error) {
	p.failed.Add(int64(len(marks)))
	var events []string
	seen := map[string]bool{}
	for _, m := range marks {
		if !seen[m.event] {
			seen[m.event] = true
			events = append(events, m.event)
		}
	}
	p.onError(ctx, &SendError{Marks: len(marks), Events: events, Err: err})
}

// report tells the handler about a problem that is not a lost Redis write
// (n marks that cannot be made, e.g. an unsupported key).
func (p *Plugin) report(ctx context.Context, n int, err error) {
	if n > 0 {
		p.failed.Add(int64(n))
	}
	p.onError(context.WithoutCancel(ctx), err)
}
