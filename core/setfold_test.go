package bitmapist_test

import (
	"context"
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
