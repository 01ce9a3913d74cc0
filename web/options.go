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

type config struct {
	authorize func(*http.Request) bool
	timeout   time.Duration
	title     string
	onError   func(*http.Request, error)
}

func newConfig(opts []Option) config {
	cfg := config{timeout: DefaultTimeout, title: DefaultTitle}
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
// ignores context deadlines on sockets unless ContextTimeoutEnabled is set).
// d <= 0 means no bound besides the request's own context.
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
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
