package bitmapist

import (
	"context"
	"fmt"
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
// It returns an error wrapping ErrInvalidEventName, ErrInvalidUserID (also
// for ids above WithMaxUserID) or ErrInvalidTime (nothing written) for bad
// input, ErrNoRedis for a client made without Redis, or the Redis error
// wrapped with the event name. A Redis error that leaves it open whether
// the bits were written (a timeout after the write was sent, a lost
// connection) also wraps ErrUnknownOutcome. A ctx already done when it is
// called returns an error wrapping ctx.Err() (and not ErrUnknownOutcome):
// nothing was sent.
func (c *Client) MarkEvent(ctx context.Context, event string, userID uint64, opts ...MarkOption) error {
	c = c.orNone()
	return c.setEvent(ctx, "mark", event, userID, 1, opts)
}

// UnmarkEvent clears bit userID in the same bitmaps MarkEvent sets, in one
// round trip. Like Redis SETBIT (and Python bitmapist's unmark_event), it
// creates zero-filled keys where none existed. Errors are as for MarkEvent.
func (c *Client) UnmarkEvent(ctx context.Context, event string, userID uint64, opts ...MarkOption) error {
	c = c.orNone()
	return c.setEvent(ctx, "unmark", event, userID, 0, opts)
}

// MarkUnique sets bit userID in event's unique bitmap only (Python
// bitmapist's mark_unique). Errors are as for MarkEvent.
func (c *Client) MarkUnique(ctx context.Context, event string, userID uint64) error {
	c = c.orNone()
	return c.setUnique(ctx, "mark unique", event, userID, 1)
}

// UnmarkUnique clears bit userID in event's unique bitmap only (Python
// bitmapist's unmark_unique). Errors are as for MarkEvent.
func (c *Client) UnmarkUnique(ctx context.Context, event string, userID uint64) error {
	c = c.orNone()
	return c.setUnique(ctx, "unmark unique", event, userID, 0)
}

// MarkLogin marks EventLoggedIn for userID, as flask-bitmapist does on
// Flask-Login's user_logged_in signal. Call it from your login handler.
func (c *Client) MarkLogin(ctx context.Context, userID uint64, opts ...MarkOption) error {
	c = c.orNone()
	return c.MarkEvent(ctx, EventLoggedIn, userID, opts...)
}

// MarkLogout marks EventLoggedOut for userID, as flask-bitmapist does on
// Flask-Login's user_logged_out signal.
func (c *Client) MarkLogout(ctx context.Context, userID uint64, opts ...MarkOption) error {
	c = c.orNone()
	return c.MarkEvent(ctx, EventLoggedOut, userID, opts...)
}

func (c *Client) setUnique(ctx context.Context, verb, event string, userID uint64, bit int) error {
	if err := ValidateEventName(event); err != nil {
		return err
	}
	if err := c.checkMarkID(userID); err != nil {
		return err
	}
	if err := c.ready(); err != nil {
		return err
	}
	if err := ctxDone(ctx); err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	if err := c.rdb.SetBit(ctx, c.UniqueKey(event), int64(userID), bit).Err(); err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, outcomeErr(err, true))
	}
	return nil
}

func (c *Client) setEvent(ctx context.Context, verb, event string, userID uint64, bit int, opts []MarkOption) error {
	if err := ValidateEventName(event); err != nil {
		return err
	}
	if err := c.checkMarkID(userID); err != nil {
		return err
	}
	m := c.markConfig(opts)
	if err := checkTime(m.at); err != nil {
		return err
	}
	if err := c.ready(); err != nil {
		return err
	}
	if err := ctxDone(ctx); err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	keep, err := c.retainer(ctx)
	if err != nil {
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, err)
	}
	pipe := c.pipeline()
	c.queueMark(ctx, pipe, make([]byte, 0, 64), event, int64(userID), bit, m, keep)
	if _, err := pipe.Exec(ctx); err != nil {
		keep.failed()
		return fmt.Errorf("bitmapist: %s %q: %w", verb, event, outcomeErr(err, !c.cluster))
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
