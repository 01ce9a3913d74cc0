package bitmapist

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Conventional event names of the login helpers, as flask-bitmapist's
// Flask-Login integration records them.
const (
	EventLoggedIn  = "user:logged_in"
	EventLoggedOut = "user:logged_out"
)

// MarkOption changes one MarkEvent, UnmarkEvent or MarkEvents call.
type MarkOption func(*markConfig)

type markConfig struct {
	at     time.Time
	hourly bool
	unique bool
}

// At sets the time of the event (default: the client's clock). It is
// converted to the client's location before its periods are chosen, so
// 2021-01-01T00:30+02:00 lands in day 2020-12-31, hour 22 on a UTC client.
// The zero time.Time means the clock. Python bitmapist's mark_event takes the
// same argument as `now`.
func At(t time.Time) MarkOption { return func(m *markConfig) { m.at = t } }

// TrackHourly overrides WithTrackHourly for one call.
func TrackHourly(on bool) MarkOption { return func(m *markConfig) { m.hourly = on } }

// TrackUnique overrides WithTrackUnique for one call.
func TrackUnique(on bool) MarkOption { return func(m *markConfig) { m.unique = on } }

func (c *Client) markConfig(opts []MarkOption) markConfig {
	m := markConfig{hourly: c.hourly, unique: c.unique}
	for _, o := range opts {
		o(&m)
	}
	if m.at.IsZero() {
		m.at = c.clock()
	}
	m.at = m.at.In(c.loc)
	return m
}

// MarkEvent records that user userID did event: it sets bit userID in the
// event's month, ISO week and day bitmaps (plus the hour and unique bitmaps
// when those are tracked), as Python bitmapist's mark_event does. All keys
// are written in one round trip: one MULTI/EXEC on a single Redis, one
// pipeline on a cluster (where the keys live in different slots). Marking a
// user twice in a period counts once.
//
// It returns an error wrapping ErrInvalidEventName, ErrInvalidUserID or
// ErrInvalidTime (nothing written) for bad input, ErrNoRedis for a client
// made without Redis, or the Redis error wrapped with the event name.
func (c *Client) MarkEvent(ctx context.Context, event string, userID uint64, opts ...MarkOption) error {
	return c.setEvent(ctx, "mark", event, userID, 1, opts)
}

// UnmarkEvent clears bit userID in the same bitmaps MarkEvent sets, in one
// round trip. Like Redis SETBIT (and Python bitmapist's unmark_event), it
// creates zero-filled keys where none existed. Errors are as for MarkEvent.
func (c *Client) UnmarkEvent(ctx context.Context, event string, userID uint64, opts ...MarkOption) error {
	return c.setEvent(ctx, "unmark", event, userID, 0, opts)
}

// MarkUnique sets bit userID in event's unique bitmap only (Python
// bitmapist's mark_unique). Errors are as for MarkEvent.
func (c *Client) MarkUnique(ctx context.Context, event string, userID uint64) error {
	return c.setUnique(ctx, "mark unique", event, userID, 1)
}

// UnmarkUnique clears bit userID in event's unique bitmap only (Python
// bitmapist's unmark_unique). Errors are as for MarkEvent.
func (c *Client) UnmarkUnique(ctx context.Context, event string, userID uint64) error {
	return c.setUnique(ctx, "unmark unique", event, userID, 0)
}

// MarkLogin marks EventLoggedIn for userID, as flask-bitmapist does on
// Flask-Login's user_logged_in signal. Call it from your login handler.
func (c *Client) MarkLogin(ctx context.Context, userID uint64, opts ...MarkOption) error {
	return c.MarkEvent(ctx, EventLoggedIn, userID, opts...)
}

// MarkLogout marks EventLoggedOut for userID, as flask-bitmapist does on
// Flask-Login's user_logged_out signal.
func (c *Client) MarkLogout(ctx context.Context, userID uint64, opts ...MarkOption) error {
	return c.MarkEvent(ctx, EventLoggedOut, userID, opts...)
}

func (c *Client) setUnique(ctx context.Context, verb, event string, userID uint64, bit int) error {
	if err := ValidateEventName(event); err != nil {
		return err
	}
	if err := checkUserID(userID); err != nil {
		return err
	}
	if err := c.ready(); err != nil {
		return err
	}
	if err := c.rdb.SetBit(ctx, c.UniqueKey(event), int64(userID), bit).Err(); err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	return nil
}

