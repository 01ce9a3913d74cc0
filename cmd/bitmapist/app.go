package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Environment variables read for flag defaults. BITMAPIST_REDIS_URL is the
// name flask-bitmapist gives its Redis setting.
const (
	envRedisURL = "BITMAPIST_REDIS_URL"
	envPrefix   = "BITMAPIST_PREFIX"
)

// defaultRedisURL is used when neither --redis nor BITMAPIST_REDIS_URL is
// given.
const defaultRedisURL = "redis://127.0.0.1:6379/0"

// defaultMaxID is the default of --max-id, 2^28-1: a bitmap holding it is
// 32 MiB. The library's own bound (bitmapist.MaxUserID, 2^32-1, 512 MiB
// bitmaps) needs --max-id to be raised explicitly.
const defaultMaxID = 1<<28 - 1

// Exit codes of run.
const (
	exitOK      = 0   // success
	exitError   = 1   // the command failed (Redis down, bad data, ...)
	exitUsage   = 2   // bad flags or arguments
	exitRejects = 3   // import: rows were rejected (errRowsRejected)
	exitInt     = 130 // interrupted (SIGINT or SIGTERM) before the work was done
)

// usageError is an error in the command line itself (unknown flag, missing
// argument, a value that does not parse); run exits with exitUsage for it.
type usageError struct{ err error }

// Error returns the message of the wrapped error.
func (e *usageError) Error() string { return e.err.Error() }

// Unwrap returns the wrapped error.
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a *usageError with a formatted message.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// app holds what every subcommand shares: the streams and the global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	redisURL string // --redis
	idmapURL string // --idmap-redis
	cluster  bool   // --cluster
	prefix   string // --prefix
	tz       string // --tz
	maxID    uint64 // --max-id
}

// run is the whole command: it parses args (without the program name),
// runs the subcommand with ctx and returns the process exit code (exitOK,
// exitError, exitUsage, or exitInt when ctx ended before the work was done;
// serve and demo end normally, with exitOK, when ctx ends). Errors are printed to stderr as one line
// starting with "bitmapist: ".
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "bitmapist: interrupted")
		return exitInt
	}
	msg := strings.ReplaceAll(strings.TrimSpace(err.Error()), "\n", " ")
	msg = innerPrefixes.Replace(strings.TrimPrefix(msg, "bitmapist: "))
	fmt.Fprintf(stderr, "bitmapist: %s\n", msg)
	if errors.Is(err, errRowsRejected) {
		return exitRejects
	}
	var ue *usageError
	if errors.As(err, &ue) || isCobraUsageError(err) {
		return exitUsage
	}
	return exitError
}

// innerPrefixes removes the package prefixes of wrapped library errors
// from inside a message ("--group: bitmapist: invalid time group" reads
// "--group: invalid time group"): the line already starts with
// "bitmapist: ".
var innerPrefixes = strings.NewReplacer(": bitmapist: ", ": ", ": cohort: ", ": ", ": bitmapist/web: ", ": ")

// isCobraUsageError recognises the errors cobra itself returns for a bad
// command line (it has no error types for them).
func isCobraUsageError(err error) bool {
	s := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "requires at most", "invalid argument"} {
		if strings.HasPrefix(s, p) || strings.Contains(s, " "+p) {
			return true
		}
	}
	return false
}

