package web

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// reportPaths are the report pages with the event parameter of each.
var reportPaths = []string{"event?event=", "lifecycle?event=", "stickiness?event=", "funnel?step=" + url.QueryEscape(evSignup) + "&step="}

// alertText returns the text of the element with the id, or the first
// element with class name, in body ("" when there is none), entities
// decoded and tags removed.
func noteText(body, attr string) string {
	m := regexp.MustCompile(`(?s)<p [^>]*` + attr + `[^>]*>(.*?)</p>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return html.UnescapeString(regexp.MustCompile(`<[^>]+>`).ReplaceAllString(m[1], ""))
}

// TestReportErrorHeaderHasNoZeroRange: a report page whose date control,
// time group or order is bad says what is wrong and shows no range in its
// header (before, the zero time showed as "0001-01-01 to ...").
func TestReportErrorHeaderHasNoZeroRange(t *testing.T) {
	h := demoHandler(t)
	for _, path := range reportPaths {
		for _, tc := range []struct{ query, field, msg string }{
			{"from=bad", "from", `from: "bad" is not a date`},
			{"to=bad", "to", `to: "bad" is not a date`},
			{"now=bad", "now", `now: "bad" is not a date`},
			{"now=0001-01-01&from=0001-01-01", "", ""}, // valid, just early: no zero-time header either way
			{"time_group=fortnights", "time_group", `time_group: "fortnights" is not one of`},
			{"from=2025-03-20&to=2025-03-01", "from", "from: 2025-03-20 is after to (2025-03-01): a range runs forward"},
			{"from=2025-04-02", "from", "from: 2025-04-02 is after now (2025-03-26 15:00), where the range ends when to is empty"},
		} {
			target := "/" + path + url.QueryEscape(evActive) + "&" + tc.query
			code, body := get(t, h, target)
			if tc.field == "" {
				if strings.Contains(body, "0001-01-01 to") && !strings.Contains(body, "0001-01-01 to 0001-") {
					t.Errorf("%s: header range from the zero time", target)
				}
				continue
			}
			if code != 400 {
				t.Errorf("%s: status %d, want 400", target, code)
			}
			if got := noteText(body, `id="form-error"`); !strings.HasPrefix(got, tc.msg) {
				t.Errorf("%s: error %q, want it to start with %q", target, got, tc.msg)
			}
			if strings.Contains(body, "0001-01-01") || strings.Contains(body, " · entries ") || regexp.MustCompile(`\d{4}-\d\d-\d\d to \d{4}`).MatchString(body) {
				t.Errorf("%s: the header shows a range for a bad query", target)
			}
			if !strings.Contains(body, `id="`+tc.field+`"`) {
				t.Errorf("%s: no field %s on the page", target, tc.field)
			}
		}
	}
}

// TestFutureRangesAreNoted: a range reaching past now, a range wholly
// after now and a now after the clock each get a note saying those
// periods have no data yet, on every page that takes them.
func TestFutureRangesAreNoted(t *testing.T) {
	h := demoHandler(t)
	for _, path := range reportPaths {
		base := "/" + path + url.QueryEscape(evActive)
		if strings.HasPrefix(path, "lifecycle") {
			base += "&time_group=days" // the week of 2025-04-30 is after now's
		}
		for _, tc := range []struct{ query, note string }{
			{"&from=2025-03-20&to=2025-04-30", "The range ends on 2025-04-30, after now (2025-03-26 15:00): its days after now show what is recorded for them"},
			{"&from=2025-04-01&to=2025-04-30", "The whole range (from 2025-04-01) is after now (2025-03-26 15:00): it shows what is recorded for those days"},
		} {
			code, body := get(t, h, base+tc.query)
			if got := noteText(body, `data-note="range"`); code != 200 || !strings.HasPrefix(got, tc.note) {
				t.Errorf("%s: %d, note %q; want 200 and %q", base+tc.query, code, got, tc.note)
			}
		}
		if _, body := get(t, h, base+"&from=2025-03-01&to=2025-03-26"); strings.Contains(body, `data-note="range"`) {
			t.Errorf("%s: a note for a range that ends at now", base)
		}
	}
	pages := []string{"/?", "/cohort?" + demoCohortQuery + "&"}
	for _, path := range reportPaths {
		pages = append(pages, "/"+path+url.QueryEscape(evActive)+"&")
	}
	for _, p := range pages {
		code, body := get(t, h, p+"now=2099-01-01")
		want := "now (2099-01-01) is after the present (2025-03-26 15:00 on this server's clock)"
		if got := noteText(body, `id="now-note"`); code != 200 || !strings.HasPrefix(got, want) {
			t.Errorf("%snow=2099-01-01: %d, note %q; want %q", p, code, got, want)
		}
		if _, body := get(t, h, p+"now=2025-03-20"); strings.Contains(body, `id="now-note"`) {
			t.Errorf("%snow=2025-03-20: a future note for a past now", p)
		}
	}
	// A cohort table starting after now.
	code, body := get(t, h, pages[1]+"start=2025-06-01&time_group=days")
	want := "start (2025-06-01) is after now (2025-03-26 15:00): the table's periods are all after now"
	if got := noteText(body, `id="start-note"`); code != 200 || !strings.HasPrefix(got, want) || strings.Contains(body, `id="empty-table"`) {
		t.Errorf("cohort start after now: %d, note %q; want %q alone", code, got, want)
	}
}

// TestUnknownSegmentEvent: a segment naming an event without data says
// so with "did you mean" links that keep the segment's period, as for the
// report's own event; an empty segment of a known event says why every
// count is 0.
func TestUnknownSegmentEvent(t *testing.T) {
	h := demoHandler(t)
	for _, path := range reportPaths {
		base := "/" + path + url.QueryEscape(evActive) + "&segment="
		code, body := get(t, h, base+url.QueryEscape("user:signed_upp@2025-03"))
		if code != 404 || !strings.Contains(body, `data-missing="user:signed_upp"`) {
			t.Errorf("%s: %d, no missing-event note for the segment", base, code)
		}
		if got := noteText(body, `data-missing=`); !strings.HasPrefix(got, "No event “user:signed_upp” (the segment user:signed_upp@2025-03) is recorded") || !strings.Contains(got, "Did you mean "+evSignup+"?") {
			t.Errorf("%s: note %q", base, got)
		}
		link := regexp.MustCompile(`<a href="([^"]+)" class="suggestion">`).FindStringSubmatch(body)
		if link == nil {
			t.Fatalf("%s: no suggestion link", base)
		}
		u, err := url.Parse(html.UnescapeString(link[1]))
		if err != nil || u.Query().Get("segment") != evSignup+"@2025-03" || (u.Query().Get("event") != evActive && !strings.HasPrefix(path, "funnel")) {
			t.Errorf("%s: suggestion %q (%v), want the same page with segment %s@2025-03", base, link[1], err, evSignup)
		}
		if code, _ := get(t, h, "/"+u.String()); code != 200 {
			t.Errorf("%s: the suggestion answers %d", u, code)
		}
		code, body = get(t, h, base+url.QueryEscape("nosuch"))
		if code != 404 || !strings.Contains(body, `data-missing="nosuch"`) {
			t.Errorf("%s: %d for segment nosuch", base, code)
		}
		// Known event, nobody in the segment.
		code, body = get(t, h, base+url.QueryEscape(evSignup+"@2020-01"))
		if got := noteText(body, `data-note="segment"`); code != 200 || !strings.HasPrefix(got, `The segment "`+evSignup+`@2020-01" holds no user`) {
			t.Errorf("%s: %d, note %q", base, code, got)
		}
		code, body = get(t, h, base+url.QueryEscape(evSignup)) // unique bitmap: the demo does not track unique
		if got := noteText(body, `data-note="segment"`); code != 200 || !strings.Contains(got, "written only with unique tracking on") {
			t.Errorf("%s: %d, note %q", base, code, got)
		}
		code, body = get(t, h, base+url.QueryEscape(evSignup+"@2025-03"))
		if code != 200 || strings.Contains(body, `data-note="segment"`) || strings.Contains(body, "data-missing") {
			t.Errorf("%s: %d, a note for a segment with users", base, code)
		}
	}
}

