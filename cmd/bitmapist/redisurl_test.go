package main

import (
	"errors"
	"slices"
	"testing"

	"github.com/redis/go-redis/v9"
)

func TestParseRedis(t *testing.T) {
	tests := []struct {
		addr    string
		cluster bool
		single  string   // Addr of a *redis.Client
		db      int      // its DB
		tls     bool     // whether TLS is on
		nodes   []string // Addrs of a *redis.ClusterClient
	}{
		{addr: "redis://127.0.0.1:6379/3", single: "127.0.0.1:6379", db: 3},
		{addr: "redis://:pw@example.com:6380", single: "example.com:6380"},
		{addr: "rediss://example.com:6390/1", single: "example.com:6390", db: 1, tls: true},
		{addr: "localhost:7000", single: "localhost:7000"},
		{addr: "127.0.0.1:7101, 127.0.0.1:7102,127.0.0.1:7103", nodes: []string{"127.0.0.1:7101", "127.0.0.1:7102", "127.0.0.1:7103"}},
		{addr: "redis://a:7101,redis://b:7102", nodes: []string{"a:7101", "b:7102"}},
		{addr: "rediss://a:7101,b:7102", nodes: []string{"a:7101", "b:7102"}, tls: true},
		{addr: "127.0.0.1:7101", cluster: true, nodes: []string{"127.0.0.1:7101"}},
	}
	for _, tc := range tests {
		rdb, err := parseRedis(tc.addr, tc.cluster)
		if err != nil {
			t.Errorf("%q: %v", tc.addr, err)
			continue
		}
		switch c := rdb.(type) {
		case *redis.Client:
			o := c.Options()
			if tc.nodes != nil || o.Addr != tc.single || o.DB != tc.db || (o.TLSConfig != nil) != tc.tls {
				t.Errorf("%q: single client %s db %d tls %v", tc.addr, o.Addr, o.DB, o.TLSConfig != nil)
			}
		case *redis.ClusterClient:
			o := c.Options()
			if !slices.Equal(o.Addrs, tc.nodes) || (o.TLSConfig != nil) != tc.tls {
				t.Errorf("%q: cluster %v tls %v, want %v", tc.addr, o.Addrs, o.TLSConfig != nil, tc.nodes)
			}
		}
		_ = rdb.Close()
	}
	for _, bad := range []string{"", " , ", "http://example.com", "redis://a:1/2,redis://b:2/2", "redis://host:port:x"} {
		if _, err := parseRedis(bad, false); !errors.Is(err, errRedisURL) {
			t.Errorf("%q: err = %v, want errRedisURL", bad, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	if got := redactURL("redis://user:secret@h:1/0"); got != "redis://user:xxxxx@h:1/0" {
		t.Errorf("redactURL = %q", got)
	}
	if got := redactURL("redis://:pw@a:1,redis://:pw@b:2"); got != "redis://:xxxxx@a:1,redis://:xxxxx@b:2" {
		t.Errorf("redactURL = %q", got)
	}
}
