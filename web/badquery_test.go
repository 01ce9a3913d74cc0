package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// cmdNames is a go-redis hook that records the names of the commands
// sent, pipelined ones included.
type cmdNames struct {
	mu   sync.Mutex
	cmds []string
}

func (h *cmdNames) add(cmds ...redis.Cmder) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range cmds {
		h.cmds = append(h.cmds, strings.ToUpper(c.Name()))
	}
}

func (h *cmdNames) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *cmdNames) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { h.add(cmd); return next(ctx, cmd) }
}
func (h *cmdNames) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error { h.add(cmds...); return next(ctx, cmds) }
}

// take returns the commands recorded since the last call.
func (h *cmdNames) take() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := h.cmds
	h.cmds = nil
	return out
}

// checkBadRequest fails unless the answer of path?query is a 400 whose
// message starts with prefix (the HTML page shows it in its alert), and,
// for cohort.json, whose field is field.
func checkBadRequest(t *testing.T, h http.Handler, path, query, prefix, field string) {
	t.Helper()
	code, body := get(t, h, path+"?"+query)
	what := path + "?" + query
	if len(what) > 120 {
		what = what[:120] + "..."
	}
	if code != http.StatusBadRequest {
		t.Errorf("%s: status %d, want 400", what, code)
		return
	}
	switch path {
	case "/cohort.json":
		var e struct{ Error, Field string }
		if err := json.Unmarshal([]byte(body), &e); err != nil || e.Field != field || !strings.HasPrefix(e.Error, prefix) {
			t.Errorf("%s: %.300s (%v); want field %q, error %q...", what, body, err, field, prefix)
		}
	case "/cohort.csv":
		if !strings.HasPrefix(body, prefix) {
			t.Errorf("%s: %.300s; want %q...", what, body, prefix)
		}
	default: // HTML: the message is in the page (the alert of the form, or the error page)
		if !strings.Contains(body, prefix) {
			t.Errorf("%s: the page does not say %q:\n%.2000s", what, prefix, body)
		}
	}
}

// TestMalformedQueryString: a query string that url.ParseQuery rejects is
// a 400 about the query string on every page, never an error about a
// parameter that went missing, and never a table computed from the rest.
func TestMalformedQueryString(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	mark(t, c, "a", demoNow, 1)
	h := Handler(c)
	ok := "primary_event=a&secondary_event=a"
	tooMany := ok + strings.Repeat("&x=1", 10_001)
	for _, tc := range []struct{ name, query string }{
		{"semicolon", "primary_event=a;secondary_event=a"},
		{"semicolon after", ok + ";x=1"},
		{"bad escape", ok + "&num_rows=%zz"},
		{"bad escape in a key", ok + "&%zz=1"},
		{"too many parameters", tooMany},
	} {
		for _, path := range []string{"/", "/cohort", "/cohort.json", "/cohort.csv"} {
			t.Run(tc.name+path, func(t *testing.T) {
				checkBadRequest(t, h, path, tc.query, "malformed query string: ", "")
				_, body := get(t, h, path+"?"+tc.query)
				if strings.Contains(body, "is required") || strings.Contains(body, `"cohort":`) {
					t.Errorf("the answer is about the parameters: %.300s", body)
				}
			})
		}
	}
	// The same parameters, well formed, work.
	for _, path := range []string{"/", "/cohort", "/cohort.json", "/cohort.csv"} {
		if code, body := get(t, h, path+"?"+ok); code != http.StatusOK {
			t.Errorf("%s?%s: %d %.300s", path, ok, code, body)
		}
	}
}

