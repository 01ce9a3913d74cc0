package web

import (
	"html"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestDateParamsInClockGaps: on every page and endpoint, a date
// parameter at a time the client's zone skipped is a 400 naming the gap
// (the command's and import's words), and a bare date of a day whose
// midnight was skipped (America/Sao_Paulo's 2018-11-04) is accepted.
func TestDateParamsInClockGaps(t *testing.T) {
	for _, c := range []struct{ zone, gap, day string }{
		{"America/Sao_Paulo", "2018-11-04T00:30", "2018-11-04"},
		{"Europe/Berlin", "2024-03-31T02:30", "2024-03-31"},
		{"America/New_York", "2024-03-10T02:00", "2024-03-10"},
		{"Pacific/Apia", "2011-12-30T12:00", "2011-12-29"},
		{"Australia/Lord_Howe", "2024-10-06T02:15", "2024-10-06"},
	} {
		loc, _ := time.LoadLocation(c.zone)
		day, _ := time.ParseInLocation("2006-01-02", c.day, loc)
		be := testutil.Miniredis(t)
		cl := bitmapist.New(be.Client, bitmapist.WithPrefix(be.Prefix), bitmapist.WithLocation(loc),
			bitmapist.WithClock(func() time.Time { return day.AddDate(0, 0, 10) }))
		mark(t, cl, evSignup, day.AddDate(0, 0, -3), 1)
		mark(t, cl, evActive, day.AddDate(0, 0, -3), 1)
		h := Handler(cl)
		for page, names := range dateParams() {
			for _, name := range names {
				code, body := get(t, h, page+"&"+name+"="+c.gap)
				body = strings.ReplaceAll(html.UnescapeString(body), `\"`, `"`) // HTML or JSON
				if want := `"` + c.gap + `" does not exist in ` + c.zone + ": the clocks jumped from "; code != 400 || !strings.Contains(body, want) {
					t.Errorf("%s %s %s=%s: %d %q, want 400 %q", c.zone, page, name, c.gap, code, clipBody(body), want)
				}
				if code, body := get(t, h, page+"&"+name+"="+c.day); code != 200 {
					t.Errorf("%s %s %s=%s: %d %q, want 200", c.zone, page, name, c.day, code, clipBody(body))
				}
			}
		}
	}
}
