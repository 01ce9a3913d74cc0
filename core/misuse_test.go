package bitmapist_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestNoRedisNeverPanics calls every Redis-backed operation on clients made
// without Redis (nil, and nil pointers of each client type): each returns
// ErrNoRedis, none panics, and keys and periods still work.
func TestNoRedisNeverPanics(t *testing.T) {
	ctx := context.Background()
	for name, rdb := range map[string]redis.UniversalClient{
		"nil":                nil,
		"nil *Client":        (*redis.Client)(nil),
		"nil *ClusterClient": (*redis.ClusterClient)(nil),
		"nil *Ring":          (*redis.Ring)(nil),
	} {
		t.Run(name, func(t *testing.T) {
			c := bitmapist.New(rdb)
			is := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, bitmapist.ErrNoRedis) {
					t.Errorf("%s: %v, want ErrNoRedis", what, err)
				}
			}
			is("MarkEvent", c.MarkEvent(ctx, "a", 1))
			is("UnmarkEvent", c.UnmarkEvent(ctx, "a", 1))
			is("MarkUnique", c.MarkUnique(ctx, "a", 1))
			is("MarkEvents", c.MarkEvents(ctx, []bitmapist.Mark{{Event: "a", UserID: 1}}))
			is("MarkEventString", c.MarkEventString(ctx, "a", "x"))
			sets := []bitmapist.Set{c.Day("a", day0), c.Year("a", day0), c.Unique("a"),
				bitmapist.And(c.Day("a", day0), c.Day("b", day0)), bitmapist.Not(c.Day("a", day0))}
			for _, s := range sets {
				_, err := s.Count(ctx)
				is("Count", err)
				_, err = s.Has(ctx, 1)
				is("Has", err)
				_, err = s.IDs(ctx)
				is("IDs", err)
				_, err = s.HasEvents(ctx)
				is("HasEvents", err)
			}
			_, err := c.Fetch(ctx, sets...)
			is("Fetch", err)
			_, err = c.EventNames(ctx, "")
			is("EventNames", err)
			_, err = c.Periods(ctx, "a", bitmapist.Days)
			is("Periods", err)
			_, err = c.DeleteEvent(ctx, "a")
			is("DeleteEvent", err)
			_, err = c.DeleteAll(ctx)
			is("DeleteAll", err)
			_, err = c.DeleteTemporaryBitmaps(ctx)
			is("DeleteTemporaryBitmaps", err)
			m := c.Users()
			_, err = m.ID(ctx, "x")
			is("IDMap.ID", err)
			_, _, err = m.Lookup(ctx, "x")
			is("IDMap.Lookup", err)
			_, err = m.Strings(ctx, []uint64{1})
			is("IDMap.Strings", err)
			_, err = m.Len(ctx)
			is("IDMap.Len", err)
			is("IDMap.Delete", m.Delete(ctx))
			// What needs no Redis still works.
			if k := c.Key("a", bitmapist.Days, day0); k != "trackist_a_2024-5-14" {
				t.Errorf("Key = %q", k)
			}
			if l := c.Month("a", day0).Next().Label(); l != "2024-06" {
				t.Errorf("Label = %q", l)
			}
		})
	}
}

// TestImpossibleTimesWriteNothing: a time whose year is outside 1..9999 in
// the client's location would make keys no listing can parse.
func TestImpossibleTimesWriteNothing(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithTrackHourly(true))
		east := time.FixedZone("+14", 14*3600)
		bad := []time.Time{
			time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Date(-5, 6, 1, 0, 0, 0, 0, time.UTC),
			time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
			time.Unix(99999999999999, 0),
			time.Date(1, 1, 1, 5, 0, 0, 0, east), // year 0 in UTC
		}
		for _, at := range bad {
			if err := c.MarkEvent(ctx, "ok", 1, bitmapist.At(at)); !errors.Is(err, bitmapist.ErrInvalidTime) {
				t.Errorf("MarkEvent at %v: %v, want ErrInvalidTime", at, err)
			}
			if err := c.UnmarkEvent(ctx, "ok", 1, bitmapist.At(at)); !errors.Is(err, bitmapist.ErrInvalidTime) {
				t.Errorf("UnmarkEvent at %v: %v, want ErrInvalidTime", at, err)
			}
			err := c.MarkEvents(ctx, []bitmapist.Mark{{Event: "ok", UserID: 1, Time: day0}, {Event: "ok", UserID: 2, Time: at}})
			var me *bitmapist.MarkError
			if !errors.As(err, &me) || me.Index != 1 || !errors.Is(err, bitmapist.ErrInvalidTime) {
				t.Errorf("MarkEvents at %v: %v, want MarkError at 1 wrapping ErrInvalidTime", at, err)
			}
		}
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
			t.Errorf("impossible times wrote %q", keys)
		}
		// The edges of the range are fine.
		for _, at := range []time.Time{time.Date(1, 1, 1, 1, 0, 0, 0, time.UTC), time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC)} {
			if err := c.MarkEvent(ctx, "edge", 1, bitmapist.At(at)); err != nil {
				t.Errorf("MarkEvent at %v: %v", at, err)
			}
			if in, err := c.Day("edge", at).Has(ctx, 1); err != nil || !in {
				t.Errorf("Has at %v = %v, %v", at, in, err)
			}
		}
	})
}
