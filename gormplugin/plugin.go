package bitmapistplugin

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"gorm.io/gorm"
)

// PluginName is the name under which the plugin registers with GORM, and
// the prefix of its callback names ("bitmapist:created", ...).
const PluginName = "bitmapist"

// DefaultTimeout bounds one attempt to send a batch of marks to Redis
// (the id map lookup for string keys plus the marks). WithTimeout changes it.
const DefaultTimeout = 500 * time.Millisecond

// Plugin is a gorm.Plugin that marks <model>:created, <model>:updated and
// <model>:deleted bitmapist events for the rows of tracked models
// (embedding bitmapist.Tracked) that the database really committed. Create
// it with New and install it with db.Use. It is safe for concurrent use
// and may be installed on several *gorm.DB at once.
type Plugin struct {
	rdb        redis.UniversalClient
	clientOpts []bitmapist.Option
	client     *bitmapist.Client
	idMapName  string
	idMap      *bitmapist.IDMap
	onError    func(ctx context.Context, err error)
	timeout    time.Duration
	queueSize  int

	models        sync.Map // *schema.Schema → *modelInfo
	servers       sync.Map // gorm.Dialector → bool: a MySQL dialect's server is MariaDB
	failed        atomic.Int64
	unknown       atomic.Int64 // marks of commits with an unknown outcome
	unknownSent   atomic.Int64 // marks sent to Redis whose outcome is unknown
	sent          atomic.Int64 // marks written to Redis
	skippedTotal  atomic.Int64 // marks not sent (and lost) while the breaker was open
	deferredTotal atomic.Int64 // marks not sent while the breaker was open, kept in the outbox

	breakerFailures int
	brk             *breaker

	outboxTable  string  // WithOutbox: the table; "" without an outbox
	outboxTarget string  // WithOutboxTarget; "" for the default
	outbox       *outbox // nil without WithOutbox

	meterProvider metric.MeterProvider
	metricsReg    metric.Registration
	metricsErr    error

	ctxBound bool          // sends run on the caller's goroutine (see ctxBounded)
	inflight chan struct{} // semaphore of unfinished synchronous sends
	sends    inFlight      // unfinished synchronous sends

	// Background sender: only with WithQueue(n > 0); nil queue when
	// sending synchronously (the default).
	qmu    sync.RWMutex
	queue  chan batch
	closed bool
	worker sync.WaitGroup
}

// batch is one unit of work for the background sender: marks to send, or
// (when flushed is non-nil) a request to signal once everything before it
// was sent.
type batch struct {
	ctx     context.Context
	marks   []pendingMark
	flushed chan struct{}
}

// Option configures a Plugin in New.
type Option func(*Plugin)

// WithClient makes the plugin mark through c (its prefix, clock, location,
// hourly and unique settings) instead of a client built on New's rdb,
// which may then be nil.
func WithClient(c *bitmapist.Client) Option { return func(p *Plugin) { p.client = c } }

// WithClientOptions passes opts (bitmapist.WithPrefix, WithTrackHourly,
// ...) to the client New builds on rdb. Ignored with WithClient.
func WithClientOptions(opts ...bitmapist.Option) Option {
	return func(p *Plugin) { p.clientOpts = append(p.clientOpts, opts...) }
}

// WithErrorHandler sets the function told about every mark that could not
// be recorded (a *SendError, or an error wrapping ErrQueueFull,
// ErrUnsupportedKey, ErrNoPrimaryKey, ErrInvalidPrefix or ErrRowsUnknown),
// and about a commit of unknown outcome (*CommitUnknownError). Redis never
// fails a database write; a failed read of the rows an update or delete
// will change (MySQL/MariaDB) fails that statement with the driver's error
// instead of being reported here. It may be called from the
// goroutine of the committing statement or from the background sender;
// ctx carries the statement's values but never its cancellation. Default:
// log with log/slog's default logger at level Error. nil keeps the default.
func WithErrorHandler(fn func(ctx context.Context, err error)) Option {
	return func(p *Plugin) {
		if fn != nil {
			p.onError = fn
		}
	}
}

