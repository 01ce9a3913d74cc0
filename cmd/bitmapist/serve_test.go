package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestServeCommand(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "2011-01-05", "customer:purchased", "12346"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2011-02-07", "customer:purchased", "12346"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2011-01-06", "customer:purchased", "12347"))
		base, out, stop := startServing(t, append(globalArgs(t, b), "serve", "--addr", "127.0.0.1:0", "--title", "shop <stats>")...)
		defer stop()
		if !strings.Contains(out.String(), "prefix \""+b.Prefix+"\"") {
			t.Errorf("serve output: %q", out)
		}
		overview := string(get(t, base))
		if !strings.Contains(overview, "customer:purchased") || !strings.Contains(overview, "shop &lt;stats&gt;") {
			t.Errorf("overview lacks the event or the escaped title:\n%s", overview)
		}
		body := get(t, base+"cohort.json?primary_event=customer:purchased&secondary_event=customer:purchased&time_group=months&num_rows=2&num_cols=2&start=2011-01-01&now=2011-02-28&with_replacement=1")
		var c cohortJSON
		if err := jsonUnmarshal(string(body), &c); err != nil {
			t.Fatal(err)
		}
		if c.RowTotals[0] != 2 || *c.Cohort[0][0] != 2 || *c.Cohort[0][1] != 1 {
			t.Errorf("cohort %s", body)
		}
		// / redirects to the dashboard; other methods are refused.
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(strings.TrimSuffix(base, "bitmapist/"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/bitmapist/" {
			t.Errorf("GET /: %s to %q", resp.Status, resp.Header.Get("Location"))
		}
		if code := stop(); code != exitOK {
			t.Errorf("serve exit %d after cancel", code)
		}
	})
}

func TestServeAddressInUse(t *testing.T) {
	b := testutil.Miniredis(t)
	base, _, stop := startServing(t, append(globalArgs(t, b), "serve", "--addr", "127.0.0.1:0")...)
	defer stop()
	addr := strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/bitmapist/")
	r := cli(t, b, "", "serve", "--addr", addr)
	if r.code != exitError || !strings.Contains(r.stderr, "cannot listen on "+addr) {
		t.Errorf("second serve on %s: exit %d, stderr %q", addr, r.code, r.stderr)
	}
}

// --now stops the dashboard's clock, so a log imported from the past shows
// as today; a bad value is a usage error before anything listens.
func TestServeNow(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--at", "2011-01-05T10:00:00Z", "customer:purchased", "12346"))
	mustOK(t, cli(t, b, "", "mark", "--at", "2011-01-05T11:00:00Z", "customer:purchased", "12347"))
	base, out, stop := startServing(t, append(globalArgs(t, b), "serve", "--addr", "127.0.0.1:0", "--now", "2011-01-05 12:00")...)
	defer stop()
	if !strings.Contains(out.String(), "now 2011-01-05T12:00:00Z") {
		t.Errorf("serve output does not name the fixed now: %q", out)
	}
	overview := string(get(t, base))
	if !strings.Contains(overview, "today is 2011-01-05") || !strings.Contains(overview, `<td class="num" data-period="today">2</td>`) {
		t.Errorf("the overview is not computed for --now:\n%s", overview)
	}
	if code := stop(); code != exitOK {
		t.Errorf("serve exit %d after cancel", code)
	}
	for _, cmd := range []string{"serve", "demo"} {
		r := cli(t, b, "", cmd, "--addr", "127.0.0.1:0", "--now", "yesterday")
		if r.code != exitUsage || !strings.Contains(r.stderr, "--now") {
			t.Errorf("%s --now yesterday: exit %d, stderr %q", cmd, r.code, r.stderr)
		}
	}
}
