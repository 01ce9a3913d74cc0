// Package testutil gives tests a clean Redis (miniredis, a real Redis, a
// real Redis Cluster and a real bitmapist-server, chosen by environment
// variables) and the DSNs of the
// SQL databases and the browser that integration tests run against.
//
// Environment:
//
//	BITMAPIST_TEST_REDIS_URL      redis:// URL of a real Redis, e.g. redis://127.0.0.1:6379/0
//	BITMAPIST_TEST_REDIS_CLUSTER  comma-separated host:port list of a Redis Cluster
//	BITMAPIST_TEST_BITMAPIST_SERVER host:port of a Doist bitmapist-server
//	BITMAPIST_TEST_POSTGRES_DSN   PostgreSQL DSN (see PostgresDSN)
//	BITMAPIST_TEST_MYSQL_DSN      MySQL/MariaDB DSN (see MySQLDSN)
//	BITMAPIST_TEST_CHROMIUM       path of a Chromium binary (see ChromiumPath)
//	CI                            when non-empty, every variable above must be set
//
// A server named by a variable that does not answer fails the test; it is
// never skipped.
package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Names of the environment variables read by this package.
const (
	// EnvRedisURL names the variable holding a redis:// URL of a real Redis.
	EnvRedisURL = "BITMAPIST_TEST_REDIS_URL"
	// EnvRedisCluster names the variable holding a comma-separated
	// host:port list of Redis Cluster nodes.
	EnvRedisCluster = "BITMAPIST_TEST_REDIS_CLUSTER"
	// EnvBitmapistServer names the variable holding the host:port of a
	// Doist bitmapist-server (Redis protocol, roaring bitmaps on disk).
	EnvBitmapistServer = "BITMAPIST_TEST_BITMAPIST_SERVER"
	// EnvCI names the variable that, when non-empty, makes every other
	// variable mandatory.
	EnvCI = "CI"
)

// Backend names, as found in Backend.Name.
const (
	// NameMiniredis is the Name of the in-process miniredis backend.
	NameMiniredis = "miniredis"
	// NameRedis is the Name of the real single-node Redis backend.
	NameRedis = "redis"
	// NameCluster is the Name of the real Redis Cluster backend.
	NameCluster = "cluster"
	// NameBitmapistServer is the Name of the real bitmapist-server backend.
	NameBitmapistServer = "bitmapist-server"
)

// pingTimeout bounds how long a server named by an environment variable
// may take to answer PING before the test fails.
const pingTimeout = 3 * time.Second

// cleanupTimeout bounds the deletion of a test's keys at cleanup.
const cleanupTimeout = 30 * time.Second

// ioTimeout is the read and write timeout of the clients to the shared
// servers (go-redis defaults to 3 s): on a loaded machine a big read
// takes longer, and tests assert results, never speed.
const ioTimeout = 30 * time.Second

// clusterWait is how long openCluster waits for a cluster that answers
// but reports a state other than ok (a shared cluster recovering from a
// failover or a busy node) before failing the test.
const clusterWait = 30 * time.Second

// Backend is one Redis a test runs against.
type Backend struct {
	// Name is "miniredis", "redis", "cluster" or "bitmapist-server".
	Name string
	// Client is a *redis.Client or, for "cluster", a *redis.ClusterClient.
	// It is closed when the test ends.
	Client redis.UniversalClient
	// Prefix is a key prefix unique to this Backend, e.g. "t3f9a1c2d4e5_".
	// Tests pass it to bitmapist.WithPrefix so that packages sharing one
	// server never collide. Every key containing it is deleted when the
	// test ends.
	Prefix string
	// Mini is the miniredis server (for FastForward etc.); nil for real
	// servers.
	Mini *miniredis.Miniredis
	// IDMap is a Redis for the string id map where Client cannot hold it:
	// on "bitmapist-server" (no hashes, no Lua) an in-process miniredis,
	// closed when the test ends; nil on the Redis backends. Tests pass it
	// to bitmapist.WithIDMapClient, which ignores nil.
	IDMap redis.UniversalClient
	// IDMapURL is IDMap's redis:// URL, for the command's --idmap-redis
	// ("" when IDMap is nil).
	IDMapURL string
}

