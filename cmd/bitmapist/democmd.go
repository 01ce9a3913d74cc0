package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/web"
)

// demoPrefix is the key prefix of a demo run against a real Redis (--redis)
// when --prefix is not given, so that it never mixes with real data.
const demoPrefix = "bitmapist_demo_"

// demoCommand builds "demo": the embedded Redis (or --redis), the GORM
// app, the replay of the Online Retail log, then the dashboard.
func (a *app) demoCommand() *cobra.Command {
	var (
		addr  string
		quiet bool
		now   string
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Replay a real shop's event log into an embedded Redis and open the dashboard (needs nothing installed)",
		Long: `Replay the UCI Online Retail log (4,372 customers, 19,573 invoice days,
2010-12-01 .. 2011-12-09, embedded in this binary) through a small GORM
application, then serve the dashboard.

Redis is embedded (miniredis) and the database is an in-memory SQLite: nothing
needs to be installed. The application has a Customer model embedding
bitmapist.Tracked with the bitmapist GORM plugin installed; a customer row is
created at their first invoice (the plugin marks customer:created at the
invoice's date), updated on every later invoice day (customer:updated), and
every invoice day is marked customer:purchased.

The dashboard then shows the first-purchase monthly cohort table that others
published from the same data (948, 362, 317, ...). Its clock is set to the
log's last day, so "today" and "this month" are December 2011 (--now sets
another one; every page also has a date control).

With --redis URL the same demo writes to that Redis instead, under the prefix
"` + demoPrefix + `" unless --prefix says otherwise; remove it afterwards with
"bitmapist --redis URL --prefix ` + demoPrefix + ` delete --all --yes".
Only an explicit --redis does that: ` + envRedisURL + ` is ignored by the demo, so
that it never writes into the Redis your environment points at.

--addr is checked (listened on) before the replay starts.`,
		Example: `  go run ./cmd/bitmapist demo
  bitmapist demo --addr 127.0.0.1:9000
  bitmapist demo --redis redis://127.0.0.1:6379/0`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			// Listen first: a bad or busy --addr fails before the replay.
			ln, err := listen(addr)
			if err != nil {
				return err
			}
			defer ln.Close()
			data, err := demoData()
			if err != nil {
				return err
			}
			clock, err := a.demoClock(cmd, now)
			if err != nil {
				return err
			}
			c, redisURL, done, err := a.demoClient(cmd, clock)
			if err != nil {
				return err
			}
			defer done()
			app, err := newDemoApp(c)
			if err != nil {
				return err
			}
			defer app.Close()

			fmt.Fprintf(a.stdout, "replaying the Online Retail log into %s (prefix %q) through GORM + the bitmapist plugin (in-memory SQLite)\n", redisURL, a.prefix)
			bar := a.newBar(-1, "loading", quiet, false)
			start := time.Now()
			st, err := loadDemo(ctx, c, app, data, func(done, total int) {
				if bar != nil {
					if bar.GetMax64() != int64(total) {
						bar.ChangeMax(total)
					}
					_ = bar.Set(done)
				}
			})
			if bar != nil {
				_ = bar.Finish()
				fmt.Fprintln(a.stderr)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "loaded %d rows in %.1fs: %d customers created (%s), %d returning-customer updates (%s), %d purchase days (%s); %d rows without a customer left out\n",
				st.Rows, time.Since(start).Seconds(), st.Customers, demoCreated, st.Updates, demoUpdated, st.Purchases, demoPurchased, st.NoCustomer)

			q := demoCohortQuery(st)
			return serveListener(ctx, dashboardMux(c, web.WithTitle("bitmapist demo: Online Retail")), ln, a.stderr, func(base string) {
				fmt.Fprintf(a.stdout, "serving on %s; press Ctrl-C to stop\n", base)
				fmt.Fprintf(a.stdout, "\nThe first-purchase monthly cohort table, as published for this data (948, 362, 317, ...):\n")
				fmt.Fprintf(a.stdout, "  %scohort?%s\n", base, q.Encode())
				fmt.Fprintf(a.stdout, "the same in the terminal, while this demo runs:\n")
				fmt.Fprintf(a.stdout, "  %s --redis %s --prefix %s %s\n", commandName(os.Args[0]), redisURL, a.prefix, demoCohortCLI(st))
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultAddr, "host:port the dashboard listens on (port 0 picks a free one)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	cmd.Flags().StringVar(&now, "now", "", `the dashboard's "now" (default 2011-12-09 12:00 UTC, the log's last day; "now" for the real clock)`)
	return cmd
}

// demoClock returns the demo's clock: the log's last day (2011-12-09
// 12:00 UTC) unless --now gives another time, or the real clock for
// --now now.
func (a *app) demoClock(cmd *cobra.Command, now string) (bitmapist.Option, error) {
	// The dashboard's "now" is the log's last day unless --now says otherwise.
	clock := bitmapist.WithClock(func() time.Time { return time.Date(2011, 12, 9, 12, 0, 0, 0, time.UTC) })
	if opts, err := a.clockFlag(cmd, now); err != nil {
		return nil, err
	} else if len(opts) > 0 {
		clock = opts[0]
	} else if cmd.Flags().Changed("now") { // --now now: the real clock
		clock = bitmapist.WithClock(time.Now)
	}
	return clock, nil
}

// demoClient opens the demo's client with clock: on --redis when given
// (under demoPrefix unless --prefix is given), else on an embedded Redis
// (miniredis). It returns the client, its Redis address for the messages
// (redacted) and the function that closes it all.
func (a *app) demoClient(cmd *cobra.Command, clock bitmapist.Option) (*bitmapist.Client, string, func(), error) {
	if cmd.Flags().Changed("redis") {
		// Keep the demo's keys apart from real data unless told otherwise.
		if !cmd.Flags().Changed("prefix") {
			a.prefix = demoPrefix
		}
		c, done, err := a.open(cmd.Context(), clock)
		if err != nil {
			return nil, "", nil, err
		}
		return c, redactURL(a.redisURL), done, nil
	}
	loc, err := a.location()
	if err != nil {
		return nil, "", nil, err
	}
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		return nil, "", nil, fmt.Errorf("start the embedded Redis: %w", err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c := bitmapist.New(rdb, bitmapist.WithPrefix(a.prefix), bitmapist.WithLocation(loc), clock)
	return c, "redis://" + mr.Addr(), func() { rdb.Close(); mr.Close() }, nil
}

// commandName is how to run this program again in a terminal: arg0 (the
// name as invoked, e.g. ./bitmapist or bitmapist), or "go run
// ./cmd/bitmapist" when arg0 is empty or a binary that go run built in a
// temporary go-build directory.
func commandName(arg0 string) string {
	if arg0 == "" || strings.Contains(filepath.ToSlash(arg0), "/go-build") || strings.HasSuffix(arg0, ".test") {
		return "go run ./cmd/bitmapist"
	}
	return arg0
}