// TestHourlyFunnelWithoutHourlyData: an hourly funnel over data marked
// without hourly tracking says so instead of showing zeros, and its
// header names hours, not days.
func TestHourlyFunnelWithoutHourlyData(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	seedDemo(t, c, demoNow, 2)
	h := Handler(c)
	target := "/funnel?step=" + url.QueryEscape(evSignup) + "&step=" + url.QueryEscape(evActive) + "&time_group=hours&from=2025-03-26T00:00&to=2025-03-26T12:00"
	code, body := get(t, h, target)
	want := evSignup + " has users on 2025-03-26 but no hourly data in these hours (2025-03-26 00:00 to 2025-03-26 12:00)"
	if got := noteText(body, `data-note="hourly"`); code != 200 || !strings.HasPrefix(got, want) {
		t.Errorf("%s: %d, note %q; want %q", target, code, got, want)
	}
	if !strings.Contains(body, "· entries 2025-03-26 00:00 to 2025-03-26 12:00") {
		t.Errorf("%s: the header does not name the hours", target)
	}
	// With hourly data there is no note.
	if err := c.MarkEvent(t.Context(), evSignup, 1, bitmapist.At(demoNow.Add(-5*time.Hour)), bitmapist.TrackHourly(true)); err != nil {
		t.Fatal(err)
	}
	if _, body := get(t, h, target); strings.Contains(body, `data-note="hourly"`) {
		t.Errorf("%s: the hourly note with hourly data", target)
	}
}

