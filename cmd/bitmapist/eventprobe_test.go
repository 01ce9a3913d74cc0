package main

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// scanRecorder is a TCP proxy in front of a Redis that records the MATCH
// pattern of every SCAN a client sends through it.
type scanRecorder struct {
	addr string
	mu   sync.Mutex
	pats []string
}

// newScanRecorder listens on a local port and forwards every connection
// to target until t ends.
func newScanRecorder(t *testing.T, target string) *scanRecorder {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	r := &scanRecorder{addr: ln.Addr().String()}
	go func() {
		for {
			cl, err := ln.Accept()
			if err != nil {
				return
			}
			srv, err := net.Dial("tcp", target)
			if err != nil {
				_ = cl.Close()
				continue
			}
			go func() { _, _ = io.Copy(cl, srv); _ = cl.Close() }()
			go func() { r.forward(cl, srv); _ = srv.Close() }()
		}
	}()
	return r
}

// forward copies RESP commands from cl to srv, recording SCANs.
func (r *scanRecorder) forward(cl io.Reader, srv io.Writer) {
	br := bufio.NewReader(cl)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		raw := []string{line}
		var args []string
		if strings.HasPrefix(line, "*") {
			n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
			for range n {
				hdr, err := br.ReadString('\n')
				if err != nil {
					return
				}
				size, _ := strconv.Atoi(strings.TrimSpace(hdr[1:]))
				buf := make([]byte, size+2)
				if _, err := io.ReadFull(br, buf); err != nil {
					return
				}
				raw = append(raw, hdr, string(buf))
				args = append(args, string(buf[:size]))
			}
		}
		if len(args) > 0 && strings.EqualFold(args[0], "SCAN") {
			pat := ""
			for i := 1; i+1 < len(args); i++ {
				if strings.EqualFold(args[i], "MATCH") {
					pat = args[i+1]
				}
			}
			r.mu.Lock()
			r.pats = append(r.pats, pat)
			r.mu.Unlock()
		}
		if _, err := io.WriteString(srv, strings.Join(raw, "")); err != nil {
			return
		}
	}
}

// take returns the patterns recorded since the last call.
func (r *scanRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.pats
	r.pats = nil
	return p
}

// TestReadCommandsListEventNamesOnlyForMissingEvents: no read command
// lists the event names (a SCAN of the whole prefix: many round trips on
// a big keyspace) when every event it names has data in the periods it
// reads (one pipeline of EXISTS says so); when an event has none there,
// the names are listed, for "no data in any period" with its
// suggestions, or to find the event's data in other periods (then the
// command runs). Every read command, every position of an event.
func TestReadCommandsListEventNamesOnlyForMissingEvents(t *testing.T) {
	b := testutil.Miniredis(t)
	rec := newScanRecorder(t, b.Mini.Addr())
	args := func(a ...string) []string {
		return append([]string{"--redis", "redis://" + rec.addr + "/0", "--prefix", b.Prefix}, a...)
	}
	for _, ev := range []string{"play", "buy"} {
		mustOK(t, runCLI(t, "", args("mark", "--at", "2024-12-02", ev, "1")...))
		mustOK(t, runCLI(t, "", args("mark", "--at", "2024-12-03", ev, "2")...))
	}
	mustOK(t, runCLI(t, "", args("mark", "--unique", "--at", "2024-12-03", "pro", "2")...))
	mustOK(t, runCLI(t, "", args("mark", "--at", "2023-01-05", "old", "3")...))
	rec.take()
	whole := b.Prefix + "*" // EventNames' pattern
	days := []string{"--group", "days", "--from", "2024-12-01", "--to", "2024-12-05"}
	for _, tc := range []struct {
		cmd   []string
		lists bool // the event names are listed
		ok    bool
	}{
		{[]string{"count", "--group", "days", "--at", "2024-12-02", "play", "buy"}, false, true},
		{[]string{"ids", "--group", "months", "--at", "2024-12", "--op", "or", "play", "buy"}, false, true},
		{append([]string{"trend", "play"}, days...), false, true},
		{append([]string{"trend", "play", "--segment", "pro"}, days...), false, true},
		{append([]string{"trend", "play", "--segment", "buy@2024-12-03"}, days...), false, true},
		{append([]string{"lifecycle", "play"}, days...), false, true},
		{append([]string{"stickiness", "play"}, days...), false, true},
		{append([]string{"funnel", "play", "buy"}, days...), false, true},
		{[]string{"cohort", "play", "buy", "--group", "days", "--now", "2024-12-05", "--rows", "5", "--cols", "3"}, false, true},
		{[]string{"cohort", "play", "buy", "--group", "days", "--start", "2024-12-01", "--now", "2024-12-05", "--segment", "pro"}, false, true},
		// Missing in every position: listed, and refused with suggestions.
		{[]string{"count", "--group", "days", "--at", "2024-12-02", "play", "bye"}, true, false},
		{append([]string{"trend", "plya"}, days...), true, false},
		{append([]string{"trend", "play", "--segment", "porr"}, days...), true, false},
		{append([]string{"funnel", "play", "buyy"}, days...), true, false},
		{[]string{"cohort", "plai", "buy", "--group", "days", "--now", "2024-12-05"}, true, false},
		// Data only outside the periods read: listed, found, run.
		{append([]string{"trend", "old"}, days...), true, true},
	} {
		r := runCLI(t, "", args(tc.cmd...)...)
		pats := rec.take()
		lists := false
		for _, p := range pats {
			lists = lists || p == whole
		}
		if lists != tc.lists || (r.code == exitOK) != tc.ok {
			t.Errorf("%v: exit %d (stderr %q), SCANs %q: listed the names %v, want %v", tc.cmd, r.code, r.stderr, pats, lists, tc.lists)
		}
		if !tc.ok && !strings.Contains(r.stderr, "did you mean") {
			t.Errorf("%v: stderr %q, want the suggestions", tc.cmd, r.stderr)
		}
	}
}
