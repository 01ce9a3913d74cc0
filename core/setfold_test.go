package bitmapist_test

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestEvalSetAndFoldSet: EvalSet on a set's fetched bitmaps gives Redis's
// answer, and FoldSet walks the set's tree with BITOP's names.
func TestEvalSetAndFoldSet(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx := context.Background()
	c := newClient(b)
	mark(t, c, "a", day0, 1, 2, 3, 500)
	mark(t, c, "b", day0, 2, 9)
	a, bb, miss := c.Day("a", day0), c.Day("b", day0), c.Day("zz", day0)
	for _, s := range []bitmapist.Set{
		a, bitmapist.And(a, bb), bitmapist.Or(a, bb, miss), bitmapist.Xor(a, bb), bitmapist.AndNot(a, bb),
		bitmapist.Not(bb), bitmapist.And(a, bitmapist.Not(bb)), bitmapist.Or(bitmapist.And(a, miss), bitmapist.AndNot(bb, a)),
	} {
		snap, err := c.Fetch(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.IDs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := bitmapist.EvalSet(s, func(k string) bitmapist.Bitmap { return snap.Bitmap(c.KeySet(k)) }).IDs()
		if !slices.Equal(got, want) && (len(got) > 0 || len(want) > 0) {
			t.Errorf("%v: EvalSet %v, Redis %v", s.Keys(), got, want)
		}
	}
	if bitmapist.EvalSet(nil, nil) != nil {
		t.Error("EvalSet(nil) is not nil")
	}
	name := func(k string) string { return strings.TrimPrefix(k, b.Prefix) }
	show := func(op bitmapist.SetOp, args []string) string {
		return string(op) + "(" + strings.Join(args, ",") + ")"
	}
	got := bitmapist.FoldSet(bitmapist.Or(bitmapist.And(a, bitmapist.Not(bb)), bitmapist.AndNot(bb, a)), name, show)
	if want := "OR(AND(" + name(a.Key()) + ",NOT(" + name(bb.Key()) + ")),ANDNOT(" + name(bb.Key()) + "," + name(a.Key()) + "))"; got != want {
		t.Errorf("FoldSet %s, want %s", got, want)
	}
	if got := bitmapist.FoldSet(nil, name, show); got != "EMPTY()" {
		t.Errorf("FoldSet(nil) %s", got)
	}
	if got := bitmapist.FoldSet(bitmapist.And(), name, show); got != "EMPTY()" {
		t.Errorf("FoldSet(And()) %s", got)
	}
}

// TestEvalSegmentIsComplementWithinWidth: for random sets of keys of
// every length (missing, all zeros, shorter or longer than the width) and
// random trees of And/Or/Xor/AndNot/Not, EvalSegment over width bytes
// holds exactly the ids below 8*width that the tree's boolean formula
// holds, Not(a) being "not in a" (EvalSet keeps Redis's byte-bound Not).
func TestEvalSegmentIsComplementWithinWidth(t *testing.T) {
	c := bitmapist.New(nil)
	rng := rand.New(rand.NewPCG(1, 2))
	names := []string{"k0", "k1", "k2", "k3"}
	const width = 6
	var build func(depth int) (bitmapist.Set, func(map[string]bitmapist.Bitmap, uint64) bool)
	build = func(depth int) (bitmapist.Set, func(map[string]bitmapist.Bitmap, uint64) bool) {
		if depth == 0 || rng.IntN(3) == 0 {
			k := names[rng.IntN(len(names))]
			return c.KeySet(k), func(m map[string]bitmapist.Bitmap, id uint64) bool { return m[k].Has(id) }
		}
		a, fa := build(depth - 1)
		b, fb := build(depth - 1)
		switch rng.IntN(5) {
		case 0:
			return bitmapist.Not(a), func(m map[string]bitmapist.Bitmap, id uint64) bool { return !fa(m, id) }
		case 1:
			return bitmapist.And(a, b), func(m map[string]bitmapist.Bitmap, id uint64) bool { return fa(m, id) && fb(m, id) }
		case 2:
			return bitmapist.Or(a, b), func(m map[string]bitmapist.Bitmap, id uint64) bool { return fa(m, id) || fb(m, id) }
		case 3:
			return bitmapist.Xor(a, b), func(m map[string]bitmapist.Bitmap, id uint64) bool { return fa(m, id) != fb(m, id) }
		}
		return bitmapist.AndNot(a, b), func(m map[string]bitmapist.Bitmap, id uint64) bool { return fa(m, id) && !fb(m, id) }
	}
	for range 2000 {
		m := map[string]bitmapist.Bitmap{}
		for _, k := range names {
			switch n := rng.IntN(10); {
			case n == 0: // missing
			case n == 1:
				m[k] = make(bitmapist.Bitmap, 1+rng.IntN(2*width)) // all zeros
			default:
				bm := make(bitmapist.Bitmap, 1+rng.IntN(2*width))
				for i := range bm {
					bm[i] = byte(rng.Uint32())
				}
				m[k] = bm
			}
		}
		seg, holds := build(3)
		got := bitmapist.EvalSegment(seg, width, func(k string) bitmapist.Bitmap { return m[k] })
		for id := range uint64(8 * width) {
			if got.Has(id) != holds(m, id) {
				t.Fatalf("%v over %v: id %d in result %v, want %v", seg, m, id, got.Has(id), holds(m, id))
			}
		}
	}
	if bitmapist.EvalSegment(nil, width, nil) != nil {
		t.Error("nil segment: not nil")
	}
}
