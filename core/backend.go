package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// Backend is the kind of server a Client talks to. It decides which
// commands the client sends: Redis keeps the byte-window reads (BITPOS,
// GETRANGE, STRLEN) and UNLINK; Doist's bitmapist-server, which speaks the
// Redis protocol over roaring bitmaps but has only a subset of its
// commands, gets whole-key GETs and DEL instead.
type Backend uint8

const (
	// BackendAuto, the default, detects the backend at the client's first
	// use that depends on it: bitmapist-server answers INFO keys with a
	// keys_total line, Redis with nothing. A Redis Cluster client is
	// always BackendRedis.
	BackendAuto Backend = iota
	// BackendRedis is Redis (or miniredis, Valkey, a Redis Cluster).
	BackendRedis
	// BackendBitmapistServer is Doist's bitmapist-server
	// (github.com/Doist/bitmapist-server). It has no hashes and no Lua (so
	// string ids need WithIDMapClient), no BITPOS, GETRANGE, STRLEN or
	// UNLINK, no EXPIRE options, and its SCAN '*' does not match '/'. It
	// keeps no byte length for a bitmap (GET ends at the highest set bit),
	// so Not, whose result depends on that length, returns ErrUnsupported
	// there: use AndNot.
	BackendBitmapistServer
)

// String returns "auto", "redis" or "bitmapist-server".
func (b Backend) String() string {
	switch b {
	case BackendAuto:
		return "auto"
	case BackendRedis:
		return "redis"
	case BackendBitmapistServer:
		return "bitmapist-server"
	}
	return fmt.Sprintf("Backend(%d)", uint8(b))
}

// ParseBackend parses "auto", "redis" or "bitmapist-server" (the String
// forms). Anything else returns an error wrapping ErrUnsupported.
func ParseBackend(s string) (Backend, error) {
	for _, b := range []Backend{BackendAuto, BackendRedis, BackendBitmapistServer} {
		if strings.EqualFold(s, b.String()) {
			return b, nil
		}
	}
	return BackendAuto, fmt.Errorf("%w: backend %q (want auto, redis or bitmapist-server)", ErrUnsupported, s)
}

// WithBackend sets the backend instead of detecting it (default
// BackendAuto: one INFO keys at first use). Setting BackendRedis on a
// bitmapist-server makes reads fail with its "unknown command" errors.
func WithBackend(b Backend) Option {
	return func(c *Client) { c.profile.set(b) }
}

// profile holds the client's backend once known. It is shared by pointer,
// so copies of a Client detect once.
type profile struct {
	b      atomic.Uint32 // a Backend; BackendAuto until known
	expire atomic.Uint32 // an expireStyle; expireUnknown until known
}

func (p *profile) set(b Backend) { p.b.Store(uint32(b)) }

func (p *profile) get() Backend { return Backend(p.b.Load()) }

// Backend returns the backend the client talks to, detecting it on the
// first call (one INFO keys, cached for the client's life unless it
// failed). A client made without Redis returns ErrNoRedis; a Redis error
// during detection is returned wrapped and detection is tried again on the
// next call.
func (c *Client) Backend(ctx context.Context) (Backend, error) {
	c = c.orNone()
	if err := c.ready(); err != nil {
		return BackendAuto, err
	}
	if b := c.profile.get(); b != BackendAuto {
		return b, nil
	}
	if c.cluster {
		c.profile.set(BackendRedis)
		return BackendRedis, nil
	}
	b, err := detectBackend(ctx, c.rdb)
	if err != nil {
		return BackendAuto, fmt.Errorf("bitmapist: detecting the backend: %w", err)
	}
	c.profile.set(b)
	return b, nil
}

