package bitmapist

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Group names of GroupStats besides the time groups' ("hours", "days",
// "weeks", "months").
const (
	StatsUnique = "unique" // <prefix><event>_u
	StatsOther  = "other"  // under the prefix but no event bitmap (bitop_ temporaries, foreign keys)
)

// StatsOptions tunes Client.Stats.
type StatsOptions struct {
	// Prefix keeps only events whose name starts with it ("" for all).
	Prefix string
	// Sample is how many keys per event and group get a MEMORY USAGE on
	// Redis (0: every key); the others are estimated at the measured mean.
	// bitmapist-server always reads every key.
	Sample int
	// Largest is how many of the largest keys to report (default 10).
	Largest int
	// Progress, when set, is called now and then with the keys done and
	// the keys found (from one goroutine).
	Progress func(done, total int)
}

// GroupStats is the keys of one event in one time group.
type GroupStats struct {
	Event string `json:"event"`
	Group string `json:"group"` // hours, days, weeks, months, unique or other
	Keys  int    `json:"keys"`
	// Bytes is the memory of the keys: Redis MEMORY USAGE (estimated from
	// the sample when Measured < Keys); on bitmapist-server the size of
	// the roaring bitmaps as it stores them (see KeyStats.Bytes).
	Bytes    int64 `json:"bytes"`
	Measured int   `json:"measured"` // keys actually measured
}

// KeyStats is one key's size.
type KeyStats struct {
	Key string `json:"key"`
	// Length is the string's length in bytes (Redis STRLEN; on
	// bitmapist-server its GET, which ends at the highest set bit).
	Length int64 `json:"length"`
	// Bytes is Redis MEMORY USAGE, or on bitmapist-server an estimate of
	// the roaring bitmap's serialized size (per 65,536 ids: 2 bytes per
	// id up to 4,096 ids, else 8 KiB; plus 8 bytes of header), -1 when
	// the key was not measured.
	Bytes int64 `json:"bytes"`
}

// EventStats sums one event's keys.
type EventStats struct {
	Event string `json:"event"`
	Keys  int    `json:"keys"`
	Bytes int64  `json:"bytes"`
	// MaxID is the highest user id set in any of the event's bitmaps (-1
	// when none is): what sizes every one of its bitmaps (MaxID/8 bytes).
	MaxID int64 `json:"max_id"`
}

// Stats is what Client.Stats found under the client's prefix.
type Stats struct {
	Backend string `json:"backend"`
	// Prefix is the key prefix searched: the client's prefix followed by
	// StatsOptions.Prefix, the start of every key counted
	// ("trackist_song:").
	Prefix string `json:"prefix"`
	// EventPrefix is StatsOptions.Prefix, the start of every event name
	// counted ("" for all events).
	EventPrefix string `json:"event_prefix"`

	Keys    int          `json:"keys"`
	Bytes   int64        `json:"bytes"`
	Events  []EventStats `json:"events"`  // by name
	Groups  []GroupStats `json:"groups"`  // by event, then hours, days, weeks, months, unique, other
	Largest []KeyStats   `json:"largest"` // largest first (by Bytes, then Length)
}

// statKey is one key found by Stats, with what was learnt about it.
type statKey struct {
	KeyStats
	event, group string
	maxID        int64 // -1 unknown or none
}

// Stats lists every key under the client's prefix (SCAN) and reports,
// per event and time group, the number of keys and their memory, the
// largest keys and the highest user id of each event. On Redis it reads
// STRLEN of every key and MEMORY USAGE of a sample (StatsOptions.Sample),
// and finds each event's highest id by reading the tail of its longest
// keys (GETRANGE windows of 4 KiB). On bitmapist-server, which has none of
// these, it GETs every key, 16 at a time. Read-only; Redis errors are
// returned wrapped.
func (c *Client) Stats(ctx context.Context, opts StatsOptions) (*Stats, error) {
	c = c.orNone()
	if opts.Largest <= 0 {
		opts.Largest = 10
	}
	server, err := c.onServer(ctx)
	if err != nil {
		return nil, err
	}
	keys, err := c.statKeys(ctx, opts.Prefix)
	if err != nil {
		return nil, fmt.Errorf("bitmapist: stats: %w", err)
	}
	progress := func(done int) {
		if opts.Progress != nil {
			opts.Progress(done, len(keys))
		}
	}
	progress(0)
	if server {
		err = c.measureServer(ctx, keys, progress)
	} else {
		err = c.measureRedis(ctx, keys, opts.Sample, opts.Largest, progress)
	}
	if err != nil {
		return nil, fmt.Errorf("bitmapist: stats: %w", err)
	}
	st := summarize(keys, opts.Largest)
	st.Prefix, st.EventPrefix = c.prefix+opts.Prefix, opts.Prefix
	st.Backend = BackendRedis.String()
	if server {
		st.Backend = BackendBitmapistServer.String()
	}
	return st, nil
}

