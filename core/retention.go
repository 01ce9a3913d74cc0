package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Retention says how long the bitmaps of each time group are kept after
// their period has ended; zero keeps them forever. Unique bitmaps
// (<prefix><event>_u) are always kept. Example: hours two days, days 400
// days, weeks and months forever:
//
//	bitmapist.Retention{Hours: 48 * time.Hour, Days: 400 * 24 * time.Hour}
type Retention struct {
	Hours, Days, Weeks, Months time.Duration
}

// Keep returns how long bitmaps of group g are kept after their period
// (0: forever, also for Years and invalid groups, which have no keys).
func (r Retention) Keep(g TimeGroup) time.Duration {
	switch g {
	case Hours:
		return r.Hours
	case Days:
		return r.Days
	case Weeks:
		return r.Weeks
	case Months:
		return r.Months
	}
	return 0
}

// IsZero reports whether r keeps everything forever.
func (r Retention) IsZero() bool { return r == Retention{} }

// Deadline returns when a bitmap of group g whose period starts at start
// (in the client's location) expires: the period's end plus Keep(g). ok is
// false when it is kept forever.
func (r Retention) Deadline(g TimeGroup, start time.Time) (deadline time.Time, ok bool) {
	keep := r.Keep(g)
	if keep <= 0 {
		return time.Time{}, false
	}
	return g.Add(g.Start(start), 1).Add(keep), true
}

// seenLimit bounds the keys a client remembers as having their TTL; past
// it the memory is cleared and the next mark of each key sends one more
// EXPIRE (harmless: NX, or the same deadline).
const seenLimit = 1 << 16

// retention is a Client's Retention plus the keys whose TTL it has sent.
type retention struct {
	Retention
	mu   sync.Mutex
	seen map[string]struct{}
}

// WithRetention makes marks give each bitmap a TTL so that it expires
// r.Keep(group) after its period ends: an hour bitmap of 2024-12-30 05:00
// with Hours 48h expires at 2025-01-01 06:00. The TTL is set when the
// client first writes a key (one EXPIRE ... NX per key and period, queued
// with the mark, not one per mark; NX leaves a TTL set by hand or by
// `bitmapist expire` alone), and `bitmapist expire --apply`
// (Client.ApplyRetention) sets it on existing keys. A mark whose period
// has already passed its deadline is not written for that group. Python
// bitmapist ignores TTLs, so data shared with it stays readable until it
// expires. The cost: sets, counts and cohort cells over expired periods
// read as empty. EXPIRE NX needs Redis 7.0 or later: the client reads
// redis_version (one INFO server at the first mark) and on older Redis
// sends a short script instead (EVAL: TTL, then EXPIRE only when the key
// has none, atomically; Lua exists since Redis 2.6), so the result is the
// same. On bitmapist-server, which has no EXPIRE options and no scripts, a
// plain EXPIRE to the same deadline is sent (it replaces a TTL set by
// hand).
func WithRetention(r Retention) Option {
	return func(c *Client) {
		if r.IsZero() {
			c.keep = nil
			return
		}
		c.keep = &retention{Retention: r, seen: map[string]struct{}{}}
	}
}

// Retention returns the client's Retention (zero without WithRetention).
func (c *Client) Retention() Retention {
	c = c.orNone()
	if c.keep == nil {
		return Retention{}
	}
	return c.keep.Retention
}

// retainer queues the TTLs of one pipeline's marks.
type retainer struct {
	c     *Client
	now   time.Time
	style expireStyle
}

// retainer returns a retainer for a pipeline about to be built, or nil
// when the client has no Retention.
func (c *Client) retainer(ctx context.Context) (*retainer, error) {
	if c.keep == nil {
		return nil, nil
	}
	style, err := c.expireStyle(ctx)
	if err != nil {
		return nil, err
	}
	return &retainer{c: c, now: c.clock(), style: style}, nil
}

// setBit queues SETBIT key id bit, followed by EXPIRE the first time the
// client sees key; nothing when key's period (of group g, containing at)
// is past its deadline. A nil retainer queues the SETBIT alone.
func (r *retainer) setBit(ctx context.Context, pipe redis.Pipeliner, key string, g TimeGroup, at time.Time, id int64, bit int) {
	if r == nil {
		pipe.SetBit(ctx, key, id, bit)
		return
	}
	deadline, ok := r.c.keep.Deadline(g, at)
	if !ok {
		pipe.SetBit(ctx, key, id, bit)
		return
	}
	ttl := deadline.Sub(r.now)
	if ttl <= 0 {
		return
	}
	pipe.SetBit(ctx, key, id, bit)
	k := r.c.keep
	k.mu.Lock()
	_, done := k.seen[key]
	if !done {
		if len(k.seen) >= seenLimit {
			clear(k.seen)
		}
		k.seen[key] = struct{}{}
	}
	k.mu.Unlock()
	if !done {
		queueExpire(ctx, pipe, key, ttl, r.style)
	}
}

// setBits is setBit for the month, week, day and (with hourly) hour keys
// of one MarkEvents entry.
func (r *retainer) setBits(ctx context.Context, pipe redis.Pipeliner, ks *[4]string, at time.Time, id int64, bit int, hourly bool) {
	for i, g := range [...]TimeGroup{Months, Weeks, Days, Hours} {
		if g != Hours || hourly {
			r.setBit(ctx, pipe, ks[i], g, at, id, bit)
		}
	}
}

// failed forgets every key whose TTL was queued, after a pipeline failed:
// their next marks send EXPIRE again.
func (r *retainer) failed() {
	if r == nil {
		return
	}
	r.c.keep.mu.Lock()
	clear(r.c.keep.seen)
	r.c.keep.mu.Unlock()
}

