package testutil

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// writeKeys writes n keys containing prefix at its start, middle and end,
// of several types, and returns their names. On bitmapist-server (bitmaps
// only, SCAN '*' stopping at '/') the keys are bitmaps, some holding '/'
// after the prefix.
func writeKeys(t *testing.T, c redis.UniversalClient, prefix string, n int, server bool) []string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	for i := range n {
		var k string
		switch i % 3 {
		case 0:
			k = fmt.Sprintf("%sk%d", prefix, i)
		case 1:
			k = fmt.Sprintf("bitmapist_%sk%d", prefix, i)
		default:
			k = fmt.Sprintf("x%d_%s", i, prefix)
		}
		var err error
		switch {
		case server && i%5 == 0:
			k = fmt.Sprintf("%sa/b%s/%d", prefix, strings.Repeat("/c", i%3), i)
			err = c.SetBit(ctx, k, int64(i), 1).Err()
		case server:
			err = c.SetBit(ctx, k, int64(i), 1).Err()
		}
		if server {
			if err != nil {
				t.Fatalf("writing %s: %v", k, err)
			}
			keys = append(keys, k)
			continue
		}
		switch i % 4 {
		case 0:
			err = c.SetBit(ctx, k, int64(i), 1).Err()
		case 1:
			err = c.Set(ctx, k, "v", 0).Err()
		case 2:
			err = c.HSet(ctx, k, "f", "v").Err()
		default:
			err = c.SAdd(ctx, k, "m").Err()
		}
		if err != nil {
			t.Fatalf("writing %s: %v", k, err)
		}
		keys = append(keys, k)
	}
	return keys
}

// countKeys counts the keys containing prefix, per master on a cluster
// (with server, also those with '/' after the prefix).
func countKeys(t *testing.T, c redis.UniversalClient, prefix string, server bool) (total int, perNode []int) {
	t.Helper()
	ctx := context.Background()
	count := func(node *redis.Client) int {
		var n int
		for _, p := range scanPatterns("*"+prefix+"*", server) {
			iter := node.Scan(ctx, 0, p, 1000).Iterator()
			for iter.Next(ctx) {
				n++
			}
			if err := iter.Err(); err != nil {
				t.Fatalf("scan: %v", err)
			}
		}
		return n
	}
	switch c := c.(type) {
	case *redis.ClusterClient:
		ch := make(chan int, 16)
		err := c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			ch <- count(node)
			return nil
		})
		close(ch)
		if err != nil {
			t.Fatalf("ForEachMaster: %v", err)
		}
		for n := range ch {
			total += n
			perNode = append(perNode, n)
		}
	case *redis.Client:
		total = count(c)
		perNode = []int{total}
	default:
		t.Fatalf("unexpected client %T", c)
	}
	return total, perNode
}

// checkCleanup opens a backend in a subtest, writes keys under its prefix
// and checks, from outer, that they are gone once the subtest has ended
// while outer's own keys survive.
func checkCleanup(t *testing.T, outer Backend, open func(t testing.TB) Backend, closeEarly bool) {
	t.Helper()
	ctx := context.Background()
	server := outer.Name == NameBitmapistServer
	survivors := writeKeys(t, outer.Client, outer.Prefix, 12, server)

	var inner Backend
	t.Run("inner", func(t *testing.T) {
		inner = open(t)
		if inner.Prefix == outer.Prefix {
			t.Fatalf("two backends share prefix %q", inner.Prefix)
		}
		keys := writeKeys(t, inner.Client, inner.Prefix, 200, server)
		total, perNode := countKeys(t, inner.Client, inner.Prefix, server)
		if total != len(keys) {
			t.Fatalf("found %d keys containing %q, wrote %d", total, inner.Prefix, len(keys))
		}
		if inner.Name == NameCluster {
			for i, n := range perNode {
				if n == 0 {
					t.Errorf("master #%d holds none of the keys; cleanup of several masters untested", i)
				}
			}
		}
		if closeEarly {
			if err := inner.Client.Close(); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
	})

	if total, _ := countKeys(t, outer.Client, inner.Prefix, server); total != 0 {
		t.Errorf("%d keys containing %q remain after cleanup", total, inner.Prefix)
	}
	for _, k := range survivors {
		if n, err := outer.Client.Exists(ctx, k).Result(); err != nil || n != 1 {
			t.Errorf("key %s of another prefix: exists=%d err=%v", k, n, err)
		}
	}
	if err := inner.Client.Ping(ctx).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("client still usable after cleanup: Ping err=%v", err)
	}
}

