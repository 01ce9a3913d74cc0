package web

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// userFromHeader reads the user id from the X-User header; no header, no
// user.
func userFromHeader(r *http.Request) (uint64, bool) {
	id, err := strconv.ParseUint(r.Header.Get("X-User"), 10, 64)
	return id, err == nil
}

// marked reports whether id did event on demoNow's day (and week and month).
func marked(t *testing.T, c *bitmapist.Client, event string, id uint64) bool {
	t.Helper()
	ctx := context.Background()
	var got []bool
	for _, p := range []*bitmapist.Period{c.Day(event, demoNow), c.Week(event, demoNow), c.Month(event, demoNow)} {
		ok, err := p.Has(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	if got[0] != got[1] || got[1] != got[2] {
		t.Fatalf("day/week/month disagree: %v", got)
	}
	return got[0]
}

func request(user string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/x", nil)
	if user != "" {
		r.Header.Set("X-User", user)
	}
	return r
}

func TestMarkByStatus(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		for i, tc := range []struct {
			name    string
			handler http.HandlerFunc
			mark    bool
		}{
			{"200 body", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "hi") }, true},
			{"nothing written", func(http.ResponseWriter, *http.Request) {}, true},
			{"201", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) }, true},
			{"204", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }, true},
			{"103 then 200", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusOK)
			}, true},
			{"302", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/y", http.StatusFound) }, true},
			{"103 then 500", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusEarlyHints)
				w.WriteHeader(http.StatusInternalServerError)
			}, false},
			{"400", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "bad", http.StatusBadRequest) }, false},
			{"403", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusForbidden) }, false},
			{"404", http.NotFound, false},
			{"500", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "oops", http.StatusInternalServerError) }, false},
			{"503 after body", func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusServiceUnavailable)
				io.WriteString(w, "down")
			}, false},
		} {
			id := uint64(100 + i)
			var errs []error
			h := Mark(c, "page:viewed", userFromHeader, OnMarkError(func(_ *http.Request, err error) { errs = append(errs, err) }))(tc.handler)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, request(strconv.FormatUint(id, 10)))
			if got := marked(t, c, "page:viewed", id); got != tc.mark {
				t.Errorf("%s (status %d): marked = %v, want %v", tc.name, rec.Code, got, tc.mark)
			}
			if len(errs) != 0 {
				t.Errorf("%s: errors %v", tc.name, errs)
			}
		}
	})
}

func TestMarkNoUser(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	calls := 0
	ok := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ })
	Mark(c, "page:viewed", userFromHeader)(ok).ServeHTTP(httptest.NewRecorder(), request(""))
	Mark(c, "page:viewed", nil)(ok).ServeHTTP(httptest.NewRecorder(), request("5"))
	Mark(nil, "page:viewed", userFromHeader)(ok).ServeHTTP(httptest.NewRecorder(), request("5"))
	if calls != 3 {
		t.Errorf("handler ran %d times, want 3", calls)
	}
	if keys := b.Mini.Keys(); len(keys) != 0 {
		t.Errorf("keys written without a user: %v", keys)
	}
}

func TestMarkErrors(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "fine") })
	var errs []error
	onErr := OnMarkError(func(_ *http.Request, err error) { errs = append(errs, err) })

	rec2 := httptest.NewRecorder()
	Mark(c, "fine", userFromHeader, onErr)(ok).ServeHTTP(rec2, request(strconv.FormatUint(bitmapist.MaxUserID+1, 10)))
	b.Mini.SetError("ERR injected failure")
	rec3 := httptest.NewRecorder()
	Mark(c, "fine", userFromHeader, onErr)(ok).ServeHTTP(rec3, request("1"))
	b.Mini.SetError("")

	for _, r := range []*httptest.ResponseRecorder{rec2, rec3} {
		if r.Code != 200 || r.Body.String() != "fine" {
			t.Errorf("a failed mark changed the response: %d %q", r.Code, r.Body)
		}
	}
	if len(errs) != 2 || !errors.Is(errs[0], bitmapist.ErrInvalidUserID) ||
		errs[1] == nil || errors.Is(errs[1], bitmapist.ErrInvalidUserID) {
		t.Errorf("errors %v", errs)
	}
	if keys := b.Mini.Keys(); len(keys) != 0 {
		t.Errorf("keys written: %v", keys)
	}
}

func TestMarkAfterClientLeft(t *testing.T) {
	// The request's context is cancelled (the client hung up) after a
	// successful answer: the mark is still made.
	c := newClient(testutil.Miniredis(t), demoNow)
	ctx, cancel := context.WithCancel(context.Background())
	h := Mark(c, "download", userFromHeader)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "data")
		cancel()
	}))
	h.ServeHTTP(httptest.NewRecorder(), request("7").WithContext(ctx))
	if !marked(t, c, "download", 7) {
		t.Error("not marked")
	}
}

