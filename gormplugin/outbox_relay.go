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

// run is the relay: it deletes the rows of batches their committers sent,
// and sends (then deletes) the rows nobody else holds: at every poll, when
// the breaker closes, and often while Flush waits.
func (o *outbox) run() {
	defer close(o.done)
	var failures int // rounds in a row whose send failed
	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		claim := false
		select {
		case <-o.stop:
			o.forgetQueued()
			return
		case id := <-o.forget:
			o.forgetQueued(id)
			if len(o.undeleted) > 0 {
				poll.Reset(relayFlushPoll)
			}
			continue
		case <-o.kick:
			claim = true
		case <-o.p.brk.closedSignal():
			claim = true
		case <-poll.C:
			claim = true
		}
		if claim {
			failures = o.round(failures)
		}
		next := o.nextPoll()
		if len(o.undeleted) > 0 {
			next = relayFlushPoll
		}
		poll.Reset(next)
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

// forgetQueued deletes the rows of ids, of the batches whose delete
// failed before and of every batch queued in o.forget. A failed delete (a
// lock) is retried at the next call; rows left over would only be sent
// again, which is harmless.
func (o *outbox) forgetQueued(ids ...int64) {
	ids = append(o.undeleted, ids...)
	o.undeleted = nil
	for len(ids) < relayBatch {
		select {
		case id := <-o.forget:
			ids = append(ids, id)
			continue
		default:
		}
		break
	}
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	if err := o.d.deleteBatches(ctx, o.db, ids); err != nil && len(ids) <= 4*relayBatch {
		o.undeleted = ids
	}
}

// round claims and sends available rows until none is left, Redis fails
// or the breaker is open, then counts the table. It returns the new count
// of failed rounds in a row.
func (o *outbox) round(failures int) int {
	for o.p.brk.state() == BreakerClosed {
		o.forgetQueued()
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
	if err := o.d.deleteRows(ctx, o.db, rows); err != nil {
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
		o.wake()
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
