package bitmapist

import (
	"context"
	"fmt"
	"time"
)

// Period is the set of users who did one event in one hour, day, ISO week,
// month or year: the Go form of Python bitmapist's HourEvents, DayEvents,
// WeekEvents, MonthEvents and YearEvents. A year reads the OR of its twelve
// month bitmaps (bitmapist keeps no year key). A Period is immutable;
// Next, Prev and Delta return new ones.
type Period struct {
	c     *Client
	event string
	group TimeGroup
	start time.Time // in c.loc
	e     *expr
}

func (c *Client) period(event string, g TimeGroup, t time.Time) *Period {
	p := &Period{c: c, event: event, group: g, start: g.Start(t.In(c.loc))}
	switch {
	case !g.Valid():
		p.e = &expr{op: opEmpty, err: fmt.Errorf("%w: %d", ErrInvalidTimeGroup, int(g))}
	case g == Years:
		args := make([]*expr, 12)
		for m := range args {
			args[m] = &expr{op: opKey, key: c.Key(event, Months, Months.Add(p.start, m))}
		}
		p.e = &expr{op: opOr, args: args}
	default:
		p.e = &expr{op: opKey, key: c.Key(event, g, p.start)}
	}
	return p
}

// Hour returns event's set for the hour containing t (in the client's
// location). It has data only where hourly tracking was on when marking.
func (c *Client) Hour(event string, t time.Time) *Period {
	return c.Events(event, Hours, t)
}

// Day returns event's set for the day containing t.
func (c *Client) Day(event string, t time.Time) *Period {
	return c.Events(event, Days, t)
}

// Week returns event's set for the ISO week (Monday to Sunday) containing t.
func (c *Client) Week(event string, t time.Time) *Period {
	return c.Events(event, Weeks, t)
}

// Month returns event's set for the calendar month containing t.
func (c *Client) Month(event string, t time.Time) *Period {
	return c.Events(event, Months, t)
}

// Year returns event's set for the calendar year containing t: the OR of
// its twelve month bitmaps.
func (c *Client) Year(event string, t time.Time) *Period {
	return c.Events(event, Years, t)
}

// Events returns event's set for the period of group g containing t: the
// equivalent of flask-bitmapist's get_event_data(event, time_group, now).
// An invalid g gives a Period whose methods return ErrInvalidTimeGroup.
func (c *Client) Events(event string, g TimeGroup, t time.Time) *Period {
	c = c.orNone()
	return c.period(event, g, t)
}

// Event returns the period's event name.
func (p *Period) Event() string { return p.event }

// Group returns the period's time group.
func (p *Period) Group() TimeGroup { return p.group }

// Start returns the first instant of the period, in the client's location.
func (p *Period) Start() time.Time { return p.start }

// End returns the first instant after the period (the next period's Start):
// periods are half-open intervals [Start, End).
func (p *Period) End() time.Time { return p.group.Add(p.start, 1) }

// Contains reports whether t falls in [Start, End).
func (p *Period) Contains(t time.Time) bool { return !t.Before(p.start) && t.Before(p.End()) }

// Key returns the Redis key of the period's bitmap, or "" for a year, which
// has none (see Keys).
func (p *Period) Key() string {
	if p.e.op == opKey {
		return p.e.key
	}
	return ""
}

// Label returns a short label of the period ("2024-12-30", "2025-W01",
// "2024-12"); see TimeGroup.Label.
func (p *Period) Label() string { return p.group.Label(p.start) }

// String returns "<event> <label>".
func (p *Period) String() string { return p.event + " " + p.Label() }

// Delta returns the period n periods after this one (before it when n is
// negative). Months and years move on the calendar, so Delta(1) of January
// is February even when counted from the 31st.
func (p *Period) Delta(n int) *Period {
	if !p.group.Valid() {
		return p
	}
	return p.c.period(p.event, p.group, p.group.Add(p.start, n))
}

// Next returns the following period: Delta(1).
func (p *Period) Next() *Period { return p.Delta(1) }

// Prev returns the previous period: Delta(-1).
func (p *Period) Prev() *Period { return p.Delta(-1) }

// Keys implements Set: one key, or twelve month keys for a year.
func (p *Period) Keys() []string { return p.e.keys(map[string]bool{}, nil) }

// Count implements Set.
func (p *Period) Count(ctx context.Context) (int64, error) { return p.c.count(ctx, p.e) }

// Has implements Set.
func (p *Period) Has(ctx context.Context, id uint64) (bool, error) { return p.c.has(ctx, p.e, id) }

// IDs implements Set.
func (p *Period) IDs(ctx context.Context) ([]uint64, error) { return p.c.ids(ctx, p.e) }

// HasEvents implements Set.
func (p *Period) HasEvents(ctx context.Context) (bool, error) { return p.c.hasEvents(ctx, p.e) }

func (p *Period) expr() *expr     { return p.e }
func (p *Period) client() *Client { return p.c }

// KeySet is the set held in one Redis key: the unique bitmap of an event
// (Python bitmapist's UniqueEvents), or any bitmap key named directly.
type KeySet struct {
	c *Client
	e *expr
}

// Unique returns event's period-less unique set, <prefix><event>_u, written
// when unique tracking is on (Python bitmapist's UniqueEvents).
func (c *Client) Unique(event string) *KeySet {
	c = c.orNone()
	return &KeySet{c: c, e: &expr{op: opKey, key: c.UniqueKey(event)}}
}

// KeySet returns the set held in the bitmap at key, read as it is (no
// prefix added).
func (c *Client) KeySet(key string) *KeySet {
	return &KeySet{c: c.orNone(), e: &expr{op: opKey, key: key}}
}

// Key returns the key.
func (k *KeySet) Key() string { return k.e.key }

// Keys implements Set.
func (k *KeySet) Keys() []string { return []string{k.e.key} }

// Count implements Set.
func (k *KeySet) Count(ctx context.Context) (int64, error) { return k.c.count(ctx, k.e) }

// Has implements Set.
func (k *KeySet) Has(ctx context.Context, id uint64) (bool, error) { return k.c.has(ctx, k.e, id) }

// IDs implements Set.
func (k *KeySet) IDs(ctx context.Context) ([]uint64, error) { return k.c.ids(ctx, k.e) }

// HasEvents implements Set.
func (k *KeySet) HasEvents(ctx context.Context) (bool, error) { return k.c.hasEvents(ctx, k.e) }

// Exists reports whether the key is in Redis (EXISTS), whatever its bits:
// a bitmap whose bits are all 0 (every user unmarked, or only zero bytes
// written) is an existing empty set, a key never written is missing.
// Errors: ErrNoRedis, or the Redis error wrapped.
func (k *KeySet) Exists(ctx context.Context) (bool, error) {
	if err := k.c.ready(); err != nil {
		return false, err
	}
	n, err := k.c.rdb.Exists(ctx, k.e.key).Result()
	if err != nil {
		return false, k.c.wrapRead("exists", err)
	}
	return n > 0, nil
}

func (k *KeySet) expr() *expr     { return k.e }
func (k *KeySet) client() *Client { return k.c }
