package web

import (
	"log/slog"
	"net/http"
	"time"
)

// DefaultTimeout bounds how long one dashboard request may wait for Redis
// unless WithTimeout says otherwise.
const DefaultTimeout = 30 * time.Second

// DefaultTitle is the page title unless WithTitle says otherwise.
const DefaultTitle = "bitmapist"

// Option configures the dashboard returned by Handler.
type Option func(*config)

// DefaultMaxTables is how many cohort tables the dashboard computes at once
// unless WithMaxTables says otherwise.
const DefaultMaxTables = 4

// DefaultQueueWait is how long a table request waits for a free
// computation slot before it is answered 503, unless WithQueueWait says
// otherwise.
const DefaultQueueWait = 2 * time.Second

// DefaultTableMemory is the bytes of bitmap one table computation may hold
// at once unless WithTableMemory says otherwise.
const DefaultTableMemory = 32 << 20

type config struct {
	authorize func(*http.Request) bool
	timeout   time.Duration
	title     string
	onError   func(*http.Request, error)
	maxTables int
	queueWait time.Duration
	memory    int64
}

func newConfig(opts []Option) config {
	cfg := config{timeout: DefaultTimeout, title: DefaultTitle, maxTables: DefaultMaxTables,
		queueWait: DefaultQueueWait, memory: DefaultTableMemory}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.onError == nil {
		cfg.onError = logError
	}
	return cfg
}

// WithAuthorize sets the access check of the dashboard. fn is called once
// per request, before anything is read from Redis; when it returns false the
// request gets 403 Forbidden and no data. fn usually reads the session or
// user that the host application's own authentication put in the request
// context. Without this option (or with fn nil) every request is served,
// as flask-bitmapist's blueprint does: the dashboard shows analytics about
// users, so mount it behind authentication or give it this option.
func WithAuthorize(fn func(r *http.Request) bool) Option {
	return func(c *config) { c.authorize = fn }
}

// WithTimeout bounds how long one request may wait for Redis (default
// DefaultTimeout, 30 seconds). When it passes the page answers 504 Gateway
// Timeout, even if the Redis client itself would wait longer (go-redis
// ignores context deadlines on sockets unless ContextTimeoutEnabled is set),
// and the request's Redis work stops at its next bounded step. Every Redis
// call of a table is bounded (core's Reader: a few MiB a round trip), so
// go-redis's own socket timeout (3 s by default) never fires first on a
// healthy Redis. d <= 0 means no bound besides the request's own context.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithMaxTables bounds how many cohort tables (the cohort page, cohort.json
// and cohort.csv) the dashboard computes at once (default
// DefaultMaxTables, 4; n < 1 means 1). A request over the bound waits up to
// WithQueueWait for a slot, then gets 503 Service Unavailable with a
// Retry-After header, so that many heavy requests neither pile up on
// Redis nor time out as 502/504. With WithTableMemory it bounds the
// dashboard's memory: about n × (memory + 8 MiB of replies in flight).
func WithMaxTables(n int) Option {
	return func(c *config) { c.maxTables = max(1, n) }
}

// WithQueueWait sets how long a table request waits for a computation slot
// (default DefaultQueueWait, 2 seconds; 0 answers 503 at once when all
// slots are busy).
func WithQueueWait(d time.Duration) Option {
	return func(c *config) { c.queueWait = max(0, d) }
}

// WithTableMemory bounds the bytes of bitmap one table computation holds at
// once (default DefaultTableMemory, 32 MiB; see cohort.WithMemory).
func WithTableMemory(bytes int64) Option {
	return func(c *config) {
		if bytes > 0 {
			c.memory = bytes
		}
	}
}

// WithTitle sets the name shown in the page header and the browser tab
// (default DefaultTitle, "bitmapist"). It is HTML-escaped.
func WithTitle(title string) Option {
	return func(c *config) {
		if title != "" {
			c.title = title
		}
	}
}

// WithErrorHandler sets the function told about errors that the dashboard
// does not show in detail: Redis failures and timeouts (the page itself
// only says that Redis failed or did not answer in time). The default logs
// them with slog.Default at level Error. Bad form input is not an error here;
// it is answered with 400 and a message naming the field.
func WithErrorHandler(fn func(r *http.Request, err error)) Option {
	return func(c *config) { c.onError = fn }
}

// logError is the default error handler of the dashboard and the middleware.
func logError(r *http.Request, err error) {
	slog.Default().ErrorContext(r.Context(), "bitmapist/web", "method", r.Method, "path", r.URL.Path, "err", err)
}
