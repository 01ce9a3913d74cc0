package cohort

import (
	"encoding/binary"
	"math/bits"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// andCount returns the number of ids that are in a and in every one of
// fs, without building their intersection. Bitmaps are laid out as Redis
// stores them (bitmapist.Bitmap); missing bytes read as zeros.
func andCount(a bitmapist.Bitmap, fs []bitmapist.Bitmap) int64 {
	if len(fs) == 1 {
		return and2Count(a, fs[0])
	}
	n := len(a)
	for _, f := range fs {
		n = min(n, len(f))
	}
	le := binary.LittleEndian
	var c int
	i := 0
	if len(fs) == 2 {
		x, y := fs[0], fs[1]
		for ; i+8 <= n; i += 8 {
			c += bits.OnesCount64(le.Uint64(a[i:]) & le.Uint64(x[i:]) & le.Uint64(y[i:]))
		}
	} else {
		for ; i+8 <= n; i += 8 {
			w := le.Uint64(a[i:])
			for _, f := range fs {
				w &= le.Uint64(f[i:])
			}
			c += bits.OnesCount64(w)
		}
	}
	for ; i < n; i++ {
		b := a[i]
		for _, f := range fs {
			b &= f[i]
		}
		c += bits.OnesCount8(b)
	}
	return int64(c)
}

// and2Count returns the number of ids in both a and b: core's
// Bitmap.AndCount, four 64-bit words per iteration (the inner loop of
// most tables, 144 × 125 KB for a 12×12 monthly table over a million ids
// spread over all ids).
func and2Count(a, b bitmapist.Bitmap) int64 {
	n := min(len(a), len(b))
	a, b = a[:n], b[:n]
	le := binary.LittleEndian
	var c0, c1, c2, c3 int
	for len(a) >= 32 && len(b) >= 32 {
		x, y := a[:32], b[:32]
		c0 += bits.OnesCount64(le.Uint64(x[0:]) & le.Uint64(y[0:]))
		c1 += bits.OnesCount64(le.Uint64(x[8:]) & le.Uint64(y[8:]))
		c2 += bits.OnesCount64(le.Uint64(x[16:]) & le.Uint64(y[16:]))
		c3 += bits.OnesCount64(le.Uint64(x[24:]) & le.Uint64(y[24:]))
		a, b = a[32:], b[32:]
	}
	c := c0 + c1 + c2 + c3
	for i := range min(len(a), len(b)) {
		c += bits.OnesCount8(a[i] & b[i])
	}
	return int64(c)
}

// andNotAll clears in a, in place, every id that is in all of fs.
func andNotAll(a bitmapist.Bitmap, fs []bitmapist.Bitmap) {
	if len(fs) == 1 {
		a.AndNotWith(fs[0])
		return
	}
	n := len(a)
	for _, f := range fs {
		n = min(n, len(f))
	}
	le := binary.LittleEndian
	i := 0
	for ; i+8 <= n; i += 8 {
		w := ^uint64(0)
		for _, f := range fs {
			w &= le.Uint64(f[i:])
		}
		le.PutUint64(a[i:], le.Uint64(a[i:])&^w)
	}
	for ; i < n; i++ {
		b := byte(0xff)
		for _, f := range fs {
			b &= f[i]
		}
		a[i] &^= b
	}
}

// andAll returns the intersection of fs: fs[0] itself (shared) for one
// bitmap, a new bitmap for several.
func andAll(fs []bitmapist.Bitmap) bitmapist.Bitmap {
	r := fs[0]
	for _, f := range fs[1:] {
		r = r.And(f)
	}
	return r
}
