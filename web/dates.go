package web

import (
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
)

// nowParam is the request parameter of every page's date control: the
// time the page is computed for (cohort.ParseQuery's "now"). Empty means
// the client's clock.
const nowParam = "now"

// parseTimeParam parses a date parameter with cohort.ParseTime (RFC 3339,
// cohort.TimeLayouts in loc: "2006-01-02T15:04", "2006-01-02", "2006-01",
// "2006", ...; or a week or hour label, 2025-W09), the forms
// cohort.ParseQuery accepts for now and start. It returns a
// *cohort.QueryError naming the parameter when s is none of those or its
// year is outside 1..9999; a value of the right shape naming no real date
// (2026-02-30) says so, with the command's words (cohort.DateError).
func parseTimeParam(name, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	t, err := cohort.ParseTime(s, loc)
	if err != nil {
		return time.Time{}, cohort.TimeParamError(name, s, err)
	}
	if y := t.In(loc).Year(); y < 1 || y > 9999 {
		return time.Time{}, &cohort.QueryError{Field: name, Msg: quoteClip(s) + " is outside the years 1..9999"}
	}
	return t.In(loc), nil
}

// quoteClip quotes s for a message, clipped to 60 bytes.
func quoteClip(s string) string {
	if len(s) > 60 {
		s = s[:60] + "…"
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}

// pageNow returns the time a page is computed for: the "now" parameter of
// v, or the client's clock when it is empty.
func (h *handler) pageNow(v url.Values) (time.Time, error) {
	s := strings.TrimSpace(v.Get(nowParam))
	if s == "" {
		return h.c.Now(), nil
	}
	return parseTimeParam(nowParam, s, h.c.Location())
}

// dateOnly matches a value an <input type="date"> can show.
var dateOnly = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// dateField is one date input of a page's date control.
type dateField struct {
	ID, Name, Label string
	Value           string // as given ("" for the default)
	Hint            string // placeholder / what empty means
	Bad             bool   // the error is about this field
}

// InputType is "date" when the browser's date picker can show Value, else
// "text" (a time of day, or a value the user mistyped, stays editable).
func (f dateField) InputType() string {
	if f.Value == "" || dateOnly.MatchString(f.Value) {
		return "date"
	}
	return "text"
}

// withParams returns base with the parameters of keep copied from v,
// skipping empty ones: links that keep the page's date control, filter and
// segments (every value of a repeated parameter).
func withParams(base string, v url.Values, keep ...string) string {
	out := url.Values{}
	for _, k := range keep {
		for _, s := range v[k] { // several only for list parameters (segment)
			if s = strings.TrimSpace(s); s != "" {
				out.Add(k, s)
			}
		}
	}
	if len(out) == 0 {
		return base
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + out.Encode()
}

// fmtWhen names t for a message: "2025-03-26", or "2025-03-26 15:04" when
// t is not at midnight.
func fmtWhen(t time.Time) string {
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 {
		return t.Format(time.DateOnly)
	}
	return t.Format("2006-01-02 15:04")
}