func (c *Client) setEvent(ctx context.Context, verb, event string, userID uint64, bit int, opts []MarkOption) error {
	if err := ValidateEventName(event); err != nil {
		return err
	}
	if err := checkUserID(userID); err != nil {
		return err
	}
	m := c.markConfig(opts)
	if err := checkTime(m.at); err != nil {
		return err
	}
	if err := c.ready(); err != nil {
		return err
	}
	keep, err := c.retainer(ctx)
	if err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	pipe := c.pipeline()
	c.queueMark(ctx, pipe, make([]byte, 0, 64), event, int64(userID), bit, m, keep)
	if _, err := pipe.Exec(ctx); err != nil {
		keep.failed()
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	return nil
}

// pipeline returns a MULTI/EXEC pipeline on a single Redis, where it makes a
// mark atomic, and a plain pipeline on a cluster, where a transaction cannot
// span the slots of one mark's keys.
func (c *Client) pipeline() redis.Pipeliner {
	if c.cluster {
		return c.rdb.Pipeline()
	}
	return c.rdb.TxPipeline()
}

// queueMark queues the SETBITs of one mark, and the TTLs that keep (nil
// without WithRetention) asks for; buf is scratch space for keys.
func (c *Client) queueMark(ctx context.Context, pipe redis.Pipeliner, buf []byte, event string, id int64, bit int, m markConfig, keep *retainer) []byte {
	for _, g := range [...]TimeGroup{Months, Weeks, Days, Hours} {
		if g == Hours && !m.hourly {
			continue
		}
		buf = c.appendKey(buf[:0], event, g, m.at)
		keep.setBit(ctx, pipe, string(buf), g, m.at, id, bit)
	}
	if m.unique {
		pipe.SetBit(ctx, c.UniqueKey(event), id, bit)
	}
	return buf
}

// Mark is one entry of a MarkEvents batch.
type Mark struct {
	Event  string    // event name (ValidateEventName's rule)
	UserID uint64    // 0 .. MaxUserID
	Time   time.Time // when; the zero time means the client's clock
	Unmark bool      // clear the bits instead of setting them
}

// MarkEventsBatchSize is how many marks MarkEvents sends per pipelined
// round trip.
const MarkEventsBatchSize = 5000

// markEventsInFlight is how many MarkEvents pipelines may await Redis at
// once: the next one is built while Redis runs the previous.
const markEventsInFlight = 3

// MarkEvents marks (or unmarks) many (event, user, time) triples, for
// imports and replays. opts apply to every entry (At is ignored: each Mark
// carries its own time).
//
// Every entry is validated first: if any is bad, MarkEvents returns a
// *MarkError naming its index (wrapping ErrInvalidEventName,
// ErrInvalidUserID or ErrInvalidTime) and writes nothing. Marks are then sent in pipelines of
// MarkEventsBatchSize, each one MULTI/EXEC on a single Redis, so a batch
// commits whole or not at all. Up to markEventsInFlight pipelines are in
// flight at once (one when the batch holds an Unmark, to keep order). If
// Redis fails part-way, other batches may have been written and the error
// names the failed range; marking is idempotent, so the whole call can
// simply be retried.
func (c *Client) MarkEvents(ctx context.Context, marks []Mark, opts ...MarkOption) error {
	for i := range marks {
		if err := ValidateEventName(marks[i].Event); err != nil {
			return &MarkError{Index: i, Err: err}
		}
		if err := checkUserID(marks[i].UserID); err != nil {
			return &MarkError{Index: i, Err: err}
		}
		if !marks[i].Time.IsZero() {
			if err := checkTime(marks[i].Time.In(c.loc)); err != nil {
				return &MarkError{Index: i, Err: err}
			}
		}
	}
	if err := c.ready(); err != nil {
		return err
	}
	keep, err := c.retainer(ctx)
	if err != nil {
		return fmt.Errorf("bitmapist: mark events: %w", err)
	}
	base := c.markConfig(opts)
	now := c.clock()
	// An import touches few distinct (event, hour) pairs: build each key
	// string once per batch call.
	type slot struct {
		event      string
		y, m, d, h int
	}
	keys := map[slot]*[4]string{}
	buf := make([]byte, 0, 64)

	// Pipelines are sent while the next one is being built. Unmarks keep
	// one in flight, so a mark and an unmark of the same bit stay in order.
	inflight := markEventsInFlight
	for i := range marks {
		if marks[i].Unmark {
			inflight = 1
			break
		}
	}
	var (
		wg       sync.WaitGroup
		sem      = make(chan struct{}, inflight)
		mu       sync.Mutex
		firstErr error
	)
	failed := func() bool { mu.Lock(); defer mu.Unlock(); return firstErr != nil }
	for start := 0; start < len(marks) && !failed(); start += MarkEventsBatchSize {
		end := min(start+MarkEventsBatchSize, len(marks))
		pipe := c.pipeline()
		for _, mk := range marks[start:end] {
			at := mk.Time
			if at.IsZero() {
				at = now
			}
			at = at.In(c.loc)
			y, m, d := at.Date()
			sl := slot{mk.Event, y, int(m), d, at.Hour()}
			ks := keys[sl]
			if ks == nil {
				ks = new([4]string)
				for i, g := range [...]TimeGroup{Months, Weeks, Days, Hours} {
					buf = c.appendKey(buf[:0], mk.Event, g, at)
					ks[i] = string(buf)
				}
				keys[sl] = ks
			}
			bit := 1
			if mk.Unmark {
				bit = 0
			}
			id := int64(mk.UserID)
			if keep != nil { // WithRetention: TTLs and expired periods
				keep.setBits(ctx, pipe, ks, at, id, bit, base.hourly)
			} else {
				pipe.SetBit(ctx, ks[0], id, bit)
				pipe.SetBit(ctx, ks[1], id, bit)
				pipe.SetBit(ctx, ks[2], id, bit)
				if base.hourly {
					pipe.SetBit(ctx, ks[3], id, bit)
				}
			}
			if base.unique {
				pipe.SetBit(ctx, c.UniqueKey(mk.Event), id, bit)
			}
		}
		send := func(start, end int) {
			if _, err := pipe.Exec(ctx); err != nil {
				keep.failed()
				mu.Lock()
				if firstErr == nil {
					firstErr = fmt.Errorf("bitmapist: mark events %d..%d of %d (%q) failed: %w",
						start, end-1, len(marks), marks[start].Event, err)
				}
				mu.Unlock()
			}
		}
		if start == 0 && end == len(marks) {
			send(start, end) // one pipeline: no goroutine to hand it to
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func(start, end int) {
			defer func() { <-sem; wg.Done() }()
			send(start, end)
		}(start, end)
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return nil
}
