package bitmapistplugin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/sony/gobreaker/v2"
)

// DefaultBreakerFailures is how many sends in a row must fail before the
// circuit breaker opens (WithBreaker changes it).
const DefaultBreakerFailures = 5

// probeInterval is how long the breaker stays open before a probe, and
// how often the prober tries while Redis stays down. A probe is a send
// like any other: it must be answered within WithTimeout, the bound of
// the sends it stands for (a probe allowed longer closed the breaker on
// a Redis that answered, but too late for the sends, which failed and
// reopened it; measured in docs/benchmarks.md). Before it the prober
// makes sure the pool holds a connection (warm, bounded by warmTimeout),
// so that the dial and handshake a cold pool needs after a fault are not
// counted against the probe. closeProbes probes in a row must succeed
// before the breaker closes, the later ones closeProbeGap apart, so that
// a Redis that answers only now and then (at the edge of its maxmemory,
// or on a machine so loaded that its round trips straddle WithTimeout)
// does not close and reopen it again and again. Once Redis answers at its
// usual speed again, the breaker closes at most probeInterval + 2 ×
// closeProbeGap (300 ms) plus the probes' round trips later, and the
// probe in flight when it came back.
const (
	probeInterval = 200 * time.Millisecond
	warmTimeout   = 300 * time.Millisecond
	closeProbes   = 3
	closeProbeGap = 50 * time.Millisecond
)

// Breaker states as Stats.Breaker reports them.
const (
	BreakerClosed   = "closed"    // marks are sent
	BreakerOpen     = "open"      // Redis failed: no mark is sent, a probe runs in the background
	BreakerHalfOpen = "half-open" // a probe is being sent; marks are not
)

var (
	// ErrBreakerOpen is wrapped by the *BreakerError the error handler gets
	// once when the circuit breaker opens: Redis failed
	// WithBreaker's number of sends in a row, and until it answers a probe
	// again no mark is sent (commits spend no time on Redis). Marks made
	// meanwhile are counted (FailedMarks, Stats) but not reported one by
	// one; with WithOutbox they stay in the outbox and are sent later.
	ErrBreakerOpen = errors.New("bitmapistplugin: Redis unavailable, circuit breaker open")
	// ErrBreakerClosed is wrapped by the *BreakerError the error handler
	// gets once when the breaker closes again after Redis answered a probe.
	ErrBreakerClosed = errors.New("bitmapistplugin: Redis available again, circuit breaker closed")

	// errSkipped is what deliver returns for marks it did not try to send
	// because the breaker is not closed.
	errSkipped = errors.New("bitmapistplugin: not sent, circuit breaker open")
)

// BreakerError tells the error handler that the circuit breaker opened
// (errors.Is ErrBreakerOpen; Err is the failure that tripped it) or closed
// (errors.Is ErrBreakerClosed; Skipped is how many marks were not sent,
// and are lost, while it was open; Deferred how many were kept in the
// outbox instead, to be sent by the relay now).
type BreakerError struct {
	Open     bool  // true when it opened, false when it closed
	Skipped  int64 // marks not sent and lost while open (only when closing; default and WithQueue modes)
	Deferred int64 // marks not sent while open but kept in the outbox (only when closing; WithOutbox)
	Err      error // the last send failure (only when opening)
}

// Error says what happened to the breaker.
func (e *BreakerError) Error() string {
	if e.Open {
		return fmt.Sprintf("%v: %v", ErrBreakerOpen, e.Err)
	}
	if e.Deferred > 0 && e.Skipped == 0 {
		return fmt.Sprintf("%v: %d marks made while it was open were kept in the outbox and are being sent now", ErrBreakerClosed, e.Deferred)
	}
	msg := fmt.Sprintf("%v: %d marks were not sent while it was open", ErrBreakerClosed, e.Skipped)
	if e.Deferred > 0 {
		msg += fmt.Sprintf(" (%d more kept in the outbox)", e.Deferred)
	}
	return msg
}

// Unwrap returns ErrBreakerOpen or ErrBreakerClosed, and the cause.
func (e *BreakerError) Unwrap() []error {
	if e.Open {
		return []error{ErrBreakerOpen, e.Err}
	}
	return []error{ErrBreakerClosed}
}

