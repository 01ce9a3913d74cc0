package web

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestNumericParamsQuoteValue: every numeric parameter of every page
// (overview page, cohort num_rows/num_cols on the page, JSON and CSV,
// funnel window) answers a value that is not a whole number in its range
// with a 400 whose message names the parameter and quotes the value as
// typed, never a stand-in such as -1.
func TestNumericParamsQuoteValue(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "a", demoNow, 1)
	mark(t, c, "b", demoNow, 1)
	h := Handler(c)
	cohortQ := "primary_event=a&secondary_event=b"
	params := []struct {
		path, base, param string
		outOfRange        []string // whole numbers outside the range
	}{
		{"/", "", "page", []string{"0", "-1"}},
		{"/cohort", cohortQ, "num_rows", []string{"0", "-1", "1000"}},
		{"/cohort", cohortQ, "num_cols", []string{"0", "-1", "1000"}},
		{"/cohort.json", cohortQ, "num_rows", []string{"0", "1000"}},
		{"/cohort.json", cohortQ, "num_cols", []string{"0", "1000"}},
		{"/cohort.csv", cohortQ, "num_rows", []string{"0", "1000"}},
		{"/cohort.csv", cohortQ, "num_cols", []string{"0", "1000"}},
		{"/funnel", "step=a&step=b", "window", []string{"-1", "91", "1000"}},
	}
	notNumbers := []string{"abc", "1.5", "99999999999999999999", "-99999999999999999999", "1e3", "7x", "0x10", "٣"}
	for _, p := range params {
		for _, val := range append(append([]string(nil), notNumbers...), p.outOfRange...) {
			q := url.Values{p.param: {val}}.Encode()
			if p.base != "" {
				q = p.base + "&" + q
			}
			target := p.path + "?" + q
			code, body := get(t, h, target)
			want := p.param + `: "` + val + `" is not`
			if code != http.StatusBadRequest {
				t.Errorf("%s: status %d, want 400", target, code)
				continue
			}
			switch {
			case strings.HasSuffix(p.path, ".json"):
				var e struct{ Error, Field string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Field != p.param || !strings.HasPrefix(e.Error, want) {
					t.Errorf("%s: %.300s; want field %q, error %q...", target, body, p.param, want)
				}
			case strings.HasSuffix(p.path, ".csv"):
				if !strings.HasPrefix(body, want) {
					t.Errorf("%s: %.300s; want %q...", target, body, want)
				}
			default:
				if !strings.Contains(html.UnescapeString(body), want) {
					t.Errorf("%s: the page does not say %q", target, want)
				}
			}
			if strings.Contains(body, ": -1 is") {
				t.Errorf("%s: the message reports -1 instead of the value typed", target)
			}
		}
		// In range the page answers 200.
		good := map[string]string{"page": "1", "num_rows": "2", "num_cols": "2", "window": "0"}[p.param]
		target := p.path + "?" + strings.TrimPrefix(p.base+"&"+p.param+"="+good, "&")
		if code, body := get(t, h, target); code != http.StatusOK {
			t.Errorf("%s: %d %.300s", target, code, body)
		}
	}
}