// TestCohortWorkBounds: queries asking for more work than cohort's bounds
// (additional events, event name length) are a 400 naming the parameter,
// answered without reading a single bitmap.
func TestCohortWorkBounds(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	mark(t, c, "a", demoNow, 1)
	h := Handler(c)
	hook := &cmdNames{}
	b.Client.AddHook(hook)

	big := "primary_event=a&secondary_event=a&num_rows=400&num_cols=400&time_group=hours"
	packed := func(n int) string {
		v := url.Values{}
		for i := range n {
			v.Add("additional", fmt.Sprintf("or:e%d", i))
		}
		return v.Encode()
	}
	rows := func(n int) string {
		v := url.Values{}
		for i := range n {
			v.Add(names.Event, fmt.Sprintf("e%d", i))
			v.Add(names.Op, "or")
		}
		return v.Encode()
	}
	long := strings.Repeat("x", bitmapist.MaxEventNameLen+1)
	for _, tc := range []struct{ name, query, field string }{
		{"3000 packed events", big + "&" + packed(3000), "additional"},
		{"MaxAdditional+1 packed events", big + "&" + packed(cohort.MaxAdditional+1), "additional"},
		{"MaxAdditional+1 form rows", big + "&" + rows(cohort.MaxAdditional+1), names.Event},
		{"MaxBitmaps", "primary_event=a&secondary_event=a&num_rows=400&num_cols=400&time_group=years&" + packed(cohort.MaxAdditional), "additional"},
		{"long primary", "secondary_event=a&primary_event=" + long, "primary_event"},
		{"long secondary", "primary_event=a&secondary_event=" + long, "secondary_event"},
		{"long additional row", "primary_event=a&secondary_event=a&additional_event=" + long + "&additional_op=and", "additional[0]"},
	} {
		for _, path := range []string{"/cohort", "/cohort.json", "/cohort.csv"} {
			t.Run(tc.name+path, func(t *testing.T) {
				hook.take()
				checkBadRequest(t, h, path, tc.query, tc.field+": ", tc.field)
				for _, cmd := range hook.take() {
					switch cmd {
					case "SCAN": // the page lists the event names for its form
					case "HELLO", "CLIENT", "SELECT": // opening a connection
					case "INFO": // the client's backend detection, once
					default:
						t.Errorf("a rejected query sent %s", cmd)
					}
				}
			})
		}
	}

	// The form offers at most MaxAdditional events (and the blank rows).
	_, body := get(t, h, "/cohort?"+big+"&"+rows(3000))
	if n := strings.Count(body, `class="ev"`); n != cohort.MaxAdditional+blankSteps {
		t.Errorf("the form has %d event rows, want %d", n, cohort.MaxAdditional+blankSteps)
	}
	// At the bounds the table is computed (of recorded events, hourly:
	// an hourly table without hourly data is refused).
	ch := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithTrackHourly(true), bitmapist.WithClock(func() time.Time { return demoNow }))
	mark(t, ch, "a", demoNow, 1)
	for i := range cohort.MaxAdditional {
		mark(t, c, fmt.Sprintf("e%d", i), demoNow, 1)
	}
	if code, body := get(t, h, "/cohort.json?"+big+"&"+rows(cohort.MaxAdditional)); code != http.StatusOK {
		t.Errorf("MaxAdditional events: %d %.300s", code, body)
	}
}

// TestEmptyTimeGroup: an empty time_group is the default (days) on every
// endpoint, as in cohort.ParseQuery and the CLI that reads through it.
func TestEmptyTimeGroup(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "a", demoNow, 1)
	h := Handler(c)
	for _, tg := range []string{"&time_group=", "&time_group=+", ""} {
		q := "primary_event=a&secondary_event=a&num_rows=2&num_cols=2" + tg
		code, body := get(t, h, "/cohort.json?"+q)
		var got struct {
			TimeGroup string `json:"time_group"`
		}
		if err := json.Unmarshal([]byte(body), &got); code != http.StatusOK || err != nil || got.TimeGroup != cohort.DefaultTimeGroup.String() {
			t.Errorf("cohort.json?%s: %d %s", q, code, body)
		}
		code, body = get(t, h, "/cohort?"+q)
		if code != http.StatusOK || !strings.Contains(body, "Recurring daily cohorts") ||
			!strings.Contains(body, `<option value="days" selected>`) {
			t.Errorf("cohort?%s: %d, no daily table or days not selected", q, code)
		}
	}
}
