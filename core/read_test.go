package bitmapist_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// tiny limits make every read cross many slices, pipelines and stripes.
var tiny = bitmapist.ReadLimits{Slice: 100, Pipeline: 300, Scan: 64, InFlight: 300, Combine: 1000}

// TestReaderSpansExtentsCount reads through the raw path (WithRawReads'
// default) and through go-redis: the same bytes either way.
func TestReaderSpansExtentsCount(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, raw := range []bool{true, false} {
			readSpansExtentsCount(t, b, raw)
		}
	})
}

func readSpansExtentsCount(t *testing.T, b testutil.Backend, raw bool) {
	{
		ctx := context.Background()
		c := newClient(b, bitmapist.WithReadLimits(tiny), bitmapist.WithRawReads(raw))
		r := c.Reader()
		rng := rand.New(rand.NewPCG(1, 2))
		data := make([]byte, 1000)
		for i := range data[300:] {
			data[300+i] = byte(rng.Uint32())
		}
		key, none, zero := b.Prefix+"rd", b.Prefix+"missing", b.Prefix+"zeros"
		if err := b.Client.Set(ctx, key, data, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.Set(ctx, zero, make([]byte, 500), 0).Err(); err != nil {
			t.Fatal(err)
		}
		ext, err := r.Extents(ctx, []string{key, none, zero})
		if err != nil {
			t.Fatal(err)
		}
		first := int64(300)
		for data[first] == 0 {
			first++
		}
		want := []bitmapist.Extent{{Len: 1000, First: first}, {Len: 0, First: -1}, {Len: 500, First: -1}}
		if b.Name == testutil.NameBitmapistServer {
			want[2].Len = 0 // a roaring bitmap without set bits: its GET is empty
		}
		if !slices.Equal(ext, want) {
			t.Errorf("Extents = %v, want %v", ext, want)
		}
		got, err := r.ReadSpans(ctx, []bitmapist.Span{{Key: key, Lo: 250, Hi: 999}, {Key: key, Lo: 950, Hi: 5000}, {Key: none, Hi: 10}, {Key: key, Lo: 5, Hi: 5}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[0], data[250:999]) || !bytes.Equal(got[1], data[950:]) || got[2] != nil || got[3] != nil {
			t.Errorf("ReadSpans = %d, %d, %v, %v bytes", len(got[0]), len(got[1]), got[2], got[3])
		}
		n, err := r.Count(ctx, key)
		if err != nil || n != bitmapist.Bitmap(data).Count() {
			t.Errorf("Count = %d, %v; want %d", n, err, bitmapist.Bitmap(data).Count())
		}
	}
}

// TestReaderRawErrors: on the raw path a key of another type fails the
// read with Redis's error (and the next read on the pooled connections
// still gets the right bytes), and a cancelled context stops it.
func TestReaderRawErrors(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		if b.Name == testutil.NameCluster || b.Name == testutil.NameBitmapistServer {
			return // no raw reads there (go-redis's path, tested above)
		}
		ctx := context.Background()
		c := newClient(b, bitmapist.WithReadLimits(tiny))
		key, list := b.Prefix+"rawok", b.Prefix+"rawlist"
		data := bytes.Repeat([]byte{0xa5, 1, 2}, 300)
		if err := b.Client.Set(ctx, key, data, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.RPush(ctx, list, "x").Err(); err != nil {
			t.Fatal(err)
		}
		_, err := c.Reader().ReadSpans(ctx, []bitmapist.Span{{Key: key, Hi: 900}, {Key: list, Hi: 10}})
		var rerr redis.Error
		if !errors.As(err, &rerr) || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Errorf("ReadSpans of a list: %v, want Redis's WRONGTYPE error", err)
		}
		for range 3 {
			got, err := c.Reader().ReadSpans(ctx, []bitmapist.Span{{Key: key, Lo: 7, Hi: 900}})
			if err != nil || !bytes.Equal(got[0], data[7:]) {
				t.Fatalf("ReadSpans after the error: %d bytes, %v", len(got[0]), err)
			}
		}
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Reader().ReadSpans(cctx, []bitmapist.Span{{Key: key, Hi: 900}}); !errors.Is(err, context.Canceled) {
			t.Errorf("ReadSpans with a cancelled context: %v", err)
		}
	})
}