// WithBreaker sets how many sends to Redis in a row must fail (error or
// WithTimeout) before the circuit breaker opens (default
// DefaultBreakerFailures, 5); the failures must also have gone on for
// twice WithTimeout (at least 100 ms, at most 1 s), so that one short
// Redis stall that times out many concurrent sends at once does not open
// it (see tripSpan), unless every one of them was a refused connection
// (a dial error), which opens it after n alone. While it is open commits send nothing and
// wait for nothing; a background probe (a SET ... XX of a key that does not
// exist, which Redis refuses when it is out of memory) runs every 200 ms and
// closes it once three probes in a row, 50 ms apart, were answered within
// WithTimeout. n <= 0 keeps the default.
func WithBreaker(n int) Option {
	return func(p *Plugin) {
		if n > 0 {
			p.breakerFailures = n
		}
	}
}

// breaker is the plugin's circuit breaker around Redis, with the prober
// that closes it and the once-per-transition reports to the error handler.
type breaker struct {
	p  *Plugin
	cb *gobreaker.TwoStepCircuitBreaker[struct{}]

	skipped  atomic.Int64  // marks not sent (and lost) since it opened
	deferred atomic.Int64  // marks not sent but kept in the outbox since it opened
	opens    atomic.Int64  // times it opened since New
	streak   atomic.Int64  // Unix ns of the first failure of the current run of failures; 0 after a success
	refused  atomic.Bool   // every failure of the current run was a refused connection (dialFailure)
	span     time.Duration // tripSpan of the send timeout

	mu       sync.Mutex
	lastErr  error           // last failure fed to the breaker
	notices  []*BreakerError // transitions not yet reported
	isOpen   bool            // an open was reported and no close yet
	probing  bool            // a prober goroutine runs
	closedCh chan struct{}   // closed (and replaced) whenever the breaker closes
}

// newBreaker builds the breaker of p.
func newBreaker(p *Plugin) *breaker {
	b := &breaker{p: p, closedCh: make(chan struct{}), span: tripSpan(p.timeout)}
	n := uint32(p.breakerFailures)
	b.cb = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        PluginName,
		MaxRequests: closeProbes,
		Timeout:     probeInterval,
		ReadyToTrip: func(c gobreaker.Counts) bool {
			return c.ConsecutiveFailures >= n && (b.refused.Load() || b.failingFor() >= b.span)
		},
		OnStateChange: b.changed,
		IsExcluded:    notRedisFailure,
	})
	return b
}

// tripSpan is how long sends must have been failing, besides their number
// in a row, before the breaker opens: twice the send timeout, at least
// 100 ms and at most a second. Many sends time out together when Redis
// stalls once for a little longer than the timeout (a slow fsync, a loaded
// machine); that is not an outage, and opening for it made the breaker
// flap (open and close several times around one fault). A Redis that is
// down fails every send for longer.
func tripSpan(timeout time.Duration) time.Duration {
	return min(max(2*timeout, 100*time.Millisecond), time.Second)
}

// dialFailure reports whether err is a failure to connect to Redis (a
// refused or unreachable address): no byte of the write went out, and
// unlike a stall it says Redis is down, so such failures open the breaker
// as soon as WithBreaker's number of them came in a row, without waiting
// for tripSpan.
func dialFailure(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// failingFor returns how long the current run of failed sends has lasted
// (0 when the last send succeeded).
func (b *breaker) failingFor() time.Duration {
	start := b.streak.Load()
	if start == 0 {
		return 0
	}
	return time.Duration(time.Now().UnixNano() - start)
}

// notRedisFailure reports errors that say nothing about Redis's health:
// bad marks refused before anything was sent.
func notRedisFailure(err error) bool {
	var me *bitmapist.MarkError
	return errors.As(err, &me) || errors.Is(err, bitmapist.ErrInvalidUserID)
}

// state returns the breaker's state as Stats reports it.
func (b *breaker) state() string {
	switch b.cb.State() {
	case gobreaker.StateOpen:
		return BreakerOpen
	case gobreaker.StateHalfOpen:
		return BreakerHalfOpen
	}
	return BreakerClosed
}

// closedSignal returns a channel closed the next time the breaker closes.
func (b *breaker) closedSignal() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closedCh
}

