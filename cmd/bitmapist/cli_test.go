package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// result is what one run of the command produced.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command with args (and stdin) the way main does and
// returns its exit code and output.
func runCLI(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return runCLIContext(t, t.Context(), stdin, args...)
}

func runCLIContext(t *testing.T, ctx context.Context, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	var in io.Reader = strings.NewReader(stdin)
	code := run(ctx, args, in, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// backendURL returns the --redis address of a test backend.
func backendURL(t *testing.T, b testutil.Backend) string {
	t.Helper()
	switch b.Name {
	case testutil.NameMiniredis:
		return "redis://" + b.Mini.Addr()
	case testutil.NameRedis:
		return os.Getenv(testutil.EnvRedisURL)
	case testutil.NameCluster:
		return os.Getenv(testutil.EnvRedisCluster)
	case testutil.NameBitmapistServer:
		return "redis://" + os.Getenv(testutil.EnvBitmapistServer) + "/0"
	}
	t.Fatalf("unknown backend %q", b.Name)
	return ""
}

// globalArgs returns --redis and --prefix (and --cluster when needed) for b.
func globalArgs(t *testing.T, b testutil.Backend) []string {
	t.Helper()
	args := []string{"--redis", backendURL(t, b), "--prefix", b.Prefix}
	if b.Name == testutil.NameCluster && !strings.Contains(args[1], ",") {
		args = append(args, "--cluster")
	}
	if b.IDMapURL != "" {
		args = append(args, "--idmap-redis", b.IDMapURL)
	}
	return args
}

// cli runs the command against b.
func cli(t *testing.T, b testutil.Backend, stdin string, args ...string) result {
	t.Helper()
	return runCLI(t, stdin, append(globalArgs(t, b), args...)...)
}

// mustOK fails the test unless r exited 0.
func mustOK(t *testing.T, r result) result {
	t.Helper()
	if r.code != exitOK {
		t.Fatalf("exit %d, stderr: %s\nstdout: %s", r.code, r.stderr, r.stdout)
	}
	return r
}

// expect is what one run of the command must give: its exit status, words
// that must all appear on stderr and on stdout, and words that must not
// appear on stderr.
type expect struct {
	code           int
	stderr, stdout []string
	notStderr      []string
}

// check reports on t every way r, the run of args, differs from e; when
// the exit status differs it reports that alone.
func (e expect) check(t *testing.T, args []string, r result) {
	t.Helper()
	if r.code != e.code {
		t.Errorf("%q: exit %d, want %d; stderr %q", args, r.code, e.code, r.stderr)
		return
	}
	for _, s := range e.stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("%q: stderr %q, want it to contain %q", args, r.stderr, s)
		}
	}
	for _, s := range e.notStderr {
		if strings.Contains(r.stderr, s) {
			t.Errorf("%q: stderr %q contains %q", args, r.stderr, s)
		}
	}
	for _, s := range e.stdout {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("%q: stdout %q, want it to contain %q", args, r.stdout, s)
		}
	}
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// jsonUnmarshal decodes the JSON text s into v.
func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func TestMain(m *testing.M) {
	// As main does: the command reports Redis failures itself.
	redis.SetLogger(&logging.VoidLogger{})
	os.Exit(m.Run())
}
