package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// dbTimeout bounds one relay statement or transaction.
const dbTimeout = 10 * time.Second

// deleteDelay is the longest a sent batch waits for the relay's DELETE:
// the relay deletes the rows of sent batches once per deleteDelay (one
// statement per relayBatch batches), never once per commit, so the
// outbox adds no commit of its own to the committer's. It is well below
// the lease, so that no relay resends rows waiting for their DELETE.
const deleteDelay = 100 * time.Millisecond

// run is the relay: it deletes the rows of batches their committers sent
// (batched, see deleteDelay), and sends (then deletes) the rows nobody else
// holds: at every poll, when the breaker closes, and often while Flush
// waits.
func (o *outbox) run() {
	defer close(o.done)
	var failures int // rounds in a row whose send failed
	poll := time.NewTimer(0)
	defer poll.Stop()
	del := time.NewTimer(deleteDelay)
	del.Stop()
	armed := false // del runs
	for {
		select {
		case <-o.stop:
			o.forgetQueued()
			return
		case <-o.forgetCh:
			if !armed {
				del.Reset(deleteDelay)
				armed = true
			}
			continue
		case <-del.C:
			armed = false
			o.forgetQueued()
			if len(o.undeleted) > 0 { // the DELETE failed: try again
				del.Reset(deleteDelay)
				armed = true
			}
			continue
		case <-o.kick:
		case <-o.p.brk.closedSignal():
		case <-poll.C:
		}
		failures = o.round(failures)
		o.mu.Lock()
		close(o.roundCh)
		o.roundCh = make(chan struct{})
		o.mu.Unlock()
		poll.Reset(o.nextPoll())
	}
}

// nextPoll is how long the relay sleeps before its next round.
func (o *outbox) nextPoll() time.Duration {
	o.mu.Lock()
	flushing := o.flushing > 0
	o.mu.Unlock()
	if flushing {
		return relayFlushPoll
	}
	return relayPoll
}

// forgetQueued deletes the rows of the sent batches: those whose delete
// failed before and those handed over by forget, in statements of up to
// relayBatch batches. A failed delete (a lock, a lost connection) is
// retried at the next call; rows left over (more than 4 relayBatch
// batches) are only sent again after their lease, which is harmless.
func (o *outbox) forgetQueued() {
	o.takeForgotten()
	for range 10 { // bounded, so that a flood of commits cannot starve the relay
		if len(o.undeleted) == 0 {
			return
		}
		ids := o.undeleted[:min(len(o.undeleted), relayBatch)]
		ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
		err := o.d.relayExec(ctx, o.db, func(x execer) error { return o.d.deleteBatches(ctx, x, ids) })
		cancel()
		if err != nil {
			if len(o.undeleted) > 4*relayBatch {
				o.undeleted = o.undeleted[:0]
			}
			return
		}
		o.undeleted = append(o.undeleted[:0], o.undeleted[len(ids):]...)
	}
}

// round claims and sends available rows until none is left, Redis fails
// or the breaker is open, then counts the table. It returns the new count
// of failed rounds in a row.
func (o *outbox) round(failures int) int {
	o.forgetQueued()
	for o.p.brk.state() == BreakerClosed {
		n, err := o.sendOnce(failures)
		if err != nil {
			failures++
			break
		}
		failures = 0
		if n < relayBatch {
			break
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if n, err := o.d.count(ctx, o.db); err == nil {
		o.pending.Store(n)
	}
	return failures
}

// sendOnce claims up to relayBatch rows, sends them and deletes them. On
// a failed send the rows keep a lease that grows with failures (backoff).
// It returns how many rows it claimed.
func (o *outbox) sendOnce(failures int) (int, error) {
	rows, err := o.claim(failures)
	if err != nil || len(rows) == 0 {
		if err != nil {
			o.p.onError(context.Background(), err)
		}
		return 0, err
	}
	marks := make([]pendingMark, len(rows))
	for i, r := range rows {
		marks[i] = r.mark
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	defer o.p.brk.notify()
	err = o.p.deliver(ctx, marks)
	switch {
	case err == nil:
	case notRedisFailure(err):
		// These marks can never be written: report and drop them.
		o.p.fail(ctx, marks, err)
	case errors.Is(err, errSkipped):
		return len(rows), err
	default:
		return len(rows), err
	}
	if err := o.d.relayExec(ctx, o.db, func(x execer) error { return o.d.deleteRows(ctx, x, rows) }); err != nil {
		o.p.onError(ctx, err)
	}
	return len(rows), nil
}

// claim takes up to relayBatch available rows in a transaction of its
// own, leasing them for the lease (times 2^failures, at most maxBackoff
// more), and commits before anything is sent.
func (o *outbox) claim(failures int) ([]outboxRow, error) {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	var opts *sql.TxOptions
	if o.d.name == "mysql" {
		// No gap locks: committers' inserts never wait for a relay.
		opts = &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	tx, err := o.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
	}
	now := time.Now()
	backoff := o.lease
	for i := 0; i < failures && backoff < maxBackoff; i++ {
		backoff *= 2
	}
	rows, err := o.d.claim(ctx, tx, now.UnixMilli(), now.Add(min(backoff, maxBackoff+o.lease)).UnixMilli(), relayBatch)
	if err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("bitmapistplugin: outbox claim: %w", err)
	}
	return rows, nil
}

// flush waits until the outbox table is empty (the rows of every process
// using it), having the relay poll often meanwhile.
func (o *outbox) flush(ctx context.Context) error {
	o.mu.Lock()
	o.flushing++
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		o.flushing--
		o.mu.Unlock()
	}()
	var last error // a failed count (a lock, a lost connection) is retried
	for {
		if err := o.waitRound(ctx); err != nil {
			return err
		}
		n, err := o.d.count(ctx, o.db)
		if err == nil && n == 0 {
			o.pending.Store(0)
			return nil
		}
		last = err
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("bitmapistplugin: outbox flush: %w (last count: %w)", ctx.Err(), last)
			}
			return ctx.Err()
		case <-time.After(relayFlushPoll):
		}
	}
}

// waitRound wakes the relay and waits until it has ended a round begun
// after the call (two round ends: the first may be of a round already
// running), so that the batches sent before the call are deleted and the
// rows available are sent. It returns ctx's error if ctx ends first, and
// nil at once when the relay has stopped.
func (o *outbox) waitRound(ctx context.Context) error {
	for range 2 {
		o.mu.Lock()
		ch := o.roundCh
		o.mu.Unlock()
		o.wake()
		select {
		case <-ch:
		case <-o.done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// close stops the relay (after deleting the rows of sent batches) and
// waits for it. Rows not sent stay for the next start.
func (o *outbox) close() {
	o.mu.Lock()
	if !o.started || o.stopped {
		o.mu.Unlock()
		return
	}
	o.stopped = true
	o.mu.Unlock()
	close(o.stop)
	<-o.done
}
