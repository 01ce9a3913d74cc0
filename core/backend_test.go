package bitmapist_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// cmdLog records the names of the commands a client sends.
type cmdLog struct {
	mu   sync.Mutex
	cmds []string
}

func (l *cmdLog) DialHook(next redis.DialHook) redis.DialHook { return next }

func (l *cmdLog) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		l.add(cmd)
		return next(ctx, cmd)
	}
}

func (l *cmdLog) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			l.add(c)
		}
		return next(ctx, cmds)
	}
}

func (l *cmdLog) add(c redis.Cmder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, strings.ToUpper(c.Name()))
}

// take returns the commands logged since the last take.
func (l *cmdLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds = nil
	return out
}

// count returns how many of cmds are name.
func count(cmds []string, name string) int {
	n := 0
	for _, c := range cmds {
		if c == name {
			n++
		}
	}
	return n
}

func TestBackendDetected(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		log := &cmdLog{}
		b.Client.AddHook(log)
		c := newClient(b)
		want := bitmapist.BackendRedis
		if onServer(b) {
			want = bitmapist.BackendBitmapistServer
		}
		for range 3 {
			if got, err := c.Backend(ctx); err != nil || got != want {
				t.Fatalf("Backend = %v, %v; want %v", got, err, want)
			}
		}
		wantInfo := 1
		if b.Name == testutil.NameCluster {
			wantInfo = 0 // a cluster client is Redis without asking
		}
		if n := count(log.take(), "INFO"); n != wantInfo {
			t.Errorf("%d INFO sent for three calls, want %d", n, wantInfo)
		}
		// Everything a README reader does, with the same results.
		mark(t, c, "a", day0, 1, 20, 300)
		mark(t, c, "b", day0, 20, 301)
		a, bb := c.Day("a", day0), c.Day("b", day0)
		wantIDs(t, a, 1, 20, 300)
		wantIDs(t, bitmapist.And(a, bb), 20)
		wantIDs(t, bitmapist.Or(a, bb), 1, 20, 300, 301)
		wantIDs(t, bitmapist.Xor(a, bb), 1, 300, 301)
		wantIDs(t, bitmapist.AndNot(a, bb), 1, 300)
		if ok, err := bitmapist.And(a, c.Day("zz", day0)).HasEvents(ctx); err != nil || ok {
			t.Errorf("HasEvents of an empty And = %v, %v", ok, err)
		}
		if n, err := c.DeleteEvent(ctx, "a"); err != nil || n != 3 {
			t.Errorf("DeleteEvent = %d, %v; want 3 keys", n, err)
		}
		wantIDs(t, a)
		cmds := log.take()
		for _, name := range []string{"BITPOS", "GETRANGE", "STRLEN", "UNLINK"} {
			if onServer(b) && count(cmds, name) > 0 {
				t.Errorf("%s sent to bitmapist-server", name)
			}
		}
		// (A cluster's deletes go through its node clients, unhooked.)
		if b.Name != testutil.NameCluster && !onServer(b) && count(cmds, "UNLINK") == 0 {
			t.Errorf("Redis delete did not use UNLINK (%d commands)", len(cmds))
		}
	})
}

func TestWithBackendSkipsDetection(t *testing.T) {
	b := testutil.Miniredis(t)
	log := &cmdLog{}
	b.Client.AddHook(log)
	c := newClient(b, bitmapist.WithBackend(bitmapist.BackendRedis))
	if got, err := c.Backend(context.Background()); err != nil || got != bitmapist.BackendRedis {
		t.Fatalf("Backend = %v, %v", got, err)
	}
	if cmds := log.take(); len(cmds) != 0 {
		t.Errorf("WithBackend still sent %v", cmds)
	}
	if _, err := bitmapist.New(nil).Backend(context.Background()); !errors.Is(err, bitmapist.ErrNoRedis) {
		t.Errorf("Backend without Redis: %v", err)
	}
}

func TestBackendDetectionRetriedAfterError(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b)
	b.Mini.Close()
	if _, err := c.Backend(context.Background()); err == nil {
		t.Fatal("Backend of a stopped server: no error")
	}
	if err := b.Mini.Restart(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Backend(context.Background()); err != nil || got != bitmapist.BackendRedis {
		t.Errorf("Backend after restart = %v, %v", got, err)
	}
}

