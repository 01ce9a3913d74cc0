package web

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// pages holds one parsed template set per page: the layout plus the page.
// They are parsed once from the embedded files and never change.
var pages = map[string]*template.Template{
	"overview":   parsePage("overview.html"),
	"cohort":     parsePage("cohort.html"),
	"error":      parsePage("error.html"),
	"event":      parsePage("event.html"),
	"lifecycle":  parsePage("lifecycle.html"),
	"stickiness": parsePage("stickiness.html"),
	"funnel":     parsePage("funnel.html"),
}

func parsePage(name string) *template.Template {
	return template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", "templates/"+name))
}

// handler is the dashboard.
type handler struct {
	c      *bitmapist.Client
	cfg    config
	mux    *http.ServeMux
	static http.Handler
	slots  chan struct{} // one per table computation running (WithMaxTables)
}

// Handler returns the dashboard of the events recorded through c: the port
// of flask-bitmapist's blueprint. Its routes are relative to where it is
// mounted:
//
//	/             overview: every event with its users today, this ISO week, this
//	              month; ?sort=month (default), week, today (descending) or name
//	/cohort       cohort form and heatmap (HTML); &segment= restricts every
//	              cohort to the segment (cohort.ParseSegment's text form:
//	              EVENT, EVENT@LABEL, or !EVENT / !EVENT@LABEL for everyone
//	              else)
//	/cohort.json  the same cohort table as JSON (cohort.Table's shape)
//	/cohort.csv   the same cohort table as a CSV download
//	              Both refuse where the page shows a note instead of a table:
//	              an event without data 404 (JSON {"error", "field",
//	              "suggestions", "missing"}; CSV plain text), an hourly table
//	              of events marked without hourly tracking 400 (field
//	              time_group)
//	/event        ?event=E&from=&to=&time_group=&segment=: E's trend (days: DAU,
//	              rolling WAU and MAU, DAU/MAU; 90 days up to now by default)
//	/lifecycle    ?event=E...: new, returning, resurrecting and dormant users
//	              (12 weeks by default)
//	/stickiness   ?event=E...: users active in exactly k of the periods (30 days)
//	/funnel       ?step=E1&step=E2...&window=7: a funnel over 30 entry days
//	              Every page takes now= (the date control); an event without
//	              data answers 404 with "did you mean" links.
//	/static/...   embedded stylesheet
//
// All links in its pages are relative, so it works under any prefix; strip
// the prefix before the handler sees the request:
//
//	mux.Handle("/bitmapist/", http.StripPrefix("/bitmapist", web.Handler(c)))
//
// (with chi: r.Mount("/bitmapist", http.StripPrefix("/bitmapist", web.Handler(c)))).
// Templates and the stylesheet are embedded: no CDN, and every page works
// without JavaScript.
//
// Without WithAuthorize the dashboard serves everyone, as the original
// does. It shows analytics about users: mount it behind the host
// application's authentication, or pass WithAuthorize.
//
// Only GET and HEAD are served (405 otherwise). Bad form input answers 400
// with a message naming the field (as JSON {"error", "field", "suggestions"} from
// cohort.json), before any Redis work on the table: values out of
// cohort.ParseQuery's bounds (rows, columns, more than
// cohort.MaxAdditional additional events, event names longer than
// bitmapist.MaxEventNameLen bytes) included. A query string that does not
// parse (a ";" separator, a bad %-escape, more parameters than net/url
// accepts) answers 400 "malformed query string: ..." (field "" in JSON)
// whatever the parameters that did parse. Redis failures 502 (from cohort.json in the same JSON shape, field ""); a Redis slower than WithTimeout 504;
// a table request that finds WithMaxTables computations running and no slot
// free within WithQueueWait 503 with Retry-After; a
// panic while computing 500. Details of those go to WithErrorHandler, not
// into the response. A nil c answers 500 on every page.
func Handler(c *bitmapist.Client, opts ...Option) http.Handler {
	h := &handler{c: c, cfg: newConfig(opts), mux: http.NewServeMux()}
	h.slots = make(chan struct{}, h.cfg.maxTables)
	sub, _ := fs.Sub(staticFS, "static") // cannot fail: "static" is embedded
	h.static = http.StripPrefix("/static", http.FileServerFS(sub))
	h.mux.HandleFunc("GET /{$}", h.overview)
	h.mux.HandleFunc("GET /cohort", h.cohortHTML)
	h.mux.HandleFunc("GET /cohort.json", h.cohortJSON)
	h.mux.HandleFunc("GET /cohort.csv", h.cohortCSV)
	h.mux.HandleFunc("GET /event", h.eventPage)
	h.mux.HandleFunc("GET /lifecycle", h.lifecyclePage)
	h.mux.HandleFunc("GET /stickiness", h.stickinessPage)
	h.mux.HandleFunc("GET /funnel", h.funnelPage)
	h.mux.Handle("GET /static/", h.static)
	return h
}

// ServeHTTP implements http.Handler.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'")
	if r.URL.Path == "" {
		// Mounted with StripPrefix("/x") and asked for "/x": relative links
		// need the trailing slash.
		u, err := url.ParseRequestURI(r.RequestURI)
		if err != nil || u.Path == "" {
			http.Error(w, "bad request path", http.StatusBadRequest)
			return
		}
		u.Path += "/"
		http.Redirect(w, r, u.Path+querySuffix(u.RawQuery), http.StatusMovedPermanently)
		return
	}
	if h.cfg.authorize != nil && !h.cfg.authorize(r) {
		h.renderError(w, r, http.StatusForbidden, "You are not allowed to see this dashboard.")
		return
	}
	if h.c == nil {
		h.renderError(w, r, http.StatusInternalServerError, "The dashboard has no bitmapist client.")
		return
	}
	h.mux.ServeHTTP(w, r)
}

