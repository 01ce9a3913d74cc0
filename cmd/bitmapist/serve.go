package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/web"
)

// defaultAddr is where serve and demo listen unless --addr says otherwise.
const defaultAddr = "127.0.0.1:8080"

// dashboardPath is where the dashboard is mounted.
const dashboardPath = "/bitmapist/"

// dashboardMux mounts the dashboard of c at /bitmapist/ (the path
// flask-bitmapist's blueprint uses) and redirects / to it.
func dashboardMux(c *bitmapist.Client, opts ...web.Option) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(dashboardPath, http.StripPrefix("/bitmapist", web.Handler(c, opts...)))
	mux.Handle("GET /{$}", http.RedirectHandler(dashboardPath, http.StatusFound))
	return mux
}

// listen listens on the TCP address addr ("cannot listen on ADDR: ..."
// when it cannot).
func listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}

// serveDashboard listens on addr and serves h there as serveListener does.
// A listen error is returned as it is.
func serveDashboard(ctx context.Context, h http.Handler, addr string, stderr io.Writer, ready func(base string)) error {
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	return serveListener(ctx, h, ln, stderr, ready)
}

// serveListener serves h on ln, calls ready with the dashboard's base URL
// (dashboardBase: "http://127.0.0.1:8080/bitmapist/") once it accepts
// connections, and serves until ctx ends; it then shuts down gracefully
// (up to 5 seconds), closing ln, and returns nil. A listener that is not
// on a loopback address gets a warning on stderr (exposedWarning).
func serveListener(ctx context.Context, h http.Handler, ln net.Listener, stderr io.Writer, ready func(base string)) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if w := exposedWarning(ln.Addr()); w != "" {
		fmt.Fprintln(stderr, w)
	}
	ready(dashboardBase(ln.Addr()))
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveCommand builds "serve": the dashboard of an existing Redis.
func (a *app) serveCommand() *cobra.Command {
	var (
		addr  string
		title string
		now   string
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboard (events, cohort heatmaps, JSON, CSV) for an existing Redis",
		Long: `Serve the dashboard for the events in an existing Redis (--redis, --prefix) at
http://ADDR/bitmapist/, until interrupted. The dashboard has no authentication
of its own: it listens on 127.0.0.1 by default, and any other --addr (such as
0.0.0.0:8080, every interface) gets a warning on stderr. To expose it, mount
web.Handler in your own application behind your authentication instead (see
the README). On every interface the URL printed is http://localhost:PORT/.

--now sets the dashboard's clock to a fixed time, so that imported history
(a log that ended months ago) shows as "today" and "this month" on every page;
each page also has a date control of its own.`,
		Example: `  bitmapist serve
  bitmapist serve --redis redis://10.0.0.5:6379/0 --addr 127.0.0.1:9000
  bitmapist serve --redis 10.0.0.1:7000,10.0.0.2:7000,10.0.0.3:7000   # a Redis Cluster
  bitmapist serve --now 2011-12-09   # a log imported from 2011`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			clock, err := a.clockFlag(cmd, now)
			if err != nil {
				return err
			}
			c, done, err := a.open(ctx, clock...)
			if err != nil {
				return err
			}
			defer done()
			return serveDashboard(ctx, dashboardMux(c, web.WithTitle(title)), addr, a.stderr, func(base string) {
				fmt.Fprintf(a.stdout, "serving on %s (Redis %s, prefix %q%s); press Ctrl-C to stop\n", base, redactURL(a.redisURL), a.prefix, clockNote(c, len(clock) > 0))
			})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", defaultAddr, "host:port to listen on (port 0 picks a free one)")
	cmd.Flags().StringVar(&title, "title", web.DefaultTitle, "name shown in the dashboard's header")
	cmd.Flags().StringVar(&now, "now", "", `the dashboard's "now" (2011-12-09, 2011-12-09 15:00, RFC 3339; default the real clock)`)
	return cmd
}

// clockFlag returns the client option of a --now flag: none when it was
// not given or is "now", else a clock stopped at the time it names (read in
// --tz). A bad value is a usage error.
func (a *app) clockFlag(cmd *cobra.Command, now string) ([]bitmapist.Option, error) {
	if !cmd.Flags().Changed("now") || strings.EqualFold(strings.TrimSpace(now), "now") {
		return nil, nil
	}
	loc, err := a.location()
	if err != nil {
		return nil, err
	}
	t, err := parseTime(now, loc, time.Now())
	if err != nil {
		return nil, usagef("--now: %v", err)
	}
	return []bitmapist.Option{bitmapist.WithClock(func() time.Time { return t })}, nil
}

// clockNote is the part of the serving message naming a fixed clock.
func clockNote(c *bitmapist.Client, fixed bool) string {
	if !fixed {
		return ""
	}
	return ", now " + c.Now().Format(time.RFC3339)
}

// dashboardBase returns the dashboard's URL for a listener on addr:
// "http://127.0.0.1:8080/bitmapist/", "http://[::1]:8080/bitmapist/", and
// for an unspecified address (0.0.0.0, ::: every interface), which a browser
// cannot open, "http://localhost:8080/bitmapist/".
func dashboardBase(addr net.Addr) string {
	host := addr.String()
	if ta, ok := addr.(*net.TCPAddr); ok && (ta.IP == nil || ta.IP.IsUnspecified()) {
		host = net.JoinHostPort("localhost", strconv.Itoa(ta.Port))
	}
	return "http://" + host + dashboardPath
}

// exposedWarning returns the warning for a dashboard listening on addr
// when that is not a loopback address (the dashboard has no
// authentication), or "" for a loopback one.
func exposedWarning(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || (ta.IP != nil && ta.IP.IsLoopback()) {
		return ""
	}
	where := "on " + addr.String()
	if ta.IP == nil || ta.IP.IsUnspecified() {
		where = "on every interface (" + addr.String() + ")"
	}
	return fmt.Sprintf("bitmapist: warning: the dashboard has no authentication and listens %s: anyone who can reach this port reads every event; --addr 127.0.0.1:%d keeps it local, or mount web.Handler behind your own authentication", where, ta.Port)
}
