package bitmapistplugin

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// DefaultOutboxTable is the name of the outbox table WithOutbox creates.
const DefaultOutboxTable = "bitmapist_outbox"

// ErrOutbox is wrapped by the errors of the outbox's set-up (Initialize):
// an unsupported database, a bad table name, a failed CREATE TABLE, or a
// second database for one plugin.
var ErrOutbox = errors.New("bitmapistplugin: outbox")

// Relay timing. relayPoll is how often the relay looks for rows nobody
// sends (another process's, failed ones); relayFlushPoll while Flush
// waits. The lease is how long a row is kept from other relays after it
// was written or claimed: longer than a send may take.
const (
	relayPoll      = time.Second
	relayFlushPoll = 50 * time.Millisecond
	relayBatch     = 500
	minLease       = time.Second
	maxBackoff     = 10 * time.Second
)

// WithOutbox makes marks durable: the marks of a transaction are written
// to an outbox table in the database, inside the transaction and just
// before its COMMIT, so that they commit or roll back with the rows. Right
// after the commit the committing statement sends them to Redis (as in the
// default mode, so a count read right after the write includes them) and
// the rows are deleted in the background; marks that could not be sent
// (Redis down or slow, the circuit breaker open, a crash of the process)
// stay in the table and a relay goroutine sends them later, retrying with
// backoff. Marks are idempotent bits (SETBIT), so a mark sent twice counts
// once: delivery is at least once and counts are exact.
//
// Initialize creates the table (DefaultOutboxTable, or WithOutboxTable's)
// if it does not exist, on PostgreSQL, MySQL/MariaDB or SQLite:
//
//	batch      BIGINT  NOT NULL  random id of one transaction's marks
//	seq        INTEGER NOT NULL  position in the batch; PRIMARY KEY (batch, seq)
//	event      TEXT    NOT NULL  event name, e.g. "user:created"
//	user_id    BIGINT  NOT NULL  bitmapist user id (0 when user_key is set)
//	user_key   TEXT    NOT NULL  string id to map through the id map, or ""
//	at_ms      BIGINT  NOT NULL  event time, Unix milliseconds
//	not_before BIGINT  NOT NULL  Unix ms before which no relay takes the row
//	attempts   INTEGER NOT NULL  relay attempts so far
//	index <table>_not_before on (not_before)
//
// One outbox table is for one Redis and one key prefix. Its rows do not
// record where their marks go: the relay of every process using the table
// sends any row it finds to its own plugin's Redis, with its own client's
// prefix and id map. Every process sharing an outbox table must therefore
// use the same Redis (or cluster) and the same bitmapist.WithPrefix; a
// process marking into another Redis or prefix (a staging Redis, a second
// tenant, a process pointed at the wrong address) must use a table of its
// own, WithOutboxTable("bitmapist_outbox_staging") for example, or its
// rows are delivered to the others' Redis (and theirs to its own).
//
// Several such processes may share one database: a relay takes rows with
// SELECT ... FOR UPDATE SKIP LOCKED (PostgreSQL, MariaDB 10.6+, MySQL 8) or
// in a write transaction (SQLite), leases them (not_before) and commits
// before it sends, so no two relays send the same rows at once and none
// waits for another's Redis round trip; a fresh row is left to its
// committer for a lease of at least a second. Call Flush to wait until
// the table is empty and Close to stop the relay. WithQueue(n > 0) with
// WithOutbox makes the committer hand the send to a goroutine instead of
// waiting for it (commits cost one INSERT more than without the plugin,
// but a count read right after the write may not include it yet: call
// Flush); its queue size is not used. A plugin with an outbox can be installed on one
// database only. Statements outside any transaction (SkipDefaultTransaction)
// write their outbox rows right after the statement, not atomically with it.
func WithOutbox() Option {
	return func(p *Plugin) {
		if p.outboxTable == "" {
			p.outboxTable = DefaultOutboxTable
		}
	}
}

// WithOutboxTable is WithOutbox with the table name name ("schema.table"
// allowed); "" keeps DefaultOutboxTable. Give each Redis and key prefix
// its own table: processes sharing a table deliver each other's rows to
// their own Redis (see WithOutbox).
func WithOutboxTable(name string) Option {
	return func(p *Plugin) {
		if name == "" {
			name = DefaultOutboxTable
		}
		p.outboxTable = name
	}
}

