package bitmapist_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

var day0 = time.Date(2024, 5, 14, 10, 0, 0, 0, time.UTC)

func newClient(b testutil.Backend, opts ...bitmapist.Option) *bitmapist.Client {
	return bitmapist.New(b.Client, append([]bitmapist.Option{bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap)}, opts...)...)
}

func mark(t *testing.T, c *bitmapist.Client, event string, at time.Time, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		if err := c.MarkEvent(context.Background(), event, id, bitmapist.At(at)); err != nil {
			t.Fatalf("mark %s %d: %v", event, id, err)
		}
	}
}

func wantIDs(t *testing.T, s bitmapist.Set, want ...uint64) {
	t.Helper()
	ctx := context.Background()
	got, err := s.IDs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want == nil {
		want = []uint64{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("IDs = %v, want %v", got, want)
	}
	n, err := s.Count(ctx)
	if err != nil || n != int64(len(want)) {
		t.Errorf("Count = %d, %v; want %d", n, err, len(want))
	}
	has, err := s.HasEvents(ctx)
	if err != nil || has != (len(want) > 0) {
		t.Errorf("HasEvents = %v, %v; want %v", has, err, len(want) > 0)
	}
	// Has agrees with IDs for every id up to a bit past the last one.
	top := uint64(40)
	if len(want) > 0 {
		top = want[len(want)-1] + 9
	}
	for id := uint64(0); id <= top; id++ {
		in, err := s.Has(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if in != slices.Contains(want, id) {
			t.Errorf("Has(%d) = %v, want %v", id, in, !in)
		}
	}
}

// noTempKeys fails when a temporary operation key was left behind.
func noTempKeys(t *testing.T, b testutil.Backend) {
	t.Helper()
	if keys := testutil.Keys(t, b.Client, b.Prefix+"bitop_"); len(keys) > 0 {
		t.Errorf("temporary keys left behind: %q", keys)
	}
}

// onServer reports whether b is a bitmapist-server.
func onServer(b testutil.Backend) bool { return b.Name == testutil.NameBitmapistServer }

func TestNotPitfalls(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "one", day0, 1)
		if onServer(b) {
			notRefused(t, c, bitmapist.Not(c.Day("one", day0)))
			notRefused(t, c, bitmapist.And(c.Day("one", day0), bitmapist.Not(c.Day("one", day0))))
			return
		}
		// NOT flips whole bytes: NOT of {1} is {0,2,3,4,5,6,7}.
		wantIDs(t, bitmapist.Not(c.Day("one", day0)), 0, 2, 3, 4, 5, 6, 7)
		// NOT of a missing key is empty.
		wantIDs(t, bitmapist.Not(c.Day("missing", day0)))
		noTempKeys(t, b)
	})
}

// notRefused checks that every read of s, which holds a Not, fails with
// ErrUnsupported on bitmapist-server, before anything is written.
func notRefused(t *testing.T, c *bitmapist.Client, s bitmapist.Set) {
	t.Helper()
	ctx := context.Background()
	if n, err := s.Count(ctx); !errors.Is(err, bitmapist.ErrUnsupported) || n != 0 {
		t.Errorf("Count = %d, %v; want ErrUnsupported", n, err)
	}
	if ids, err := s.IDs(ctx); !errors.Is(err, bitmapist.ErrUnsupported) || ids != nil {
		t.Errorf("IDs = %v, %v; want ErrUnsupported", ids, err)
	}
	if in, err := s.Has(ctx, 0); !errors.Is(err, bitmapist.ErrUnsupported) || in {
		t.Errorf("Has = %v, %v; want ErrUnsupported", in, err)
	}
	if ok, err := s.HasEvents(ctx); !errors.Is(err, bitmapist.ErrUnsupported) || ok {
		t.Errorf("HasEvents = %v, %v; want ErrUnsupported", ok, err)
	}
	if _, err := c.Fetch(ctx, s); !errors.Is(err, bitmapist.ErrUnsupported) {
		t.Errorf("Fetch: %v; want ErrUnsupported", err)
	}
}

