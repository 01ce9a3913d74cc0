package cohort

import (
	"context"
	"fmt"
	"slices"

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

// intersect returns the bytes both w and o hold.
func (w window) intersect(o window) window {
	if w.empty() || o.empty() {
		return noWindow
	}
	return window{max(w.lo, o.lo), min(w.hi, o.hi)}
}

// chunk is the part of a bitmap that was read: its bytes from offset off
// (shorter than asked when the string ends before the window does).
type chunk struct {
	off  int64
	data bitmapist.Bitmap
}

// chunks holds the bitmap parts read for one stripe of a table.
type chunks map[string]chunk

// extents returns where each key holds set bits, as a window (noWindow for
// a key without any: missing, or of zero bytes only), read through the
// client's Reader (STRLEN and bounded BITPOS; no bitmap byte is sent).
func extents(ctx context.Context, c *bitmapist.Client, keys []string) (map[string]window, error) {
	ext, err := c.Reader().Extents(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("cohort: locate %d bitmaps: %w", len(keys), err)
	}
	out := make(map[string]window, len(keys))
	for i, k := range keys {
		if ext[i].Empty() {
			out[k] = noWindow
		} else {
			out[k] = window{ext[i].First, ext[i].Len - 1}
		}
	}
	return out, nil
}

// spans returns the byte ranges to read: each key's needed window cut to
// the bytes where it holds set bits (ext), in a fixed order, and the
// total number of bytes.
func spans(need, ext map[string]window) ([]bitmapist.Span, int64) {
	keys := make([]string, 0, len(need))
	for k := range need {
		keys = append(keys, k)
	}
	slices.Sort(keys) // deterministic command order
	out := make([]bitmapist.Span, 0, len(keys))
	var total int64
	for _, k := range keys {
		if w := need[k].intersect(ext[k]); !w.empty() {
			out = append(out, bitmapist.Span{Key: k, Lo: w.lo, Hi: w.hi + 1})
			total += w.hi + 1 - w.lo
		}
	}
	return out, total
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
// (aliasing, read-only), a bitmap of ar for several (a year's months).
func (cs chunks) union(keys []string, w window, ar *arena) bitmapist.Bitmap {
	if len(keys) == 1 {
		return cs.view(keys[0], w)
	}
	bs := make([]bitmapist.Bitmap, len(keys))
	for i, k := range keys {
		bs[i] = cs.view(k, w)
	}
	return ar.or(bs...)
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
