package faults

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrNotRunning is returned by the Redis methods that need a running
// server (Pause, FillMemory, ...) after Kill or Close.
var ErrNotRunning = errors.New("faults: redis-server not running")

// startTimeout bounds how long StartRedis and Restart wait for the new
// server to answer PING.
const startTimeout = 10 * time.Second

// fillPrefix starts the names of the keys FillMemory writes.
const fillPrefix = "faults:fill:"

// RedisConfig says how to start a private redis-server.
type RedisConfig struct {
	// Port is the loopback TCP port (127.0.0.1) to listen on; 0 picks a
	// free ephemeral port.
	Port int
	// Binary is the redis-server executable; "" means "redis-server" on
	// PATH.
	Binary string
	// Args are extra command-line arguments ("--maxmemory", "10mb", ...).
	Args []string
}

// Redis is a redis-server process started by StartRedis on 127.0.0.1,
// without persistence, in a temporary directory of its own. Its methods
// are safe for concurrent use.
type Redis struct {
	cfg  RedisConfig
	port int
	dir  string

	mu   sync.Mutex
	cmd  *exec.Cmd
	exit chan struct{} // closed when cmd has exited
	ctl  *redis.Client // control connection: Pause, FillMemory, ...
}

// StartRedis starts a redis-server as cfg says and waits (at most 10 s, or
// until ctx ends) until it answers PING. It returns an error when the
// binary cannot be run or the server does not come up (a port already in
// use, for instance). Close stops it and removes its directory.
func StartRedis(ctx context.Context, cfg RedisConfig) (*Redis, error) {
	if cfg.Binary == "" {
		cfg.Binary = "redis-server"
	}
	port := cfg.Port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "faults-redis-")
	if err != nil {
		return nil, fmt.Errorf("faults: %w", err)
	}
	r := &Redis{cfg: cfg, port: port, dir: dir}
	if err := r.start(ctx); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return r, nil
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("faults: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Addr returns the server's "127.0.0.1:port".
func (r *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.port)) }

// Port returns the server's TCP port.
func (r *Redis) Port() int { return r.port }

// start runs the server process and waits for its PING.
func (r *Redis) start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd != nil {
		return fmt.Errorf("faults: redis-server on %s already running", r.Addr())
	}
	args := append([]string{
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir,
		"--daemonize", "no", "--loglevel", "warning",
	}, r.cfg.Args...)
	cmd := exec.Command(r.cfg.Binary, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("faults: start %s: %w", r.cfg.Binary, err)
	}
	exit := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exit) }()
	ctl := redis.NewClient(&redis.Options{Addr: r.Addr(), MaxRetries: -1, DialTimeout: time.Second})
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	for {
		if ctl.Ping(ctx).Err() == nil {
			break
		}
		select {
		case <-exit:
			_ = ctl.Close()
			return fmt.Errorf("faults: redis-server on %s exited: %s", r.Addr(), strings.TrimSpace(out.String()))
		case <-ctx.Done():
			_ = cmd.Process.Kill()
			<-exit
			_ = ctl.Close()
			return fmt.Errorf("faults: redis-server on %s did not answer: %w", r.Addr(), ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	// The port may belong to another server: make sure ours answered.
	if pid, err := serverPID(ctx, ctl); err != nil || pid != cmd.Process.Pid {
		_ = cmd.Process.Kill()
		<-exit
		_ = ctl.Close()
		return fmt.Errorf("faults: %s is answered by another process (pid %d, err %v): %s",
			r.Addr(), pid, err, strings.TrimSpace(out.String()))
	}
	r.cmd, r.exit, r.ctl = cmd, exit, ctl
	return nil
}

// Kill ends the server with SIGKILL (no shutdown, connections reset) and
// waits for it to exit; clients then get "connection refused". It is a
// no-op when the server is not running.
func (r *Redis) Kill() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return nil
	}
	err := r.cmd.Process.Kill()
	<-r.exit
	_ = r.ctl.Close()
	r.cmd, r.exit, r.ctl = nil, nil, nil
	if err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("faults: kill redis-server: %w", err)
	}
	return nil
}