// statKeys scans the keys under the prefix and classifies them.
func (c *Client) statKeys(ctx context.Context, prefix string) ([]*statKey, error) {
	var mu sync.Mutex
	var out []*statKey
	err := c.scan(ctx, escapeGlob(c.prefix+prefix)+"*", true, func(_ context.Context, _ redis.Cmdable, keys []string) error {
		mu.Lock()
		defer mu.Unlock()
		for _, k := range keys {
			sk := &statKey{KeyStats: KeyStats{Key: k, Bytes: -1}, group: StatsOther, maxID: -1}
			if ev, suffix, ok := splitKey(k[len(c.prefix):]); ok {
				if !strings.HasPrefix(ev, prefix) {
					continue
				}
				sk.event, sk.group = ev, StatsUnique
				if g, _, ok := parseSuffix(suffix, c.loc); ok {
					sk.group = g.String()
				}
			}
			out = append(out, sk)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *statKey) int { return strings.Compare(a.Key, b.Key) })
	return out, err
}

// statsBatch is how many keys one Stats pipeline reads on Redis.
const statsBatch = 500

// measureRedis reads STRLEN of every key and MEMORY USAGE of a sample and
// of the largest keys, then the highest id of each event.
func (c *Client) measureRedis(ctx context.Context, keys []*statKey, sample, largest int, progress func(int)) error {
	taken := map[[2]string]int{}
	for start := 0; start < len(keys); start += statsBatch {
		batch := keys[start:min(start+statsBatch, len(keys))]
		p := c.rdb.Pipeline()
		lens := make([]*redis.IntCmd, len(batch))
		mems := make([]*redis.IntCmd, len(batch))
		for i, k := range batch {
			lens[i] = p.StrLen(ctx, k.Key)
			id := [2]string{k.event, k.group}
			if sample <= 0 || taken[id] < sample {
				taken[id]++
				mems[i] = p.MemoryUsage(ctx, k.Key)
			}
		}
		if cmds, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			if err := notWrongType(cmds); err != nil {
				return err
			}
		}
		for i, k := range batch {
			k.Length = lens[i].Val() // 0 for a key gone since the SCAN, or not a string
			if mems[i] != nil && mems[i].Err() == nil {
				k.Bytes = mems[i].Val()
			}
		}
		progress(start + len(batch))
	}
	if err := c.measureLongest(ctx, keys, largest); err != nil {
		return err
	}
	return c.maxIDsRedis(ctx, keys)
}

// notWrongType returns the first error of cmds other than redis.Nil and
// Redis's WRONGTYPE (a key under the prefix that is not a string, such as
// a hash another program keeps there: it is counted with length 0), nil
// when there is none.
func notWrongType(cmds []redis.Cmder) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil && !errors.Is(err, redis.Nil) && !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			return err
		}
	}
	return nil
}

// measureLongest gives the n longest keys a MEMORY USAGE if the sample
// left them out, so that the largest keys reported are measured.
func (c *Client) measureLongest(ctx context.Context, keys []*statKey, n int) error {
	ranked := slices.Clone(keys)
	slices.SortStableFunc(ranked, func(a, b *statKey) int { return cmp.Compare(b.Length, a.Length) })
	p := c.rdb.Pipeline()
	mems := map[*statKey]*redis.IntCmd{}
	for _, k := range ranked[:min(n, len(ranked))] {
		if k.Bytes < 0 {
			mems[k] = p.MemoryUsage(ctx, k.Key)
		}
	}
	if len(mems) == 0 {
		return nil
	}
	if cmds, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		if err := notWrongType(cmds); err != nil {
			return err
		}
	}
	for k, cmd := range mems {
		if cmd.Err() == nil {
			k.Bytes = cmd.Val()
		}
	}
	return nil
}

// tailWindow is how many bytes maxIDsRedis reads per GETRANGE.
const tailWindow = 4096

// maxIDsRedis finds each event's highest set bit: its keys longest first,
// reading each one's tail backwards until a set bit is found, and
// stopping once no shorter key can hold a higher id.
func (c *Client) maxIDsRedis(ctx context.Context, keys []*statKey) error {
	byEvent := map[string][]*statKey{}
	for _, k := range keys {
		if k.event != "" && k.Length > 0 {
			byEvent[k.event] = append(byEvent[k.event], k)
		}
	}
	for _, ks := range byEvent {
		slices.SortFunc(ks, func(a, b *statKey) int { return cmp.Compare(b.Length, a.Length) })
		best := int64(-1)
		for _, k := range ks {
			if k.Length*8-1 <= best {
				break
			}
			id, err := c.highestBit(ctx, k.Key, k.Length)
			if err != nil {
				return err
			}
			k.maxID = id
			best = max(best, id)
		}
	}
	return nil
}

