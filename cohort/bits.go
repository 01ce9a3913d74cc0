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
		return a.AndCount(fs[0])
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