// Restart kills the server if it runs and starts a new, empty one on the
// same port and with the same configuration.
func (r *Redis) Restart(ctx context.Context) error {
	if err := r.Kill(); err != nil {
		return err
	}
	return r.start(ctx)
}

// Running reports whether the server process is running.
func (r *Redis) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cmd != nil
}

// control returns the control connection of the running server.
func (r *Redis) control() (*redis.Client, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctl == nil {
		return nil, ErrNotRunning
	}
	return r.ctl, nil
}

// Pause runs CLIENT PAUSE d ALL: every client's commands (PING included)
// wait until d has passed, then run. d is rounded down to milliseconds.
// Such a pause cannot be ended early: Redis holds CLIENT UNPAUSE too.
func (r *Redis) Pause(ctx context.Context, d time.Duration) error {
	ctl, err := r.control()
	if err != nil {
		return err
	}
	return ctl.Do(ctx, "CLIENT", "PAUSE", d.Milliseconds(), "ALL").Err()
}

// FillMemory makes every later write that may use memory fail with Redis's
// OOM error, as a Redis at its maxmemory with noeviction does: it writes
// about 4 MiB of keys named "faults:fill:<n>", then sets
// maxmemory-policy noeviction and maxmemory 3 MiB below the memory now in
// use (at least 1 MiB), far enough below that the memory clients' buffers
// come and go with does not let some writes through. Reads, DEL and PING
// still work. ClearMemory undoes it.
func (r *Redis) FillMemory(ctx context.Context) error {
	ctl, err := r.control()
	if err != nil {
		return err
	}
	value := strings.Repeat("x", 4<<10)
	pipe := ctl.Pipeline()
	for i := 0; i < 1024; i++ {
		pipe.Set(ctx, fillPrefix+strconv.Itoa(i), value, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return err
	}
	used, err := usedMemory(ctx, ctl)
	if err != nil {
		return err
	}
	if err := ctl.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		return err
	}
	if err := ctl.ConfigSet(ctx, "maxmemory", strconv.FormatInt(max(used-3<<20, 1<<20), 10)).Err(); err != nil {
		return err
	}
	if err := ctl.Set(ctx, fillPrefix+"probe", "1", 0).Err(); !isOOM(err) {
		return fmt.Errorf("faults: FillMemory: a write after the fill gave %v, not OOM", err)
	}
	return nil
}

// isOOM reports whether err is Redis's OOM error reply.
func isOOM(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "OOM") }

// ClearMemory removes the maxmemory limit and the keys FillMemory wrote.
func (r *Redis) ClearMemory(ctx context.Context) error {
	ctl, err := r.control()
	if err != nil {
		return err
	}
	if err := ctl.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		return err
	}
	keys, err := ctl.Keys(ctx, fillPrefix+"*").Result()
	if err != nil || len(keys) == 0 {
		return err
	}
	return ctl.Del(ctx, keys...).Err()
}

// serverPID reads process_id from INFO server.
func serverPID(ctx context.Context, ctl *redis.Client) (int, error) {
	v, err := infoField(ctx, ctl, "server", "process_id")
	return int(v), err
}

// usedMemory reads used_memory from INFO memory.
func usedMemory(ctx context.Context, ctl *redis.Client) (int64, error) {
	return infoField(ctx, ctl, "memory", "used_memory")
}

// infoField reads the integer field of INFO section.
func infoField(ctx context.Context, ctl *redis.Client, section, field string) (int64, error) {
	info, err := ctl.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("faults: no %s in INFO %s", field, section)
}

// Close kills the server and removes its directory. It may be called more
// than once.
func (r *Redis) Close() error {
	err := r.Kill()
	if rmErr := os.RemoveAll(r.dir); err == nil && rmErr != nil {
		err = rmErr
	}
	return err
}
