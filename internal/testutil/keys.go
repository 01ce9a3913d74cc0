package testutil

import (
	"context"
	"slices"
	"strings"
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
		seen := map[string]bool{}
		info, _ := c.Info(ctx, "keys").Result() // "" or an error on Redis
		slashes := strings.Contains(info, "keys_total:")
		for _, pattern := range scanPatterns(escapeGlob(prefix)+"*", slashes) {
			it := c.Scan(ctx, 0, pattern, 1000).Iterator()
			for it.Next(ctx) {
				if k := it.Val(); !seen[k] {
					seen[k] = true
					mu.Lock()
					keys = append(keys, k)
					mu.Unlock()
				}
			}
			if err := it.Err(); err != nil {
				return err
			}
		}
		return nil
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