func TestAndNotIsTrueDifference(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "a", day0, 1, 20)
		mark(t, c, "b", day0, 2)
		a, bb := c.Day("a", day0), c.Day("b", day0)
		// Redis's A AND NOT B loses 20, which lies beyond B's last byte...
		if !onServer(b) { // (Not is refused there)
			wantIDs(t, bitmapist.And(a, bitmapist.Not(bb)), 1)
		}
		// ...AndNot does not.
		wantIDs(t, bitmapist.AndNot(a, bb), 1, 20)
		// B longer than A, overlapping.
		mark(t, c, "c", day0, 1, 300)
		wantIDs(t, bitmapist.AndNot(a, c.Day("c", day0)), 20)
		wantIDs(t, bitmapist.AndNot(c.Day("c", day0), a), 300)
		// Missing operands.
		wantIDs(t, bitmapist.AndNot(a, c.Day("missing", day0)), 1, 20)
		wantIDs(t, bitmapist.AndNot(c.Day("missing", day0), a))
		noTempKeys(t, b)
	})
}

func TestAndOrXorWithMissingKeys(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "a", day0, 1, 2, 3)
		mark(t, c, "b", day0, 2, 3, 4, 100)
		a, bb, miss := c.Day("a", day0), c.Day("b", day0), c.Day("nothing", day0)
		wantIDs(t, bitmapist.And(a, bb), 2, 3)
		wantIDs(t, bitmapist.Or(a, bb), 1, 2, 3, 4, 100)
		wantIDs(t, bitmapist.Xor(a, bb), 1, 4, 100)
		// A missing key is all zeros: AND with it is empty (and HasEvents
		// says so although Redis would store an all-zero key)...
		wantIDs(t, bitmapist.And(a, miss))
		// ...and so is an AND of nothing but missing keys.
		wantIDs(t, bitmapist.And(miss, c.Day("nothing2", day0)))
		wantIDs(t, bitmapist.Or(a, miss), 1, 2, 3)
		wantIDs(t, bitmapist.Xor(miss, bb), 2, 3, 4, 100)
		// Nesting.
		wantIDs(t, bitmapist.Or(bitmapist.And(a, bb), bitmapist.AndNot(bb, a)), 2, 3, 4, 100)
		wantIDs(t, bitmapist.And(bitmapist.Or(a, miss), bitmapist.Xor(a, bb)), 1)
		// Degenerate combinations.
		wantIDs(t, bitmapist.And())
		wantIDs(t, bitmapist.Or(a), 1, 2, 3)
		noTempKeys(t, b)
	})
}

func TestResultsAreNeverStale(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		ctx := context.Background()
		mark(t, c, "a", day0, 1, 2)
		mark(t, c, "b", day0, 2)
		both := bitmapist.And(c.Day("a", day0), c.Day("b", day0))
		if n, _ := both.Count(ctx); n != 1 {
			t.Fatalf("count = %d, want 1", n)
		}
		mark(t, c, "b", day0, 1)
		wantIDs(t, both, 1, 2)
		if err := c.UnmarkEvent(ctx, "a", 2, bitmapist.At(day0)); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, both, 1)
	})
}

func TestBitOrderIsMSBFirst(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		ctx := context.Background()
		mark(t, c, "answer", day0, 2, 3, 5, 10, 11, 14)
		got, err := b.Client.Get(ctx, c.Key("answer", bitmapist.Days, day0)).Result()
		if err != nil || got != "42" {
			t.Fatalf("bitmap = %q, %v; want \"42\"", got, err)
		}
		// And the other way: a key holding "42" lists those ids.
		key := b.Prefix + "raw42"
		if err := b.Client.Set(ctx, key, "42", 0).Err(); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.KeySet(key), 2, 3, 5, 10, 11, 14)
		// Trailing zero bytes mean nothing.
		if err := b.Client.Set(ctx, key, "42\x00\x00\x00", 0).Err(); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.KeySet(key), 2, 3, 5, 10, 11, 14)
	})
}