// highestBit returns the highest set bit of key (length n bytes), -1 if
// none, reading tailWindow bytes at a time from the end.
func (c *Client) highestBit(ctx context.Context, key string, n int64) (int64, error) {
	for end := n; end > 0; end -= tailWindow {
		from := max(end-tailWindow, 0)
		b, err := c.rdb.GetRange(ctx, key, from, end-1).Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return -1, err
		}
		if id := lastBit(b); id >= 0 {
			return from*8 + id, nil
		}
	}
	return -1, nil
}

// lastBit returns the position of b's last set bit (MSB-first, as Redis
// numbers them), or -1.
func lastBit(b []byte) int64 {
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] != 0 {
			return int64(i)*8 + 7 - int64(bits.TrailingZeros8(b[i]))
		}
	}
	return -1
}

// serverBatch is how many keys one Stats pipeline GETs on bitmapist-server
// (whole bitmaps: kept small to bound memory).
const serverBatch = 16

// measureServer GETs every key and estimates its roaring size.
func (c *Client) measureServer(ctx context.Context, keys []*statKey, progress func(int)) error {
	for start := 0; start < len(keys); start += serverBatch {
		batch := keys[start:min(start+serverBatch, len(keys))]
		p := c.rdb.Pipeline()
		gets := make([]*redis.StringCmd, len(batch))
		for i, k := range batch {
			gets[i] = p.Get(ctx, k.Key)
		}
		if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		for i, k := range batch {
			b, _ := gets[i].Bytes()
			k.Length = int64(len(b))
			k.Bytes = roaringSize(b)
			k.maxID = lastBit(b)
		}
		progress(start + len(batch))
	}
	return nil
}

// roaringSize estimates the serialized size of the roaring bitmap holding
// b's bits, as bitmapist-server stores it: 8 bytes of header, and per
// container of 65,536 ids 8 bytes plus 2 per id (array) or 8 KiB
// (bitmap), whichever is smaller.
func roaringSize(b []byte) int64 {
	const chunk = 1 << 16 / 8
	size := int64(8)
	for from := 0; from < len(b); from += chunk {
		n := Bitmap(b[from:min(from+chunk, len(b))]).Count()
		if n > 0 {
			size += 8 + min(2*n, chunk)
		}
	}
	return size
}

// summarize builds the Stats of measured keys.
func summarize(keys []*statKey, largest int) *Stats {
	st := &Stats{Keys: len(keys), Events: []EventStats{}, Groups: []GroupStats{}, Largest: []KeyStats{}}
	groups := map[[2]string]*GroupStats{}
	sums := map[[2]string][2]int64{} // measured bytes, measured keys
	for _, k := range keys {
		id := [2]string{k.event, k.group}
		g := groups[id]
		if g == nil {
			g = &GroupStats{Event: k.event, Group: k.group}
			groups[id] = g
		}
		g.Keys++
		if k.Bytes >= 0 {
			s := sums[id]
			sums[id] = [2]int64{s[0] + k.Bytes, s[1] + 1}
		}
	}
	order := map[string]int{"hours": 0, "days": 1, "weeks": 2, "months": 3, StatsUnique: 4, StatsOther: 5}
	events := map[string]*EventStats{}
	for id, g := range groups {
		s := sums[id]
		g.Measured = int(s[1])
		if s[1] > 0 {
			g.Bytes = s[0] + (s[0]/s[1])*int64(g.Keys-g.Measured)
		}
		st.Bytes += g.Bytes
		st.Groups = append(st.Groups, *g)
		if g.Event == "" {
			continue
		}
		e := events[g.Event]
		if e == nil {
			e = &EventStats{Event: g.Event, MaxID: -1}
			events[g.Event] = e
		}
		e.Keys += g.Keys
		e.Bytes += g.Bytes
	}
	slices.SortFunc(st.Groups, func(a, b GroupStats) int {
		return cmp.Or(cmp.Compare(a.Event, b.Event), cmp.Compare(order[a.Group], order[b.Group]))
	})
	for _, k := range keys {
		if e := events[k.event]; e != nil {
			e.MaxID = max(e.MaxID, k.maxID)
		}
	}
	for _, e := range events {
		st.Events = append(st.Events, *e)
	}
	slices.SortFunc(st.Events, func(a, b EventStats) int { return cmp.Compare(a.Event, b.Event) })
	ranked := slices.Clone(keys)
	slices.SortStableFunc(ranked, func(a, b *statKey) int {
		return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(b.Length, a.Length))
	})
	for _, k := range ranked[:min(largest, len(ranked))] {
		st.Largest = append(st.Largest, k.KeyStats)
	}
	return st
}
