package web

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/bitmapist-go/bitmapist/cohort"
)

// funcs are the template functions of every page.
var funcs = template.FuncMap{
	"thousands":  thousands,
	"statusText": http.StatusText,
	"inc":        inc,
	"half":       func(f float64) float64 { return f / 2 },
	"has":        slices.Contains[[]string],
	"percent":    percent,
	"dec":        func(i int) int { return i - 1 },
	"stepField":  stepField,
	"plural":     plural,
	"users":      users,
	"ratio":      ratio,
	"fromPrev":   fromPrevious,
	"fromFirst":  fromFirst,
}

// ratio formats the fraction f of a whole of den as "43.1%", or "–" (no
// value, as in the cohort table's empty cells) when den is 0: a ratio of
// nothing is undefined, not 0%.
func ratio(f float64, den int64) string {
	if den == 0 {
		return "–"
	}
	return percent(f)
}

// fromPrevious formats steps[i].FromPrevious, "–" when the previous step
// (the step itself for the first) has no users.
func fromPrevious(steps []cohort.FunnelStep, i int) string {
	return ratio(steps[i].FromPrevious, steps[max(i-1, 0)].Users)
}

// fromFirst formats steps[i].FromFirst, "–" when the first step has no
// users.
func fromFirst(steps []cohort.FunnelStep, i int) string {
	return ratio(steps[i].FromFirst, steps[0].Users)
}

// users returns n with thousands separators and "user" or "users":
// "1 user", "12,345 users".
func users(n int64) string {
	if n == 1 {
		return "1 user"
	}
	return thousands(n) + " users"
}

// plural returns n and unit, with an "s" unless n is 1: "1 day", "3 days".
func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// thousands formats n with comma thousands separators: 12345 → "12,345".
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

// inc returns i+1, for 1-based labels.
func inc(i int) int { return i + 1 }

// retentionLink returns the relative link to the weekly retention of
// event: its recurring weekly cohorts returning to the same event, with
// replacement, 12 × 12, in percent. Without replacement every user of a
// cohort "returns" in column 0 (they did the event in their own week) and
// leaves the cohort, so every later column would be 0. A non-empty now
// (the page's date control) is carried as the table's "now".
func retentionLink(event, now string) string {
	v := url.Values{
		names.Primary: {event}, names.Secondary: {event}, names.TimeGroup: {"weeks"},
		names.Rows: {"12"}, names.Cols: {"12"}, names.AsPercent: {"1"}, names.WithReplacement: {"1"},
	}
	if now != "" {
		v.Set(nowParam, now)
	}
	return "cohort?" + v.Encode()
}