func TestReaderStripesCoverEveryByte(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, raw := range []bool{true, false} {
			stripesCoverEveryByte(t, b, raw)
		}
	})
}

func stripesCoverEveryByte(t *testing.T, b testutil.Backend, raw bool) {
	{
		ctx := context.Background()
		c := newClient(b, bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 4096, Pipeline: 8192}), bitmapist.WithRawReads(raw))
		rng := rand.New(rand.NewPCG(3, 4))
		keys := []string{b.Prefix + "s0", b.Prefix + "s1"}
		vals := [][]byte{make([]byte, 20_000), make([]byte, 9_000)}
		for i, v := range vals {
			for j := range v {
				v[j] = byte(rng.Uint32())
			}
			if err := b.Client.Set(ctx, keys[i], v, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		spans := []bitmapist.Span{{Key: keys[0], Lo: 1000, Hi: 20_000}, {Key: keys[1], Lo: 5000, Hi: 30_000}}
		gotA, gotB := make([]byte, 20_000), make([]byte, 9_000)
		var mu sync.Mutex
		err := c.Reader().Stripes(ctx, spans, bitmapist.StripeOptions{Workers: 3, Memory: 1}, func(off, n int64, bufs []bitmapist.Bitmap) error {
			mu.Lock()
			defer mu.Unlock()
			if len(bufs[0]) > 0 {
				copy(gotA[off:], bufs[0])
			}
			if len(bufs[1]) > 0 { // nil past the key's end
				copy(gotB[off:], bufs[1])
			}
			if int64(len(bufs[0])) > n || int64(len(bufs[1])) > n {
				t.Errorf("stripe %d: bufs longer than %d", off, n)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantA := append(make([]byte, 1000), vals[0][1000:]...)
		wantB := append(make([]byte, 5000), vals[1][5000:]...)
		if !bytes.Equal(gotA, wantA) || !bytes.Equal(gotB, wantB) {
			t.Errorf("raw %v: stripes did not deliver each span's bytes exactly once, zeros outside them", raw)
		}
	}
}

func TestEachIDBatchesMatchIDs(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithReadLimits(tiny))
		ids := []uint64{0, 7, 8, 700, 701, 5000, 5001, 9999}
		mark(t, c, "ea", day0, ids...)
		mark(t, c, "eb", day0, 7, 701, 9999, 12_000)
		for _, s := range []bitmapist.Set{c.Day("ea", day0), bitmapist.Or(c.Day("ea", day0), c.Day("eb", day0)),
			bitmapist.AndNot(c.Day("ea", day0), c.Day("eb", day0))} {
			want, err := s.IDs(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			if err := bitmapist.EachID(ctx, s, func(batch []uint64) error {
				got = append(got, batch...)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) || len(want) == 0 {
				t.Errorf("EachID = %v, IDs = %v", got, want)
			}
		}
		if got, _ := bitmapist.Or(c.Day("ea", day0), c.Day("eb", day0)).IDs(ctx); !slices.Equal(got, []uint64{0, 7, 8, 700, 701, 5000, 5001, 9999, 12_000}) {
			t.Errorf("Or IDs = %v", got)
		}
	})
}

// TestOrCountMatchesBitmaps: the count of an OR of keys (counted chunk by
// chunk in the stripes, without building the union) equals the count of
// the union built in memory, for keys of different lengths across
// several stripes and chunks.
func TestOrCountMatchesBitmaps(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		rng := rand.New(rand.NewPCG(5, 6))
		var sets []bitmapist.Set
		var union bitmapist.Bitmap
		for i, n := range []int{70_000, 1, 0, 20_001, 9_000} {
			v := make([]byte, n)
			for j := range v {
				v[j] = byte(rng.Uint32() & rng.Uint32())
			}
			key := b.Prefix + "or" + strconv.Itoa(i)
			if n > 0 {
				if err := b.Client.Set(ctx, key, v, 0).Err(); err != nil {
					t.Fatal(err)
				}
			}
			union = union.OrWith(v)
			sets = append(sets, c.KeySet(key))
		}
		got, err := bitmapist.Or(sets...).Count(ctx)
		if err != nil || got != union.Count() {
			t.Errorf("Or count = %d, %v; want %d", got, err, union.Count())
		}
	})
}
