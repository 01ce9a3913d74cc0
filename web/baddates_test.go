package web

import (
	"encoding/json"
	"html"
	"net/url"
	"strings"
	"testing"
)

// TestImpossibleDates: every date parameter of every page and endpoint
// (now everywhere, from and to on the report pages, start on the cohort
// page and its JSON and CSV) answers a date of the right shape that does
// not exist with a 400 in the command's words, `"2026-02-30" is not a
// valid date (day out of range)`, not as a format error.
func TestImpossibleDates(t *testing.T) {
	h := demoHandler(t)
	params := dateParams()
	for page, names := range params {
		for _, name := range names {
			for value, reason := range map[string]string{
				"2026-02-30": "day out of range", "2026-13-01": "month out of range",
				"2026-02-30T10:00": "day out of range", "2026-02-30T10:00:00Z": "day out of range",
			} {
				target := page + "&" + name + "=" + url.QueryEscape(value)
				code, body := get(t, h, target)
				want := name + `: "` + value + `" is not a valid date (` + reason + ")"
				got := body // cohort.csv: the message as text
				switch {
				case strings.HasPrefix(page, "/?"): // the overview's error page
					got = html.UnescapeString(body)
				case strings.Contains(page, ".json"):
					var je struct{ Error, Field string }
					if err := json.Unmarshal([]byte(body), &je); err != nil || je.Field != name {
						t.Errorf("%s: JSON %q field %q, want %q", target, body, je.Field, name)
					}
					got = je.Error
				case !strings.Contains(page, ".csv"):
					got = noteText(body, `id="form-error"`)
				}
				if code != 400 || !strings.Contains(got, want) {
					t.Errorf("%s: %d %q, want 400 %q", target, code, clipBody(got), want)
				}
			}
		}
	}
}

func clipBody(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// TestImpossibleSegmentLabels: a segment label of a known shape naming no
// real period (2026-02-30, a week 53 of a year of 52) is a 400 saying so
// on the cohort page, its JSON and every report page, not a format error.
func TestImpossibleSegmentLabels(t *testing.T) {
	h := demoHandler(t)
	pages := []string{"/cohort?" + demoCohortQuery, "/cohort.json?" + demoCohortQuery}
	for _, p := range reportPaths {
		pages = append(pages, "/"+p+url.QueryEscape(evActive))
	}
	for label, want := range map[string]string{
		"2026-02-30": `period label "2026-02-30" is not a valid date (day out of range)`,
		"2025-W53":   `period label "2025-W53" is not a valid week (2025 has ISO weeks W01..W52)`,
	} {
		for _, page := range pages {
			target := page + "&segment=" + url.QueryEscape(evSignup+"@"+label)
			code, body := get(t, h, target)
			if code != 400 || !strings.Contains(strings.ReplaceAll(html.UnescapeString(body), `\"`, `"`), "segment: "+want) {
				t.Errorf("%s: %d, want 400 with %q:\n%.300s", target, code, want, body)
			}
		}
	}
}

// TestMonthAndYearDates: the date parameters take a month, a year and a
// week label (2025-W10; a week the year lacks says so), as the command's
// do: a yearly cohort from start=2025, a monthly one from
// start=2025-02 (row 0 is that period), a monthly report
// from=2025-02&to=2025-03 (rows 2025-03 and 2025-02).
func TestMonthAndYearDates(t *testing.T) {
	h := demoHandler(t)
	for target, want := range map[string]string{
		"/cohort.csv?" + demoCohortQuery + "&time_group=years&start=2025&now=2025-03-26&num_rows=1":     "\n2025,",
		"/cohort.csv?" + demoCohortQuery + "&time_group=months&start=2025-02&now=2025-03-26&num_rows=1": "\n2025-02,",
		"/cohort?" + demoCohortQuery + "&time_group=months&start=2025-02&now=2025-03":                   `value="2025-02"`,
		"/" + reportPaths[0] + url.QueryEscape(evActive) + "&time_group=months&from=2025-02&to=2025-03": `<tr data-label="2025-03"><th scope="row">2025-03</th>`,
	} {
		code, body := get(t, h, target)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("%s: %d, want 200 with %q:\n%.300s", target, code, want, body)
		}
	}
	for target, want := range map[string]string{
		"/cohort.csv?" + demoCohortQuery + "&time_group=weeks&start=2025-W10&now=2025-03-26&num_rows=1": "\n2025-W10,",
		"/cohort.json?" + demoCohortQuery + "&start=2025-W53":                                           `"start: \"2025-W53\" is not a valid week (2025 has ISO weeks W01..W52)"`,
	} {
		if _, body := get(t, h, target); !strings.Contains(body, want) {
			t.Errorf("%s: want %s:\n%.300s", target, want, body)
		}
	}
	code, body := get(t, h, "/cohort.json?"+demoCohortQuery+"&start=20x5")
	if code != 400 || !strings.Contains(body, `\"20x5\" is not a date: want RFC 3339, 2006-01-02T15:04, 2006-01-02, 2006-W01, 2006-01 or 2006`) {
		t.Errorf("start=20x5: %d %s", code, body)
	}
}

// TestReservedInstantAndLabels: 0001-01-01T00:00:00Z (the instant the
// library reads as "now") is refused by every date parameter with the
// command's reason (the label 0001-01-01 is its day: TestYearOneLabels),
// not "is required"; and every label a table prints (year, month, week,
// day, hour) is taken by every date parameter.
func TestReservedInstantAndLabels(t *testing.T) {
	h := demoHandler(t)
	params := dateParams()
	for page, names := range params {
		for _, name := range names {
			target := page + "&" + name + "=" + url.QueryEscape("0001-01-01T00:00:00Z")
			code, body := get(t, h, target)
			got := html.UnescapeString(body)
			if strings.Contains(page, ".json") {
				var je struct{ Error, Field string }
				_ = json.Unmarshal([]byte(body), &je)
				got = je.Field + ": " + strings.TrimPrefix(je.Error, je.Field+": ")
			}
			if code != 400 || !strings.Contains(got, name+`: "0001-01-01T00:00:00Z": 0001-01-01 00:00:00 UTC cannot be used`) || !strings.Contains(got, "give a label for its period (0001-01-01, 0001-01, 0001)") || strings.Contains(got, "is required") {
				t.Errorf("%s: %d %q, want 400 naming the reserved instant", target, code, clipBody(got))
			}
			for _, label := range []string{"2016", "2016-05", "2016-W17", "2016-05-01", "2016-05-01T10"} {
				target := page + "&" + name + "=" + url.QueryEscape(label)
				if name == "from" {
					target += "&to=2016-12-31"
				}
				if name == "to" {
					target += "&from=2016-01-01"
				}
				code, body := get(t, h, target)
				if code != 200 {
					t.Errorf("%s: %d %q, want 200", target, code, noteText(body, `id="form-error"`))
				}
			}
		}
	}
}

// dateParams maps every page and endpoint of the demo (its query) to the
// date parameters it takes: now everywhere, from and to on the report
// pages, start on the cohort page and its JSON and CSV.
func dateParams() map[string][]string {
	cohortQ := "?" + demoCohortQuery + "&time_group=days"
	params := map[string][]string{"/?x=1": {"now"}}
	for _, p := range reportPaths {
		params["/"+p+url.QueryEscape(evActive)] = []string{"now", "from", "to"}
	}
	for _, p := range []string{"/cohort", "/cohort.json", "/cohort.csv"} {
		params[p+cohortQ] = []string{"now", "start"}
	}
	return params
}