// detectBackend asks rdb INFO keys. A server error reply (miniredis and
// other Redis look-alikes refuse the section) means Redis; a network
// error is returned.
func detectBackend(ctx context.Context, rdb redis.UniversalClient) (Backend, error) {
	info, err := rdb.Info(ctx, "keys").Result()
	var rerr redis.Error
	switch {
	case err == nil && strings.Contains(info, "keys_total:"):
		return BackendBitmapistServer, nil
	case err == nil, errors.As(err, &rerr) && !errors.Is(err, redis.Nil):
		return BackendRedis, nil
	}
	return BackendAuto, err
}

// onServer reports whether the client talks to a bitmapist-server,
// detecting the backend if needed.
func (c *Client) onServer(ctx context.Context) (bool, error) {
	b, err := c.Backend(ctx)
	return b == BackendBitmapistServer, err
}

// checkSetOnServer returns an error wrapping ErrUnsupported when e holds a
// Not and the client talks to a bitmapist-server (see
// BackendBitmapistServer), and the detection error if any.
func (c *Client) checkSetOnServer(ctx context.Context, e *expr) (server bool, err error) {
	server, err = c.onServer(ctx)
	if err != nil || !server || !e.hasNot() {
		return server, err
	}
	return server, fmt.Errorf("%w: Not on bitmapist-server, which keeps no bitmap length (Redis NOT flips bytes up to it): use AndNot", ErrUnsupported)
}

// hasNot reports whether e holds a Not anywhere.
func (e *expr) hasNot() bool {
	if e.op == opNot {
		return true
	}
	for _, a := range e.args {
		if a.hasNot() {
			return true
		}
	}
	return false
}

// expireStyle is how a client gives a bitmap its retention TTL without
// replacing a TTL the key already has (see WithRetention).
type expireStyle uint32

const (
	expireUnknown expireStyle = iota
	// expireNX sends EXPIRE key secs NX (Redis 7.0 and later).
	expireNX
	// expireScript sends a short EVAL that reads TTL and sends EXPIRE only
	// when the key has none, in one atomic step (Redis before 7.0, which
	// refuses EXPIRE options; scripts exist since 2.6).
	expireScript
	// expirePlain sends EXPIRE key secs (bitmapist-server, which has
	// neither EXPIRE options nor scripts): it replaces a TTL set by hand.
	expirePlain
)

// expireIfNone is expireScript's script: KEYS[1] gets a TTL of ARGV[1]
// seconds when it has none.
const expireIfNone = `if redis.call('ttl', KEYS[1]) == -1 then return redis.call('expire', KEYS[1], ARGV[1]) end return 0`

// expireStyle returns how the client sets retention TTLs, detecting it at
// the first call (after the backend: bitmapist-server gets expirePlain;
// Redis is asked INFO server once and its redis_version decides). A Redis
// error reply to INFO (a look-alike without the section) means
// expireNX; a network error is returned and detection is tried again on
// the next call.
func (c *Client) expireStyle(ctx context.Context) (expireStyle, error) {
	if s := expireStyle(c.profile.expire.Load()); s != expireUnknown {
		return s, nil
	}
	server, err := c.onServer(ctx)
	if err != nil {
		return expireUnknown, err
	}
	s := expirePlain
	if !server {
		info, err := c.rdb.Info(ctx, "server").Result()
		var rerr redis.Error
		if err != nil && (!errors.As(err, &rerr) || errors.Is(err, redis.Nil)) {
			return expireUnknown, fmt.Errorf("bitmapist: detecting the Redis version: %w", err)
		}
		s = expireStyleOf(info)
	}
	c.profile.expire.Store(uint32(s))
	return s, nil
}

// expireStyleOf returns the expireStyle for a Redis INFO server reply:
// expireScript when its redis_version is below 7.0, expireNX for 7.0 and
// later and when the reply has no version it can read (the command then
// answers for itself).
func expireStyleOf(info string) expireStyle {
	for line := range strings.Lines(info) {
		v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:")
		if !ok {
			continue
		}
		major, _, _ := strings.Cut(v, ".")
		if n, err := strconv.Atoi(major); err == nil && n < 7 {
			return expireScript
		}
		return expireNX
	}
	return expireNX
}
