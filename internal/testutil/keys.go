package testutil

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Keys returns every key of rdb that starts with prefix, sorted, found
// with SCAN (on every master of a cluster, never KEYS). Tests use it to
// check what was written or left behind; a Redis error fails t.
func Keys(t testing.TB, rdb redis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx := context.Background()
	var (
		mu   sync.Mutex
		keys []string
	)
	scan := func(ctx context.Context, c *redis.Client) error {
		it := c.Scan(ctx, 0, escapeGlob(prefix)+"*", 1000).Iterator()
		for it.Next(ctx) {
			mu.Lock()
			keys = append(keys, it.Val())
			mu.Unlock()
		}
		return it.Err()
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		// ForEachMaster calls scan for the masters concurrently.
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		t.Fatalf("testutil.Keys: unsupported client %T", rdb)
	}
	if err != nil {
		t.Fatalf("testutil.Keys(%q): %v", prefix, err)
	}
	slices.Sort(keys)
	return keys
}
