package bitmapistplugin

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
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
// before its COMMIT, so that they commit or roll back with the rows. On
// PostgreSQL a Create writes its own rows' marks in its own statement
// instead (the INSERT becomes a data-modifying WITH whose RETURNING rows
// feed the outbox INSERT; it returns the same rows, RowsAffected and
// errors, and a failure of the outbox INSERT fails it with an error
// "bitmapistplugin: outbox insert: ..." wrapping the driver's), so a
// transaction of Creates costs no database round trip more than without
// the plugin; Creates with ON CONFLICT, owned models (UserOwned,
// UserKeyOwned), non-integer keys, updates and deletes keep the INSERT
// before COMMIT. Such rows carry the statement's time, and get the commit
// time (one UPDATE before COMMIT) only when the transaction commits in
// another hour. Right
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
//	target     VARCHAR(255) NOT NULL DEFAULT ''  the Redis and prefix the mark is for (WithOutboxTarget)
//	index <table>_not_before on (not_before)
//
// A table created before the target column existed gets it (ALTER TABLE
// ... ADD COLUMN, safe to run from several processes at once); its rows
// keep target "", which every relay sends, as before.
// Each row records its target (WithOutboxTarget; by default the client's
// key prefix and Redis address, e.g. "trackist_@127.0.0.1:6379/0"), and a
// relay claims, counts (Stats.OutboxPending, Flush) and sends only rows of
// its own target: processes marking into different Redis servers or
// prefixes can share one table, and the rows of a process pointed at a
// dead Redis wait for it (or for a process with its target) instead of
// being delivered elsewhere. Processes that reach one Redis under
// different addresses (a DNS name and an IP) must set one
// WithOutboxTarget, or each delivers only its own rows. A separate table
// (WithOutboxTable) separates them as well.
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
// write their outbox rows right after the statement, not atomically with it
// (PostgreSQL Creates excepted: their own statement writes them).
func WithOutbox() Option {
	return func(p *Plugin) {
		if p.outboxTable == "" {
			p.outboxTable = DefaultOutboxTable
		}
	}
}

// WithOutboxTable is WithOutbox with the table name name ("schema.table"
// allowed); "" keeps DefaultOutboxTable.
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

	fmu       sync.Mutex
	forgotten []int64       // batches sent by their committers, to delete (at most maxForget)
	forgetCh  chan struct{} // cap 1: forgotten has become non-empty
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
	if err := d.migrate(ctx, sqlDB); err != nil {
		return err
	}
	d.target = p.outboxTargetName()
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
		p:        p,
		lease:    max(minLease, 2*p.timeout+100*time.Millisecond),
		forgetCh: make(chan struct{}, 1),
		kick:     make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),

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
	batch := newBatchID()
	notBefore := time.Now().Add(o.lease).UnixMilli()
	return batch, o.d.insert(ctx, x, batch, marks, notBefore)
}

// newBatchID returns a random outbox batch id, above 0.
func newBatchID() int64 { return rand.Int64N(1<<62) + 1 }

// committed sends the marks of batches once their transaction committed
// (the batches of its folded statements and of its staged INSERT), and
// has the rows deleted when that worked; otherwise the relay sends them
// after the lease.
func (o *outbox) committed(ctx context.Context, batches []int64, marks []pendingMark) {
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
			o.send(ctx, batches, marks)
		}()
		return
	}
	o.send(ctx, batches, marks)
}

// send is committed's send: deliver, then have the rows deleted.
func (o *outbox) send(ctx context.Context, batches []int64, marks []pendingMark) {
	defer o.p.brk.notify()
	err := o.p.deliver(ctx, marks)
	switch {
	case err == nil:
		o.forget(batches)
	case errors.Is(err, errSkipped):
		// Kept in the outbox: the relay sends them once Redis is back.
		o.p.deferredTotal.Add(int64(len(marks)))
		o.p.brk.deferred.Add(int64(len(marks)))
	case notRedisFailure(err):
		o.p.fail(ctx, marks, err) // the relay meets them again and drops them
	}
}

// maxForget bounds the sent batches waiting for the relay's DELETE; those
// of commits beyond it are resent by the relay after their lease, which is
// harmless.
const maxForget = 4096

// forget hands the sent batches to the relay, which deletes their rows
// within deleteDelay. Only the first batch after the relay took the
// previous ones wakes it: a commit costs no hand-off to the relay.
func (o *outbox) forget(batches []int64) {
	o.fmu.Lock()
	wake := len(o.forgotten) == 0
	if len(o.forgotten)+len(batches) <= maxForget {
		o.forgotten = append(o.forgotten, batches...)
	}
	o.fmu.Unlock()
	if wake {
		select {
		case o.forgetCh <- struct{}{}:
		default:
		}
	}
}

// takeForgotten moves the batches handed over by forget to undeleted.
func (o *outbox) takeForgotten() {
	o.fmu.Lock()
	o.undeleted = append(o.undeleted, o.forgotten...)
	o.forgotten = o.forgotten[:0]
	o.fmu.Unlock()
}

// direct handles the marks of a statement outside any transaction: its
// own autocommit insert, then as committed.
func (o *outbox) direct(ctx context.Context, marks []pendingMark) {
	batch, err := o.stage(ctx, o.db, marks)
	if err != nil {
		o.p.fail(ctx, marks, err)
		return
	}
	o.committed(ctx, []int64{batch}, marks)
}

// wake makes the relay run a round now.
func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// maxTarget is the length of the outbox's target column.
const maxTarget = 255

// WithOutboxTarget names the Redis and key space this plugin's outbox rows
// are for (default: the client's key prefix, "@", and its Redis address
// and database, e.g. "trackist_@127.0.0.1:6379/0"; a cluster's sorted
// seed addresses). Each row records it, and a relay claims only rows of
// its own target (and rows written before the column existed), so
// processes on other Redis servers or prefixes can share one outbox table.
// Set it when the processes of one deployment reach the same Redis under
// different addresses (a DNS name and an IP, say). Names longer than 255
// bytes are shortened with a hash.
func WithOutboxTarget(name string) Option {
	return func(p *Plugin) { p.outboxTarget = name }
}

// outboxTargetName returns the plugin's outbox target (WithOutboxTarget or
// the default from its client), at most maxTarget bytes.
func (p *Plugin) outboxTargetName() string {
	name := p.outboxTarget
	if name == "" {
		var where string
		switch r := p.client.Redis().(type) {
		case *redis.Client:
			o := r.Options()
			where = o.Addr + "/" + strconv.Itoa(o.DB)
		case *redis.ClusterClient:
			addrs := slices.Clone(r.Options().Addrs)
			slices.Sort(addrs)
			where = strings.Join(addrs, ",")
		default:
			where = fmt.Sprintf("%T", r)
		}
		name = p.client.Prefix() + "@" + where
	}
	if len(name) > maxTarget {
		sum := sha256.Sum256([]byte(name))
		name = strings.ToValidUTF8(name[:maxTarget-17], "") + "#" + hex.EncodeToString(sum[:8])
	}
	return name
}