// WithTimeout bounds each attempt to send one batch of marks to Redis
// (default DefaultTimeout, 500 ms). A batch that fails or times out is not
// retried: it is reported to the error handler and counted in FailedMarks.
// In the default synchronous mode this, plus 10 ms, is the most a Redis
// outage adds to a committing statement, even if the Redis client overruns
// the deadline: the statement then moves on and the send finishes in the
// background (Flush and Close wait for it). d <= 0 keeps the default.
func WithTimeout(d time.Duration) Option {
	return func(p *Plugin) {
		if d > 0 {
			p.timeout = d
		}
	}
}

// WithIDMap names the bitmapist id map (bitmapist.Client.IDMap) through
// which string and UUID primary keys and WithUserKey/UserKeyOwned ids are
// turned into integer user ids (default bitmapist.DefaultIDMap, "users",
// the map MarkEventString uses).
func WithIDMap(name string) Option {
	return func(p *Plugin) {
		if name != "" {
			p.idMapName = name
		}
	}
}

// WithQueue turns on background sending, which is off by default: a
// commit then only hands its marks to a bounded in-memory queue of size
// commits' batches, and one goroutine sends them, merging the batches
// waiting in the queue into one Redis round trip (the error handler then
// gets the context of the first of them). Commits no longer wait for Redis,
// but their marks reach it a moment later, so a count read right after
// Create may not include them yet: call Flush to wait for what was queued,
// and Close before the program exits, or the queued marks are lost. When
// the queue is full the batch is dropped, reported with ErrQueueFull and
// counted, so a slow or dead Redis never slows the database. A crash of
// the process (or an exit without Close) loses the batches still queued:
// at most size commits' worth of marks, in practice those of the last few
// milliseconds (or of the last WithTimeout per batch while Redis hangs).
// A size of a few thousand keeps up with tens of thousands of commits per
// second (see docs/benchmarks.md).
//
// size <= 0 keeps the default, synchronous sending: each commit sends its
// marks itself right after the database commit, in one attempt bounded by
// WithTimeout, so they are in Redis when the statement (or Commit) returns.
func WithQueue(size int) Option { return func(p *Plugin) { p.queueSize = size } }

// New returns a plugin marking through a bitmapist client on rdb (a
// *redis.Client, *redis.ClusterClient or any redis.UniversalClient), or
// through the client given by WithClient. Install it with db.Use(p) right
// after gorm.Open. By default marks are sent synchronously, right after
// each commit and before the statement (or Commit) returns, so nothing
// needs to be flushed or closed. With WithQueue(n > 0) New starts a
// background sender, which Close flushes and stops: call Close at shutdown.
func New(rdb redis.UniversalClient, opts ...Option) *Plugin {
	p := &Plugin{
		rdb:       rdb,
		idMapName: bitmapist.DefaultIDMap,
		timeout:   DefaultTimeout,
		inflight:  make(chan struct{}, maxInFlight),

		breakerFailures: DefaultBreakerFailures,
		onError: func(ctx context.Context, err error) {
			slog.Default().ErrorContext(ctx, "bitmapist: marks not recorded", "err", err)
		},
	}
	for _, o := range opts {
		o(p)
	}
	if p.client == nil && rdb != nil {
		p.client = bitmapist.New(rdb, p.clientOpts...)
	}
	if p.client != nil {
		p.idMap = p.client.IDMap(p.idMapName)
		p.ctxBound = ctxBounded(p.client.Redis())
	}
	p.brk = newBreaker(p)
	if p.outboxTable != "" {
		p.outbox = newOutbox(p)
		p.outbox.async = p.queueSize > 0
		p.queueSize = 0
	}
	if p.meterProvider != nil {
		if err := p.registerMetrics(); err != nil {
			p.onError(context.Background(), err)
		}
	}
	if p.queueSize > 0 {
		p.queue = make(chan batch, p.queueSize)
		p.worker.Add(1)
		go p.run()
	}
	return p
}