// queueExpire queues the TTL of key (whole seconds, at least 1) in the
// given style: EXPIRE key ttl NX, the expireIfNone script (Redis < 7.0) or
// a plain EXPIRE (bitmapist-server).
func queueExpire(ctx context.Context, pipe redis.Pipeliner, key string, ttl time.Duration, style expireStyle) {
	secs := max(int64((ttl+time.Second-1)/time.Second), 1)
	switch style {
	case expirePlain:
		pipe.Do(ctx, "expire", key, secs)
	case expireScript:
		pipe.Eval(ctx, expireIfNone, []string{key}, secs)
	default:
		pipe.Do(ctx, "expire", key, secs, "nx")
	}
}

// parseSuffix returns the time group and period start (in loc) of a
// bitmapist key's period suffix ("W2025-1", "2024-12", "2024-12-30",
// "2024-12-30-5"); ok is false for "u" and anything else.
func parseSuffix(suffix string, loc *time.Location) (TimeGroup, time.Time, bool) {
	week := strings.HasPrefix(suffix, "W")
	parts := strings.Split(strings.TrimPrefix(suffix, "W"), "-")
	nums := make([]int, len(parts))
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || len(p) > 4 {
			return 0, time.Time{}, false
		}
		nums[i] = n
	}
	if week {
		if len(nums) != 2 || nums[1] < 1 || nums[1] > 53 {
			return 0, time.Time{}, false
		}
		// ISO week 1 is the week with January 4th in it.
		return Weeks, Weeks.Add(wallDate(loc, nums[0], 1, 4), nums[1]-1), true
	}
	if len(nums) < 2 || len(nums) > 4 || nums[1] < 1 || nums[1] > 12 {
		return 0, time.Time{}, false
	}
	y, m, d, h := nums[0], time.Month(nums[1]), 1, 0
	g := Months
	if len(nums) > 2 {
		g, d = Days, nums[2]
	}
	if len(nums) > 3 {
		g, h = Hours, nums[3]
	}
	t, ok := wallStart(loc, g, y, m, d, h)
	if !ok {
		return 0, time.Time{}, false // 2024-2-30, hour 24, an hour the clocks skip
	}
	return g, t, true
}

// RetentionReport is what Client.ApplyRetention found and did.
type RetentionReport struct {
	// Keys is the number of period bitmaps found under the prefix.
	Keys int `json:"keys"`
	// Kept is how many of them are kept forever (their group has no
	// retention); unique bitmaps and other keys are not counted at all.
	Kept int `json:"kept"`
	// HadTTL is how many already had a TTL, left alone (EXPIRE NX).
	HadTTL int `json:"had_ttl"`
	// Set is how many got (or, in a dry run, would get) a TTL ending at
	// their deadline.
	Set int `json:"set"`
	// Expired is how many are past their deadline: they got (or would
	// get) a TTL of one second.
	Expired int `json:"expired"`
}

// ApplyRetention gives the existing bitmaps under the client's prefix the
// TTL that WithRetention gives new ones: each period bitmap of a group
// with a retention and no TTL yet expires at its period's end plus the
// retention (a bitmap already past that, within a second). Keys that have
// a TTL are left alone. With apply false nothing is written: the report
// says what would be done (TTL is read for every key). Work goes in
// pipelines of 500 keys; progress, if not nil, gets the keys done and
// found. It returns ErrUnsupported when the client has no Retention.
func (c *Client) ApplyRetention(ctx context.Context, apply bool, progress func(done, total int)) (RetentionReport, error) {
	c = c.orNone()
	var rep RetentionReport
	if c.keep == nil {
		return rep, fmt.Errorf("%w: ApplyRetention on a client without WithRetention", ErrUnsupported)
	}
	style, err := c.expireStyle(ctx)
	if err != nil {
		return rep, err
	}
	keys, err := c.statKeys(ctx, "")
	if err != nil {
		return rep, fmt.Errorf("bitmapist: expire: %w", err)
	}
	type job struct {
		key string
		ttl time.Duration
	}
	var jobs []job
	now := c.clock()
	for _, k := range keys {
		_, suffix, ok := splitKey(k.Key[len(c.prefix):])
		g, start, ok2 := parseSuffix(suffix, c.loc)
		if !ok || !ok2 {
			continue
		}
		rep.Keys++
		deadline, ok := c.keep.Deadline(g, start)
		if !ok {
			rep.Kept++
			continue
		}
		jobs = append(jobs, job{k.Key, deadline.Sub(now)})
	}
	for start := 0; start < len(jobs); start += statsBatch {
		batch := jobs[start:min(start+statsBatch, len(jobs))]
		ttls := make([]*redis.DurationCmd, len(batch))
		p := c.rdb.Pipeline()
		for i, j := range batch {
			ttls[i] = p.TTL(ctx, j.key)
		}
		if _, err := p.Exec(ctx); err != nil {
			return rep, fmt.Errorf("bitmapist: expire: %w", err)
		}
		p = c.rdb.Pipeline()
		for i, j := range batch {
			switch d := ttls[i].Val(); {
			case d == -2: // gone since the SCAN
				rep.Keys--
			case d != -1:
				rep.HadTTL++
			default:
				if j.ttl <= 0 {
					rep.Expired++
				} else {
					rep.Set++
				}
				if apply {
					queueExpire(ctx, p, j.key, max(j.ttl, time.Second), style)
				}
			}
		}
		if apply {
			if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return rep, fmt.Errorf("bitmapist: expire: %w", err)
			}
		}
		if progress != nil {
			progress(start+len(batch), len(jobs))
		}
	}
	return rep, nil
}
