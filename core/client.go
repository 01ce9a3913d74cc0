package bitmapist

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// DefaultPrefix is the key prefix of Python bitmapist, used unless
// WithPrefix says otherwise.
const DefaultPrefix = "trackist_"

// Client marks events and builds sets on one Redis (standalone, miniredis or
// Redis Cluster). It holds no state besides its configuration and is safe
// for use by many goroutines at once.
type Client struct {
	rdb     redis.UniversalClient
	prefix  string
	hourly  bool
	unique  bool
	loc     *time.Location
	clock   func() time.Time
	cluster bool
	tmpTTL  time.Duration
	maxID   uint64 // largest user id marked; see WithMaxUserID
	noRedis bool   // New was given no Redis: only keys and periods work
	profile *profile
	idmap   redis.UniversalClient // WithIDMapClient; nil: rdb
	keep    *retention            // WithRetention; nil: keys never expire
	limits  ReadLimits
	reader  *Reader
	noRaw   bool // WithRawReads(false)
}

// Option configures a Client in New.
type Option func(*Client)

// WithPrefix sets the key prefix (default DefaultPrefix, "trackist_", as in
// Python bitmapist). Go and Python services share data only when their
// prefixes are equal.
func WithPrefix(prefix string) Option { return func(c *Client) { c.prefix = prefix } }

// WithTrackHourly turns hourly bitmaps on or off for every mark (default
// off, as in bitmapist's TRACK_HOURLY). Per call, TrackHourly overrides it.
func WithTrackHourly(on bool) Option { return func(c *Client) { c.hourly = on } }

// WithTrackUnique turns the period-less "unique" bitmap (<prefix><event>_u)
// on or off for every mark (default off, as in bitmapist's TRACK_UNIQUE).
// Per call, TrackUnique overrides it.
func WithTrackUnique(on bool) Option { return func(c *Client) { c.unique = on } }

// WithLocation sets the time zone that periods are cut in (default UTC, the
// zone Python bitmapist assumes). Every time is converted to it before its
// hour, day, week and month are chosen. A nil location means UTC.
func WithLocation(loc *time.Location) Option {
	return func(c *Client) {
		if loc == nil {
			loc = time.UTC
		}
		c.loc = loc
	}
}

// WithClock sets the function that says what time it is now (default
// time.Now). Marks without At, and cohort tables without a "now", use it;
// tests and replays set it.
func WithClock(now func() time.Time) Option {
	return func(c *Client) {
		if now != nil {
			c.clock = now
		}
	}
}

// WithIDMapClient makes the string id maps (IDMap, Users,
// MarkEventString) live on rdb instead of the client's own server. The id
// map needs Redis hashes and Lua scripts, which bitmapist-server lacks:
// there, string ids work only with this option (a Redis next to the
// bitmapist-server), and without it they return ErrUnsupported before
// anything is written. On Redis it is optional; a nil rdb means the
// client's own server.
func WithIDMapClient(rdb redis.UniversalClient) Option {
	return func(c *Client) {
		if !isNil(rdb) {
			c.idmap = rdb
		}
	}
}

// WithTempTTL sets how long a temporary BITOP result key may live if the
// client dies before deleting it (default 60 seconds). Temporary keys are
// deleted as soon as a result has been read; the TTL is only a safety net.
func WithTempTTL(d time.Duration) Option {
	return func(c *Client) {
		if d > 0 {
			c.tmpTTL = d
		}
	}
}

// WithMaxUserID sets the largest user id the client marks (default and cap
// MaxUserID, 2^32-1). Every id is a bit offset, and one stray id near 2^32
// makes 512 MiB bitmaps that stall Redis for seconds while they are
// allocated: set n to a bound your ids cannot exceed, for example 100
// million for a table with ids in the millions. Marking a larger id returns
// an error wrapping ErrInvalidUserID and writes nothing (for MarkEvents,
// nothing of the whole batch). String id maps (IDMap) hand out offsets
// 0 .. n at most. Reading sets is not limited.
func WithMaxUserID(n uint64) Option {
	return func(c *Client) { c.maxID = min(n, MaxUserID) }
}

// New returns a Client on rdb, which may be a *redis.Client, a
// *redis.ClusterClient or any other redis.UniversalClient. A nil rdb gives
// a client that builds keys and periods only; its Redis calls return
// ErrNoRedis. On a cluster
// client, multi-key work is split so that no CROSSSLOT error reaches the
// caller.
func New(rdb redis.UniversalClient, opts ...Option) *Client {
	c := &Client{
		rdb:     rdb,
		prefix:  DefaultPrefix,
		loc:     time.UTC,
		clock:   time.Now,
		tmpTTL:  time.Minute,
		maxID:   MaxUserID,
		profile: &profile{},
		limits:  DefaultReadLimits,
	}
	for _, o := range opts {
		o(c)
	}
	c.reader = newReader(c)
	_, c.cluster = rdb.(*redis.ClusterClient)
	c.noRedis = isNil(rdb)
	return c
}

// isNil reports whether rdb is nil or a nil pointer in an interface.
func isNil(rdb redis.UniversalClient) bool {
	switch v := rdb.(type) {
	case nil:
		return true
	case *redis.Client:
		return v == nil
	case *redis.ClusterClient:
		return v == nil
	case *redis.Ring:
		return v == nil
	}
	return false
}

// Ready returns ErrNoRedis when c is nil or was made without Redis (New
// with a nil client), and nil otherwise. It does not contact Redis: packages
// building on a Client call it before their own Redis work.
func (c *Client) Ready() error { return c.ready() }

// ready returns ErrNoRedis when the client was made without Redis.
func (c *Client) ready() error {
	if c == nil || c.noRedis {
		return ErrNoRedis
	}
	return nil
}

// Redis returns the client that New was given.
func (c *Client) Redis() redis.UniversalClient {
	c = c.orNone()
	return c.rdb
}

// Prefix returns the key prefix.
func (c *Client) Prefix() string {
	c = c.orNone()
	return c.prefix
}

// Location returns the time zone that periods are cut in.
func (c *Client) Location() *time.Location {
	c = c.orNone()
	return c.loc
}

// Now returns the clock's current time in the client's location.
func (c *Client) Now() time.Time {
	c = c.orNone()
	return c.clock().In(c.loc)
}

// TrackHourly reports whether hourly bitmaps are written by default.
func (c *Client) TrackHourly() bool {
	c = c.orNone()
	return c.hourly
}

// TrackUnique reports whether the unique bitmap is written by default.
func (c *Client) TrackUnique() bool {
	c = c.orNone()
	return c.unique
}

// MaxUserID returns the largest user id the client marks (WithMaxUserID).
func (c *Client) MaxUserID() uint64 {
	c = c.orNone()
	return c.maxID
}

// TempTTL returns how long a temporary BITOP result key may live
// (WithTempTTL).
func (c *Client) TempTTL() time.Duration {
	c = c.orNone()
	return c.tmpTTL
}

// IsCluster reports whether the client talks to a Redis Cluster.
func (c *Client) IsCluster() bool {
	c = c.orNone()
	return c.cluster
}

// orNone returns c, or for a nil *Client a client without Redis (as
// New(nil) makes), so that every method of a nil client behaves as on a
// client made without Redis: keys and periods work, Redis calls return
// ErrNoRedis, nothing panics.
func (c *Client) orNone() *Client {
	if c != nil {
		return c
	}
	return New(nil)
}
