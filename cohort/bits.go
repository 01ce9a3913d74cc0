package cohort

import (
	"encoding/binary"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/wordops"
)

// arena hands out the scratch bitmaps of one block of a table (see
// plan.block) from one buffer that is reused block after block, so that
// counting a table allocates nothing per block. Every bitmap it returns
// has its capacity equal to its length (an append never writes into the
// next one); take's bytes are not cleared, so every operation writes all
// of them.
type arena struct{ buf []byte }

func (a *arena) reset() { a.buf = a.buf[:0] }

// take returns n bytes of scratch (their content is undefined).
func (a *arena) take(n int) bitmapist.Bitmap {
	if cap(a.buf)-len(a.buf) < n {
		a.buf = make([]byte, 0, max(2*cap(a.buf), 64<<10, n)) // earlier bitmaps keep the old buffer
	}
	i := len(a.buf)
	a.buf = a.buf[:i+n]
	return bitmapist.Bitmap(a.buf[i : i+n : i+n])
}

// zero returns n cleared bytes.
func (a *arena) zero(n int) bitmapist.Bitmap {
	b := a.take(n)
	clear(b)
	return b
}

// clone returns a copy of b.
func (a *arena) clone(b bitmapist.Bitmap) bitmapist.Bitmap {
	out := a.take(len(b))
	copy(out, b)
	return out
}

// and returns x AND y, as long as the shorter (the rest reads as zeros).
func (a *arena) and(x, y bitmapist.Bitmap) bitmapist.Bitmap {
	n := min(len(x), len(y))
	out := a.take(n)
	andInto(out, x[:n], y[:n])
	return out
}

// andNot returns the users of x not in y.
func (a *arena) andNot(x, y bitmapist.Bitmap) bitmapist.Bitmap {
	return a.clone(x).AndNotWith(y)
}

// or returns the union of bs, as long as the longest.
func (a *arena) or(bs ...bitmapist.Bitmap) bitmapist.Bitmap {
	n := 0
	for _, b := range bs {
		n = max(n, len(b))
	}
	out := a.zero(n)
	for _, b := range bs {
		out.OrWith(b) // in place: out is the longest
	}
	return out
}

// andAll returns the intersection of fs: fs[0] itself (shared) for one
// bitmap, a bitmap of the arena for several.
func (a *arena) andAll(fs []bitmapist.Bitmap) bitmapist.Bitmap {
	if len(fs) == 1 {
		return fs[0]
	}
	r := a.and(fs[0], fs[1])
	for _, f := range fs[2:] {
		n := min(len(r), len(f))
		andInto(r[:n], r[:n], f[:n])
		r = r[:n:n]
	}
	return r
}

// andInto sets dst = x AND y over len(dst) bytes (x and y at least as
// long), four 64-bit words a step.
func andInto(dst, x, y []byte) {
	le := binary.LittleEndian
	for len(dst) >= 32 && len(x) >= 32 && len(y) >= 32 {
		le.PutUint64(dst[0:], le.Uint64(x[0:])&le.Uint64(y[0:]))
		le.PutUint64(dst[8:], le.Uint64(x[8:])&le.Uint64(y[8:]))
		le.PutUint64(dst[16:], le.Uint64(x[16:])&le.Uint64(y[16:]))
		le.PutUint64(dst[24:], le.Uint64(x[24:])&le.Uint64(y[24:]))
		dst, x, y = dst[32:], x[32:], y[32:]
	}
	for i := range dst {
		dst[i] = x[i] & y[i]
	}
}

// chunkWords is the number of 64-bit words the reports compute at a time
// inside a block: every inner loop runs over this many consecutive words.
const chunkWords = 64

// popcount returns the number of set bits of ws (wordops: AVX2 on
// amd64).
func popcount(ws []uint64) int64 { return wordops.Popcount(ws) }

// orAnd sets dst |= a AND b (a and b at least as long as dst).
func orAnd(dst, a, b []uint64) { wordops.OrAnd(dst, a, b) }

// orAnd3 sets dst |= a AND b AND c (a, b and c at least as long as dst).
func orAnd3(dst, a, b, c []uint64) {
	a, b, c = a[:len(dst)], b[:len(dst)], c[:len(dst)]
	for i := range dst {
		dst[i] |= a[i] & b[i] & c[i]
	}
}

// orInto sets dst |= src (src at least as long as dst).
func orInto(dst, src []uint64) { wordops.Or(dst, dst, src) }