func TestCleanupDeletesKeys(t *testing.T) {
	for _, closeEarly := range []bool{false, true} {
		t.Run(fmt.Sprintf("closedByTest=%v", closeEarly), func(t *testing.T) {
			t.Run(NameMiniredis, func(t *testing.T) {
				m := miniredis.RunT(t)
				outer := newMiniredisBackend(t, m)
				checkCleanup(t, outer, func(t testing.TB) Backend { return newMiniredisBackend(t, m) }, closeEarly)
			})
			for _, s := range backendSpecs(t) {
				if s.name == NameMiniredis {
					continue
				}
				t.Run(s.name, func(t *testing.T) {
					checkCleanup(t, s.open(t), s.open, closeEarly)
				})
			}
		})
	}
}

func TestForEachRedis(t *testing.T) {
	want := []string{}
	for _, s := range backendSpecs(t) {
		want = append(want, s.name)
	}
	var got []string
	ForEachRedis(t, func(t *testing.T, b Backend) {
		got = append(got, b.Name)
		if !strings.HasSuffix(t.Name(), "/"+b.Name) {
			t.Errorf("subtest %q not named after backend %q", t.Name(), b.Name)
		}
		if (b.Mini != nil) != (b.Name == NameMiniredis) {
			t.Errorf("%s: Mini=%v", b.Name, b.Mini)
		}
		if !strings.HasPrefix(b.Prefix, "t") || !strings.HasSuffix(b.Prefix, "_") {
			t.Errorf("prefix %q", b.Prefix)
		}
		if _, ok := b.Client.(*redis.ClusterClient); ok != (b.Name == NameCluster) {
			t.Errorf("%s: client is %T", b.Name, b.Client)
		}
		if err := b.Client.Set(context.Background(), b.Prefix+"k", "v", 0).Err(); err != nil {
			t.Errorf("%s: SET: %v", b.Name, err)
		}
	})
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("ran %v, want %v", got, want)
	}
}

func TestBackendsDistinctPrefixes(t *testing.T) {
	seen := map[string]bool{}
	for _, b := range append(Backends(t), Redis(t), Miniredis(t)) {
		if seen[b.Prefix] {
			t.Errorf("prefix %q handed out twice", b.Prefix)
		}
		seen[b.Prefix] = true
		if err := b.Client.Ping(context.Background()).Err(); err != nil {
			t.Errorf("%s: %v", b.Name, err)
		}
	}
	if b := Miniredis(t); b.Name != NameMiniredis || b.Mini == nil {
		t.Errorf("Miniredis returned %s, Mini=%v", b.Name, b.Mini)
	}
}

// fatalTB records Fatalf and stops the caller by panicking, as a real
// Fatalf would stop the goroutine.
type fatalTB struct {
	testing.TB
	msg string
}

type fatalStop struct{}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(fatalStop{})
}

// fatalMsg runs fn and returns the message it passed to Fatalf ("" if none).
func fatalMsg(t *testing.T, fn func(tb testing.TB)) (msg string) {
	t.Helper()
	f := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(fatalStop); !ok {
				panic(r)
			}
			msg = f.msg
		}
	}()
	fn(f)
	return ""
}

func TestCIRequiresServers(t *testing.T) {
	t.Setenv(EnvCI, "true")
	t.Setenv(EnvRedisURL, "")
	t.Setenv(EnvRedisCluster, "")
	t.Setenv(EnvBitmapistServer, "")
	t.Setenv(EnvPostgresDSN, "")
	t.Setenv(EnvMySQLDSN, "")
	t.Setenv(EnvChromium, "")
	for name, fn := range map[string]func(testing.TB){
		"Backends":        func(tb testing.TB) { Backends(tb) },
		"Redis":           func(tb testing.TB) { Redis(tb) },
		"PostgresDSN":     func(tb testing.TB) { PostgresDSN(tb) },
		"MySQLDSN":        func(tb testing.TB) { MySQLDSN(tb) },
		"ChromiumPath":    func(tb testing.TB) { ChromiumPath(tb) },
		"BitmapistServer": func(tb testing.TB) { BitmapistServer(tb) },
	} {
		if msg := fatalMsg(t, fn); !strings.Contains(msg, "CI must set") {
			t.Errorf("%s in CI without env: Fatalf %q, want \"CI must set ...\"", name, msg)
		}
	}
	if msg := fatalMsg(t, func(tb testing.TB) { Miniredis(tb) }); msg != "" {
		t.Errorf("Miniredis in CI: Fatalf %q", msg)
	}

	t.Setenv(EnvRedisURL, "redis://127.0.0.1:1/0")
	if msg := fatalMsg(t, func(tb testing.TB) { Backends(tb) }); !strings.Contains(msg, EnvRedisCluster) || strings.Contains(msg, EnvRedisURL) {
		t.Errorf("Backends in CI without cluster: Fatalf %q", msg)
	}
}

