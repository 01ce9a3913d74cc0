package web_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/web"
)

// The dashboard mounted under /admin/bitmapist/, behind the application's
// own check of who may see it.
func ExampleHandler() {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		log.Fatal(err)
	}
	defer mr.Close()
	c := bitmapist.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}))

	isAdmin := func(r *http.Request) bool { return r.Header.Get("X-Role") == "admin" } // your session check
	mux := http.NewServeMux()
	mux.Handle("/admin/bitmapist/", http.StripPrefix("/admin/bitmapist",
		web.Handler(c, web.WithAuthorize(isAdmin), web.WithTimeout(10*time.Second), web.WithTitle("Acme analytics"))))

	for _, role := range []string{"", "admin"} {
		req := httptest.NewRequest(http.MethodGet, "/admin/bitmapist/", nil)
		req.Header.Set("X-Role", role)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		fmt.Printf("role %q: %d\n", role, rec.Code)
	}
	// Output:
	// role "": 403
	// role "admin": 200
}

// Marking "user:active" for every successful request of a signed-in user,
// and "song:played" for one route.
func ExampleMark() {
	mr := miniredis.NewMiniRedis()
	if err := mr.Start(); err != nil {
		log.Fatal(err)
	}
	defer mr.Close()
	now := time.Date(2025, 3, 26, 15, 0, 0, 0, time.UTC)
	c := bitmapist.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}), bitmapist.WithClock(func() time.Time { return now }))

	// Your authentication decides who the user is; here, a header.
	user := func(r *http.Request) (uint64, bool) {
		id, err := strconv.ParseUint(r.Header.Get("X-User-ID"), 10, 64)
		return id, err == nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /songs/{id}", web.Mark(c, "song:played", user)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "0" {
			http.NotFound(w, r)
			return
		}
		io.WriteString(w, "♪")
	})))
	app := web.MarkActive(c, user)(mux)

	for _, r := range []struct{ path, user string }{{"/songs/7", "1"}, {"/songs/0", "2"}, {"/songs/7", ""}} {
		req := httptest.NewRequest(http.MethodGet, r.path, nil)
		req.Header.Set("X-User-ID", r.user)
		app.ServeHTTP(httptest.NewRecorder(), req)
	}
	ctx := context.Background()
	active, _ := c.Day(web.EventActive, now).Count(ctx)
	played, _ := c.Day("song:played", now).Count(ctx)
	fmt.Println("active:", active, "played:", played)
	// Output:
	// active: 1 played: 1
}
