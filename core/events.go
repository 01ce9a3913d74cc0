package bitmapist

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint of each SCAN call.
const scanCount = 1000

// scan calls fn with every key matching pattern, using SCAN (never KEYS) on
// every master of a cluster. fn may be called from several goroutines on a
// cluster; it must be safe for that. With slashes, a bitmapist-server is also
// asked for the keys where the pattern's * stands for text holding '/' (scanServer).
func (c *Client) scan(ctx context.Context, pattern string, slashes bool, fn func(ctx context.Context, rdb redis.Cmdable, keys []string) error) error {
	if err := c.ready(); err != nil {
		return err
	}
	server, err := c.onServer(ctx)
	if err != nil {
		return err
	}
	if server {
		return c.scanServer(ctx, pattern, slashes, fn)
	}
	one := func(ctx context.Context, rdb redis.Cmdable) error {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, pattern, scanCount).Result()
			if err != nil {
				return err
			}
			if len(keys) > 0 {
				if err := fn(ctx, rdb, keys); err != nil {
					return err
				}
			}
			if next == 0 {
				return nil
			}
			cursor = next
		}
	}
	if cc, ok := c.rdb.(*redis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return one(ctx, node) })
	}
	return one(ctx, c.rdb)
}

// serverSlashDepth is how many '/' after the key prefix a listing on
// bitmapist-server reaches.
const serverSlashDepth = 8

// scanServer is scan on bitmapist-server: its SCAN returns every match at
// once, and matches with Go's filepath.Match, whose '*' stops at '/'. So
// the pattern is tried again with "/*" appended, up to serverSlashDepth
// times, and names that Python wrote with '/' (which this package refuses
// to mark) are listed too; fn sees each key once. Without slashes (one
// event's periods, the bitop_ temporaries: what '*' stands for there never
// holds a '/') the pattern is sent once.
func (c *Client) scanServer(ctx context.Context, pattern string, slashes bool, fn func(ctx context.Context, rdb redis.Cmdable, keys []string) error) error {
	seen := map[string]bool{}
	tries := 1
	if slashes {
		tries = serverSlashDepth + 1
	}
	for range tries {
		keys, _, err := c.rdb.Scan(ctx, 0, pattern, scanCount).Result()
		if err != nil {
			return err
		}
		fresh := keys[:0]
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				fresh = append(fresh, k)
			}
		}
		if len(fresh) > 0 {
			if err := fn(ctx, c.rdb, fresh); err != nil {
				return err
			}
		}
		pattern += "/*"
	}
	return nil
}

