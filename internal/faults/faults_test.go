package faults

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// startRedis starts a private redis-server on a free port, stopped at the
// end of the test. Without redis-server on PATH the test fails under CI
// and is skipped elsewhere.
func startRedis(t *testing.T, args ...string) *Redis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if testingCI() {
			t.Fatalf("redis-server not on PATH: %v", err)
		}
		t.Skip("redis-server not on PATH")
	}
	r, err := StartRedis(context.Background(), RedisConfig{Args: args})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// client returns a go-redis client on addr with short timeouts and no
// retries, closed at the end of the test.
// proxyTo starts a Proxy in front of r, closed when the test ends.
func proxyTo(t *testing.T, r *Redis) *Proxy {
	t.Helper()
	px, err := NewProxy("127.0.0.1:0", r.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { px.Close() })
	return px
}

func client(t *testing.T, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr: addr, MaxRetries: -1, DialTimeout: 300 * time.Millisecond,
		ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond,
	})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRedisKillRestart(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t)
	c := client(t, r.Addr())
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	if r.Running() {
		t.Fatal("Running after Kill")
	}
	err := c.Get(ctx, "k").Err()
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("Get after Kill: %v, want connection refused", err)
	}
	if err := r.Pause(ctx, time.Second); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("Pause after Kill: %v, want ErrNotRunning", err)
	}
	if err := r.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	// A fresh server: the key is gone, writes work again.
	if err := c.Get(ctx, "k").Err(); !errors.Is(err, redis.Nil) {
		t.Fatalf("Get after Restart: %v, want redis.Nil", err)
	}
	if err := c.Set(ctx, "k", "w", 0).Err(); err != nil {
		t.Fatal(err)
	}
}

func TestStartRedisPortInUse(t *testing.T) {
	r := startRedis(t)
	_, err := StartRedis(context.Background(), RedisConfig{Port: r.Port()})
	if err == nil {
		t.Fatal("second server on the same port started")
	}
}

func TestRedisPause(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t)
	c := client(t, r.Addr())
	if err := r.Pause(ctx, time.Second); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := c.Ping(ctx).Err(); err == nil || !isTimeout(err) {
		t.Fatalf("Ping while paused: %v, want a timeout", err)
	}
	time.Sleep(time.Second - time.Since(start) + 100*time.Millisecond)
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Ping after the pause: %v", err)
	}
}

func TestRedisFillMemory(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t)
	c := client(t, r.Addr())
	if err := r.FillMemory(ctx); err != nil {
		t.Fatal(err)
	}
	err := c.SetBit(ctx, "bits", 100, 1).Err()
	if err == nil || !strings.HasPrefix(err.Error(), "OOM") {
		t.Fatalf("SETBIT when full: %v, want OOM", err)
	}
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("Ping when full: %v", err)
	}
	if err := r.ClearMemory(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.SetBit(ctx, "bits", 100, 1).Err(); err != nil {
		t.Fatalf("SETBIT after ClearMemory: %v", err)
	}
	if n := c.Exists(ctx, fillPrefix+"0").Val(); n != 0 {
		t.Fatalf("fill keys left after ClearMemory: %d", n)
	}
}

func TestProxyForwardBlackhole(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t)
	px := proxyTo(t, r)
	c := client(t, px.Addr())
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	px.Blackhole()
	if !px.Blackholed() {
		t.Fatal("Blackholed false after Blackhole")
	}
	// An open connection hangs.
	if err := c.Get(ctx, "k").Err(); !isTimeout(err) {
		t.Fatalf("Get while blackholed: %v, want a timeout", err)
	}
	// A new connection is accepted but never answered.
	conn, err := net.DialTimeout("tcp", px.Addr(), time.Second)
	if err != nil {
		t.Fatalf("dial while blackholed: %v", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	buf := make([]byte, 16)
	if n, err := conn.Read(buf); !isTimeout(err) {
		t.Fatalf("read while blackholed: %q, %v; want a timeout", buf[:n], err)
	}
	px.Forward()
	// The held PING is delivered once forwarding resumes.
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	n, err := conn.Read(buf)
	if err != nil || string(buf[:n]) != "+PONG\r\n" {
		t.Fatalf("held PING after Forward: %q, %v", buf[:n], err)
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("Get after Forward: %q, %v", v, err)
	}
	if err := px.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := net.DialTimeout("tcp", px.Addr(), 300*time.Millisecond); err == nil {
		t.Fatal("proxy still accepts after Close")
	}
}

func TestProxyTargetDown(t *testing.T) {
	r := startRedis(t)
	px := proxyTo(t, r)
	if err := r.Kill(); err != nil {
		t.Fatal(err)
	}
	c := client(t, px.Addr())
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Fatal("Ping through the proxy to a dead server succeeded")
	}
}

// isTimeout reports whether err is a network timeout.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// testingCI reports whether the tests run under CI (CI non-empty), where a
// missing redis-server fails instead of skipping.
func testingCI() bool { return os.Getenv("CI") != "" }

func TestProxyDelay(t *testing.T) {
	ctx := context.Background()
	r := startRedis(t)
	px := proxyTo(t, r)
	c := client(t, px.Addr()) // 300 ms read timeout
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	// A round trip of at least 800 ms: answered, but after the timeout.
	px.SetDelay(400 * time.Millisecond)
	if err := c.Get(ctx, "k").Err(); !isTimeout(err) {
		t.Fatalf("Get while delayed: %v, want a timeout", err)
	}
	slow := redis.NewClient(&redis.Options{Addr: px.Addr(), MaxRetries: -1, ReadTimeout: 10 * time.Second})
	defer slow.Close()
	if v, err := slow.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("Get while delayed, 10 s timeout: %q, %v", v, err)
	}
	px.SetDelay(0)
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("Get after SetDelay(0): %q, %v", v, err)
	}
}