// backendSpec is a backend selected by the environment, not yet opened.
type backendSpec struct {
	name string
	open func(t testing.TB) Backend
}

// Backends returns miniredis, plus a real Redis when BITMAPIST_TEST_REDIS_URL
// is set, plus a Redis Cluster when BITMAPIST_TEST_REDIS_CLUSTER is set,
// plus a bitmapist-server when BITMAPIST_TEST_BITMAPIST_SERVER is set. In
// CI (CI non-empty) every one of these variables is required. A configured
// server that does not answer PING within about 3 seconds fails the test.
// Each Backend has its own fresh Prefix; its keys are deleted and its
// client closed when t ends.
func Backends(t testing.TB) []Backend {
	t.Helper()
	specs := backendSpecs(t)
	out := make([]Backend, 0, len(specs))
	for _, s := range specs {
		out = append(out, s.open(t))
	}
	return out
}

// RunOption changes how ForEachRedis runs a test.
type RunOption struct {
	backend, reason string
}

// NotOn says that a test cannot run on the backend called name (one of
// the Name constants) and why, in one line: ForEachRedis then does not
// open that backend and skips its subtest with "not run on <name>: <why>",
// so the reason shows in every verbose run instead of a silent pass. An
// empty why is a programming error and fails the test.
func NotOn(name, why string) RunOption { return RunOption{backend: name, reason: why} }

// ForEachRedis runs fn as a subtest of t, named by Backend.Name, once per
// backend that Backends would return. Each backend is opened inside its
// subtest, so its keys are deleted and its client closed when that subtest
// ends (after its parallel subtests, if fn calls t.Parallel). A backend
// named in a NotOn option is skipped with its reason.
func ForEachRedis(t *testing.T, fn func(t *testing.T, b Backend), opts ...RunOption) {
	t.Helper()
	for _, s := range backendSpecs(t) {
		t.Run(s.name, func(t *testing.T) {
			for _, o := range opts {
				if o.backend != s.name {
					continue
				}
				if strings.TrimSpace(o.reason) == "" {
					t.Fatalf("testutil.NotOn(%q) without a reason", o.backend)
				}
				t.Skipf("not run on %s: %s", s.name, o.reason)
			}
			fn(t, s.open(t))
		})
	}
}

// Redis returns a single backend: the real Redis when
// BITMAPIST_TEST_REDIS_URL is set, otherwise miniredis (in CI the variable
// is required). Meant for benchmarks and for tests that need one server.
func Redis(t testing.TB) Backend {
	t.Helper()
	url := os.Getenv(EnvRedisURL)
	if url == "" {
		if os.Getenv(EnvCI) != "" {
			t.Fatalf("CI must set %s", EnvRedisURL)
		}
		return Miniredis(t)
	}
	return openRedisURL(t, url)
}

// BitmapistServer returns the bitmapist-server named by
// BITMAPIST_TEST_BITMAPIST_SERVER, and false when the variable is not set
// (outside CI; in CI a missing variable fails t). Meant for benchmarks
// that report both backends.
func BitmapistServer(t testing.TB) (Backend, bool) {
	t.Helper()
	addr := os.Getenv(EnvBitmapistServer)
	if addr == "" {
		if os.Getenv(EnvCI) != "" {
			t.Fatalf("CI must set %s", EnvBitmapistServer)
		}
		return Backend{}, false
	}
	return openBitmapistServer(t, addr), true
}

// Miniredis returns an in-process miniredis backend, whatever the
// environment. The server stops when t ends.
func Miniredis(t testing.TB) Backend {
	t.Helper()
	return newMiniredisBackend(t, miniredis.RunT(t))
}

