package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

func TestLoadDemoMatchesPublishedTable(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := t.Context()
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		app, err := newDemoApp(c)
		if err != nil {
			t.Fatal(err)
		}
		defer app.Close()
		data, err := demoData()
		if err != nil {
			t.Fatal(err)
		}
		var calls, lastDone, lastTotal int
		st, err := loadDemo(ctx, c, app, data, func(done, total int) { calls, lastDone, lastTotal = calls+1, done, total })
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 19573 || st.NoCustomer != 277 || st.Customers != onlineRetailCustomers || st.Purchases != 19296 || st.Updates != 19296-onlineRetailCustomers {
			t.Errorf("stats %+v", st)
		}
		if calls == 0 || lastDone != 19573 || lastTotal != 19573 {
			t.Errorf("progress: %d calls, last %d/%d", calls, lastDone, lastTotal)
		}
		// The rows are really in the database.
		var n int64
		if err := app.db.Model(&Customer{}).Count(&n).Error; err != nil || n != onlineRetailCustomers {
			t.Errorf("customers in SQLite: %d, %v", n, err)
		}
		var cust Customer
		if err := app.db.First(&cust, 12346).Error; err != nil || !cust.FirstPurchase.Equal(time.Date(2011, 1, 18, 0, 0, 0, 0, time.UTC)) {
			t.Errorf("customer 12346: %+v, %v", cust, err)
		}
		// The plugin marked customer:created at the first invoice's date.
		if ok, err := c.Day(demoCreated, time.Date(2011, 1, 18, 0, 0, 0, 0, time.UTC)).Has(ctx, 12346); err != nil || !ok {
			t.Errorf("customer 12346 not created on 2011-01-18 (%v)", err)
		}

		srv := httptest.NewServer(dashboardMux(c))
		defer srv.Close()
		// The demo's own query (customer:created as the cohort) and the
		// first-time form of customer:purchased both give the published table.
		q := demoCohortQuery(st)
		checkPublished(t, get(t, srv.URL+"/bitmapist/cohort.json?"+q.Encode()))
		q.Set("primary_event", demoPurchased)
		q.Set("first_time", "1")
		checkPublished(t, get(t, srv.URL+"/bitmapist/cohort.json?"+q.Encode()))
	})
}

