package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestFreshTesterFindings: each kind of input a fresh tester found to give
// a wrong message, a wrong exit status or silence now gives the exit status
// and the words on stderr (and stdout) below, on every backend.
func TestFreshTesterFindings(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:created", "1"))
		bin := filepath.Join(t.TempDir(), "bin.csv")
		if err := os.WriteFile(bin, []byte("u\x00\xff\x1b[2J,d\n1,2\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		type out = expect
		cases := []struct {
			args []string
			want out
		}{
			// 16: an empty string id is a bad argument, as other bad ids.
			{[]string{"mark", "--string-id", "sev", ""}, out{code: exitUsage, stderr: []string{`user id "": a string id cannot be empty`}}},
			{[]string{"mark", "sev", "x"}, out{code: exitUsage, stderr: []string{`user id "x"`}}},
			// 8: ids above the default --max-id (2^28-1) are refused; --max-id
			// above 2^32-1 is a bad flag.
			{[]string{"mark", "ev", "4294967295", "--at", "2020-01-01"}, out{code: exitUsage, stderr: []string{"0..268435455 (--max-id)"}}},
			{[]string{"mark", "ev", "268435456", "--at", "2020-01-01"}, out{code: exitUsage, stderr: []string{"0..268435455 (--max-id)"}}},
			{[]string{"--max-id", "99999999999", "mark", "ev", "1"}, out{code: exitUsage, stderr: []string{"--max-id 99999999999: want at most 4294967295"}}},
			{[]string{"--max-id", "4294967296", "count", "ev"}, out{code: exitUsage, stderr: []string{"--max-id 4294967296: want at most 4294967295"}}},
			{[]string{"mark", "ev", "--", "-3"}, out{code: exitUsage, stderr: []string{`user id "-3": want an integer 0..268435455`}}},
			// 9: deleting an event without keys is "no such event", with did-you-mean.
			{[]string{"delete", "user:creatd"}, out{code: exitError, stderr: []string{"no such event", `"user:creatd" has no data`, "did you mean user:created"}}},
			// 10: events with nothing under the prefix says so.
			{[]string{"--prefix", b.Prefix + "nothing_", "events"}, out{code: exitOK, stderr: []string{`note: no events under prefix "` + b.Prefix + `nothing_"`}}},
			// 11: stats names the prefix it searched.
			{[]string{"stats", "zz"}, out{code: exitOK, stdout: []string{`0 keys, 0 B under prefix "` + b.Prefix + `zz"`}}},
			// 17: an impossible date has one message everywhere.
			{[]string{"count", "--at", "2024-02-30", "user:created"}, out{code: exitUsage, stderr: []string{`--at: time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"ids", "--at", "2024-02-30", "user:created"}, out{code: exitUsage, stderr: []string{`--at: time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"mark", "--at", "2024-02-30", "user:created", "1"}, out{code: exitUsage, stderr: []string{`--at: time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"mark", "--at", "2024-12-30 25:00", "user:created", "1"}, out{code: exitUsage, stderr: []string{`is not a valid date (hour out of range)`}}},
			{[]string{"cohort", "user:created", "--start", "2024-02-30"}, out{code: exitUsage, stderr: []string{`--start: time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"cohort", "user:created", "--now", "2024-13-01"}, out{code: exitUsage, stderr: []string{`time "2024-13-01" is not a valid date (month out of range)`}}},
			{[]string{"trend", "user:created", "--from", "2024-02-30"}, out{code: exitUsage, stderr: []string{`time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"serve", "--now", "2024-02-30", "--addr", "127.0.0.1:0"}, out{code: exitUsage, stderr: []string{`time "2024-02-30" is not a valid date (day out of range)`}}},
			{[]string{"count", "--at", "soon", "user:created"}, out{code: exitUsage, stderr: []string{`--at: time "soon": want now, RFC 3339`}}},
			// 12: a bad --additional says the form expected.
			{[]string{"cohort", "user:created", "--additional", "customer:updated"}, out{code: exitUsage, stderr: []string{`bitmapist: --additional: "customer:updated": want OP:EVENT with OP and or or, not "customer" (for the event "customer:updated" itself: and:customer:updated)`}, notStderr: []string{"value 0"}}},
			// 18: a binary header is quoted, never echoed raw.
			{[]string{"import", "--user-col", "uid", "--time-col", "d", "--event", "e", bin}, out{code: exitUsage, stderr: []string{`the columns are "u\x00\xff\x1b[2J", d`}, notStderr: []string{"\x00", "\x1b"}}},
			// 19: --rejects errors name the user's path.
			{[]string{"import", "--user-col", "u", "--time-col", "d", "--event", "e", "--rejects", "/nonexistent/dir/rej.csv", bin}, out{code: exitError, stderr: []string{"--rejects: create /nonexistent/dir/rej.csv: no such file or directory"}, notStderr: []string{".tmp"}}},
		}
		for _, tc := range cases {
			tc.want.check(t, tc.args, cli(t, b, "", tc.args...))
		}
		// 9: the events that exist are deleted all the same.
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:gone", "1"))
		r := cli(t, b, "", "delete", "user:gone", "user:gon")
		if r.code != exitError || !strings.Contains(r.stdout, "deleted 3 keys of user:gone") || !strings.Contains(r.stderr, `"user:gon" has no data`) {
			t.Errorf("delete user:gone user:gon: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		// 10: a real list has no note.
		if r := mustOK(t, cli(t, b, "", "events")); r.stderr != "" || strings.TrimSpace(r.stdout) != "user:created" {
			t.Errorf("events: stdout %q, stderr %q", r.stdout, r.stderr)
		}
	})
}

// TestExpireWarnsOfSwappedRetentions (finding 20): a finer time group kept
// longer than a coarser one is a warning on stderr, for every such pair;
// a sane policy has none.
func TestExpireWarnsOfSwappedRetentions(t *testing.T) {
	b := testutil.Miniredis(t)
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--hours", "2d", "--days", "1h"}, []string{"warning: --hours 2d keeps hour bitmaps longer than --days 1h keeps day bitmaps"}},
		{[]string{"--days", "400d", "--months", "30d", "--weeks", "10d"}, []string{
			"--days 400d keeps day bitmaps longer than --weeks 10d keeps week bitmaps",
			"--days 400d keeps day bitmaps longer than --months 30d keeps month bitmaps",
		}},
		{[]string{"--hours", "2d", "--days", "400d"}, nil},
		{[]string{"--hours", "2d", "--days", "2d"}, nil},
		{[]string{"--days", "400d"}, nil},
	}
	for _, tc := range tests {
		r := mustOK(t, cli(t, b, "", append([]string{"expire"}, tc.args...)...))
		if got := strings.Count(r.stderr, "warning: "); got != len(tc.want) {
			t.Errorf("expire %q: %d warnings, want %d: %q", tc.args, got, len(tc.want), r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("expire %q: stderr %q, want %q", tc.args, r.stderr, w)
			}
		}
	}
}

// TestServeOnEveryInterface (finding 21): a dashboard on a non-loopback
// address is warned about, and the URL printed is one a browser opens.
func TestServeOnEveryInterface(t *testing.T) {
	tests := []struct {
		addr     net.Addr
		base     string
		warnings []string
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080/bitmapist/", nil},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080/bitmapist/", nil},
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 6478}, "http://localhost:6478/bitmapist/", []string{"no authentication", "on every interface ([::]:6478)", "--addr 127.0.0.1:6478"}},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 6478}, "http://localhost:6478/bitmapist/", []string{"on every interface (0.0.0.0:6478)"}},
		{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 9000}, "http://10.1.2.3:9000/bitmapist/", []string{"listens on 10.1.2.3:9000"}},
	}
	for _, tc := range tests {
		if got := dashboardBase(tc.addr); got != tc.base {
			t.Errorf("dashboardBase(%v) = %q, want %q", tc.addr, got, tc.base)
		}
		w := exposedWarning(tc.addr)
		if (w == "") != (tc.warnings == nil) {
			t.Errorf("exposedWarning(%v) = %q", tc.addr, w)
		}
		for _, s := range tc.warnings {
			if !strings.Contains(w, s) {
				t.Errorf("exposedWarning(%v) = %q, want %q", tc.addr, w, s)
			}
		}
	}
	// The command itself, on every interface.
	b := testutil.Miniredis(t)
	ctx, cancel := context.WithCancel(t.Context())
	var out, errb syncBuffer
	codec := make(chan int, 1)
	go func() {
		codec <- run(ctx, append(globalArgs(t, b), "serve", "--addr", "0.0.0.0:0"), strings.NewReader(""), &out, &errb)
	}()
	re := regexp.MustCompile(`serving on (http://localhost:\d+/bitmapist/)`)
	deadline := time.After(2 * time.Minute) // turns a hang into a failure only
	for re.FindStringSubmatch(out.String()) == nil {
		select {
		case c := <-codec:
			t.Fatalf("exit %d before serving: %s %s", c, out.String(), errb.String())
		case <-deadline:
			t.Fatalf("not serving: %s %s", out.String(), errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	base := re.FindStringSubmatch(out.String())[1]
	if !strings.Contains(string(get(t, base)), "bitmapist") {
		t.Errorf("%s does not serve the dashboard", base)
	}
	cancel()
	if c := <-codec; c != exitOK || !strings.Contains(errb.String(), "warning: the dashboard has no authentication and listens on every interface") {
		t.Errorf("serve --addr 0.0.0.0:0: exit %d, stderr %q", c, errb.String())
	}
}