// backendSpecs lists the backends selected by the environment, enforcing
// the CI rule.
func backendSpecs(t testing.TB) []backendSpec {
	t.Helper()
	url := os.Getenv(EnvRedisURL)
	cluster := os.Getenv(EnvRedisCluster)
	bms := os.Getenv(EnvBitmapistServer)
	if os.Getenv(EnvCI) != "" {
		var missing []string
		for _, v := range [][2]string{{EnvRedisURL, url}, {EnvRedisCluster, cluster}, {EnvBitmapistServer, bms}} {
			if v[1] == "" {
				missing = append(missing, v[0])
			}
		}
		if len(missing) > 0 {
			t.Fatalf("CI must set %s (tests would silently run only on miniredis)", strings.Join(missing, " and "))
		}
	}
	specs := []backendSpec{{name: NameMiniredis, open: Miniredis}}
	if url != "" {
		specs = append(specs, backendSpec{name: NameRedis, open: func(t testing.TB) Backend {
			t.Helper()
			return openRedisURL(t, url)
		}})
	}
	if cluster != "" {
		specs = append(specs, backendSpec{name: NameCluster, open: func(t testing.TB) Backend {
			t.Helper()
			return openCluster(t, cluster)
		}})
	}
	if bms != "" {
		specs = append(specs, backendSpec{name: NameBitmapistServer, open: func(t testing.TB) Backend {
			t.Helper()
			return openBitmapistServer(t, bms)
		}})
	}
	return specs
}

// newMiniredisBackend connects a client to m and returns it as a Backend.
func newMiniredisBackend(t testing.TB, m *miniredis.Miniredis) Backend {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: m.Addr()})
	b := Backend{Name: NameMiniredis, Client: client, Prefix: newPrefix(t), Mini: m}
	registerCleanup(t, b)
	return b
}

// openRedisURL connects to the real Redis at url and checks it answers.
func openRedisURL(t testing.TB, url string) Backend {
	t.Helper()
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("%s=%q: %v", EnvRedisURL, url, err)
	}
	opts.ReadTimeout, opts.WriteTimeout = ioTimeout, ioTimeout
	client := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		_ = client.Close()
		t.Fatalf("Redis at %s=%q does not answer PING: %v", EnvRedisURL, url, err)
	}
	b := Backend{Name: NameRedis, Client: client, Prefix: newPrefix(t)}
	registerCleanup(t, b)
	return b
}

// openCluster connects to the Redis Cluster whose nodes are listed in
// addrs (comma-separated host:port) and checks that it answers and that
// its state is ok.
func openCluster(t testing.TB, addrs string) Backend {
	t.Helper()
	var nodes []string
	for _, a := range strings.Split(addrs, ",") {
		if a = strings.TrimSpace(a); a != "" {
			nodes = append(nodes, a)
		}
	}
	if len(nodes) == 0 {
		t.Fatalf("%s=%q lists no node", EnvRedisCluster, addrs)
	}
	client := redis.NewClusterClient(&redis.ClusterOptions{Addrs: nodes, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
	answers, err := clusterReady(client)
	for deadline := time.Now().Add(clusterWait); err != nil && answers && time.Now().Before(deadline); {
		time.Sleep(500 * time.Millisecond)
		answers, err = clusterReady(client)
	}
	if err != nil {
		_ = client.Close()
		t.Fatalf("Redis Cluster at %s=%q is not ready (waited %v): %v", EnvRedisCluster, addrs, clusterWait, err)
	}
	b := Backend{Name: NameCluster, Client: client, Prefix: newPrefix(t)}
	registerCleanup(t, b)
	return b
}

// clusterReady checks that client's cluster answers PING, reports
// cluster_state:ok and that every master answers PING. answers is false
// when the first PING fails (no cluster there: not worth waiting for).
func clusterReady(client *redis.ClusterClient) (answers bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		return false, err
	}
	info, err := client.ClusterInfo(ctx).Result()
	if err == nil && !strings.Contains(info, "cluster_state:ok") {
		err = fmt.Errorf("cluster_state is not ok:\n%s", strings.TrimSpace(info))
	}
	if err != nil {
		return true, err
	}
	return true, client.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		return c.Ping(ctx).Err()
	})
}

