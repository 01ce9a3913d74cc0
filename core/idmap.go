package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// IDMap assigns each string user id (a UUID, an e-mail, a hash) a dense
// integer offset 0, 1, 2, ... so string-keyed users can be marked, listed
// and counted in bitmaps like integer ids. The map lives in the same Redis
// (or the one given with WithIDMapClient, which bitmapist-server needs),
// in two hashes (string → offset and offset → string) under one cluster
// hash tag, and is changed only by a Lua script, so the same string gets
// the same offset from any number of processes at once. Dense offsets keep
// bitmaps small: n users cost n/8 bytes per bitmap.
//
// Keys: bitmapist_idmap:{<prefix><name>}:fwd and …:rev. They do not start
// with the client's prefix, so event listing and DeleteAll leave them alone;
// delete them with (*IDMap).Delete.
//
// An offset is indistinguishable from an integer user id of the same
// value: an event marked through a map must not also be marked with
// integer ids (MarkEvent), nor through another map, or users of the two id
// spaces share bits.
type IDMap struct {
	c        *Client
	fwd, rev string
	limit    uint64 // how many offsets may be handed out
}

// DefaultIDMap is the name of the id map that Client.Users returns.
const DefaultIDMap = "users"

// IDMap returns the string id map called name (for example "users",
// "devices"), able to hand out offsets 0 .. the client's MaxUserID
// (WithMaxUserID; 2^32-1 by default).
func (c *Client) IDMap(name string) *IDMap {
	c = c.orNone()
	tag := "bitmapist_idmap:{" + c.prefix + name + "}"
	return &IDMap{c: c, fwd: tag + ":fwd", rev: tag + ":rev", limit: c.maxID + 1}
}

// Users returns the id map called DefaultIDMap ("users"), the one that
// MarkEventString uses.
func (c *Client) Users() *IDMap {
	c = c.orNone()
	return c.IDMap(DefaultIDMap)
}

// WithLimit returns a copy of m that hands out at most n offsets (0 ..
// n-1); asking it for more returns ErrIDMapFull. n is capped at the
// client's MaxUserID+1.
func (m *IDMap) WithLimit(n uint64) *IDMap {
	cp := *m
	cp.limit = min(n, m.c.maxID+1)
	return &cp
}

// assignScript maps each ARGV[2:] string to its offset, assigning the
// next offsets (from the hash's length) to new ones. It returns the
// offsets, with -1 for strings that did not fit: ARGV[1] is how many
// offsets may exist. It reads all strings with one HMGET and writes the
// new ones with one HSET per hash, so a call of assignChunk strings holds
// Redis well under a millisecond.
var assignScript = redis.NewScript(`
local limit = tonumber(ARGV[1])
local got = redis.call('HMGET', KEYS[1], unpack(ARGV, 2))
local n = nil
local fwd, rev, fresh = {}, {}, {}
for i = 1, #got do
  if got[i] then
    got[i] = tonumber(got[i])
  else
    local s = ARGV[i + 1]
    local id = fresh[s]
    if not id then
      if not n then n = redis.call('HLEN', KEYS[1]) end
      if n >= limit then
        id = -1
      else
        id = n
        n = n + 1
        fwd[#fwd + 1] = s
        fwd[#fwd + 1] = id
        rev[#rev + 1] = id
        rev[#rev + 1] = s
      end
      fresh[s] = id
    end
    got[i] = id
  end
end
if #fwd > 0 then
  redis.call('HSET', KEYS[1], unpack(fwd))
  redis.call('HSET', KEYS[2], unpack(rev))
end
return got
`)

// assignChunk is how many strings one assignScript call takes; the calls of
// an IDs batch are pipelined into one round trip.
const assignChunk = 1000

// ID returns the offset of s, assigning the next free one if s is new. It
// returns an error wrapping ErrInvalidUserID for the empty string,
// ErrIDMapFull when the map has no offset left, or the Redis error wrapped.
func (m *IDMap) ID(ctx context.Context, s string) (uint64, error) {
	ids, err := m.IDs(ctx, []string{s})
	if err != nil {
		return 0, err
	}
	return ids[0], nil
}

// IDs is ID for many strings in one round trip (script calls of 1,000
// strings each, pipelined; each call is atomic, so concurrent callers, on
// one Redis or a cluster, always agree on a string's offset); ids[i] is
// the offset of strs[i]. When the map fills up part-way, the strings that
// fitted keep their offsets and the error wraps ErrIDMapFull.
func (m *IDMap) IDs(ctx context.Context, strs []string) ([]uint64, error) {
	for _, s := range strs {
		if s == "" {
			return nil, fmt.Errorf("%w: empty string id", ErrInvalidUserID)
		}
	}
	if len(strs) == 0 {
		return []uint64{}, nil
	}
	rdb, err := m.redis(ctx)
	if err != nil {
		return nil, err
	}
	if err := ctxDone(ctx); err != nil {
		return nil, fmt.Errorf("bitmapist: id map: %w", err)
	}
	vals, err := m.assign(ctx, rdb, strs)
	if err != nil {
		return nil, fmt.Errorf("bitmapist: id map: %w", outcomeErr(err, false))
	}
	ids := make([]uint64, len(vals))
	for i, v := range vals {
		if v < 0 {
			return nil, fmt.Errorf("%w: %q does not fit (limit %d ids)", ErrIDMapFull, strs[i], m.limit)
		}
		ids[i] = uint64(v)
	}
	return ids, nil
}

