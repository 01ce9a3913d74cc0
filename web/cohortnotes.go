package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/redis/go-redis/v9"
)

// maxSuggestions is how many "did you mean" names a missing event gets.
const maxSuggestions = 3

// pageNotes are what a report page says instead of a misleading table.
type pageNotes struct {
	Missing  []missingEvent
	NoHourly string
	Segment  string // the segment holds no user (emptySegmentNote)
}

// missingEvent is an event asked for that has no data under the prefix.
type missingEvent struct {
	Event       string
	Segment     string       // the segment text when Event is the segment's event, else ""
	Suggestions []string     // recorded names that look like it, closest first
	Links       []suggestion // the page asked with each suggestion instead
}

// missingEvents returns the events of asked that are not among known (the
// recorded names), each once, with suggestions from
// bitmapist.SuggestEventNames.
func missingEvents(asked, known []string) []missingEvent {
	var out []missingEvent
	seen := map[string]bool{}
	for _, e := range asked {
		if e == "" || seen[e] || slices.Contains(known, e) {
			continue
		}
		seen[e] = true
		out = append(out, missingEvent{Event: e, Suggestions: bitmapist.SuggestEventNames(e, known, maxSuggestions)})
	}
	return out
}

// queryEvents returns every event a cohort query reads.
func queryEvents(q cohort.Query) []string {
	out := []string{q.Primary, q.PrimaryAnd, q.Secondary}
	for _, s := range q.Additional {
		out = append(out, s.Event)
	}
	return out
}

// asksTable reports whether v asks for a table: any parameter besides the
// date control and the segment (a header link carries only "now").
func asksTable(v url.Values) bool {
	for k := range v {
		if k != nowParam && k != "start" && k != segmentParam {
			return true
		}
	}
	return false
}

// noHourlyData returns why an hourly table t shows nothing when that is
// because hourly tracking was off: no cohort has a user, yet the primary
// event has daily data on the table's days. It returns "" otherwise (one
// EXISTS per day of the rows, only for an empty hourly table).
func noHourlyData(ctx context.Context, c *bitmapist.Client, t *cohort.Table) (string, error) {
	if t.Query.TimeGroup != bitmapist.Hours || slices.ContainsFunc(t.Totals, func(n int64) bool { return n > 0 }) {
		return "", nil
	}
	return dailyWithoutHourly(ctx, c, t.Query.Primary, t.Dates)
}

// dailyWithoutHourly returns the note for hours (period starts, in order)
// in which event shows no user although it has daily data on their days:
// it was marked without hourly tracking. It returns "" when no day of
// hours has data (one EXISTS per day, pipelined).
func dailyWithoutHourly(ctx context.Context, c *bitmapist.Client, event string, hours []time.Time) (string, error) {
	if len(hours) == 0 {
		return "", nil
	}
	var keys []string
	seen := map[string]bool{}
	for _, d := range hours {
		if k := c.Key(event, bitmapist.Days, d); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	p := c.Redis().Pipeline()
	cmds := make([]*redis.IntCmd, len(keys))
	for i, k := range keys {
		cmds[i] = p.Exists(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil {
		return "", fmt.Errorf("bitmapist/web: check daily data: %w", err)
	}
	for _, cmd := range cmds {
		if cmd.Val() > 0 {
			first, last := hours[0], hours[len(hours)-1]
			return fmt.Sprintf("%s has users on %s but no hourly data in these hours (%s to %s): it was marked without hourly tracking (bitmapist.WithTrackHourly). Choose days.",
				event, dayRange(first, last), bitmapist.Hours.Label(first), bitmapist.Hours.Label(last)), nil
		}
	}
	return "", nil
}

// dayRange names the days from a to b: "2025-03-26" or "2025-03-25 to 2025-03-26".
func dayRange(a, b time.Time) string {
	la, lb := bitmapist.Days.Label(a), bitmapist.Days.Label(b)
	if la == lb {
		return la
	}
	return la + " to " + lb
}

// sameEventHint returns the link to the table of q with replacement when
// q's primary and secondary are the same event without it: every user of
// a cohort returns in column 0 then, and counts in no later column.
func sameEventHint(q cohort.Query, v url.Values) string {
	if q.Primary != q.Secondary || q.WithReplacement || q.OnOrAfter || len(q.Additional) > 0 {
		return ""
	}
	out := url.Values{}
	for k, vs := range v {
		out[k] = vs
	}
	out.Set(names.WithReplacement, "1")
	return "cohort?" + out.Encode()
}

// suggestionLinks returns, for each suggested name, the link to page with
// v's parameters where every value equal to missing is replaced by it.
func suggestionLinks(page string, v url.Values, m missingEvent) []suggestion {
	return linksWith(page, v, m.Suggestions, func(nv url.Values, name string) {
		for _, vs := range nv {
			for i, s := range vs {
				if strings.TrimSpace(s) == m.Event {
					vs[i] = name
				}
			}
		}
	})
}

// linksWith returns, for each name, the link to page with a copy of v's
// parameters changed by edit(copy, name); v is left as it is.
func linksWith(page string, v url.Values, names []string, edit func(nv url.Values, name string)) []suggestion {
	out := make([]suggestion, 0, len(names))
	for _, name := range names {
		nv := make(url.Values, len(v))
		for k, vs := range v {
			nv[k] = slices.Clone(vs)
		}
		edit(nv, name)
		out = append(out, suggestion{Name: name, URL: page + "?" + nv.Encode()})
	}
	return out
}

// segmentEvent returns the event of a segment's text form
// (cohort.ParseSegmentSpec: "EVENT", "EVENT@LABEL", "!EVENT" or
// "!EVENT@LABEL"), "" for no segment or one that does not parse.
func segmentEvent(c *bitmapist.Client, spec string) string {
	s, err := cohort.ParseSegmentSpec(c, spec)
	if err != nil {
		return ""
	}
	return s.Event
}

// missingSegment returns the missing-event notes for the segments' events
// when no event of that name is recorded (none for the others), with
// suggestions from bitmapist.SuggestEventNames.
func missingSegment(c *bitmapist.Client, specs []string, known []string) []missingEvent {
	var out []missingEvent
	for _, spec := range specs {
		e := segmentEvent(c, spec)
		if e == "" || slices.Contains(known, e) {
			continue
		}
		out = append(out, missingEvent{Event: e, Segment: strings.TrimSpace(spec), Suggestions: bitmapist.SuggestEventNames(e, known, maxSuggestions)})
	}
	return out
}

// segmentSuggestionLinks returns, for each suggested name, the link to
// page with v's parameters where the segment's event is replaced by it
// (its "!" and period label kept).
func segmentSuggestionLinks(page string, v url.Values, m missingEvent) []suggestion {
	not, rest := "", m.Segment
	if r, ok := strings.CutPrefix(rest, "!"); ok {
		not, rest = "!", r
	}
	return linksWith(page, v, m.Suggestions, func(nv url.Values, name string) {
		for i, seg := range nv["segment"] { // only the segment that names the event
			if strings.TrimSpace(seg) == m.Segment {
				nv["segment"][i] = not + name + strings.TrimPrefix(rest, m.Event)
			}
		}
	})
}

// suggestion is a "did you mean" name and the page asked with it.
type suggestion struct{ Name, URL string }
