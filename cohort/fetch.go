package cohort

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// window is an inclusive range of byte offsets of a bitmap: bytes lo..hi,
// that is user ids 8*lo .. 8*hi+7. hi = unbounded means "to the end".
type window struct{ lo, hi int64 }

const unbounded = int64(1) << 62

var (
	noWindow   = window{0, -1}
	fullWindow = window{0, unbounded}
)

func (w window) empty() bool { return w.hi < w.lo }

// hull returns the smallest window holding w and o.
func (w window) hull(o window) window {
	switch {
	case w.empty():
		return o
	case o.empty():
		return w
	}
	return window{min(w.lo, o.lo), max(w.hi, o.hi)}
}

// extents reads, in one pipelined round trip, the window of every key
// that holds set bits: from the byte of its first set bit (BITPOS) to its
// last byte (STRLEN). A key without set bits, or missing, gets noWindow.
// On bitmapist-server (server), which has neither command, it GETs the
// whole keys instead.
func extents(ctx context.Context, rdb redis.UniversalClient, keys []string, server bool) (map[string]window, error) {
	out := make(map[string]window, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	if server {
		return extentsByGet(ctx, rdb, keys)
	}
	p := rdb.Pipeline()
	pos := make([]*redis.IntCmd, len(keys))
	lens := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		pos[i] = p.BitPos(ctx, k, 1)
		lens[i] = p.StrLen(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("cohort: locate %d bitmaps: %w", len(keys), err)
	}
	for i, k := range keys {
		first, n := pos[i].Val(), lens[i].Val()
		if first < 0 || n == 0 {
			out[k] = noWindow
			continue
		}
		out[k] = window{first / 8, n - 1}
	}
	return out, nil
}

// extentsByGet is extents with one whole-key GET per key (bitmapist-server,
// whose GET ends at the highest set bit, so the string is never longer
// than its set bits).
func extentsByGet(ctx context.Context, rdb redis.UniversalClient, keys []string) (map[string]window, error) {
	out := make(map[string]window, len(keys))
	p := rdb.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		gets[i] = p.Get(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("cohort: locate %d bitmaps: %w", len(keys), err)
	}
	for i, k := range keys {
		b, _ := gets[i].Bytes()
		first := slices.IndexFunc(b, func(x byte) bool { return x != 0 })
		if first < 0 {
			out[k] = noWindow
			continue
		}
		out[k] = window{int64(first), int64(len(b)) - 1}
	}
	return out, nil
}

// chunk is the part of a bitmap that was read: its bytes from offset off
// (shorter than asked when the string ends before the window does).
type chunk struct {
	off  int64
	data bitmapist.Bitmap
}

// chunks holds the bitmap parts read for one table.
type chunks map[string]chunk

// readWindows reads every key's window with one GETRANGE each, in one
// pipelined round trip (split per node on a cluster). With ops (single
// Redis only) it sends one MULTI/EXEC instead, in which each key of ops
// is computed by its BITOPs (in order) right before it is read and its
// temporary keys are deleted right after: at most one of them exists at a
// time, and none outlives the transaction, whatever fails. On
// bitmapist-server (server), which has no GETRANGE, each key is read whole
// with GET and its window cut out here.
func readWindows(ctx context.Context, rdb redis.UniversalClient, need map[string]window, ops map[string][]bitop, server bool) (chunks, error) {
	out := make(chunks, len(need))
	keys := make([]string, 0, len(need))
	for k, w := range need {
		if !w.empty() {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	slices.Sort(keys) // deterministic command order
	var p redis.Pipeliner
	if len(ops) == 0 {
		p = rdb.Pipeline()
	} else {
		p = rdb.TxPipeline()
	}
	cmds := make([]*redis.StringCmd, len(keys))
	var tmps []string
	for i, k := range keys {
		tmps = tmps[:0]
		for _, o := range ops[k] {
			if o.op == "AND" {
				p.BitOpAnd(ctx, o.dst, o.keys...)
			} else {
				p.BitOpOr(ctx, o.dst, o.keys...)
			}
			tmps = append(tmps, o.dst)
		}
		w := need[k]
		end := w.hi
		if end >= unbounded {
			end = -1 // GETRANGE's "to the end"
		}
		if server {
			cmds[i] = p.Get(ctx, k)
		} else {
			cmds[i] = p.GetRange(ctx, k, w.lo, end)
		}
		if len(tmps) > 0 {
			p.Del(ctx, tmps...) // copies the names
		}
	}
	if _, err := p.Exec(ctx); err != nil && !(server && errors.Is(err, redis.Nil)) {
		return nil, fmt.Errorf("cohort: read %d bitmaps: %w", len(keys), err)
	}
	for i, k := range keys {
		b, err := cmds[i].Bytes()
		if server && errors.Is(err, redis.Nil) { // GET of a missing key
			b, err = nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("cohort: read %q: %w", k, err)
		}
		off := need[k].lo
		if server {
			off = 0 // the whole key
		}
		out[k] = chunk{off: off, data: b}
	}
	return out, nil
}

// view returns key's bytes in w, aliasing the chunk (read-only): byte 0 of
// the result is byte w.lo of the bitmap. It may be shorter than w (the
// rest reads as zeros) and is nil when nothing was read there.
func (cs chunks) view(key string, w window) bitmapist.Bitmap {
	c, ok := cs[key]
	if !ok || w.empty() {
		return nil
	}
	start := w.lo - c.off
	if start < 0 || start >= int64(len(c.data)) {
		return nil
	}
	end := int64(len(c.data))
	if w.hi < unbounded && w.hi-c.off+1 < end {
		end = w.hi - c.off + 1
	}
	return c.data[start:end]
}

// union returns the OR of keys' views in w: the view itself for one key
// (aliasing, read-only), a new bitmap for several (a year's months).
func (cs chunks) union(keys []string, w window) bitmapist.Bitmap {
	if len(keys) == 1 {
		return cs.view(keys[0], w)
	}
	var out bitmapist.Bitmap
	for _, k := range keys {
		out = out.OrWith(cs.view(k, w))
	}
	return out
}

// sub returns the part of b (a bitmap starting at byte offset from) that
// starts at byte offset w.lo and ends at w.hi; w must start at or after
// from. It aliases b.
func sub(b bitmapist.Bitmap, from int64, w window) bitmapist.Bitmap {
	start := w.lo - from
	if w.empty() || start >= int64(len(b)) {
		return nil
	}
	end := int64(len(b))
	if w.hi < unbounded && w.hi-from+1 < end {
		end = w.hi - from + 1
	}
	return b[start:end]
}