// TestHourlyTrend: the event (trend) page takes time_group=hours, as
// bitmapist trend --group hours does: with hourly data it counts each
// hour's users; over data marked without hourly tracking it says so
// instead of showing zeros.
func TestHourlyTrend(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow) // hourly tracking off
		mark(t, c, "daily", demoNow, 1, 2)
		h := Handler(c)
		target := "/event?event=daily&time_group=hours&from=2025-03-26T00:00&to=2025-03-26T12:00"
		code, body := get(t, h, target)
		want := "daily has users on 2025-03-26 but no hourly data in these hours (2025-03-26 00:00 to 2025-03-26 12:00)"
		if got := noteText(body, `data-note="hourly"`); code != 200 || !strings.HasPrefix(got, want) {
			t.Errorf("%s: %d, note %q; want %q", target, code, got, want)
		}
		for _, id := range []uint64{1, 2, 3} {
			if err := c.MarkEvent(t.Context(), "hourly", id, bitmapist.At(demoNow.Add(-time.Duration(id)*time.Hour)), bitmapist.TrackHourly(true)); err != nil {
				t.Fatal(err)
			}
		}
		tr, err := c.Trend(t.Context(), bitmapist.TrendQuery{Event: "hourly", TimeGroup: bitmapist.Hours, From: demoNow.Add(-5 * time.Hour), To: demoNow})
		if err != nil || tr.Unique != 3 {
			t.Fatalf("Trend hours: %v, %+v", err, tr)
		}
		target = "/event?event=hourly&time_group=hours&from=" + bitmapist.Hours.Label(demoNow.Add(-5*time.Hour)) + "&to=" + bitmapist.Hours.Label(demoNow)
		target = strings.ReplaceAll(target, " ", "T")
		code, body = get(t, h, target)
		if code != 200 || strings.Contains(body, `data-note="hourly"`) {
			t.Fatalf("%s: %d, or the hourly note with hourly data", target, code)
		}
		want1 := map[string]bool{}
		for k := 1; k <= 3; k++ {
			want1[bitmapist.Hours.Label(demoNow.Add(-time.Duration(k)*time.Hour))] = true
		}
		if len(tr.Periods) != 6 {
			t.Fatalf("%d hours, want 6", len(tr.Periods))
		}
		for _, pr := range tr.Periods {
			n := 0
			if want1[pr.Label] {
				n = 1
			}
			row := fmt.Sprintf(`data-label="%s"><th scope="row">%s</th><td class="num" data-count="%d"`, pr.Label, pr.Label, n)
			if !strings.Contains(body, row) {
				t.Errorf("%s: no row %s with %d users", target, pr.Label, n)
			}
		}
	})
}

// TestTooLongRangeNamesBothDates: a from..to range of more periods than a
// report reads is a 400 naming "from/to" (the range, as the command's
// --from/--to does), with both date fields marked invalid, on every
// report page.
func TestTooLongRangeNamesBothDates(t *testing.T) {
	h := demoHandler(t)
	for _, path := range reportPaths {
		target := "/" + path + url.QueryEscape(evActive) + "&time_group=days&from=1900-01-01&to=2100-01-01"
		code, body := get(t, h, target)
		got := noteText(body, `id="form-error"`)
		if code != 400 || got != "from/to: 1900-01-01..2100-01-01 is more than 400 days" {
			t.Errorf("%s: %d %q, want 400 from/to: ... is more than 400 days", target, code, got)
		}
		for _, id := range []string{"from", "to"} {
			if !regexp.MustCompile(`<input id="` + id + `"[^>]* aria-invalid="true"`).MatchString(body) {
				t.Errorf("%s: the %s field is not marked invalid", target, id)
			}
		}
	}
}
