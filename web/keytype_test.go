package web

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// A hash at a bitmap key answers 409 with a page naming the key, not 502
// "Redis failed to answer".
func TestHashAtBitmapKeyAnswers409(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		mark(t, c, "login", demoNow, 1, 2)
		key := c.Month("hashy", demoNow).Key()
		if err := b.Client.HSet(context.Background(), key, "a", "b").Err(); err != nil {
			t.Fatal(err)
		}
		var logged error
		h := Handler(c, WithErrorHandler(func(_ *http.Request, err error) { logged = err }))
		for _, path := range []string{"/"} {
			status, body := get(t, h, path)
			if status != http.StatusConflict || !strings.Contains(body, key) || !strings.Contains(body, "is not a bitmap (string) key") {
				t.Errorf("GET %s: %d, want 409 naming %q; logged %v", path, status, key, logged)
			}
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it has no hashes"))
}
