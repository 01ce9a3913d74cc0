package bitmapist

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Set is a set of user ids: one bitmap (a Period, a Unique set) or a
// combination of sets (And, Or, Xor, Not, AndNot), nestable. A Set is a
// description, not a result: every call reads Redis afresh, so an answer
// never goes stale after new marks. Sets are safe for use by many
// goroutines at once. Only this package implements Set.
type Set interface {
	// Count returns the number of users in the set (Redis BITCOUNT; 0 for a
	// missing key).
	Count(ctx context.Context) (int64, error)
	// Has reports whether user id is in the set (Redis GETBIT). An id above
	// MaxUserID returns an error wrapping ErrInvalidUserID.
	Has(ctx context.Context, id uint64) (bool, error)
	// IDs returns the user ids in the set, ascending.
	IDs(ctx context.Context) ([]uint64, error)
	// HasEvents reports whether at least one user is in the set
	// (BITCOUNT > 0, not key existence: an AND can leave an all-zero key).
	HasEvents(ctx context.Context) (bool, error)
	// Keys returns the Redis keys the set reads, each once, in order.
	Keys() []string

	expr() *expr
	client() *Client
}

type opKind uint8

const (
	opKey opKind = iota
	opEmpty
	opAnd
	opOr
	opXor
	opNot
	opAndNot
)

var opNames = [...]string{"KEY", "EMPTY", "AND", "OR", "XOR", "NOT", "ANDNOT"}

// expr is the tree a Set evaluates: a key, or an operation on sub-trees.
type expr struct {
	op   opKind
	key  string
	args []*expr
	err  error // set when the set could not be built (bad time group)
}

func (e *expr) keys(seen map[string]bool, out []string) []string {
	if e.op == opKey {
		if !seen[e.key] {
			seen[e.key] = true
			out = append(out, e.key)
		}
		return out
	}
	for _, a := range e.args {
		out = a.keys(seen, out)
	}
	return out
}

func (e *expr) firstErr() error {
	if e.err != nil {
		return e.err
	}
	for _, a := range e.args {
		if err := a.firstErr(); err != nil {
			return err
		}
	}
	return nil
}

// opSet is the Set that And, Or, Xor, Not and AndNot return.
type opSet struct {
	c *Client
	e *expr
}

func (s *opSet) expr() *expr     { return s.e }
func (s *opSet) client() *Client { return s.c }

// Count implements Set.
func (s *opSet) Count(ctx context.Context) (int64, error) { return s.c.count(ctx, s.e) }

// Has implements Set.
func (s *opSet) Has(ctx context.Context, id uint64) (bool, error) { return s.c.has(ctx, s.e, id) }

// IDs implements Set.
func (s *opSet) IDs(ctx context.Context) ([]uint64, error) { return s.c.ids(ctx, s.e) }

// HasEvents implements Set.
func (s *opSet) HasEvents(ctx context.Context) (bool, error) { return s.c.hasEvents(ctx, s.e) }

// Keys implements Set.
func (s *opSet) Keys() []string { return s.e.keys(map[string]bool{}, nil) }

func combine(op opKind, sets []Set) Set {
	var c *Client
	args := make([]*expr, 0, len(sets))
	for _, s := range sets {
		if s == nil {
			continue
		}
		if c == nil {
			c = s.client()
		}
		args = append(args, s.expr())
	}
	switch {
	case len(args) == 0:
		return &opSet{c: c, e: &expr{op: opEmpty}}
	case len(args) == 1 && op != opNot:
		return &opSet{c: c, e: args[0]}
	}
	return &opSet{c: c, e: &expr{op: op, args: args}}
}

// And returns the users in every one of sets (Redis BITOP AND; Python
// bitmapist's BitOpAnd). A missing key reads as empty, so an And with one
// missing key is empty. And of no sets is the empty set. The sets should
// come from one Client; the first one's client is used.
func And(sets ...Set) Set { return combine(opAnd, sets) }

// Or returns the users in any of sets (Redis BITOP OR; bitmapist's BitOpOr).
func Or(sets ...Set) Set { return combine(opOr, sets) }

// Xor returns the users in an odd number of sets (Redis BITOP XOR;
// bitmapist's BitOpXor).
func Xor(sets ...Set) Set { return combine(opXor, sets) }