// Name returns PluginName; it is part of gorm.Plugin.
func (p *Plugin) Name() string { return PluginName }

// Client returns the bitmapist client the plugin marks through (nil when
// New got neither a Redis client nor WithClient).
func (p *Plugin) Client() *bitmapist.Client { return p.client }

// FailedMarks returns how many marks of committed writes could not be
// recorded since New (Redis errors, timeouts before the write was sent, a
// full queue, unsupported keys), each also reported to the error handler.
// Marks whose send's outcome is unknown are counted in UnknownSentMarks
// instead.
func (p *Plugin) FailedMarks() int64 { return p.failed.Load() }

// Initialize registers the plugin's callbacks and wraps db's connection
// pool so that marks wait for the commit of their transaction; it is part
// of gorm.Plugin and is called by db.Use. It returns ErrNoClient when the
// plugin has no Redis client (New(nil) without WithClient, or a client
// made without Redis, such as bitmapist.New(nil)), or GORM's error when a
// callback cannot be registered.
func (p *Plugin) Initialize(db *gorm.DB) error {
	if p.client == nil {
		return ErrNoClient
	}
	if err := p.client.Ready(); err != nil {
		return fmt.Errorf("%w: %w", ErrNoClient, err)
	}
	if p.outbox != nil {
		if err := p.initOutbox(db); err != nil {
			return err
		}
	}
	if err := p.register(db); err != nil {
		return err
	}
	p.detectServer(db)
	if _, ok := db.ConnPool.(*pool); !ok {
		wrapped := &pool{inner: db.ConnPool, p: p}
		db.ConnPool = wrapped
		if db.Statement != nil {
			db.Statement.ConnPool = wrapped
		}
	}
	return nil
}

// Flush waits until the marks handed over before the call have been sent
// (or have failed): the batches queued for the background sender
// (WithQueue), and synchronous sends still running after their statement
// moved on (see WithTimeout). In the default synchronous mode marks are in
// Redis when their statement returns, so Flush returns at once unless such
// an overrunning send is still running. It returns ctx's error if ctx ends
// first.
func (p *Plugin) Flush(ctx context.Context) error {
	if p.outbox != nil && p.outbox.db != nil {
		if err := p.sends.wait(ctx); err != nil {
			return err
		}
		return p.outbox.flush(ctx)
	}
	p.qmu.RLock()
	if p.queue == nil || p.closed {
		p.qmu.RUnlock()
		return p.sends.wait(ctx)
	}
	done := make(chan struct{})
	select {
	case p.queue <- batch{flushed: done}:
		p.qmu.RUnlock()
	case <-ctx.Done():
		p.qmu.RUnlock()
		return ctx.Err()
	}
	select {
	case <-done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return p.sends.wait(ctx)
}

// Close sends the marks still queued (WithQueue), stops the background
// sender and waits for synchronous sends that outlived their statement's
// wait (see WithTimeout); marks of later commits are then sent
// synchronously. In the default synchronous mode there is nothing to send
// and Close only waits for such overrunning sends; calling it is optional.
// It does not close the Redis client. It always returns nil and may be
// called more than once.
func (p *Plugin) Close() error {
	p.qmu.Lock()
	if p.queue != nil && !p.closed {
		p.closed = true
		close(p.queue)
		p.qmu.Unlock()
		p.worker.Wait()
	} else {
		p.qmu.Unlock()
	}
	_ = p.sends.wait(context.Background())
	if p.outbox != nil {
		p.outbox.close()
	}
	if p.metricsReg != nil {
		_ = p.metricsReg.Unregister()
	}
	return nil
}
