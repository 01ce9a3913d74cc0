package web

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

// TestSegmentFormsRefused: on every page and endpoint that takes a
// segment, EVENT@ (no label after @) is a 400 naming the form, never an
// event "EVENT@" or EVENT's unique bitmap; cohort.json and cohort.csv
// refuse (404) a segment without @ whose unique bitmap holds no user, with
// the page's explanation, instead of a table of empty cells.
func TestSegmentFormsRefused(t *testing.T) {
	h := demoHandler(t)
	const form = "EVENT@LABEL wants a period label after @"
	cohortQ := "cohort?" + demoCohortQuery + "&time_group=days&now=2025-03-26"
	pages := []string{cohortQ}
	for _, p := range reportPaths {
		pages = append(pages, p+url.QueryEscape(evActive))
	}
	for _, seg := range []string{evSignup + "@", evSignup + "@ "} {
		for _, p := range pages {
			target := "/" + p + "&segment=" + url.QueryEscape(seg)
			code, body := get(t, h, target)
			if got := noteText(body, `id="form-error"`); code != 400 || !strings.HasPrefix(got, "segment: ") || !strings.Contains(got, form) {
				t.Errorf("%s: %d, error %q, want 400 segment: ...%s", target, code, got, form)
			}
		}
		for _, ext := range []string{".json", ".csv"} {
			target := "/cohort" + ext + strings.TrimPrefix(cohortQ, "cohort") + "&segment=" + url.QueryEscape(seg)
			code, body := get(t, h, target)
			if code != 400 || !strings.Contains(body, form) {
				t.Errorf("%s: %d %s, want 400 naming the form", target, code, body)
			}
		}
	}
	// A segment without @ on an event without a unique bitmap.
	const why = `segment: The segment "` + evSignup + `" holds no user: a segment without @ is the event's unique bitmap, written only with unique tracking on`
	target := "/cohort.json" + strings.TrimPrefix(cohortQ, "cohort") + "&segment=" + url.QueryEscape(evSignup)
	code, body := get(t, h, target)
	var je struct {
		Error, Field string
		Suggestions  []string
	}
	if err := json.Unmarshal([]byte(body), &je); code != 404 || err != nil || je.Field != "segment" || !strings.HasPrefix(je.Error, why) || !strings.Contains(je.Error, "Use "+evSignup+"@PERIOD") {
		t.Errorf("%s: %d %v %+v, want 404 %q", target, code, err, je, why)
	}
	target = "/cohort.csv" + strings.TrimPrefix(cohortQ, "cohort") + "&segment=" + url.QueryEscape(evSignup)
	if code, body := get(t, h, target); code != 404 || !strings.HasPrefix(body, why) {
		t.Errorf("%s: %d %q, want 404 %q", target, code, body, why)
	}
	// The page keeps its note (200, every cohort empty).
	code, body = get(t, h, "/"+cohortQ+"&segment="+url.QueryEscape(evSignup))
	if got := noteText(body, `data-note="segment"`); code != 200 || !strings.Contains(got, "written only with unique tracking on") {
		t.Errorf("cohort page: %d, note %q", code, got)
	}
}