// escapeGlob escapes the glob characters of s for a SCAN MATCH pattern.
func escapeGlob(s string) string {
	if !strings.ContainsAny(s, `*?[]\`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// EventNames returns the names of the events that have data, sorted, each
// once, optionally only those starting with prefix ("" for all). Like
// Python bitmapist's get_event_names it scans <prefix>* keys (SCAN on every
// master, never KEYS) and takes the part between the key prefix and the
// last "_"; temporary operation keys (bitop_...) and keys that are not
// bitmapist bitmaps are left out. Redis errors are returned wrapped.
func (c *Client) EventNames(ctx context.Context, prefix string) ([]string, error) {
	c = c.orNone()
	var mu sync.Mutex
	set := map[string]struct{}{}
	err := c.scan(ctx, escapeGlob(c.prefix+prefix)+"*", true, func(_ context.Context, _ redis.Cmdable, keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			if ev, _, ok := splitKey(k[len(c.prefix):]); ok && strings.HasPrefix(ev, prefix) {
				set[ev] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bitmapist: list events: %w", err)
	}
	names := make([]string, 0, len(set))
	for n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// Periods returns event's periods of group g that have a stored bitmap,
// oldest first (for Years: the years with at least one month bitmap). It
// scans like EventNames. Cohort tables use it to find a user's first event.
func (c *Client) Periods(ctx context.Context, event string, g TimeGroup) ([]*Period, error) {
	c = c.orNone()
	if !g.Valid() {
		return nil, fmt.Errorf("%w: %d", ErrInvalidTimeGroup, int(g))
	}
	var mu sync.Mutex
	starts := map[time.Time]struct{}{}
	err := c.scan(ctx, escapeGlob(c.prefix+event)+"_*", false, func(_ context.Context, _ redis.Cmdable, keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			ev, suffix, ok := splitKey(k[len(c.prefix):])
			if !ok || ev != event {
				continue
			}
			if t, kg, ok := c.parseSuffix(suffix); ok && (kg == g || (g == Years && kg == Months)) {
				starts[g.Start(t)] = struct{}{}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bitmapist: list periods of %q: %w", event, err)
	}
	ts := make([]time.Time, 0, len(starts))
	for t := range starts {
		ts = append(ts, t)
	}
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	out := make([]*Period, len(ts))
	for i, t := range ts {
		out[i] = c.period(event, g, t)
	}
	return out, nil
}

// parseSuffix turns a key's period suffix into the start of its period in
// the client's location and its time group.
func (c *Client) parseSuffix(s string) (time.Time, TimeGroup, bool) {
	if s == "u" {
		return time.Time{}, 0, false
	}
	week := strings.HasPrefix(s, "W")
	if week {
		s = s[1:]
	}
	parts := strings.Split(s, "-")
	n := make([]int, len(parts))
	for i, p := range parts {
		v, err := strconv.Atoi(p)
		if err != nil {
			return time.Time{}, 0, false
		}
		n[i] = v
	}
	switch {
	case week && len(n) == 2:
		// ISO week 1 is the week with January 4th in it.
		jan4 := wallDate(c.loc, n[0], 1, 4)
		return Weeks.Add(jan4, n[1]-1), Weeks, true
	case week:
		return time.Time{}, 0, false
	case len(n) == 2:
		return wallDate(c.loc, n[0], time.Month(n[1]), 1), Months, true
	case len(n) == 3:
		return wallDate(c.loc, n[0], time.Month(n[1]), n[2]), Days, true
	case len(n) == 4:
		// The first instant of the wall-clock hour (of a repeated hour:
		// its first occurrence), so that Start finds the key's own period.
		return firstAt(c.loc, time.Date(n[0], time.Month(n[1]), n[2], n[3], 0, 0, 0, time.UTC).Unix()), Hours, true
	}
	return time.Time{}, 0, false
}

// DeleteEvent deletes every bitmap of event (all periods and its unique
// bitmap), found with SCAN on every master, and returns how many keys it
// deleted. Keys of other events whose names merely start with event are
// kept. Like Python bitmapist's delete_all_events for one event name.
func (c *Client) DeleteEvent(ctx context.Context, event string) (int64, error) {
	c = c.orNone()
	n, err := c.deleteMatching(ctx, escapeGlob(c.prefix+event)+"_*", false, func(k string) bool {
		ev, _, ok := splitKey(k[len(c.prefix):])
		return ok && ev == event
	})
	if err != nil {
		return n, fmt.Errorf("bitmapist: delete %q: %w", event, err)
	}
	return n, nil
}

// DeleteAll deletes every key under the client's prefix, events and
// temporary operation keys alike (Python bitmapist's delete_all_events),
// and returns how many it deleted. It uses SCAN on every master, never
// KEYS or FLUSHDB, so other data in the same Redis is untouched.
func (c *Client) DeleteAll(ctx context.Context) (int64, error) {
	c = c.orNone()
	n, err := c.deleteMatching(ctx, escapeGlob(c.prefix)+"*", true, func(string) bool { return true })
	if err != nil {
		return n, fmt.Errorf("bitmapist: delete all: %w", err)
	}
	return n, nil
}

// DeleteTemporaryBitmaps deletes leftover temporary operation keys
// (<prefix>bitop_*), such as the ones Python bitmapist never expires, and
// returns how many it deleted.
func (c *Client) DeleteTemporaryBitmaps(ctx context.Context) (int64, error) {
	c = c.orNone()
	n, err := c.deleteMatching(ctx, escapeGlob(c.prefix)+"bitop_*", false, func(string) bool { return true })
	if err != nil {
		return n, fmt.Errorf("bitmapist: delete temporary bitmaps: %w", err)
	}
	return n, nil
}

func (c *Client) deleteMatching(ctx context.Context, pattern string, slashes bool, keep func(string) bool) (int64, error) {
	var mu sync.Mutex
	var total int64
	server, err := c.onServer(ctx)
	if err != nil {
		return 0, err
	}
	err = c.scan(ctx, pattern, slashes, func(ctx context.Context, rdb redis.Cmdable, keys []string) error {
		p := rdb.Pipeline()
		var cmds []*redis.IntCmd
		for _, k := range keys {
			switch {
			case !keep(k):
			case server: // bitmapist-server has no UNLINK; its DEL is cheap
				cmds = append(cmds, p.Del(ctx, k))
			default:
				cmds = append(cmds, p.Unlink(ctx, k))
			}
		}
		if len(cmds) == 0 {
			return nil
		}
		if _, err := p.Exec(ctx); err != nil {
			return err
		}
		mu.Lock()
		for _, cmd := range cmds {
			total += cmd.Val()
		}
		mu.Unlock()
		return nil
	})
	return total, err
}
