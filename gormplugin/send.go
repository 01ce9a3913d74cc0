package bitmapistplugin

import (
	"context"
	"errors"
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/redis/go-redis/v9"
)

// pendingMark is one event for one user, waiting for its commit.
type pendingMark struct {
	event string
	id    rowID
	at    time.Time // zero until dispatch stamps the commit time (WithTime sets it)
	// folded: its outbox row was written by its own statement (see fold)
	folded bool
}

// dispatch sends the marks of one commit: at once, or through the
// background queue.
func (p *Plugin) dispatch(ctx context.Context, marks []pendingMark) {
	ctx = context.WithoutCancel(ctx)
	if p.outbox != nil {
		p.outbox.direct(ctx, marks)
		return
	}
	p.stamp(marks)
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
	p.settle(ctx, marks, p.deliver(ctx, marks))
}

// stamp gives the marks without a time (no WithTime) the commit time now,
// not the time of a later (queued) send.
func (p *Plugin) stamp(marks []pendingMark) {
	now := p.client.Now()
	for i := range marks {
		if marks[i].at.IsZero() {
			marks[i].at = now
		}
	}
}

// deliver sends marks through the circuit breaker in one attempt bounded
// by the timeout (see bounded) and returns nil once they are in Redis,
// errSkipped when the breaker is not closed (nothing was tried), or the
// failure. It counts the marks sent.
func (p *Plugin) deliver(ctx context.Context, marks []pendingMark) error {
	if len(marks) == 0 {
		return nil
	}
	done, err := p.brk.allow()
	if err != nil {
		return err
	}
	err = p.bounded(ctx, p.timeout, p.inline(marks), func(ctx context.Context) error { return p.write(ctx, marks) })
	done(err)
	if err == nil {
		p.sent.Add(int64(len(marks)))
	}
	return err
}

// settle counts and reports the outcome of deliver for marks that are not
// kept anywhere else (default and queue modes); see sendFailed.
func (p *Plugin) settle(ctx context.Context, marks []pendingMark, err error) {
	defer p.brk.notify()
	switch {
	case err == nil:
	case errors.Is(err, errSkipped):
		// Reported once, when the breaker opened.
		p.failed.Add(int64(len(marks)))
		p.skippedTotal.Add(int64(len(marks)))
		p.brk.skipped.Add(int64(len(marks)))
	default:
		p.sendFailed(ctx, marks, err)
	}
}

// bounded runs fn with a context that ends after d. When inline (the
// Redis client honours ctx deadlines, see ctxBounded), fn runs on the
// caller's goroutine: every dial wait, pool wait, handshake, write and
// read then ends by the deadline, so the caller costs no goroutine
// hand-off. Otherwise fn runs from a goroutine of its own and bounded
// waits for it at most d plus a little slack, so that the caller (a
// committing statement, the background sender, the relay) is never held
// longer even when the Redis client overruns its context deadline
// (go-redis without ContextTimeoutEnabled can, e.g. while handshaking a
// new connection to a server that accepts but does not answer). A call
// that outlives the wait returns an error wrapping
// bitmapist.ErrUnknownOutcome and context.DeadlineExceeded and finishes in
// the background; at most maxInFlight such calls exist at once, beyond
// which bounded returns ErrQueueFull at once. Close waits for them.
func (p *Plugin) bounded(ctx context.Context, d time.Duration, inline bool, fn func(context.Context) error) error {
	if inline {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
		defer cancel()
		return fn(ctx)
	}
	select {
	case p.inflight <- struct{}{}:
	default:
		return fmt.Errorf("%w: %d sends to Redis still unfinished", ErrQueueFull, cap(p.inflight))
	}
	result := make(chan error, 1)
	p.sends.add()
	go func() {
		defer p.sends.done()
		defer func() { <-p.inflight }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d)
		defer cancel()
		result <- fn(ctx)
	}()
	t := time.NewTimer(d + waitSlack)
	defer t.Stop()
	select {
	case err := <-result:
		return err
	case <-t.C:
		// The send goes on: its marks may yet be written.
		return fmt.Errorf("bitmapistplugin: no answer from Redis within %v: %w: %w", d, bitmapist.ErrUnknownOutcome, context.DeadlineExceeded)
	}
}

// inline reports whether a send of marks may run on the caller's
// goroutine: the plugin's Redis client honours ctx deadlines (ctxBounded)
// and no mark needs the id map, whose client (bitmapist.WithIDMapClient)
// may be another one.
func (p *Plugin) inline(marks []pendingMark) bool {
	if !p.ctxBound {
		return false
	}
	for i := range marks {
		if marks[i].id.key != "" {
			return false
		}
	}
	return true
}

// ctxBounded reports whether every call through rdb ends by its ctx's
// deadline: a single Redis (*redis.Client) made with
// ContextTimeoutEnabled. go-redis then bounds the pool wait, the dial wait,
// the connection handshake (HELLO, AUTH, SELECT) and every read and write
// by the deadline. A *redis.ClusterClient or *redis.Ring is not counted:
// the cluster client looks up command information on a context of its own
// (5 s) even then.
func ctxBounded(rdb redis.UniversalClient) bool {
	c, ok := rdb.(*redis.Client)
	return ok && c != nil && c.Options().ContextTimeoutEnabled
}

// waitSlack is how much longer than the send timeout a caller waits for
// its send goroutine before moving on.
const waitSlack = 10 * time.Millisecond

// maxInFlight bounds the sends still running after their caller moved on
// (see bounded).
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
			p.settle(ctx, marks, p.deliver(ctx, marks))
		}
		for _, f := range flushed {
			close(f)
		}
	}
}

// write writes marks to Redis: one id map call for the string ids, then
// one MarkEvents batch. ctx bounds it.
func (p *Plugin) write(ctx context.Context, marks []pendingMark) error {
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
			return err
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
	return p.client.MarkEvents(ctx, out)
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
