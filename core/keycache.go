package bitmapist

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// keyCache builds each key of a MarkEvents batch once: an import touches
// few distinct (event, hour) pairs.
type keyCache struct {
	c    *Client
	cfg  markConfig
	now  time.Time
	keys map[keySlot]*[4]string
	buf  []byte
	keep *retainer // WithRetention's TTLs; nil without
}

// keySlot is the (event, hour) that fixes a mark's keys.
type keySlot struct {
	event      string
	y, m, d, h int
}

func newKeyCache(c *Client, cfg markConfig, now time.Time) *keyCache {
	return &keyCache{c: c, cfg: cfg, now: now, keys: map[keySlot]*[4]string{}, buf: make([]byte, 0, 64)}
}

// keysOf returns the month, week, day and hour keys of mk.
func (k *keyCache) keysOf(mk *Mark) *[4]string {
	at := mk.Time
	if at.IsZero() {
		at = k.now
	}
	at = at.In(k.c.loc)
	y, m, d := at.Date()
	sl := keySlot{mk.Event, y, int(m), d, at.Hour()}
	ks := k.keys[sl]
	if ks == nil {
		ks = new([4]string)
		for i, g := range [...]TimeGroup{Months, Weeks, Days, Hours} {
			k.buf = k.c.appendKey(k.buf[:0], mk.Event, g, at)
			ks[i] = string(k.buf)
		}
		k.keys[sl] = ks
	}
	return ks
}

// queue adds the SETBITs of marks to pipe.
func (k *keyCache) queue(ctx context.Context, pipe redis.Pipeliner, marks []Mark) {
	for i := range marks {
		mk := &marks[i]
		ks := k.keysOf(mk)
		bit := 1
		if mk.Unmark {
			bit = 0
		}
		id := int64(mk.UserID)
		if k.keep != nil { // WithRetention: TTLs, expired periods left out
			at := mk.Time
			if at.IsZero() {
				at = k.now
			}
			k.keep.setBits(ctx, pipe, ks, at.In(k.c.loc), id, bit, k.cfg.hourly)
		} else {
			pipe.SetBit(ctx, ks[0], id, bit)
			pipe.SetBit(ctx, ks[1], id, bit)
			pipe.SetBit(ctx, ks[2], id, bit)
			if k.cfg.hourly {
				pipe.SetBit(ctx, ks[3], id, bit)
			}
		}
		if k.cfg.unique {
			pipe.SetBit(ctx, k.c.UniqueKey(mk.Event), id, bit)
		}
	}
}