func querySuffix(q string) string {
	if q == "" {
		return ""
	}
	return "?" + q
}

// errPanic wraps a panic recovered from the work of a request. The work
// runs in its own goroutine, where net/http's recovery does not reach, so
// an unrecovered panic would stop the whole program.
var errPanic = errors.New("bitmapist/web: panic while serving")

// run calls fn with the request's context bounded by the timeout option, in
// its own goroutine, and returns as soon as fn does or the context ends,
// whichever is first: a Redis client that ignores contexts cannot hold the
// page past the timeout. A panic in fn is returned as an error wrapping
// errPanic. fn must only write to its own results.
func (h *handler) run(r *http.Request, fn func(ctx context.Context) error) error {
	ctx := r.Context()
	if h.cfg.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.cfg.timeout)
		defer cancel()
	}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("%w: %v\n%s", errPanic, p, debug.Stack())
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// errBusy is returned by getTable when no computation slot frees up
// within the queue wait.
var errBusy = errors.New("bitmapist/web: too many tables being computed")

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = "2"

// getTable computes q's table in one of the WithMaxTables slots, waiting
// up to WithQueueWait for one (errBusy after that), with the memory bound
// of WithTableMemory. Called inside run, it holds its slot until the
// computation has returned, even past the request's timeout.
func (h *handler) getTable(ctx context.Context, q cohort.Query) (*cohort.Table, error) {
	select {
	case h.slots <- struct{}{}:
	default:
		t := time.NewTimer(h.cfg.queueWait)
		defer t.Stop()
		select {
		case h.slots <- struct{}{}:
		case <-t.C:
			return nil, errBusy
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	defer func() { <-h.slots }()
	return cohort.Get(ctx, h.c, q, cohort.WithMemory(h.cfg.memory))
}

// failRedis answers a failed run: 503 with Retry-After when busy, 504 for a timeout, nothing for a client
// that went away, 500 for a panic, 409 for a key that is not a bitmap, 502 for a Redis error. The detail goes
// to the error handler, not into the page.
func (h *handler) failRedis(w http.ResponseWriter, r *http.Request, err error, asText bool) {
	h.failRedisAs(w, r, err, func(status int, msg string) {
		if asText {
			http.Error(w, msg, status)
			return
		}
		h.renderError(w, r, status, msg)
	})
}

// failRedisAs is failRedis answering through answer (HTML, text or JSON).
func (h *handler) failRedisAs(w http.ResponseWriter, r *http.Request, err error, answer func(status int, msg string)) {
	status, msg := http.StatusBadGateway, "Redis failed to answer; the error was logged."
	var kt *bitmapist.KeyTypeError
	switch {
	case errors.Is(err, errBusy):
		w.Header().Set("Retry-After", retryAfter)
		answer(http.StatusServiceUnavailable, "Too many tables are being computed; try again in a few seconds.")
		return // expected under load: not logged as an error
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
		msg = fmt.Sprintf("Redis did not answer within %s.", h.cfg.timeout)
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		return // the client is gone; nobody reads an answer
	case errors.Is(err, errPanic):
		status, msg = http.StatusInternalServerError, "Internal error; it was logged."
	case errors.As(err, &kt):
		status = http.StatusConflict
		msg = fmt.Sprintf("Redis key %q is not a bitmap (string) key; delete or rename it.", kt.Key)
	}
	h.cfg.onError(r, err)
	answer(status, msg)
}

// base is what every page's template reads.
type base struct {
	Title   string // application title (WithTitle)
	Nav     string // "overview" or "cohort": the highlighted tab
	Prefix  string // Redis key prefix, shown in the footer
	Now     string // the page's "now" (the client's clock or the date control), shown in the footer
	Message string // error message of the error page
	Status  int    // HTTP status of the error page
	// NavQuery is appended to the header's links ("?now=2011-12-09"), so
	// that moving between pages keeps the date control's value.
	NavQuery string
	// NowNote says that the page's now is after the client's clock (its
	// periods after the present have no data yet); "" otherwise.
	NowNote string
}

func (h *handler) base(nav string) base {
	b := base{Title: h.cfg.title, Nav: nav}
	if h.c != nil {
		b.Prefix = h.c.Prefix()
		b.Now = h.c.Now().Format(time.RFC3339)
	}
	return b
}

// pageBase is base for a page computed for now, asked for with the
// parameters v: the footer shows now, and the header's links keep v's
// "now" parameter.
func (h *handler) pageBase(nav string, v url.Values, now time.Time) base {
	b := h.base(nav)
	b.NavQuery = withParams("", v, nowParam)
	if h.c == nil || now.IsZero() { // no client, or a now that did not parse: the footer shows the clock
		return b
	}
	b.Now = now.Format(time.RFC3339)
	if clock := h.c.Now(); now.After(clock) {
		b.NowNote = "now (" + fmtWhen(now) + ") is after the present (" + fmtWhen(clock) + " on this server's clock): the periods after the present have no data yet."
	}
	return b
}

// render executes page into a buffer first, so a template error never
// leaves half a page behind.
func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		h.cfg.onError(r, fmt.Errorf("bitmapist/web: render %s: %w", page, err))
		http.Error(w, "internal error while rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (h *handler) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	b := h.base("")
	b.Status, b.Message = status, msg
	h.render(w, r, status, "error", b)
}
