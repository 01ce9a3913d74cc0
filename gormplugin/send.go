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
	at    time.Time // zero: the client's clock when sent
}

// dispatch sends the marks of one commit: at once, or through the
// background queue.
func (p *Plugin) dispatch(ctx context.Context, marks []pendingMark) {
	ctx = context.WithoutCancel(ctx)
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
	p.send(ctx, marks)
}

// run is the background sender.
func (p *Plugin) run() {
	defer p.worker.Done()
	for b := range p.queue {
		if b.flushed != nil {
			close(b.flushed)
			continue
		}
		p.send(b.ctx, b.marks)
	}
}

// send writes marks to Redis in one bounded attempt: one id map call for
// the string ids, then one MarkEvents batch.
func (p *Plugin) send(ctx context.Context, marks []pendingMark) {
	if len(marks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.timeout)
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
			p.fail(ctx, marks, err)
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
		p.fail(ctx, marks, err)
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
	p.onError(context.WithoutCancel(ctx), fmt.Errorf("bitmapistplugin: %w", err))
}
