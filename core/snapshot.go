package bitmapist

import (
	"context"
	"fmt"
)

// Snapshot holds bitmaps read from Redis at one moment, for computing many
// results in memory from one read: cohort tables use it to fetch each
// distinct bitmap once instead of running a BITOP per cell. A Snapshot is
// read-only after Fetch and safe for concurrent use.
type Snapshot struct {
	bitmaps map[string]Bitmap
}

// Fetch reads every key that sets read, each distinct key once, through
// the client's Reader (STRLEN, then GETRANGE slices in bounded pipelines,
// split per node on a Redis Cluster, so keys in different slots are fine),
// and returns them as a Snapshot. Missing keys
// are held as empty bitmaps. Memory is the sum of the bitmaps' sizes (one
// bitmap is max id / 8 bytes). Redis errors are returned wrapped; a set
// holding a Not on bitmapist-server returns ErrUnsupported (see
// BackendBitmapistServer).
func (c *Client) Fetch(ctx context.Context, sets ...Set) (*Snapshot, error) {
	c = c.orNone()
	seen := map[string]bool{}
	var keys []string
	for _, s := range sets {
		if s == nil {
			continue
		}
		if err := s.expr().firstErr(); err != nil {
			return nil, err
		}
		if s.expr().hasNot() && c.ready() == nil {
			if _, err := c.checkSetOnServer(ctx, s.expr()); err != nil {
				return nil, err
			}
		}
		keys = s.expr().keys(seen, keys)
	}
	return c.fetchKeys(ctx, keys)
}

func (c *Client) fetchKeys(ctx context.Context, keys []string) (*Snapshot, error) {
	snap := &Snapshot{bitmaps: make(map[string]Bitmap, len(keys))}
	if len(keys) == 0 {
		return snap, nil
	}
	if err := c.ready(); err != nil {
		return nil, err
	}
	lens, err := c.reader.Lengths(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("bitmapist: fetch %d bitmaps: %w", len(keys), err)
	}
	spans := make([]Span, len(keys))
	for i, k := range keys {
		spans[i] = Span{Key: k, Hi: lens[i]}
	}
	bufs, err := c.reader.ReadSpans(ctx, spans)
	if err != nil {
		return nil, fmt.Errorf("bitmapist: fetch %d bitmaps: %w", len(keys), err)
	}
	for i, k := range keys {
		snap.bitmaps[k] = bufs[i]
	}
	return snap, nil
}

// Bitmap returns set s computed in memory from the snapshot, with the same
// result Redis BITOP would give. Keys of s that the snapshot did not fetch
// read as empty. The result may share memory with the snapshot: treat it as
// read-only, or Clone it.
func (s *Snapshot) Bitmap(set Set) Bitmap {
	if set == nil {
		return nil
	}
	return s.eval(set.expr())
}

// Len returns the number of bitmaps held.
func (s *Snapshot) Len() int { return len(s.bitmaps) }

// Bytes returns the total size of the bitmaps held, in bytes.
func (s *Snapshot) Bytes() int64 {
	var n int64
	for _, b := range s.bitmaps {
		n += int64(len(b))
	}
	return n
}

func (s *Snapshot) eval(e *expr) Bitmap {
	return evalExpr(e, func(key string) Bitmap { return s.bitmaps[key] })
}

// evalExpr computes e in memory with leaf(key) giving each key's bitmap,
// with the results Redis BITOP would give. It never writes into the
// leaves' bitmaps.
func evalExpr(e *expr, leaf func(string) Bitmap) Bitmap { return evalIn(e, leaf, -1) }

// evalIn is evalExpr with Not(a) the complement of a within the first
// width bytes (the segment rule, see EvalSegment), or over a's own bytes
// (Redis BITOP NOT) for a negative width.
func evalIn(e *expr, leaf func(string) Bitmap, width int) Bitmap {
	switch e.op {
	case opKey:
		return leaf(e.key)
	case opEmpty:
		return nil
	case opNot:
		a := evalIn(e.args[0], leaf, width)
		if width < 0 {
			return a.Not()
		}
		return a.NotWithin(width)
	case opAndNot:
		return evalIn(e.args[0], leaf, width).AndNot(evalIn(e.args[1], leaf, width))
	}
	r := evalIn(e.args[0], leaf, width)
	for i, a := range e.args[1:] {
		v := evalIn(a, leaf, width)
		switch e.op {
		case opAnd:
			r = r.And(v)
		case opOr:
			if i == 0 {
				r = r.Or(v) // copy: never write into the leaves
			} else {
				r = r.OrWith(v)
			}
		case opXor:
			r = r.Xor(v)
		}
	}
	return r
}
