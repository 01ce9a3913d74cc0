package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// errRedisURL is wrapped by every error of parseRedis.
var errRedisURL = errors.New("bad Redis address")

// parseRedis turns a Redis address into a client that has not yet
// connected. addr is one of:
//
//	redis://[user:pass@]host:port[/db][?options]   one Redis (go-redis ParseURL)
//	rediss://...                                  the same over TLS
//	host:port                                     one Redis, database 0
//	a,b,c                                         a Redis Cluster: a comma-separated
//	                                              list of the above, one per seed node
//
// With cluster true a single address is also taken as a cluster seed. The
// user, password and TLS setting of a cluster come from its first address;
// a cluster has only database 0, so a /db other than 0 is an error.
func parseRedis(addr string, cluster bool) (redis.UniversalClient, error) {
	var parts []string
	for _, p := range strings.Split(addr, ",") {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: empty address", errRedisURL)
	}
	opts := make([]*redis.Options, len(parts))
	for i, p := range parts {
		if !strings.Contains(p, "://") {
			p = "redis://" + p
		}
		if err := checkRedisURL(p); err != nil {
			return nil, fmt.Errorf("%w %q: %v", errRedisURL, redactURL(p), err)
		}
		o, err := redis.ParseURL(p)
		if err != nil {
			return nil, fmt.Errorf("%w %q: %v", errRedisURL, redactURL(p), err)
		}
		opts[i] = o
	}
	if len(opts) == 1 && !cluster {
		return redis.NewClient(opts[0]), nil
	}
	for i, o := range opts {
		if o.DB != 0 {
			return nil, fmt.Errorf("%w %q: a Redis Cluster has only database 0", errRedisURL, redactURL(parts[i]))
		}
	}
	return clusterClient(opts), nil
}

// clusterClient returns a cluster client seeded with the addresses of
// opts, with the user, password and TLS setting of the first.
func clusterClient(opts []*redis.Options) *redis.ClusterClient {
	first := opts[0]
	co := &redis.ClusterOptions{
		Username:  first.Username,
		Password:  first.Password,
		TLSConfig: first.TLSConfig,
	}
	for _, o := range opts {
		co.Addrs = append(co.Addrs, o.Addr)
	}
	return redis.NewClusterClient(co)
}

// asClusterIfNode returns rdb unchanged unless it is a single-node client
// connected to a node of a Redis Cluster (INFO cluster says
// cluster_enabled:1). Then it closes rdb and returns a cluster client
// seeded with that node, pinged: a plain client on one node would see only
// that node's keys (listing and deleting would silently miss the others)
// and fail on keys of other slots. A server that does not answer INFO
// cluster (miniredis, a renamed INFO) is taken as a single Redis.
func asClusterIfNode(ctx context.Context, rdb redis.UniversalClient) (redis.UniversalClient, error) {
	one, ok := rdb.(*redis.Client)
	if !ok {
		return rdb, nil
	}
	info, err := one.Info(ctx, "cluster").Result()
	if err != nil || !strings.Contains(info, "cluster_enabled:1") {
		return rdb, nil
	}
	o := one.Options()
	_ = one.Close()
	cc := clusterClient([]*redis.Options{o})
	if err := cc.Ping(ctx).Err(); err != nil {
		_ = cc.Close()
		return nil, err
	}
	return cc, nil
}

// redactURL replaces the password of a Redis URL with "xxxxx", so that an
// address can be shown in an error message or a log line.
// A comma-separated list is redacted element by element.
func redactURL(s string) string {
	if strings.Contains(s, ",") {
		parts := strings.Split(s, ",")
		for i, p := range parts {
			parts[i] = redactURL(p)
		}
		return strings.Join(parts, ",")
	}
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// checkRedisURL refuses what go-redis's ParseURL lets through: a database
// that is not a plain non-negative number ("/-1" and "/+7" would silently
// mean database 0 or 7), a port outside 1..65535, and a redis:// or
// rediss:// URL without a host ("redis://" would silently mean
// localhost:6379).
func checkRedisURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme == "redis" || u.Scheme == "rediss") && u.Hostname() == "" {
		return errors.New("no host: write redis://127.0.0.1:6379 for a Redis on this machine")
	}
	if db := strings.Trim(u.Path, "/"); db != "" && strings.Trim(db, "0123456789") != "" {
		return fmt.Errorf("database %q is not a number 0, 1, 2, ...", db)
	}
	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %q is not in 1..65535", port)
		}
	}
	return nil
}