func TestOutsideCI(t *testing.T) {
	t.Setenv(EnvCI, "")
	t.Setenv(EnvRedisURL, "")
	t.Setenv(EnvRedisCluster, "")
	t.Setenv(EnvBitmapistServer, "")
	t.Setenv(EnvPostgresDSN, "")
	t.Setenv(EnvMySQLDSN, "")
	t.Setenv(EnvChromium, "")
	bs := Backends(t)
	if len(bs) != 1 || bs[0].Name != NameMiniredis {
		t.Errorf("Backends without env: %d backends", len(bs))
	}
	if b := Redis(t); b.Name != NameMiniredis {
		t.Errorf("Redis without env: %s", b.Name)
	}
	if b, ok := BitmapistServer(t); ok || b.Client != nil {
		t.Errorf("BitmapistServer without env: %v, %v", b.Name, ok)
	}
	for name, fn := range map[string]func(testing.TB) (string, bool){
		"PostgresDSN": PostgresDSN, "MySQLDSN": MySQLDSN, "ChromiumPath": ChromiumPath,
	} {
		if v, ok := fn(t); ok || v != "" {
			t.Errorf("%s without env: %q, %v", name, v, ok)
		}
	}
	t.Setenv(EnvMySQLDSN, "root@tcp(127.0.0.1:3306)/test")
	if v, ok := MySQLDSN(t); !ok || v != "root@tcp(127.0.0.1:3306)/test" {
		t.Errorf("MySQLDSN: %q, %v", v, ok)
	}
}

func TestUnreachableServerFails(t *testing.T) {
	t.Setenv(EnvCI, "")
	t.Setenv(EnvRedisCluster, "")
	t.Setenv(EnvBitmapistServer, "")
	t.Setenv(EnvRedisURL, "redis://127.0.0.1:1/0")
	for name, fn := range map[string]func(testing.TB){
		"Backends": func(tb testing.TB) { Backends(tb) },
		"Redis":    func(tb testing.TB) { Redis(tb) },
	} {
		if msg := fatalMsg(t, fn); !strings.Contains(msg, "does not answer PING") {
			t.Errorf("%s with dead Redis: Fatalf %q", name, msg)
		}
	}
	t.Setenv(EnvRedisURL, "")
	t.Setenv(EnvRedisCluster, "127.0.0.1:1,127.0.0.1:2")
	if msg := fatalMsg(t, func(tb testing.TB) { Backends(tb) }); !strings.Contains(msg, "not ready") {
		t.Errorf("Backends with dead cluster: Fatalf %q", msg)
	}
	t.Setenv(EnvRedisCluster, "")
	t.Setenv(EnvBitmapistServer, "127.0.0.1:1")
	if msg := fatalMsg(t, func(tb testing.TB) { Backends(tb) }); !strings.Contains(msg, "bitmapist-server at "+EnvBitmapistServer) {
		t.Errorf("Backends with dead bitmapist-server: Fatalf %q", msg)
	}
	// A Redis named as bitmapist-server is refused: its INFO keys has no keys_total.
	m := miniredis.RunT(t)
	t.Setenv(EnvBitmapistServer, m.Addr())
	if msg := fatalMsg(t, func(tb testing.TB) { Backends(tb) }); !strings.Contains(msg, "is not ready: section (keys) is not supported") {
		t.Errorf("Backends with a Redis as bitmapist-server: Fatalf %q", msg)
	}
}

func TestNotOnSaysWhy(t *testing.T) {
	ran := map[string]bool{}
	var skipped []string
	t.Run("inner", func(t *testing.T) {
		ForEachRedis(t, func(t *testing.T, b Backend) {
			ran[b.Name] = true
		}, NotOn(NameMiniredis, "needs a real server"))
		for _, s := range backendSpecs(t) {
			if !ran[s.name] {
				skipped = append(skipped, s.name)
			}
		}
	})
	if strings.Join(skipped, ",") != NameMiniredis {
		t.Errorf("skipped %v, want only %s", skipped, NameMiniredis)
	}
}