// Not returns Redis BITOP NOT of s (bitmapist's BitOpNot), kept for
// compatibility: it flips whole bytes up to s's length, so NOT of {1} is
// {0,2,3,4,5,6,7} and NOT of a missing key is empty. It is not "every other
// user"; for "in a but not in b" use AndNot.
func Not(s Set) Set { return combine(opNot, []Set{s}) }

// AndNot returns the users in a and not in b: the true difference, computed
// as a XOR (a AND b), right whatever the bitmaps' lengths ({1,20} AndNot {2}
// is {1,20}, where Redis's a AND NOT b would lose 20).
func AndNot(a, b Set) Set {
	if a == nil {
		return combine(opEmpty, nil)
	}
	if b == nil {
		return a
	}
	return &opSet{c: a.client(), e: &expr{op: opAndNot, args: []*expr{a.expr(), b.expr()}}}
}

// count evaluates e and returns its BITCOUNT.
func (c *Client) count(ctx context.Context, e *expr) (int64, error) {
	if err := e.firstErr(); err != nil {
		return 0, err
	}
	switch {
	case e.op == opEmpty:
		return 0, nil
	case c.ready() != nil:
		return 0, ErrNoRedis
	case e.op == opKey:
		n, err := c.rdb.BitCount(ctx, e.key, nil).Result()
		return n, c.wrapRead("count", err)
	}
	if _, err := c.checkSetOnServer(ctx, e); err != nil {
		return 0, err
	}
	switch {
	case e.op == opKey:
		n, err := c.rdb.BitCount(ctx, e.key, nil).Result()
		return n, c.wrapRead("count", err)
	case c.cluster:
		b, err := c.evalLocal(ctx, e)
		return b.Count(), err
	}
	var cnt *redis.IntCmd
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		var tmps []string
		dst := c.queueOps(ctx, p, e, &tmps)
		cnt = p.BitCount(ctx, dst, nil)
		c.queueDel(ctx, p, tmps)
		return nil
	})
	if err != nil {
		return 0, c.wrapRead("count", err)
	}
	return cnt.Val(), nil
}

// hasEvents reports whether e has at least one set bit: BITPOS on Redis
// (stops at the first set byte), BITCOUNT on bitmapist-server (a roaring
// cardinality, as cheap).
func (c *Client) hasEvents(ctx context.Context, e *expr) (bool, error) {
	if e.op == opKey && c.ready() == nil {
		server, err := c.onServer(ctx)
		if err != nil {
			return false, err
		}
		if !server {
			pos, err := c.rdb.BitPos(ctx, e.key, 1).Result()
			return pos >= 0, c.wrapRead("has events", err)
		}
	}
	n, err := c.count(ctx, e)
	return n > 0, err
}

// has evaluates membership of id without building the set: it reads each
// key's bit (GETBIT, one pipelined round trip, no temporary keys, any
// cluster slots), and its length (STRLEN) when a Not needs it, and applies
// the operations to them.
func (c *Client) has(ctx context.Context, e *expr, id uint64) (bool, error) {
	if err := checkUserID(id); err != nil {
		return false, err
	}
	if err := e.firstErr(); err != nil {
		return false, err
	}
	if e.op == opEmpty {
		return false, nil
	}
	if err := c.ready(); err != nil {
		return false, err
	}
	if _, err := c.checkSetOnServer(ctx, e); err != nil {
		return false, err
	}
	keys := e.keys(map[string]bool{}, nil)
	p := c.rdb.Pipeline()
	bitCmds := make([]*redis.IntCmd, len(keys))
	lenCmds := make([]*redis.IntCmd, len(keys))
	withLen := e.hasNot()
	for i, k := range keys {
		bitCmds[i] = p.GetBit(ctx, k, int64(id))
		if withLen {
			lenCmds[i] = p.StrLen(ctx, k)
		}
	}
	if _, err := p.Exec(ctx); err != nil {
		return false, c.wrapRead("has", err)
	}
	if e.op == opKey {
		return bitCmds[0].Val() == 1, nil
	}
	leaves := make(map[string]bitInfo, len(keys))
	for i, k := range keys {
		leaves[k] = bitInfo{bit: bitCmds[i].Val() == 1}
		if withLen {
			leaves[k] = bitInfo{bit: bitCmds[i].Val() == 1, n: lenCmds[i].Val()}
		}
	}
	return evalBit(e, leaves, int64(id>>3)).bit, nil
}

// bitInfo is one bit of a bitmap together with the bitmap's length in
// bytes, which NOT needs.
type bitInfo struct {
	bit bool
	n   int64
}

