package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestHashAtBitmapKeyAnswers409: wherever a page reads a bitmap key that
// holds a hash, it answers 409 naming the key (core.KeyTypeError), not
// 502 "Redis failed to answer" and not a 200 of zeros: the overview, the
// cohort page and its JSON and CSV, and every report page, for the event
// (or step, primary, secondary or segment) whose keys are hashes, in every
// time group the page takes (the cohort page and the JSON/CSV years too).
func TestHashAtBitmapKeyAnswers409(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, demoNow)
		mark(t, c, "login", demoNow, 1, 2)
		mark(t, c, "buy", demoNow.AddDate(0, 0, -1), 1)
		// Every period key of "hashy" for the last 40 days, and its
		// unique key, is a hash.
		seen := map[string]bool{}
		for d := 0; d < 40; d++ {
			at := demoNow.AddDate(0, 0, -d)
			for _, g := range []bitmapist.TimeGroup{bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years} {
				for h := 0; h < 24 && (h == 0 || g == bitmapist.Hours); h++ {
					k := c.Key("hashy", g, time.Date(at.Year(), at.Month(), at.Day(), h, 0, 0, 0, time.UTC))
					if !seen[k] {
						seen[k] = true
						if err := b.Client.HSet(ctx, k, "a", "b").Err(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
		}
		if err := b.Client.HSet(ctx, c.UniqueKey("hashy"), "a", "b").Err(); err != nil {
			t.Fatal(err)
		}
		// "mixed" has bitmaps, and one hash at the day key of 03-20 only.
		mark(t, c, "mixed", demoNow, 1, 2)
		mixedKey := c.Key("mixed", bitmapist.Days, demoNow.AddDate(0, 0, -6))
		if err := b.Client.HSet(ctx, mixedKey, "a", "b").Err(); err != nil {
			t.Fatal(err)
		}
		const prefix = "?now=2025-03-26"
		paths := []string{"/" + prefix}
		for _, g := range []string{"hours", "days", "weeks", "months", "years"} {
			tg := "&time_group=" + g
			paths = append(paths,
				"/cohort"+prefix+tg+"&primary_event=hashy&secondary_event=login",
				"/cohort"+prefix+tg+"&primary_event=login&secondary_event=hashy",
				"/cohort.json"+prefix+tg+"&primary_event=hashy&secondary_event=login",
				"/cohort.csv"+prefix+tg+"&primary_event=login&secondary_event=hashy",
			)
			if g != "years" { // the report pages take hours to months
				paths = append(paths, "/event"+prefix+tg+"&event=hashy",
					"/funnel"+prefix+tg+"&step=hashy&step=login", "/funnel"+prefix+tg+"&step=login&step=hashy")
			}
			if g != "years" && g != "hours" { // days, weeks and months
				paths = append(paths, "/lifecycle"+prefix+tg+"&event=hashy", "/stickiness"+prefix+tg+"&event=hashy")
			}
		}
		paths = append(paths, "/event"+prefix+"&event=hashy&rolling=1", "/event?event=hashy", "/event?event=mixed",
			"/lifecycle?event=mixed&time_group=days", "/stickiness?event=mixed", "/funnel?step=mixed&step=login",
			"/cohort?primary_event=mixed&secondary_event=login&num_rows=10", "/cohort.json?primary_event=login&secondary_event=mixed&num_rows=10")
		for _, seg := range []string{"hashy", "hashy@2025-03-26", "hashy@2025-03"} {
			paths = append(paths,
				"/cohort"+prefix+"&primary_event=login&secondary_event=buy&segment="+seg,
				"/cohort.json"+prefix+"&primary_event=login&secondary_event=buy&segment="+seg,
				"/event"+prefix+"&event=login&segment="+seg,
				"/lifecycle"+prefix+"&event=login&segment="+seg,
				"/stickiness"+prefix+"&event=login&segment="+seg,
				"/funnel"+prefix+"&step=login&step=buy&segment="+seg,
			)
		}
		var logged error
		h := Handler(c, WithErrorHandler(func(_ *http.Request, err error) { logged = err }))
		for _, path := range paths {
			logged = nil
			status, body := get(t, h, path)
			if status != http.StatusConflict || !(strings.Contains(body, b.Prefix+"hashy_") || strings.Contains(body, mixedKey)) || !strings.Contains(body, "is not a bitmap (string) key") {
				t.Errorf("GET %s: %d, want 409 naming a key of hashy; logged %v; body %.300q", path, status, logged, body)
			}
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it has no hashes"))
}
