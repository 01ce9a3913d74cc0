package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// EventActive is the event MarkActive records: every successful request of
// an authenticated user.
const EventActive = "user:active"

// DefaultMarkTimeout bounds one mark made by the middleware unless
// WithMarkTimeout says otherwise.
const DefaultMarkTimeout = 2 * time.Second

// UserFunc extracts the user of a request: its bitmapist id (0 ..
// bitmapist.MaxUserID) and true, or false when the request has no user
// (anonymous), in which case nothing is marked. It usually reads what the
// host application's authentication middleware put in the request context,
// so place the marking middleware inside (after) that middleware.
type UserFunc func(r *http.Request) (userID uint64, ok bool)

// MarkOption configures Mark and MarkActive.
type MarkOption func(*markConfig)

type markConfig struct {
	onError func(*http.Request, error)
	timeout time.Duration
	opts    []bitmapist.MarkOption
}

// OnMarkError sets the function told when a mark fails (a Redis error, a
// timeout or a user id above bitmapist.MaxUserID).
// Errors never reach the response: it has been sent by then. The default
// logs them with slog.Default at level Error.
func OnMarkError(fn func(r *http.Request, err error)) MarkOption {
	return func(m *markConfig) { m.onError = fn }
}

// WithMarkTimeout bounds one mark (default DefaultMarkTimeout, 2 seconds).
// The mark runs on a context detached from the request's cancellation, so
// a client that hangs up after a successful response is still counted.
func WithMarkTimeout(d time.Duration) MarkOption {
	return func(m *markConfig) {
		if d > 0 {
			m.timeout = d
		}
	}
}

// WithMarkOptions passes options to every bitmapist MarkEvent call, for
// example bitmapist.TrackHourly(true).
func WithMarkOptions(opts ...bitmapist.MarkOption) MarkOption {
	return func(m *markConfig) { m.opts = append(m.opts, opts...) }
}

// Mark returns middleware that records event for the request's user after
// the wrapped handler has answered with a status below 400: the net/http
// form of flask-bitmapist's mark decorator, which marked before the view
// ran (and so also counted failed requests). A request for which user
// returns false (or a nil user) marks nothing; a response of 400 or more,
// or a handler that panics, marks nothing. A handler that writes no status
// answers 200 and is marked; a hijacked connection (e.g. a WebSocket) counts
// as a success.
//
// The mark is one bitmapist MarkEvent call, a single MULTI/EXEC round trip,
// made after the handler returns and before the middleware does; its error
// goes to OnMarkError, never to the response.
//
// Mark panics if event is not a valid event name
// (bitmapist.ValidateEventName), with an error wrapping
// bitmapist.ErrInvalidEventName, when it is called, before any request:
// the name is fixed by the program, so a bad one is a programmer error,
// reported at start-up as regexp.MustCompile and http.ServeMux.Handle
// report a bad pattern, rather than as an error on every request. Check a
// name that comes from configuration with bitmapist.ValidateEventName
// first.
//
// The result is a plain func(http.Handler) http.Handler, so it composes
// with net/http, chi's r.Use / r.With and any router taking that shape. The
// ResponseWriter the handler sees still supports http.Flusher, and
// http.ResponseController reaches the original writer through Unwrap.
func Mark(c *bitmapist.Client, event string, user UserFunc, opts ...MarkOption) func(http.Handler) http.Handler {
	if err := bitmapist.ValidateEventName(event); err != nil {
		panic(fmt.Errorf("bitmapist/web: Mark: %w", err))
	}
	cfg := markConfig{onError: logError, timeout: DefaultMarkTimeout}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.onError == nil {
		cfg.onError = logError
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			sw := &statusWriter{ResponseWriter: w}
			next.ServeHTTP(sw, r)
			if sw.status() >= 400 || user == nil || c == nil {
				return
			}
			id, ok := user(r)
			if !ok {
				return
			}
			ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), cfg.timeout)
			defer cancel()
			if err := c.MarkEvent(ctx, event, id, cfg.opts...); err != nil {
				cfg.onError(r, fmt.Errorf("bitmapist/web: mark %q for user %d: %w", event, id, err))
			}
		})
	}
}

// MarkActive returns Mark(c, EventActive, user, opts...): middleware that
// records "user:active" for every successful request of an authenticated
// user. Wrap the whole authenticated part of an application in it to get
// daily, weekly and monthly active users.
func MarkActive(c *bitmapist.Client, user UserFunc, opts ...MarkOption) func(http.Handler) http.Handler {
	return Mark(c, EventActive, user, opts...)
}