func TestRepeatMarksCountOnce(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "login", day0, 5, 5, 5, 9)
		mark(t, c, "login", day0.Add(time.Hour), 5)
		wantIDs(t, c.Day("login", day0), 5, 9)
		wantIDs(t, c.Week("login", day0), 5, 9)
		wantIDs(t, c.Month("login", day0), 5, 9)
		wantIDs(t, c.Year("login", day0), 5, 9)
	})
}

func TestYearIsOrOfMonths(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "buy", time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC), 1)
		mark(t, c, "buy", time.Date(2023, 7, 15, 0, 0, 0, 0, time.UTC), 2)
		mark(t, c, "buy", time.Date(2023, 12, 31, 23, 59, 0, 0, time.UTC), 3)
		mark(t, c, "buy", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), 4)
		y := c.Year("buy", time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC))
		wantIDs(t, y, 1, 2, 3)
		wantIDs(t, y.Next(), 4)
		if len(y.Keys()) != 12 || y.Key() != "" {
			t.Errorf("year keys = %q, key = %q", y.Keys(), y.Key())
		}
		noTempKeys(t, b)
	})
}

func TestUniqueAndLoginHelpers(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		ctx := context.Background()
		if err := c.MarkUnique(ctx, "beta", 3); err != nil {
			t.Fatal(err)
		}
		if err := c.MarkEvent(ctx, "beta", 4, bitmapist.At(day0), bitmapist.TrackUnique(true)); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.Unique("beta"), 3, 4)
		wantIDs(t, c.Day("beta", day0), 4)
		if err := c.UnmarkUnique(ctx, "beta", 3); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.Unique("beta"), 4)

		if err := c.MarkLogin(ctx, 8, bitmapist.At(day0)); err != nil {
			t.Fatal(err)
		}
		if err := c.MarkLogout(ctx, 9, bitmapist.At(day0)); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.Day("user:logged_in", day0), 8)
		wantIDs(t, c.Day(bitmapist.EventLoggedOut, day0), 9)
	})
}

func TestHourlyTrackingPerCall(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		mark(t, c, "view", day0, 1)
		if err := c.MarkEvent(context.Background(), "view", 2, bitmapist.At(day0), bitmapist.TrackHourly(true)); err != nil {
			t.Fatal(err)
		}
		wantIDs(t, c.Hour("view", day0), 2)
		wantIDs(t, c.Day("view", day0), 1, 2)
	})
}

func TestBoundaryIDs(t *testing.T) {
	// 2^32-1 makes a 512 MiB bitmap: miniredis only, to spare the shared servers.
	b := testutil.Miniredis(t)
	// A 512 MiB string takes miniredis a while: give this client time.
	rdb := redis.NewClient(&redis.Options{Addr: b.Mini.Addr(), ReadTimeout: 5 * time.Minute, WriteTimeout: time.Minute})
	defer rdb.Close()
	// miniredis copies the whole string on every range command: scan it
	// in one BITPOS (real Redis keeps the default 4 MiB bound).
	c := bitmapist.New(rdb, bitmapist.WithPrefix(b.Prefix), bitmapist.WithReadLimits(bitmapist.ReadLimits{Scan: 1 << 30}))
	mark(t, c, "edge", day0, 0, bitmapist.MaxUserID)
	ctx := context.Background()
	d := c.Day("edge", day0)
	ids, err := d.IDs(ctx)
	if err != nil || !slices.Equal(ids, []uint64{0, bitmapist.MaxUserID}) {
		t.Fatalf("IDs = %v, %v", ids, err)
	}
	for _, id := range []uint64{0, bitmapist.MaxUserID} {
		if in, err := d.Has(ctx, id); err != nil || !in {
			t.Errorf("Has(%d) = %v, %v", id, in, err)
		}
	}
	if n, err := d.Count(ctx); err != nil || n != 2 {
		t.Errorf("Count = %d, %v", n, err)
	}
}

