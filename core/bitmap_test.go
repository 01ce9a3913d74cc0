package bitmapist_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// model is the obvious set implementation the Bitmap operations are
// checked against.
type model map[uint64]bool

func (m model) ids() []uint64 {
	out := []uint64{}
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

func randomBitmap(r *rand.Rand, maxID int) (bitmapist.Bitmap, model) {
	var b bitmapist.Bitmap
	m := model{}
	for range r.IntN(maxID/2 + 1) {
		id := uint64(r.IntN(maxID))
		var err error
		if b, err = b.Set(id); err != nil {
			panic(err)
		}
		m[id] = true
	}
	return b, m
}

func TestBitmapOperationsMatchModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 500 {
		// Lengths differ on purpose, including empty bitmaps and sizes
		// that are not multiples of 8 bytes.
		a, ma := randomBitmap(r, 1+r.IntN(300))
		b, mb := randomBitmap(r, 1+r.IntN(300))
		and, or, xor, diff := model{}, model{}, model{}, model{}
		for id := range ma {
			or[id] = true
			if mb[id] {
				and[id] = true
			} else {
				diff[id] = true
				xor[id] = true
			}
		}
		for id := range mb {
			or[id] = true
			if !ma[id] {
				xor[id] = true
			}
		}
		check := func(name string, got bitmapist.Bitmap, want model, wantLen int) {
			t.Helper()
			if !slices.Equal(got.IDs(), want.ids()) {
				t.Fatalf("case %d %s: %v, want %v", i, name, got.IDs(), want.ids())
			}
			if got.Count() != int64(len(want)) {
				t.Fatalf("case %d %s: Count %d, want %d", i, name, got.Count(), len(want))
			}
			if len(got) != wantLen {
				t.Fatalf("case %d %s: length %d, want %d (Redis BITOP length)", i, name, len(got), wantLen)
			}
		}
		long := max(len(a), len(b))
		check("And", a.And(b), and, long)
		check("Or", a.Or(b), or, long)
		check("Xor", a.Xor(b), xor, long)
		check("AndNot", a.AndNot(b), diff, long)
		check("OrWith", a.Clone().OrWith(b), or, long)
		check("AndNotWith", a.Clone().AndNotWith(b), diff, len(a))
		if got := a.AndCount(b); got != int64(len(and)) {
			t.Fatalf("case %d AndCount = %d, want %d", i, got, len(and))
		}
		not := model{}
		for id := range uint64(len(a) * 8) {
			if !ma[id] {
				not[id] = true
			}
		}
		check("Not", a.Not(), not, len(a))
		for id := range uint64(len(a)*8 + 9) {
			if a.Has(id) != ma[id] {
				t.Fatalf("case %d Has(%d) = %v", i, id, a.Has(id))
			}
		}
	}
}

func TestBitmapLayoutIsRedis(t *testing.T) {
	var b bitmapist.Bitmap
	for _, id := range []uint64{2, 3, 5, 10, 11, 14} {
		var err error
		if b, err = b.Set(id); err != nil {
			t.Fatal(err)
		}
	}
	if string(b) != "42" {
		t.Fatalf("bitmap = %q, want \"42\"", b)
	}
	if got := bitmapist.Bitmap("42").IDs(); !slices.Equal(got, []uint64{2, 3, 5, 10, 11, 14}) {
		t.Fatalf("IDs = %v", got)
	}
	if got := bitmapist.Bitmap(nil).Not(); len(got) != 0 {
		t.Errorf("NOT of empty = %v", got)
	}
}

func TestBitmapSetRejectsIDsRedisRejects(t *testing.T) {
	for _, id := range []uint64{bitmapist.MaxUserID + 1, 1 << 36, ^uint64(0)} {
		b, err := bitmapist.Bitmap("x").Set(id)
		if !errors.Is(err, bitmapist.ErrInvalidUserID) || string(b) != "x" {
			t.Errorf("Set(%d) = %q, %v; want the bitmap unchanged and ErrInvalidUserID", id, b, err)
		}
	}
}
