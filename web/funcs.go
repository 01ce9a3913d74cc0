package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// funcs are the template functions of every page.
var funcs = template.FuncMap{
	"thousands":  thousands,
	"statusText": http.StatusText,
	"cohortLink": cohortLink,
	"inc":        inc,
	"stepField":  stepField,
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

// cohortLink returns the relative link to the cohort form for event as both
// primary and secondary event, weekly: "how many come back".
func cohortLink(event string) string {
	return "cohort?" + url.Values{
		names.Primary: {event}, names.Secondary: {event}, names.TimeGroup: {"weeks"},
		names.Rows: {"12"}, names.Cols: {"12"}, names.AsPercent: {"1"},
	}.Encode()
}