// get fetches url and returns its body, failing t unless the answer is 200.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", url, resp.Status, body)
	}
	return body
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServing runs the command with args in the background until it
// prints "serving on <url>", and returns that URL, its output so far and
// a function that stops it and returns its exit code.
func startServing(t *testing.T, args ...string) (base string, out *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out = &syncBuffer{}
	var errb syncBuffer
	codec := make(chan int, 1)
	go func() { codec <- run(ctx, args, strings.NewReader(""), out, &errb) }()
	re := regexp.MustCompile(`serving on (http://\S+/bitmapist/)`)
	var once sync.Once
	code := exitError
	stop = func() int {
		once.Do(func() {
			cancel()
			code = <-codec
		})
		return code
	}
	// The deadline only turns a hang into a failure; it is not a speed check.
	deadline := time.After(2 * time.Minute)
	for {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, stop
		}
		select {
		case c := <-codec:
			cancel()
			t.Fatalf("exited with %d before serving\nstdout: %s\nstderr: %s", c, out, errb.String())
		case <-deadline:
			cancel()
			t.Fatalf("not serving after 2 minutes\nstdout: %s\nstderr: %s", out, errb.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestDemoCommand(t *testing.T) {
	// The demo ignores the environment's Redis (nothing listens on port 1):
	// only an explicit --redis takes it off the embedded one.
	t.Setenv(envRedisURL, "redis://127.0.0.1:1/0")
	base, out, stop := startServing(t, "demo", "--addr", "127.0.0.1:0", "-q")
	if !regexp.MustCompile(`replaying the Online Retail log into redis://127\.0\.0\.1:\d+ `).MatchString(out.String()) || strings.Contains(out.String(), "127.0.0.1:1 ") {
		t.Errorf("the demo does not say it uses the embedded Redis:\n%s", out)
	}
	// The printed dashboard link shows the published table.
	link := regexp.MustCompile(`(http://\S+/bitmapist/cohort\?\S+)`).FindString(out.String())
	if link == "" || !strings.HasPrefix(link, base) {
		t.Fatalf("no cohort link in the output:\n%s", out)
	}
	checkPublished(t, get(t, strings.Replace(link, "/cohort?", "/cohort.json?", 1)))
	if page := string(get(t, link)); !strings.Contains(page, "948") {
		t.Errorf("the cohort page does not show 948")
	}
	if n := strings.Count(out.String(), "press Ctrl-C to stop"); n != 1 {
		t.Errorf("the demo says \"press Ctrl-C to stop\" %d times, want once (as README shows):\n%s", n, out)
	}
	// The printed CLI command works against the running demo's Redis.
	m := regexp.MustCompile(`go run \./cmd/bitmapist (.+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no cohort command in the output:\n%s", out)
	}
	r := mustOK(t, runCLI(t, "", append(strings.Fields(m[1]), "--json")...))
	checkPublished(t, []byte(r.stdout))
	// The overview lists the demo's events, and / redirects to it.
	root := strings.TrimSuffix(base, "/bitmapist/")
	overview := string(get(t, root+"/"))
	for _, ev := range []string{demoCreated, demoUpdated, demoPurchased} {
		if !strings.Contains(overview, ev) {
			t.Errorf("overview lacks %s", ev)
		}
	}
	if code := stop(); code != exitOK {
		t.Errorf("demo exit %d after cancel", code)
	}
}

func TestDemoCommandRealRedis(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		if b.Name == testutil.NameMiniredis {
			t.Skip("the embedded run is TestDemoCommand")
		}
		base, _, stop := startServing(t, append(globalArgs(t, b), "demo", "--addr", "127.0.0.1:0", "-q")...)
		defer stop()
		st := &demoStats{First: time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC), Last: time.Date(2011, 12, 9, 0, 0, 0, 0, time.UTC)}
		checkPublished(t, get(t, base+"cohort.json?"+demoCohortQuery(st).Encode()))
		// The data is in that Redis under the prefix.
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		if n, err := c.Month(demoCreated, st.First).Count(t.Context()); err != nil || n != 948 {
			t.Errorf("customer:created in 2010-12: %d, %v", n, err)
		}
		if code := stop(); code != exitOK {
			t.Errorf("demo exit %d after cancel", code)
		}
	})
}

func TestDemoCommandRedisDefaultPrefix(t *testing.T) {
	b := testutil.Miniredis(t)
	base, out, stop := startServing(t, "--redis", backendURL(t, b), "demo", "--addr", "127.0.0.1:0", "-q", "--now", "2011-06-30")
	defer stop()
	// --now moves the dashboard's clock off the log's last day.
	if overview := string(get(t, base)); !strings.Contains(overview, "now 2011-06-30T00:00:00Z") || !strings.Contains(overview, "month 2011-06") {
		t.Errorf("the overview is not computed for --now 2011-06-30")
	}
	if !strings.Contains(out.String(), "prefix \""+demoPrefix+"\"") || !strings.Contains(out.String(), "--prefix "+demoPrefix+" cohort") {
		t.Errorf("output does not name the demo prefix:\n%s", out)
	}
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(demoPrefix))
	if n, err := c.Month(demoCreated, time.Date(2010, 12, 1, 0, 0, 0, 0, time.UTC)).Count(t.Context()); err != nil || n != 948 {
		t.Errorf("customer:created under %q in 2010-12: %d, %v", demoPrefix, n, err)
	}
	if keys := b.Mini.Keys(); len(keys) == 0 || !strings.HasPrefix(keys[0], demoPrefix) {
		t.Errorf("keys %v", keys[:min(3, len(keys))])
	}
	if code := stop(); code != exitOK {
		t.Errorf("demo exit %d after cancel", code)
	}
}

// A bad or busy --addr fails the demo before the replay starts.
func TestDemoAddrCheckedFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for _, addr := range []string{"nonsense", "127.0.0.1:99999", ln.Addr().String()} {
		r := runCLI(t, "", "demo", "-q", "--addr", addr)
		if r.code != exitError || !strings.HasPrefix(r.stderr, "bitmapist: cannot listen on "+addr) || r.stdout != "" {
			t.Errorf("--addr %s: exit %d, stdout %q, stderr %q", addr, r.code, r.stdout, r.stderr)
		}
	}
}

// TestCommandName checks the terminal command the demo prints for every
// way the program can be started.
func TestCommandName(t *testing.T) {
	for arg0, want := range map[string]string{
		"":                                     "go run ./cmd/bitmapist",
		"/tmp/go-build1234/b001/exe/bitmapist": "go run ./cmd/bitmapist",
		"/tmp/go-build99/b001/bitmapist.test":  "go run ./cmd/bitmapist",
		"./bitmapist":                          "./bitmapist",
		"bitmapist":                            "bitmapist",
		"/usr/local/bin/bitmapist":             "/usr/local/bin/bitmapist",
	} {
		if got := commandName(arg0); got != want {
			t.Errorf("commandName(%q) = %q, want %q", arg0, got, want)
		}
	}
}