// Lookup returns the offset of s without assigning one; ok is false when s
// has none.
func (m *IDMap) Lookup(ctx context.Context, s string) (id uint64, ok bool, err error) {
	rdb, err := m.redis(ctx)
	if err != nil {
		return 0, false, err
	}
	v, err := rdb.HGet(ctx, m.fwd, s).Uint64()
	if errors.Is(err, redis.Nil) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("bitmapist: id map lookup: %w", err)
	}
	return v, true, nil
}

// Strings maps offsets back to their strings in one round trip; out[i] is
// the string of ids[i], or "" for an offset that was never assigned.
func (m *IDMap) Strings(ctx context.Context, ids []uint64) ([]string, error) {
	out := make([]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	rdb, err := m.redis(ctx)
	if err != nil {
		return nil, err
	}
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = strconv.FormatUint(id, 10)
	}
	vals, err := rdb.HMGet(ctx, m.rev, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("bitmapist: id map strings: %w", err)
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = s
		}
	}
	return out, nil
}

// Len returns how many strings have an offset.
func (m *IDMap) Len(ctx context.Context) (int64, error) {
	rdb, err := m.redis(ctx)
	if err != nil {
		return 0, err
	}
	n, err := rdb.HLen(ctx, m.fwd).Result()
	if err != nil {
		return 0, fmt.Errorf("bitmapist: id map length: %w", err)
	}
	return n, nil
}

// Delete removes the whole map. Bitmaps marked through it keep their bits,
// which then belong to no string.
func (m *IDMap) Delete(ctx context.Context) error {
	rdb, err := m.redis(ctx)
	if err != nil {
		return err
	}
	if err := rdb.Del(ctx, m.fwd, m.rev).Err(); err != nil {
		return fmt.Errorf("bitmapist: id map delete: %w", err)
	}
	return nil
}

// redis returns the server holding the map: WithIDMapClient's, or the
// client's own unless that is a bitmapist-server (ErrUnsupported).
func (m *IDMap) redis(ctx context.Context) (redis.UniversalClient, error) {
	if err := m.c.ready(); err != nil {
		return nil, err
	}
	if m.c.idmap != nil {
		return m.c.idmap, nil
	}
	server, err := m.c.onServer(ctx)
	if err != nil {
		return nil, err
	}
	if server {
		return nil, ErrNoIDMap
	}
	return m.c.rdb, nil
}

// MarkEventString marks event for the string user id through the Users
// id map (assigning an offset on first sight), in two round trips. Errors
// are those of IDMap.ID and MarkEvent; if the id map fails nothing is
// marked.
//
// The offsets share their range with integer ids: never mark the same event
// with both MarkEvent and MarkEventString (see the package doc, "Integer
// ids or string ids, never both in one event").
func (c *Client) MarkEventString(ctx context.Context, event, userID string, opts ...MarkOption) error {
	c = c.orNone()
	if err := ValidateEventName(event); err != nil {
		return err
	}
	id, err := c.Users().ID(ctx, userID)
	if err != nil {
		return err
	}
	return c.MarkEvent(ctx, event, id, opts...)
}

// assign runs assignScript over strs in chunks of assignChunk, pipelined, and
// returns the offsets in order (-1 for strings that did not fit).
func (m *IDMap) assign(ctx context.Context, rdb redis.UniversalClient, strs []string) ([]int64, error) {
	keys := []string{m.fwd, m.rev}
	args := make([][]any, 0, (len(strs)+assignChunk-1)/assignChunk)
	for at := 0; at < len(strs); at += assignChunk {
		part := strs[at:min(at+assignChunk, len(strs))]
		a := make([]any, 0, len(part)+1)
		a = append(a, m.limit)
		for _, s := range part {
			a = append(a, s)
		}
		args = append(args, a)
	}
	run := func(load bool) ([]*redis.Cmd, error) {
		pipe := rdb.Pipeline()
		cmds := make([]*redis.Cmd, len(args))
		for i, a := range args {
			if load {
				cmds[i] = assignScript.Eval(ctx, pipe, keys, a...)
			} else {
				cmds[i] = assignScript.EvalSha(ctx, pipe, keys, a...)
			}
		}
		_, err := pipe.Exec(ctx)
		return cmds, err
	}
	cmds, err := run(false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		cmds, err = run(true) // assigning again is harmless
	}
	if err != nil {
		return nil, err
	}
	out := make([]int64, 0, len(strs))
	for _, c := range cmds {
		vals, err := c.Int64Slice()
		if err != nil {
			return nil, err
		}
		out = append(out, vals...)
	}
	return out, nil
}