// openBitmapistServer connects to the bitmapist-server at addr (host:port)
// and checks that it answers PING and is one: its INFO keys has keys_total.
func openBitmapistServer(t testing.TB, addr string) Backend {
	t.Helper()
	client := redis.NewClient(&redis.Options{Addr: addr, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), pingTimeout)
	defer cancel()
	err := client.Ping(ctx).Err()
	if err == nil {
		var info string
		info, err = client.Info(ctx, "keys").Result()
		if err == nil && !strings.Contains(info, "keys_total:") {
			err = fmt.Errorf("INFO keys has no keys_total: not a bitmapist-server")
		}
	}
	if err != nil {
		_ = client.Close()
		t.Fatalf("bitmapist-server at %s=%q is not ready: %v", EnvBitmapistServer, addr, err)
	}
	m := miniredis.RunT(t)
	idmap := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = idmap.Close() })
	b := Backend{Name: NameBitmapistServer, Client: client, Prefix: newPrefix(t),
		IDMap: idmap, IDMapURL: "redis://" + m.Addr() + "/0"}
	registerCleanup(t, b)
	return b
}

// newPrefix returns a fresh random key prefix such as "t3f9a1c2d4e5_".
func newPrefix(t testing.TB) string {
	t.Helper()
	var buf [6]byte
	if _, err := rand.Read(buf[:]); err != nil {
		t.Fatalf("random prefix: %v", err)
	}
	return "t" + hex.EncodeToString(buf[:]) + "_"
}

// registerCleanup makes t delete every key of b containing b.Prefix and
// close b.Client when it ends. If the test closed the client itself, a
// fresh client with the same options does the deletion.
func registerCleanup(t testing.TB, b Backend) {
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer cancel()
		slashes := b.Name == NameBitmapistServer
		err := deleteKeys(ctx, b.Client, b.Prefix, slashes)
		if errors.Is(err, redis.ErrClosed) {
			fresh := reopen(b.Client)
			err = deleteKeys(ctx, fresh, b.Prefix, slashes)
			_ = fresh.Close()
		}
		if err != nil {
			t.Errorf("testutil: deleting keys *%s* on %s: %v", b.Prefix, b.Name, err)
		}
		if err := b.Client.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			t.Errorf("testutil: closing %s client: %v", b.Name, err)
		}
	})
}

// reopen returns a new client with the options of c.
func reopen(c redis.UniversalClient) redis.UniversalClient {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return redis.NewClusterClient(c.Options())
	case *redis.Client:
		return redis.NewClient(c.Options())
	default:
		panic(fmt.Sprintf("testutil: unexpected client type %T", c))
	}
}

// deleteKeys deletes every key containing prefix, SCANning each master of
// a cluster. Keys are deleted one DEL each (in a pipeline) because a
// multi-key DEL fails with CROSSSLOT on a cluster.
func deleteKeys(ctx context.Context, c redis.UniversalClient, prefix string, slashes bool) error {
	switch c := c.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
			return deleteKeysOnNode(ctx, node, prefix, false)
		})
	case *redis.Client:
		return deleteKeysOnNode(ctx, c, prefix, slashes)
	default:
		return fmt.Errorf("unexpected client type %T", c)
	}
}

// deleteKeysOnNode deletes the keys containing prefix on one server; with
// slashes (a bitmapist-server) also those with '/' after the prefix.
func deleteKeysOnNode(ctx context.Context, c *redis.Client, prefix string, slashes bool) error {
	for _, pattern := range scanPatterns("*"+escapeGlob(prefix)+"*", slashes) {
		if err := deletePattern(ctx, c, pattern); err != nil {
			return err
		}
	}
	return nil
}

// slashDepth is how many '/' after the prefix scanPatterns reaches.
const slashDepth = 4

// scanPatterns returns pattern, and with slashes the same pattern extended
// with "/*" up to slashDepth times. Redis's glob '*' matches '/', but
// bitmapist-server matches with Go's filepath.Match, whose '*' stops at
// '/': "p*" alone would miss "p_a/b_2024" there.
func scanPatterns(pattern string, slashes bool) []string {
	out := []string{pattern}
	for i := 0; slashes && i < slashDepth; i++ {
		pattern += "/*"
		out = append(out, pattern)
	}
	return out
}

// deletePattern deletes the keys matching pattern on one server.
func deletePattern(ctx context.Context, c *redis.Client, pattern string) error {
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, pattern, 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Del(ctx, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// escapeGlob escapes the characters special to Redis glob patterns.
func escapeGlob(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '*', '?', '[', ']', '\\':
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}
