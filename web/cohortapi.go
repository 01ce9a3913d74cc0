package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// apiRefusal is why cohort.json and cohort.csv answer no table: bad input
// (400), where the HTML page shows a note instead of a table an event
// without data (404, as the page's "did you mean") or an hourly table of
// an event marked without hourly tracking (400), where it notes that the
// segment holds nobody because of how the data was recorded a segment
// EVENT without a unique bitmap (404) or EVENT@HOUR of a day marked
// without hourly tracking (400, cohort.SegmentWithoutHours), and Redis
// failures
// (502/503/504, field ""). JSON gets it as {"error", "field",
// "suggestions"} (suggestions: recorded names like the first missing
// event, [] when none) plus "missing" (every missing event); CSV gets the
// status and Error as plain text.
type apiRefusal struct {
	Status      int          `json:"-"`
	Error       string       `json:"error"`
	Field       string       `json:"field"`
	Suggestions []string     `json:"suggestions"`
	Missing     []apiMissing `json:"missing,omitempty"`
}

// apiMissing is one event of the query without data, with the parameter
// that names it.
type apiMissing struct {
	Event       string   `json:"event"`
	Field       string   `json:"field"`
	Suggestions []string `json:"suggestions"`
}

// refuseTable returns why the endpoints must not answer t (computed for
// q, parsed from v): the same checks, in the same order, as the HTML page
// (missing events, the segment's included, found with EXISTS probes and
// listed only for an event none of whose probed keys exists: tableMissing; a segment without @ whose
// unique bitmap holds no user (404, the page's note), a segment hour of a
// day without hourly data (400, the page's note), then no hourly data).
// It returns nil when t is fine.
func (h *handler) refuseTable(ctx context.Context, v url.Values, q cohort.Query, t *cohort.Table) (*apiRefusal, error) {
	missing, err := h.tableMissing(ctx, segmentSpecs(v), t)
	if err != nil {
		return nil, err
	}
	if len(missing) > 0 {
		ref := &apiRefusal{Status: http.StatusNotFound}
		for _, m := range missing {
			field := segmentParam
			if m.Segment == "" {
				field = eventField(v, q, m.Event)
			}
			ref.Missing = append(ref.Missing, apiMissing{Event: m.Event, Field: field, Suggestions: nonNil(m.Suggestions)})
		}
		first := ref.Missing[0]
		ref.Field, ref.Suggestions = first.Field, first.Suggestions
		ref.Error = first.Field + `: no event "` + first.Event + `" is recorded under the key prefix "` + h.c.Prefix() + `", so there is no table`
		if len(first.Suggestions) > 0 {
			ref.Error += "; did you mean " + strings.Join(first.Suggestions, " or ") + "?"
		}
		return ref, nil
	}
	if ref, err := uniqueSegmentRefusal(ctx, h.c, segmentSpecs(v)); ref != nil || err != nil {
		return ref, err
	}
	if why, err := cohort.SegmentWithoutHours(ctx, h.c, segmentSpecs(v)...); err != nil || why != "" {
		if err != nil {
			return nil, err
		}
		return &apiRefusal{Status: http.StatusBadRequest, Field: segmentParam, Error: segmentParam + ": The " + why + ", so there is no table", Suggestions: []string{}}, nil
	}
	note, err := noHourlyData(ctx, h.c, t)
	if err != nil || note == "" {
		return nil, err
	}
	return &apiRefusal{Status: http.StatusBadRequest, Field: names.TimeGroup, Error: names.TimeGroup + ": " + note, Suggestions: []string{}}, nil
}

// eventField returns the parameter of q that asked for event:
// primary_event, primary_and, secondary_event, or additional[i] (i the
// form row, as in parseCohortForm's errors).
func eventField(v url.Values, q cohort.Query, event string) string {
	switch event {
	case q.Primary:
		return names.Primary
	case q.PrimaryAnd:
		return "primary_and"
	case q.Secondary:
		return names.Secondary
	}
	_, rows := dropBlankSteps(v)
	for k, s := range q.Additional {
		if s.Event == event {
			if k < len(rows) {
				return stepField(rows[k])
			}
			return stepField(k)
		}
	}
	return ""
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeRefusal answers ref as JSON or plain text.
func writeRefusal(w http.ResponseWriter, ref *apiRefusal, asJSON bool) {
	if asJSON {
		writeJSON(w, ref.Status, ref)
		return
	}
	http.Error(w, ref.Error, ref.Status)
}

// uniqueSegmentRefusal returns the 404 refusal of the first segment
// without @ (EVENT or !EVENT) among specs whose event's unique bitmap does
// not exist: every cell would be empty (for !EVENT nobody would be left
// out). One EXISTS per such spec; nil otherwise (a unique bitmap that
// exists with every bit 0 is an empty segment: a table of zeros).
func uniqueSegmentRefusal(ctx context.Context, c *bitmapist.Client, specs []string) (*apiRefusal, error) {
	for _, spec := range specs {
		s, err := cohort.ParseSegmentSpec(c, spec)
		if err != nil || !s.Unique() {
			continue // not a unique bitmap (a bad one was refused before)
		}
		ok, err := c.Unique(s.Event).Exists(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return &apiRefusal{Status: http.StatusNotFound, Field: segmentParam, Error: segmentParam + ": " + uniqueSegmentNote(s) + ", so there is no table", Suggestions: []string{}}, nil
		}
	}
	return nil, nil
}

// tableMissing returns the events of t's query and the segments' (specs)
// that have no data, as the page's missing notes. Like the command, it
// first asks Redis in one pipeline of EXISTS (split per node on a
// cluster) whether any key of the table's periods up to now, or of the
// segment, exists for each event; only when one event has none of them
// does it list the event names (SCAN of the prefix): an event with data
// in other periods is not missing, and the listing gives the suggestions.
func (h *handler) tableMissing(ctx context.Context, specs []string, t *cohort.Table) ([]missingEvent, error) {
	q := t.Query
	probes := map[string][]string{}
	var events []string
	add := func(e string, keys []string) {
		if _, ok := probes[e]; !ok {
			events = append(events, e)
		}
		probes[e] = append(probes[e], keys...)
	}
	for _, e := range queryEvents(q) {
		if e != "" {
			add(e, tableKeys(h.c, q, e))
		}
	}
	for _, spec := range specs {
		if s, err := cohort.ParseSegmentSpec(h.c, spec); err == nil {
			add(s.Event, s.Set.Keys())
		}
	}
	unproven, err := cohort.UnprovenEvents(ctx, h.c, events, func(e string) []string { return probes[e] })
	if err != nil {
		return nil, fmt.Errorf("bitmapist/web: check events: %w", err)
	}
	if len(unproven) == 0 {
		return nil, nil
	}
	known, err := h.c.EventNames(ctx, "")
	if err != nil {
		return nil, err
	}
	return append(missingEvents(queryEvents(q), known), missingSegment(h.c, specs, known)...), nil
}

// tableKeys returns the keys of event in the periods of q's table that
// start up to q's Now (cohort.PeriodKeys: at most the last
// cohort.MaxProbePeriods of them).
func tableKeys(c *bitmapist.Client, q cohort.Query, event string) []string {
	g, now := q.TimeGroup, q.Now
	if now.IsZero() {
		now = c.Now()
	}
	first := g.Start(q.Start)
	if q.Start.IsZero() {
		first = g.Start(g.Add(now, -(q.Rows - 1)))
	}
	last := g.Start(g.Add(first, q.Rows+q.Cols-2))
	if n := g.Start(now); n.Before(last) {
		last = n
	}
	return cohort.PeriodKeys(c, event, g, first, last)
}