// outbox is the plugin's outbox table and relay.
type outbox struct {
	p       *Plugin
	d       outboxDialect
	db      *sql.DB
	lease   time.Duration
	async   bool         // WithQueue too: committers do not wait for Redis
	pending atomic.Int64 // rows at the relay's last count; -1 before it

	forget    chan int64    // batches sent by their committer, to delete
	undeleted []int64       // sent batches not yet deleted (relay goroutine only)
	kick      chan struct{} // wake the relay
	stop      chan struct{}
	done      chan struct{}

	mu       sync.Mutex
	flushing int           // Flush calls waiting
	roundCh  chan struct{} // closed (and replaced) when the relay ends a round
	started  bool
	stopped  bool
}

// initOutbox sets up the outbox on db (Initialize): the table, and the
// relay goroutine.
func (p *Plugin) initOutbox(db *gorm.DB) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrOutbox, err)
	}
	o := p.outbox
	if o.db != nil {
		if o.db != sqlDB {
			return fmt.Errorf("%w: the plugin's outbox is already on another database", ErrOutbox)
		}
		return nil
	}
	d, err := newOutboxDialect(db.Dialector.Name(), p.outboxTable)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, q := range d.createSQL(p.outboxTable) {
		if _, err := sqlDB.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w: create table: %w", ErrOutbox, err)
		}
	}
	o.d, o.db = d, sqlDB
	o.mu.Lock()
	o.started = true
	o.mu.Unlock()
	go o.run()
	return nil
}

// newOutbox returns the (not yet started) outbox of p.
func newOutbox(p *Plugin) *outbox {
	o := &outbox{
		p:      p,
		lease:  max(minLease, 2*p.timeout+100*time.Millisecond),
		forget: make(chan int64, 4096),
		kick:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),

		roundCh: make(chan struct{}),
	}
	o.pending.Store(-1)
	return o
}

// stage writes the marks of a committing transaction into the outbox
// through x (the transaction) and returns their batch id. It stamps the
// marks with the commit time.
func (o *outbox) stage(ctx context.Context, x execer, marks []pendingMark) (int64, error) {
	if o.db == nil {
		return 0, fmt.Errorf("%w: not initialized", ErrOutbox)
	}
	o.p.stamp(marks)
	batch := rand.Int64N(1<<62) + 1
	notBefore := time.Now().Add(o.lease).UnixMilli()
	return batch, o.d.insert(ctx, x, batch, marks, notBefore)
}

// committed sends the marks of batch once its transaction committed, and
// has the rows deleted when that worked; otherwise the relay sends them
// after the lease.
func (o *outbox) committed(ctx context.Context, batch int64, marks []pendingMark) {
	if o.async {
		select {
		case o.p.inflight <- struct{}{}:
		default:
			return // too many sends running: the relay sends them after the lease
		}
		o.p.sends.add()
		go func() {
			defer o.p.sends.done()
			defer func() { <-o.p.inflight }()
			// deliver needs a slot of its own; without one it fails at
			// once and the relay sends the rows after the lease.
			o.send(ctx, batch, marks)
		}()
		return
	}
	o.send(ctx, batch, marks)
}

// send is committed's send: deliver, then have the rows deleted.
func (o *outbox) send(ctx context.Context, batch int64, marks []pendingMark) {
	defer o.p.brk.notify()
	err := o.p.deliver(ctx, marks)
	switch {
	case err == nil:
		select {
		case o.forget <- batch:
		default: // the relay resends them: harmless
		}
	case errors.Is(err, errSkipped):
		// Kept in the outbox: the relay sends them once Redis is back.
		o.p.deferredTotal.Add(int64(len(marks)))
		o.p.brk.deferred.Add(int64(len(marks)))
	case notRedisFailure(err):
		o.p.fail(ctx, marks, err) // the relay meets them again and drops them
	}
}

// direct handles the marks of a statement outside any transaction: its
// own autocommit insert, then as committed.
func (o *outbox) direct(ctx context.Context, marks []pendingMark) {
	batch, err := o.stage(ctx, o.db, marks)
	if err != nil {
		o.p.fail(ctx, marks, err)
		return
	}
	o.committed(ctx, batch, marks)
}

// wake makes the relay run a round now.
func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}
