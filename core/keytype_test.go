package bitmapist_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// A hash where a bitmap key is read gives a *KeyTypeError naming the key,
// from a count and from both span-read paths (raw and go-redis).
func TestHashAtBitmapKeyIsKeyTypeError(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		for _, raw := range []bool{true, false} {
			c := newClient(b, bitmapist.WithReadLimits(tiny), bitmapist.WithRawReads(raw))
			m := c.Month("hashy", time.Date(2016, 5, 3, 0, 0, 0, 0, time.UTC))
			if err := b.Client.HSet(ctx, m.Key(), "a", "b").Err(); err != nil {
				t.Fatal(err)
			}
			_, cerr := m.Count(ctx)
			_, serr := c.Reader().ReadSpans(ctx, []bitmapist.Span{{Key: m.Key(), Hi: 10}})
			for what, err := range map[string]error{"Count": cerr, "ReadSpans": serr} {
				var kt *bitmapist.KeyTypeError
				if !errors.As(err, &kt) || kt.Key != m.Key() {
					t.Fatalf("raw %v: %s of a hash: %v, want a *KeyTypeError for %q", raw, what, err, m.Key())
				}
				if !errors.Is(err, &bitmapist.KeyTypeError{}) || errors.Is(err, &bitmapist.KeyTypeError{Key: "other"}) {
					t.Errorf("raw %v: %s: errors.Is does not match by key: %v", raw, what, err)
				}
				want := `bitmapist: key "` + m.Key() + `" is not a bitmap (string) key: WRONGTYPE`
				if !strings.Contains(err.Error(), want) {
					t.Errorf("raw %v: %s: %q, want it to contain %q", raw, what, err, want)
				}
			}
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it has no hashes"))
}
