package bitmapist

import (
	"context"
	"fmt"
	"reflect"
	"sync/atomic"

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

// isNilSet reports whether s is nil or a nil pointer in the interface.
func isNilSet(s Set) bool {
	if s == nil {
		return true
	}
	v := reflect.ValueOf(s)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// nilSetErr is the expr of an operation given a nil set as argument i.
func nilSetErr(op opKind, i int) *expr {
	return &expr{op: opEmpty, err: fmt.Errorf("%w: argument %d of %s", ErrNilSet, i, opNames[op])}
}

func combine(op opKind, sets []Set) Set {
	var c *Client
	args := make([]*expr, 0, len(sets))
	for i, s := range sets {
		if isNilSet(s) {
			args = append(args, nilSetErr(op, i))
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
// come from one Client; the first one's client is used. A nil set among
// sets makes every method of the result return an error wrapping
// ErrNilSet (likewise for Or, Xor, Not and AndNot).
func And(sets ...Set) Set { return combine(opAnd, sets) }

// Or returns the users in any of sets (Redis BITOP OR; bitmapist's BitOpOr).
func Or(sets ...Set) Set { return combine(opOr, sets) }

// Xor returns the users in an odd number of sets (Redis BITOP XOR;
// bitmapist's BitOpXor).
func Xor(sets ...Set) Set { return combine(opXor, sets) }

// Not returns Redis BITOP NOT of s (bitmapist's BitOpNot), kept for
// compatibility: it flips whole bytes up to s's length, so NOT of {1} is
// {0,2,3,4,5,6,7} and NOT of a missing key is empty. It is not "every other
// user"; for "in a but not in b" use AndNot. In a report's segment
// (TrendQuery.Segment, and package cohort's) it is "every other user" of
// the report: see EvalSegment.
func Not(s Set) Set { return combine(opNot, []Set{s}) }

// AndNot returns the users in a and not in b: the true difference, computed
// as a XOR (a AND b), right whatever the bitmaps' lengths ({1,20} AndNot {2}
// is {1,20}, where Redis's a AND NOT b would lose 20).
func AndNot(a, b Set) Set {
	switch {
	case isNilSet(a):
		return &opSet{e: nilSetErr(opAndNot, 0)}
	case isNilSet(b):
		return &opSet{c: a.client(), e: nilSetErr(opAndNot, 1)}
	}
	return &opSet{c: a.client(), e: &expr{op: opAndNot, args: []*expr{a.expr(), b.expr()}}}
}

// count evaluates e and returns its BITCOUNT. A key is counted in Redis
// (Reader.Count: BITCOUNT over bounded byte ranges); an operation is
// computed in the client stripe by stripe (evalStripes), so no BITOP over
// whole bitmaps ever holds Redis and no temporary key is written.
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
		n, err := c.reader.Count(ctx, e.key)
		return n, c.wrapRead("count", err)
	}
	if _, err := c.checkSetOnServer(ctx, e); err != nil {
		return 0, err
	}
	var total atomic.Int64
	var err error
	if e.flatOr() {
		err = c.orStripes(ctx, e, func(n int64) { total.Add(n) })
	} else {
		err = c.evalStripes(ctx, e, 0, func(_ int64, b Bitmap) error {
			total.Add(b.Count())
			return nil
		})
	}
	return total.Load(), c.wrapRead("count", err)
}

// flatOr reports whether e is an OR of keys only (a multi-day unique
// count, a year's months).
func (e *expr) flatOr() bool {
	if e.op != opOr {
		return false
	}
	for _, a := range e.args {
		if a.op != opKey {
			return false
		}
	}
	return true
}

// orChunk is the bytes of the union orStripes builds at a time: it stays
// in the CPU's cache while every key's bytes are ORed into it.
const orChunk = 8 << 10

// orStripes counts the OR of e's keys stripe by stripe (as evalStripes),
// without building the union of a whole stripe: orChunk bytes at a time in
// one buffer per stripe, so counting allocates nothing per key. add gets
// each chunk's count.
func (c *Client) orStripes(ctx context.Context, e *expr, add func(int64)) error {
	keys := e.keys(map[string]bool{}, nil)
	lens, err := c.reader.Lengths(ctx, keys)
	if err != nil {
		return err
	}
	spans := make([]Span, len(keys))
	for i, k := range keys {
		spans[i] = Span{Key: k, Hi: lens[i]}
	}
	return c.reader.Stripes(ctx, spans, StripeOptions{}, func(_, n int64, bufs []Bitmap) error {
		acc := make(Bitmap, orChunk)
		for lo := 0; int64(lo) < n; lo += orChunk {
			u := acc[:min(orChunk, int(n)-lo)]
			clear(u)
			for _, b := range bufs {
				if lo < len(b) {
					orInto(u, b[lo:min(len(b), lo+len(u))])
				}
			}
			add(u.Count())
		}
		return nil
	})
}

// hasEvents reports whether e has at least one set bit: bounded BITPOS on
// Redis (Reader.Extents: stops at the first set byte), BITCOUNT on bitmapist-server (a roaring
// cardinality, as cheap).
func (c *Client) hasEvents(ctx context.Context, e *expr) (bool, error) {
	if e.op == opKey && c.ready() == nil {
		server, err := c.onServer(ctx)
		if err != nil {
			return false, err
		}
		if !server {
			ext, err := c.reader.Extents(ctx, []string{e.key})
			if err != nil {
				return false, c.wrapRead("has events", err)
			}
			return !ext[0].Empty(), nil
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

// ids lists e's ids, ascending, through eachID.
func (c *Client) ids(ctx context.Context, e *expr) ([]uint64, error) {
	ids := []uint64{}
	err := c.eachID(ctx, e, func(batch []uint64) error {
		ids = append(ids, batch...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

func (c *Client) wrapRead(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("bitmapist: %s: %w", what, err)
}