func TestParseBackend(t *testing.T) {
	for _, b := range []bitmapist.Backend{bitmapist.BackendAuto, bitmapist.BackendRedis, bitmapist.BackendBitmapistServer} {
		if got, err := bitmapist.ParseBackend(strings.ToUpper(b.String())); err != nil || got != b {
			t.Errorf("ParseBackend(%q) = %v, %v", b, got, err)
		}
	}
	if _, err := bitmapist.ParseBackend("memcached"); !errors.Is(err, bitmapist.ErrUnsupported) {
		t.Errorf("ParseBackend(memcached): %v", err)
	}
}

func TestStringIDsOnServerNeedIDMapClient(t *testing.T) {
	// A miniredis told it is a bitmapist-server runs everywhere; the real
	// one is covered by ForEachRedis below.
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithBackend(bitmapist.BackendBitmapistServer))
	ctx := context.Background()
	err := c.MarkEventString(ctx, "signup", "alice")
	if !errors.Is(err, bitmapist.ErrNoIDMap) || !errors.Is(err, bitmapist.ErrUnsupported) {
		t.Fatalf("MarkEventString on bitmapist-server without id map: %v", err)
	}
	if _, err := c.Users().Strings(ctx, []uint64{0}); !errors.Is(err, bitmapist.ErrNoIDMap) {
		t.Errorf("Strings: %v", err)
	}
	if keys := b.Mini.Keys(); len(keys) != 0 {
		t.Errorf("keys written before the error: %q", keys)
	}

	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		if b.IDMap == nil {
			t.Skip("the id map lives in the Redis itself here; see TestIDMapAssignsDenseStableOffsets")
		}
		bare := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
		if err := bare.MarkEventString(ctx, "signup", "bob"); !errors.Is(err, bitmapist.ErrNoIDMap) {
			t.Errorf("real bitmapist-server without id map: %v", err)
		}
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
			t.Errorf("keys written before the error: %q", keys)
		}
		c := newClient(b)
		if err := c.MarkEventString(ctx, "signup", "bob"); err != nil {
			t.Fatal(err)
		}
		ids, _ := c.Day("signup", c.Now()).IDs(ctx)
		strs, err := c.Users().Strings(ctx, ids)
		if err != nil || !slices.Equal(strs, []string{"bob"}) {
			t.Errorf("marked %v = %q, %v", ids, strs, err)
		}
		if n, _ := b.IDMap.Exists(ctx, "bitmapist_idmap:{"+b.Prefix+"users}:fwd").Result(); n != 1 {
			t.Error("the id map is not in the WithIDMapClient Redis")
		}
	})
}

func TestSlashNamesRefusedButListed(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		if err := c.MarkEvent(ctx, "page/view", 1); !errors.Is(err, bitmapist.ErrInvalidEventName) {
			t.Errorf("MarkEvent(page/view): %v", err)
		}
		if err := bitmapist.ValidateEventName("a/b/c"); err == nil || !strings.Contains(err.Error(), "'/'") {
			t.Errorf("ValidateEventName(a/b/c) = %v", err)
		}
		// Python bitmapist may have written such names: they are listed,
		// read and deleted on every backend.
		for _, k := range []string{"page/view_2024-5-14", "a/b/c_2024-5", "ok_2024-5-14"} {
			if err := b.Client.SetBit(ctx, b.Prefix+k, 7, 1).Err(); err != nil {
				t.Fatal(err)
			}
		}
		names, err := c.EventNames(ctx, "")
		if err != nil || !slices.Equal(names, []string{"a/b/c", "ok", "page/view"}) {
			t.Errorf("EventNames = %q, %v", names, err)
		}
		wantIDs(t, c.Day("page/view", day0), 7)
		if n, err := c.DeleteEvent(ctx, "page/view"); err != nil || n != 1 {
			t.Errorf("DeleteEvent(page/view) = %d, %v", n, err)
		}
		if n, err := c.DeleteAll(ctx); err != nil || n != 2 {
			t.Errorf("DeleteAll = %d, %v; want the 2 left", n, err)
		}
	})
}
