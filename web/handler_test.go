package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/redis/go-redis/v9"
)

func TestAuthorize(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "secret:event", demoNow, 1)
	mark(t, c, "a", demoNow, 1)
	mark(t, c, "b", demoNow, 1)
	h := Handler(c, WithAuthorize(func(r *http.Request) bool { return r.Header.Get("X-Admin") == "yes" }))
	for _, path := range []string{"/", "/cohort", "/cohort.json?primary_event=secret:event&secondary_event=secret:event", "/cohort.csv?primary_event=a&secondary_event=b"} {
		rec := serve(h, path)
		if rec.Code != http.StatusForbidden || strings.Contains(rec.Body.String(), "secret:event") {
			t.Errorf("%s without authorization: %d %s", path, rec.Code, rec.Body)
		}
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("X-Admin", "yes")
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s with authorization: %d", path, rec.Code)
		}
	}
	// Without the option everything is served, as in flask-bitmapist.
	if rec := serve(Handler(c), "/"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "secret:event") {
		t.Errorf("default: %d", rec.Code)
	}
}

func TestTimeoutSlowRedis(t *testing.T) {
	// go-redis would wait a minute per command (and retry); the page must
	// answer when the dashboard's timeout passes.
	rdb := redis.NewClient(&redis.Options{Addr: silentAddr(t), ReadTimeout: time.Minute, WriteTimeout: time.Minute, MaxRetries: -1})
	t.Cleanup(func() { rdb.Close() })
	c := bitmapist.New(rdb)
	var mu sync.Mutex
	var logged []error
	h := Handler(c, WithTimeout(50*time.Millisecond), WithErrorHandler(func(_ *http.Request, err error) {
		mu.Lock()
		logged = append(logged, err)
		mu.Unlock()
	}))
	for _, path := range []string{"/", "/cohort?primary_event=a&secondary_event=b", "/cohort.json?primary_event=a&secondary_event=b", "/cohort.csv?primary_event=a&secondary_event=b"} {
		rec := serve(h, path)
		if rec.Code != http.StatusGatewayTimeout || !strings.Contains(rec.Body.String(), "did not answer within 50ms") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
		checkErrorType(t, path, rec)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(logged) != 4 || !errors.Is(logged[0], errDeadline) {
		t.Errorf("error handler got %v", logged)
	}
}

func TestRedisError(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	mark(t, c, "a", demoNow, 1)
	var got error
	h := Handler(c, WithErrorHandler(func(_ *http.Request, err error) { got = err }))
	b.Mini.SetError("ERR injected failure")
	t.Cleanup(func() { b.Mini.SetError("") })
	for _, path := range []string{"/", "/cohort?primary_event=a&secondary_event=a", "/cohort.json?primary_event=a&secondary_event=a", "/cohort.csv?primary_event=a&secondary_event=a"} {
		rec := serve(h, path)
		if rec.Code != http.StatusBadGateway || strings.Contains(rec.Body.String(), "injected") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
		checkErrorType(t, path, rec)
	}
	if got == nil || !strings.Contains(got.Error(), "injected failure") {
		t.Errorf("error handler got %v", got)
	}
}

func TestMountedUnderPrefix(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "a", demoNow, 1)
	mux := http.NewServeMux()
	mux.Handle("/admin/bitmapist/", http.StripPrefix("/admin/bitmapist", Handler(c)))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	client := srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

	resp, err := client.Get(srv.URL + "/admin/bitmapist")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 3 || resp.Header.Get("Location") != "/admin/bitmapist/" {
		t.Errorf("no redirect to the trailing slash: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Every link of the pages resolves under the prefix and answers 200.
	for _, page := range []string{"/admin/bitmapist/", "/admin/bitmapist/cohort?primary_event=a&secondary_event=a"} {
		resp, err := client.Get(srv.URL + page)
		if err != nil {
			t.Fatal(err)
		}
		body := readAll(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", page, resp.StatusCode)
		}
		links := hrefs(body)
		if len(links) < 3 {
			t.Fatalf("%s: links %v", page, links)
		}
		for _, l := range links {
			if strings.HasPrefix(l, "https://") {
				continue
			}
			if strings.HasPrefix(l, "/") {
				t.Errorf("%s: absolute link %q breaks under a prefix", page, l)
				continue
			}
			u, err := resp.Request.URL.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(u.Path, "/admin/bitmapist/") {
				t.Errorf("%s: link %q resolves to %s", page, l, u.Path)
			}
			r2, err := client.Get(u.String())
			if err != nil {
				t.Fatal(err)
			}
			readAll(t, r2)
			if r2.StatusCode != http.StatusOK {
				t.Errorf("%s: link %q answers %d", page, l, r2.StatusCode)
			}
		}
	}
}

func TestStaticAndMethods(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	h := Handler(c)
	rec := serve(h, "/static/style.css")
	if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/css") || !strings.Contains(rec.Body.String(), ".heatmap") {
		t.Errorf("style.css: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := serve(h, "/static/nope.css"); rec.Code != http.StatusNotFound {
		t.Errorf("missing asset: %d", rec.Code)
	}
	if rec := serve(h, "/nope"); rec.Code != http.StatusNotFound {
		t.Errorf("unknown page: %d", rec.Code)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/cohort", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
	rec = serve(h, "/")
	for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
		if got := rec.Header().Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("CSP %q: the pages need no script", csp)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/cohort", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("HEAD: %d", rec.Code)
	}
	if rec := serve(Handler(nil), "/"); rec.Code != http.StatusInternalServerError {
		t.Errorf("nil client: %d", rec.Code)
	}
}

func TestRunRecoversPanic(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	var logged error
	h := Handler(c, WithErrorHandler(func(_ *http.Request, err error) { logged = err })).(*handler)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	err := h.run(r, func(context.Context) error { panic("bug") })
	if !errors.Is(err, errPanic) || !strings.Contains(err.Error(), "bug") {
		t.Fatalf("run returned %v", err)
	}
	rec := httptest.NewRecorder()
	h.failRedis(rec, r, err, false)
	if rec.Code != http.StatusInternalServerError || strings.Contains(rec.Body.String(), "bug") || !errors.Is(logged, errPanic) {
		t.Errorf("%d %s; logged %v", rec.Code, rec.Body, logged)
	}
}

// silentAddr is the address of a Redis that accepts connections and never
// answers.
func silentAddr(t *testing.T) string {
	addr, _ := testutil.SilentRedis(t)
	return addr
}

// checkErrorType fails unless the error answer rec of path has the
// path's type: JSON {"error", "field", "suggestions"} from .json routes,
// plain text from .csv routes, an HTML page otherwise.
func checkErrorType(t *testing.T, path string, rec *httptest.ResponseRecorder) {
	t.Helper()
	ct := rec.Header().Get("Content-Type")
	route, _, _ := strings.Cut(path, "?")
	switch {
	case strings.HasSuffix(route, ".json"):
		var e struct {
			Error       *string
			Field       *string
			Suggestions []string
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.HasPrefix(ct, "application/json") || e.Error == nil || *e.Error == "" || e.Field == nil || e.Suggestions == nil {
			t.Errorf("%s: %q %s (%v); want a JSON error", path, ct, rec.Body, err)
		}
	case strings.HasSuffix(route, ".csv"):
		if !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: Content-Type %q, want text/plain", path, ct)
		}
	default:
		if !strings.HasPrefix(ct, "text/html") {
			t.Errorf("%s: Content-Type %q, want text/html", path, ct)
		}
	}
}