// TestSparseLargeBitmapIDs lists the ids of a sparse bitmap many times
// longer than the Reader's windows: one id at the start, one at the end,
// nothing between. The shared servers take no ids above 2^24, so the
// bitmap is 2 MiB (id 2^24-1) read with 16 KiB windows: 128 BITPOS/GETRANGE
// windows, the same path a 256 MB bitmap takes with the default 4 MiB
// ones (TestBoundaryIDs marks 2^32-1 on miniredis). The client has
// generous timeouts: the test is about results, never about speed, and
// must not fail when the shared machine is loaded.
func TestSparseLargeBitmapIDs(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		rdb := patientClient(t, b)
		c := bitmapist.New(rdb, bitmapist.WithPrefix(b.Prefix),
			bitmapist.WithReadLimits(bitmapist.ReadLimits{Slice: 16 << 10, Pipeline: 64 << 10, Scan: 16 << 10, InFlight: 64 << 10}))
		const id = 1<<24 - 1 // a 2,097,152-byte bitmap
		mark(t, c, "sparse", day0, 3, id)
		ctx := context.Background()
		key := c.Key("sparse", bitmapist.Days, day0)
		var n int64
		var err error
		if onServer(b) { // no STRLEN; its GET ends at the highest set bit
			var v []byte
			v, err = rdb.Get(ctx, key).Bytes()
			n = int64(len(v))
		} else {
			n, err = rdb.StrLen(ctx, key).Result()
		}
		if err != nil || n != 2_097_152 {
			t.Fatalf("strlen = %d, %v", n, err)
		}
		d := c.Day("sparse", day0)
		log := &cmdLog{}
		rdb.AddHook(log)
		ids, err := d.IDs(ctx)
		if err != nil || !slices.Equal(ids, []uint64{3, id}) {
			t.Fatalf("IDs = %v, %v", ids, err)
		}
		if n := count(log.take(), "BITPOS"); !onServer(b) && n < 2 {
			t.Errorf("IDs sent %d BITPOS, want one per 16 KiB window with data (the sparse path)", n)
		}
		if n, err := d.Count(ctx); err != nil || n != 2 {
			t.Errorf("Count = %d, %v", n, err)
		}
		if n, err := bitmapist.And(d, c.Day("sparse", day0)).Count(ctx); err != nil || n != 2 {
			t.Errorf("And(d, d).Count = %d, %v", n, err)
		}
	})
}

