package bitmapist

import (
	"bytes"
	"context"
	"strconv"
	"unsafe"

	"github.com/bitmapist-go/bitmapist/internal/testutil"

	"math/rand/v2"
	"slices"
	"testing"
)

// TestWordViewAliasesOnlyWholeAlignedWords: a view is the bitmap's own
// memory for whole, 8-aligned words, nil for a tail, a block past the end
// or a misaligned start (those are copied by Walk).
func TestWordViewAliasesOnlyWholeAlignedWords(t *testing.T) {
	if !littleEndian {
		t.Skip("views exist on little-endian machines only")
	}
	buf := make(Bitmap, 8*10+3)
	for i := range buf {
		buf[i] = byte(i + 1)
	}
	v := buf.wordView(2, 3)
	if len(v) != 3 {
		t.Fatalf("view of words 2..4 of an aligned bitmap: len %d, want 3", len(v))
	}
	want := make([]uint64, 3)
	buf.ReadWords(want, 2)
	if !slices.Equal(v, want) {
		t.Fatalf("view %x, ReadWords %x", v, want)
	}
	buf[16] = 0xff // the view aliases the bytes
	if v[0]&0xff != 0xff {
		t.Fatalf("view does not alias the bitmap: word 2 = %x", v[0])
	}
	for _, c := range []struct {
		name     string
		b        Bitmap
		first, n int
	}{
		{"ends inside the last word", buf, 8, 3},
		{"past the end", buf, 11, 1},
		{"misaligned start", buf[1:], 0, 2},
		{"no words", buf, 0, 0},
	} {
		if v := c.b.wordView(c.first, c.n); v != nil {
			t.Errorf("%s: view of %d words, want nil (a copy)", c.name, len(v))
		}
	}
}

// TestWalkSameWordsAlignedOrNot: Walk hands fn the same words whether the
// bitmaps are viewed in place (aligned) or copied (misaligned, short,
// with a segment), across block boundaries and a partial last block.
func TestWalkSameWordsAlignedOrNot(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	mk := func(n int) Bitmap {
		b := make(Bitmap, n)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	shift := func(b Bitmap) Bitmap { // the same bytes at an odd address
		s := make(Bitmap, len(b)+1)
		copy(s[1:], b)
		return s[1:]
	}
	aligned := []Bitmap{mk(8 * 1500), mk(8*700 + 5), nil, mk(8 * 513)}
	moved := make([]Bitmap, len(aligned))
	for i, b := range aligned {
		moved[i] = shift(b)
	}
	seg := mk(8 * 1200)
	collect := func(bms []Bitmap, seg Bitmap, hasSeg bool) [][]uint64 {
		out := make([][]uint64, len(bms))
		var wb WordBlocks
		wb.Walk(bms, seg, hasSeg, func(ws [][]uint64, n int) {
			for k := range ws {
				out[k] = append(out[k], ws[k][:n]...)
			}
		})
		return out
	}
	for _, c := range []struct {
		name   string
		seg    Bitmap
		hasSeg bool
	}{{"no segment", nil, false}, {"segment", seg, true}} {
		a, m := collect(aligned, c.seg, c.hasSeg), collect(moved, shift(c.seg), c.hasSeg)
		for k := range a {
			want := make([]uint64, len(a[k]))
			aligned[k].ReadWords(want, 0)
			if c.hasSeg {
				sw := make([]uint64, len(want))
				seg.ReadWords(sw, 0)
				andInto64(want, sw)
			}
			if !slices.Equal(a[k], want) || !slices.Equal(m[k], want) {
				t.Errorf("%s, bitmap %d: aligned and moved walks differ from ReadWords (%d, %d, %d words)", c.name, k, len(a[k]), len(m[k]), len(want))
			}
		}
	}
}

// TestRawSpansStartAligned: raw reads place every span's bytes at a
// multiple of 64 of the stripe buffer, whatever the lengths of the spans
// before it, so that the reports count them in place (wordView).
func TestRawSpansStartAligned(t *testing.T) {
	b := testutil.Redis(t)
	if b.Name == testutil.NameCluster {
		t.Skip("no raw reads on a cluster")
	}
	ctx := context.Background()
	c := New(b.Client, WithPrefix(b.Prefix))
	var spans []Span
	for i, n := range []int{100, 37, 200, 8, 65} {
		k := b.Prefix + "al" + strconv.Itoa(i)
		if err := b.Client.Set(ctx, k, bytes.Repeat([]byte{byte(i + 1)}, n), 0).Err(); err != nil {
			t.Fatal(err)
		}
		spans = append(spans, Span{Key: k, Lo: 0, Hi: int64(n)})
	}
	out, _, err := c.Reader().readSpans(ctx, spans, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range out {
		if int64(len(o)) != spans[i].Hi || o[0] != byte(i+1) {
			t.Fatalf("span %d: %d bytes starting %d, want %d of %d", i, len(o), o[0], spans[i].Hi, i+1)
		}
		if a := uintptr(unsafe.Pointer(&o[0])) % 64; a != 0 {
			t.Errorf("span %d starts at %d mod 64, want 0", i, a)
		}
	}
}