// allow returns the function to call with the outcome of one send, or
// errSkipped when the breaker is not closed (half-open sends are the
// prober's). The caller calls notify once it reported the send's own
// outcome, so that the handler hears of a failure before of the breaker
// opening because of it.
func (b *breaker) allow() (func(error), error) {
	if b.cb.State() != gobreaker.StateClosed {
		return nil, errSkipped
	}
	done, err := b.cb.Allow()
	if err != nil {
		return nil, errSkipped
	}
	start := time.Now().UnixNano() // a failure's run starts when its send did
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			if err != nil && !notRedisFailure(err) {
				b.mu.Lock()
				b.lastErr = err
				b.mu.Unlock()
				if b.streak.CompareAndSwap(0, start) {
					b.refused.Store(dialFailure(err))
				} else if !dialFailure(err) {
					b.refused.Store(false)
				}
			} else if err == nil {
				b.streak.Store(0)
			}
			done(err)
		})
	}, nil
}

// changed is gobreaker's OnStateChange (called under its lock): it queues
// the reports and starts the prober.
func (b *breaker) changed(_ string, from, to gobreaker.State) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case to == gobreaker.StateOpen && !b.isOpen:
		b.isOpen = true
		b.opens.Add(1)
		b.skipped.Store(0)
		b.deferred.Store(0)
		b.notices = append(b.notices, &BreakerError{Open: true, Err: b.lastErr})
	case to == gobreaker.StateClosed && b.isOpen:
		b.isOpen = false
		b.notices = append(b.notices, &BreakerError{Skipped: b.skipped.Load(), Deferred: b.deferred.Load()})
	}
	if to == gobreaker.StateClosed {
		b.streak.Store(0)
		close(b.closedCh)
		b.closedCh = make(chan struct{})
	}
	if to == gobreaker.StateOpen && !b.probing {
		b.probing = true
		go b.probe()
	}
}

// notify reports the queued transitions to the error handler, outside
// gobreaker's lock.
func (b *breaker) notify() {
	b.mu.Lock()
	notices := b.notices
	b.notices = nil
	b.mu.Unlock()
	for _, n := range notices {
		b.p.onError(context.Background(), n)
	}
}

// probe runs while the breaker is not closed: every probeInterval it sends
// one probe through the breaker, and after a successful one the next
// closeProbeGap later, until closeProbes in a row succeeded and the
// breaker closed (gobreaker's MaxRequests consecutive successes in
// half-open; a failed one reopens it).
func (b *breaker) probe() {
	wait := probeInterval
	for {
		if b.cb.State() == gobreaker.StateClosed {
			b.mu.Lock()
			b.probing = false
			b.mu.Unlock()
			b.notify()
			return
		}
		time.Sleep(wait)
		wait = probeInterval
		done, err := b.cb.Allow()
		if err != nil {
			continue // still open, or a probe in flight
		}
		if err = b.probeOnce(); err != nil {
			b.mu.Lock()
			b.lastErr = err
			b.mu.Unlock()
		} else {
			wait = closeProbeGap
		}
		done(err)
		b.notify()
	}
}

// probeOnce warms the pool (a PING bounded by warmTimeout: it dials and
// handshakes a connection when the pool has none) and then sends the
// probe bounded by WithTimeout, as a send is.
func (b *breaker) probeOnce() error {
	ctx := context.Background()
	if err := b.p.bounded(ctx, warmTimeout, b.p.ctxBound, b.warm); err != nil {
		return err
	}
	return b.p.bounded(ctx, b.p.timeout, b.p.ctxBound, b.ping)
}

// warm is PING: it makes the pool hold a live connection for the probe.
func (b *breaker) warm(ctx context.Context) error {
	rdb := b.p.client.Redis()
	if rdb == nil {
		return bitmapist.ErrNoRedis
	}
	return rdb.Ping(ctx).Err()
}

// ping is the probe: SET <prefix>probe "" XX, a write that Redis refuses
// when out of memory (and holds while paused) but that changes nothing,
// since the key does not exist.
func (b *breaker) ping(ctx context.Context) error {
	rdb := b.p.client.Redis()
	if rdb == nil {
		return bitmapist.ErrNoRedis
	}
	return rdb.SetXX(ctx, b.p.client.Prefix()+"bitmapistplugin_probe", "", 0).Err()
}