func evalBit(e *expr, leaves map[string]bitInfo, byteIdx int64) bitInfo {
	switch e.op {
	case opKey:
		return leaves[e.key]
	case opEmpty:
		return bitInfo{}
	case opNot:
		a := evalBit(e.args[0], leaves, byteIdx)
		return bitInfo{bit: !a.bit && byteIdx < a.n, n: a.n}
	case opAndNot:
		a, b := evalBit(e.args[0], leaves, byteIdx), evalBit(e.args[1], leaves, byteIdx)
		return bitInfo{bit: a.bit && !b.bit, n: max(a.n, b.n)}
	}
	r := evalBit(e.args[0], leaves, byteIdx)
	for _, a := range e.args[1:] {
		v := evalBit(a, leaves, byteIdx)
		switch e.op {
		case opAnd:
			r.bit = r.bit && v.bit
		case opOr:
			r.bit = r.bit || v.bit
		case opXor:
			r.bit = r.bit != v.bit
		}
		r.n = max(r.n, v.n)
	}
	return r
}

// ids lists e's ids: a key is streamed in chunks; an operation is computed
// into a temporary key (single Redis) or in memory (cluster).
func (c *Client) ids(ctx context.Context, e *expr) ([]uint64, error) {
	if err := e.firstErr(); err != nil {
		return nil, err
	}
	switch {
	case e.op == opEmpty:
		return []uint64{}, nil
	case c.ready() != nil:
		return nil, ErrNoRedis
	}
	if _, err := c.checkSetOnServer(ctx, e); err != nil {
		return nil, err
	}
	switch {
	case e.op == opKey:
		return c.streamIDs(ctx, e.key)
	case c.cluster:
		b, err := c.evalLocal(ctx, e)
		if err != nil {
			return nil, err
		}
		return b.IDs(), nil
	}
	var dst string
	_, err := c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		var tmps []string
		dst = c.queueOps(ctx, p, e, &tmps)
		p.Expire(ctx, dst, c.tmpTTL)
		c.queueDel(ctx, p, tmps[:len(tmps)-1]) // the last temporary is dst
		return nil
	})
	if err != nil {
		return nil, c.wrapRead("ids", err)
	}
	defer c.rdb.Del(context.WithoutCancel(ctx), dst)
	return c.streamIDs(ctx, dst)
}

// queueOps queues the BITOPs that compute e and returns the key holding the
// result; every temporary key it creates is appended to tmps, the result
// last. Temporary keys are named <prefix>bitop_<OP>_<random>, the shape
// that Python bitmapist's listing leaves out.
func (c *Client) queueOps(ctx context.Context, p redis.Pipeliner, e *expr, tmps *[]string) string {
	if e.op == opKey {
		return e.key
	}
	args := make([]string, len(e.args))
	for i, a := range e.args {
		args[i] = c.queueOps(ctx, p, a, tmps)
	}
	dst := c.tempKey(e.op)
	switch e.op {
	case opAnd:
		p.BitOpAnd(ctx, dst, args...)
	case opOr:
		p.BitOpOr(ctx, dst, args...)
	case opXor:
		p.BitOpXor(ctx, dst, args...)
	case opNot:
		p.BitOpNot(ctx, dst, args[0])
	case opAndNot: // a XOR (a AND b)
		both := c.tempKey(opAnd)
		*tmps = append(*tmps, both)
		p.BitOpAnd(ctx, both, args[0], args[1])
		p.BitOpXor(ctx, dst, args[0], both)
	case opEmpty:
		// dst is never written: a missing key is the empty set.
	}
	*tmps = append(*tmps, dst)
	return dst
}

func (c *Client) queueDel(ctx context.Context, p redis.Pipeliner, keys []string) {
	if len(keys) > 0 {
		p.Del(ctx, keys...)
	}
}

func (c *Client) tempKey(op opKind) string {
	return c.prefix + "bitop_" + opNames[op] + "_" + strconv.FormatUint(rand.Uint64(), 36)
}

func (c *Client) wrapRead(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bitmapist: %s: %w", what, err)
}

// evalLocal fetches e's keys (one pipelined GET each, which works across
// cluster slots) and computes e in memory.
func (c *Client) evalLocal(ctx context.Context, e *expr) (Bitmap, error) {
	snap, err := c.fetchKeys(ctx, e.keys(map[string]bool{}, nil))
	if err != nil {
		return nil, err
	}
	return snap.eval(e), nil
}