func TestMarkPanicNoMark(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	h := Mark(c, "boom", userFromHeader)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("handler failed") }))
	func() {
		defer func() {
			if recover() == nil {
				t.Error("panic swallowed")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), request("3"))
	}()
	if marked(t, c, "boom", 3) {
		t.Error("marked after a panic")
	}
}

func TestMarkKeepsFlusherAndController(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	var flusherOK bool
	var deadlineErr, flushErr error
	h := Mark(c, "stream", userFromHeader)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "part 1")
		f, ok := w.(http.Flusher)
		flusherOK = ok
		if ok {
			f.Flush()
		}
		rc := http.NewResponseController(w)
		flushErr = rc.Flush()
		deadlineErr = rc.SetWriteDeadline(time.Now().Add(time.Minute)) // needs Unwrap to reach the server's writer
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Header.Set("X-User", "9")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if body := readAll(t, resp); body != "part 1" {
		t.Errorf("body %q", body)
	}
	if !flusherOK || flushErr != nil || deadlineErr != nil {
		t.Errorf("Flusher %v, Flush %v, SetWriteDeadline %v", flusherOK, flushErr, deadlineErr)
	}
	if !marked(t, c, "stream", 9) {
		t.Error("not marked")
	}
	// A recorder flushes too.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, request("10"))
	if !rec.Flushed {
		t.Error("recorder not flushed")
	}
}

// use chains middleware the way chi's r.Use and most routers do: the first
// one is the outermost.
func use(h http.Handler, mws ...func(http.Handler) http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

type userKey struct{}

func TestMarkComposes(t *testing.T) {
	// An auth middleware puts the user in the context; MarkActive (for
	// every route) and Mark (for one route) read it.
	c := newClient(testutil.Miniredis(t), demoNow)
	auth := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if id, ok := userFromHeader(r); ok {
				r = r.WithContext(context.WithValue(r.Context(), userKey{}, id))
			}
			next.ServeHTTP(w, r)
		})
	}
	fromCtx := func(r *http.Request) (uint64, bool) {
		id, ok := r.Context().Value(userKey{}).(uint64)
		return id, ok
	}
	mux := http.NewServeMux()
	mux.Handle("GET /songs/{id}", Mark(c, "song:played", fromCtx)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "♪")
	})))
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "home") })
	app := use(mux, auth, MarkActive(c, fromCtx))

	for _, tc := range []struct {
		path, user string
	}{{"/home", "1"}, {"/songs/5", "2"}, {"/songs/missing", "3"}, {"/home", ""}} {
		r := httptest.NewRequest(http.MethodGet, tc.path, nil)
		if tc.user != "" {
			r.Header.Set("X-User", tc.user)
		}
		app.ServeHTTP(httptest.NewRecorder(), r)
	}
	want := map[string]map[uint64]bool{
		EventActive:   {1: true, 2: true, 3: false},
		"song:played": {1: false, 2: true, 3: false},
	}
	for ev, users := range want {
		for id, w := range users {
			if got := marked(t, c, ev, id); got != w {
				t.Errorf("%s for user %d: %v, want %v", ev, id, got, w)
			}
		}
	}
	if n, _ := c.Day(EventActive, demoNow).Count(context.Background()); n != 2 {
		t.Errorf("%d active users, want 2", n)
	}
}

// TestMarkBadEventName: Mark rejects an invalid event name when the
// middleware is built (a panic with an error wrapping
// bitmapist.ErrInvalidEventName), before any request and whatever the
// client; a valid name builds without complaint.
func TestMarkBadEventName(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	for _, event := range []string{"", "bad event", "tab\tx", "star*", "bitop_AND_x", "\xff",
		strings.Repeat("x", bitmapist.MaxEventNameLen+1)} {
		for _, client := range []*bitmapist.Client{c, nil} {
			func() {
				defer func() {
					p := recover()
					err, isErr := p.(error)
					if !isErr || !errors.Is(err, bitmapist.ErrInvalidEventName) {
						t.Errorf("Mark(%q) panicked with %v, want an error wrapping ErrInvalidEventName", event, p)
					}
				}()
				Mark(client, event, userFromHeader)
			}()
		}
	}
	for _, event := range []string{EventActive, "song:played", strings.Repeat("x", bitmapist.MaxEventNameLen)} {
		if mw := Mark(c, event, userFromHeader); mw == nil {
			t.Errorf("Mark(%q) = nil", event)
		}
	}
	if MarkActive(nil, nil) == nil {
		t.Error("MarkActive = nil")
	}
}