// patientClient returns a client to b's server with one-minute read and
// write timeouts (go-redis's 3 s default fails big reads on a loaded
// machine), closed when t ends.
func patientClient(t *testing.T, b testutil.Backend) redis.UniversalClient {
	t.Helper()
	var rdb redis.UniversalClient
	switch cl := b.Client.(type) {
	case *redis.Client:
		o := *cl.Options()
		o.ReadTimeout, o.WriteTimeout = time.Minute, time.Minute
		rdb = redis.NewClient(&o)
	case *redis.ClusterClient:
		o := *cl.Options()
		o.ReadTimeout, o.WriteTimeout = time.Minute, time.Minute
		rdb = redis.NewClusterClient(&o)
	default:
		t.Fatalf("backend %s: client %T", b.Name, b.Client)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestInvalidInputWritesNothing(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, bitmapist.WithTrackHourly(true), bitmapist.WithTrackUnique(true))
		ctx := context.Background()
		for _, id := range []uint64{bitmapist.MaxUserID + 1, 1 << 40, ^uint64(0)} {
			if err := c.MarkEvent(ctx, "ok", id); !errors.Is(err, bitmapist.ErrInvalidUserID) {
				t.Errorf("MarkEvent(id %d) = %v, want ErrInvalidUserID", id, err)
			}
			if err := c.UnmarkEvent(ctx, "ok", id); !errors.Is(err, bitmapist.ErrInvalidUserID) {
				t.Errorf("UnmarkEvent(id %d) = %v", id, err)
			}
			if err := c.MarkUnique(ctx, "ok", id); !errors.Is(err, bitmapist.ErrInvalidUserID) {
				t.Errorf("MarkUnique(id %d) = %v", id, err)
			}
			if _, err := c.Day("ok", day0).Has(ctx, id); !errors.Is(err, bitmapist.ErrInvalidUserID) {
				t.Errorf("Has(%d) = %v", id, err)
			}
		}
		for _, name := range []string{"", "a b", "x*", "new\nline"} {
			if err := c.MarkEvent(ctx, name, 1); !errors.Is(err, bitmapist.ErrInvalidEventName) {
				t.Errorf("MarkEvent(%q) = %v, want ErrInvalidEventName", name, err)
			}
			if err := c.MarkUnique(ctx, name, 1); !errors.Is(err, bitmapist.ErrInvalidEventName) {
				t.Errorf("MarkUnique(%q) = %v", name, err)
			}
		}
		// A batch with one bad entry writes none of them.
		err := c.MarkEvents(ctx, []bitmapist.Mark{
			{Event: "ok", UserID: 1, Time: day0},
			{Event: "ok", UserID: 2, Time: day0},
			{Event: "bad name", UserID: 3, Time: day0},
		})
		var me *bitmapist.MarkError
		if !errors.As(err, &me) || me.Index != 2 || !errors.Is(err, bitmapist.ErrInvalidEventName) {
			t.Errorf("MarkEvents = %v, want MarkError at 2 wrapping ErrInvalidEventName", err)
		}
		err = c.MarkEvents(ctx, []bitmapist.Mark{{Event: "ok", UserID: 1}, {Event: "ok", UserID: 1 << 33}})
		if !errors.As(err, &me) || me.Index != 1 || !errors.Is(err, bitmapist.ErrInvalidUserID) {
			t.Errorf("MarkEvents = %v, want MarkError at 1 wrapping ErrInvalidUserID", err)
		}
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
			t.Errorf("invalid input wrote %q", keys)
		}
	})
}

func TestRedisErrorIsWrappedWithEventName(t *testing.T) {
	// A Redis that is not there: a port that was just listening.
	b := testutil.Miniredis(t)
	dead := miniredis.RunT(t)
	addr := dead.Addr()
	dead.Close()
	rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialTimeout: time.Second})
	defer rdb.Close()
	c := bitmapist.New(rdb, bitmapist.WithPrefix(b.Prefix))
	err := c.MarkEvent(context.Background(), "signup", 1)
	if err == nil || !containsAll(err.Error(), `"signup"`, "mark") {
		t.Fatalf("err = %v, want the event name in it", err)
	}
	if _, err := c.Day("signup", day0).Count(context.Background()); err == nil {
		t.Fatal("Count on a stopped Redis returned no error")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

func TestConcurrentMarkAndCount(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b)
		ctx := context.Background()
		const workers, each = 50, 20
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					id := uint64(w*each + i)
					if err := c.MarkEvent(ctx, "busy", id, bitmapist.At(day0)); err != nil {
						errs <- err
						return
					}
					if id%2 == 0 {
						if err := c.MarkEvent(ctx, "even", id, bitmapist.At(day0)); err != nil {
							errs <- err
							return
						}
					}
					// Read while others write: any answer in range is fine here,
					// an error is not.
					n, err := bitmapist.And(c.Day("busy", day0), c.Day("even", day0)).Count(ctx)
					if err != nil || n < 0 || n > workers*each/2 {
						errs <- errors.Join(err, errors.New("count out of range"))
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if n, err := c.Day("busy", day0).Count(ctx); err != nil || n != workers*each {
			t.Errorf("busy = %d, %v; want %d", n, err, workers*each)
		}
		if n, err := bitmapist.And(c.Day("busy", day0), c.Week("even", day0)).Count(ctx); err != nil || n != workers*each/2 {
			t.Errorf("busy AND even = %d, %v; want %d", n, err, workers*each/2)
		}
		noTempKeys(t, b)
	})
}