// rootCommand builds the command tree afresh (no global state), with the
// global flags --redis, --cluster, --prefix and --tz bound to a.
func (a *app) rootCommand() *cobra.Command {
	redisDefault := defaultRedisURL
	if v := os.Getenv(envRedisURL); v != "" {
		redisDefault = v
	}
	prefixDefault := bitmapist.DefaultPrefix
	if v := os.Getenv(envPrefix); v != "" {
		prefixDefault = v
	}
	root := &cobra.Command{
		Use:   "bitmapist",
		Short: "Who did what, when, as Redis bitmaps: demo, import, cohorts, dashboard",
		Long: `bitmapist records who did what, when, as Redis bitmaps (byte-compatible with
Python bitmapist), and answers retention questions with cohort tables.

Start with "bitmapist demo": it needs nothing installed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(flagError)
	root.PersistentPreRunE = a.checkGlobalFlags
	pf := root.PersistentFlags()
	pf.StringVar(&a.redisURL, "redis", redisDefault,
		"Redis address: redis://host:port/db, rediss:// for TLS, or a comma-separated list of nodes for a Redis Cluster (env "+envRedisURL+"; demo ignores the env and uses its embedded Redis unless --redis is given)")
	pf.StringVar(&a.idmapURL, "idmap-redis", "",
		"Redis for the string id map (import --string-ids, ids --strings), redis://host:port/db or a cluster's node list; needed on a bitmapist-server, which has no hashes nor Lua (default: the --redis server)")
	pf.BoolVar(&a.cluster, "cluster", false, "treat a single --redis address as a Redis Cluster seed node (without it, a single address is asked INFO cluster and a cluster node is used as a seed all the same)")
	pf.StringVar(&a.prefix, "prefix", prefixDefault, "key prefix, as in Python bitmapist (env "+envPrefix+"); not empty, no whitespace nor glob characters * ? [ ] \\")
	pf.Uint64Var(&a.maxID, "max-id", defaultMaxID, "largest integer user id (and string id map offset) to mark, at most 4294967295; larger ones are refused before anything is written (each id is a bit offset: the default 2^28-1 makes bitmaps of at most 32 MiB, one id near 2^32 makes 512 MiB bitmaps that stall Redis)")
	pf.StringVar(&a.tz, "tz", "UTC", "time zone that hours, days, weeks and months are cut in (IANA name, e.g. Europe/Paris)")
	root.AddCommand(
		a.eventsCommand(),
		a.countCommand(),
		a.idsCommand(),
		a.markCommand(),
		a.importCommand(),
		a.cohortCommand(),
		a.trendCommand(),
		a.lifecycleCommand(),
		a.stickinessCommand(),
		a.funnelCommand(),
		a.serveCommand(),
		a.demoCommand(),
		a.deleteCommand(),
		a.statsCommand(),
		a.expireCommand(),
	)
	return root
}

// location returns the --tz location.
func (a *app) location() (*time.Location, error) {
	loc, err := time.LoadLocation(a.tz)
	if err != nil {
		return nil, usagef("--tz %q: %v", a.tz, err)
	}
	return loc, nil
}

// open connects to --redis and returns a bitmapist client on it with
// --prefix and --tz, plus extra options. It pings first, so an unreachable
// server is one clear error. A single address that turns out to be a node
// of a Redis Cluster is used as a cluster seed (asClusterIfNode), as with
// --cluster. Call the returned close function when done.
func (a *app) open(ctx context.Context, extra ...bitmapist.Option) (*bitmapist.Client, func(), error) {
	loc, err := a.location()
	if err != nil {
		return nil, nil, err
	}
	rdb, err := parseRedis(a.redisURL, a.cluster)
	if err != nil {
		return nil, nil, &usageError{err: err}
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("cannot reach Redis at %s: %w", redactURL(a.redisURL), err)
	}
	if rdb, err = asClusterIfNode(pctx, rdb); err != nil {
		return nil, nil, fmt.Errorf("cannot reach Redis Cluster at %s: %w", redactURL(a.redisURL), err)
	}
	opts := append([]bitmapist.Option{bitmapist.WithPrefix(a.prefix), bitmapist.WithLocation(loc), bitmapist.WithMaxUserID(a.maxID)}, extra...)
	if a.idmapURL == "" {
		return bitmapist.New(rdb, opts...), func() { _ = rdb.Close() }, nil
	}
	idmap, err := a.openIDMap(ctx)
	if err != nil {
		_ = rdb.Close()
		return nil, nil, err
	}
	opts = append(opts, bitmapist.WithIDMapClient(idmap))
	return bitmapist.New(rdb, opts...), func() { _ = rdb.Close(); _ = idmap.Close() }, nil
}

// openIDMap connects to --idmap-redis and pings it.
func (a *app) openIDMap(ctx context.Context) (redis.UniversalClient, error) {
	idmap, err := parseRedis(a.idmapURL, false)
	if err != nil {
		return nil, usagef("--idmap-redis: %v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := idmap.Ping(pctx).Err(); err != nil {
		_ = idmap.Close()
		return nil, fmt.Errorf("cannot reach the id map's Redis at %s: %w", redactURL(a.idmapURL), err)
	}
	if idmap, err = asClusterIfNode(pctx, idmap); err != nil {
		return nil, fmt.Errorf("cannot reach the id map's Redis Cluster at %s: %w", redactURL(a.idmapURL), err)
	}
	return idmap, nil
}
