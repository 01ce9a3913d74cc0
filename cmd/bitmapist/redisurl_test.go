package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
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
	for _, bad := range []string{"", " , ", "http://example.com", "redis://a:1/2,redis://b:2/2", "redis://host:port:x",
		// databases and ports go-redis would quietly reinterpret
		"redis://127.0.0.1:6379/-1", "redis://127.0.0.1:6379/+7", "127.0.0.1:6379/x", "rediss://h:6379/1.5",
		"redis://127.0.0.1:99999/7", "redis://127.0.0.1:0", "h:-5", "redis://a:1,redis://b:70000",
		// no host: go-redis would connect to localhost:6379
		"redis://", "rediss://", "redis:///3", "redis://:6380", "redis://:pw@", "redis://a:1,redis://"} {
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

// Given one node of a Redis Cluster without --cluster, every command
// switches to a cluster client: writes to keys of other slots, multi-key
// pipelines (import, cohort), and listing and deleting on every master
// all see the whole cluster.
func TestSingleClusterNode(t *testing.T) {
	addrs := os.Getenv(testutil.EnvRedisCluster)
	if addrs == "" {
		t.Skip(testutil.EnvRedisCluster + " is not set")
	}
	var b testutil.Backend
	for _, bb := range testutil.Backends(t) {
		if bb.Name == testutil.NameCluster {
			b = bb
		}
	}
	node := strings.TrimSpace(strings.Split(addrs, ",")[0])
	for _, addr := range []string{node, "redis://" + node, "redis://" + node + "/0"} {
		cli := func(stdin string, args ...string) result {
			return runCLI(t, stdin, append([]string{"--redis", addr, "--prefix", b.Prefix}, args...)...)
		}
		var events []string
		for i := range 8 {
			ev := fmt.Sprintf("ev%d", i)
			events = append(events, ev)
			mustOK(t, cli("", "mark", "--unique", "--at", "2024-12-30", ev, strconv.Itoa(i)))
		}
		var csv strings.Builder
		csv.WriteString("u,t,e\n")
		for i := range 200 {
			fmt.Fprintf(&csv, "%d,2024-12-%02d,imp%d\n", i, 1+i%28, i%8)
			if i < 8 {
				events = append(events, fmt.Sprintf("imp%d", i))
			}
		}
		r := mustOK(t, cli(csv.String(), "import", "--user-col", "u", "--time-col", "t", "--event-col", "e", "--batch", "50", "-"))
		if !strings.Contains(r.stdout, "200 read, 200 marked, 0 rejected") {
			t.Errorf("%s: import:\n%s", addr, r.stdout)
		}
		slices.Sort(events)
		if r := mustOK(t, cli("", "events")); !slices.Equal(lines(r.stdout), events) {
			t.Errorf("%s: events %q, want %q", addr, lines(r.stdout), events)
		}
		if r := mustOK(t, cli("", "count", "-g", "months", "--at", "2024-12", "--op", "or", "imp0", "imp1", "imp2", "imp3", "imp4", "imp5", "imp6", "imp7")); strings.TrimSpace(r.stdout) != "200" {
			t.Errorf("%s: count %q", addr, r.stdout)
		}
		if r := mustOK(t, cli("", "cohort", "imp0", "--group", "months", "--start", "2024-12", "--now", "2024-12-31", "--rows", "1", "--cols", "1", "--csv")); !strings.Contains(r.stdout, ",25,25") {
			t.Errorf("%s: cohort %q", addr, r.stdout)
		}
		keys := testutil.Keys(t, b.Client, b.Prefix+"ev0_")
		if r := mustOK(t, cli("", "delete", "ev0")); strings.TrimSpace(r.stdout) != fmt.Sprintf("deleted %d keys of ev0", len(keys)) || len(keys) != 4 {
			t.Errorf("%s: delete ev0: %q (keys %q)", addr, r.stdout, keys)
		}
		keys = testutil.Keys(t, b.Client, b.Prefix)
		if r := mustOK(t, cli("", "delete", "--all", "--yes")); strings.TrimSpace(r.stdout) != fmt.Sprintf("deleted %d keys under prefix %q", len(keys), b.Prefix) {
			t.Errorf("%s: delete --all: %q, want %d keys", addr, r.stdout, len(keys))
		}
		if got := testutil.Keys(t, b.Client, b.Prefix); len(got) != 0 {
			t.Errorf("%s: keys left: %q", addr, got)
		}
	}
	// A cluster has only database 0.
	if r := runCLI(t, "", "--redis", "redis://"+node+"/1", "--prefix", b.Prefix, "events"); r.code == exitOK {
		t.Errorf("database 1 of a cluster node: exit 0, %q", r.stdout)
	}
}
