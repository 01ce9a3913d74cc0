package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/bitmapist-go/bitmapist/cohort"
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
// (missing events, the segment's included, a segment without @ whose
// unique bitmap holds no user (404, the page's note), a segment hour of a
// day without hourly data (400, the page's note), then no hourly data).
// It returns nil when t is fine.
func (h *handler) refuseTable(ctx context.Context, v url.Values, q cohort.Query, t *cohort.Table) (*apiRefusal, error) {
	events, err := h.c.EventNames(ctx, "")
	if err != nil {
		return nil, err
	}
	missing := append(missingEvents(queryEvents(q), events), missingSegment(v.Get(segmentParam), h.c.Location(), events)...)
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
	if ref, err := uniqueSegmentRefusal(ctx, v.Get(segmentParam), q); ref != nil || err != nil {
		return ref, err
	}
	if why, err := cohort.SegmentWithoutHours(ctx, h.c, v.Get(segmentParam)); err != nil || why != "" {
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

// uniqueSegmentRefusal returns the 404 refusal of a segment without @
// (spec, parsed into q.Segment) whose unique bitmap does not exist: every
// cell would be empty. One EXISTS; nil otherwise (a unique bitmap that
// exists with every bit 0 is an empty segment: a table of zeros).
func uniqueSegmentRefusal(ctx context.Context, spec string, q cohort.Query) (*apiRefusal, error) {
	if q.Segment == nil || !isUniqueSegment(spec) {
		return nil, nil
	}
	ok, err := uniqueSegmentExists(ctx, q.Segment)
	if err != nil || ok {
		return nil, err
	}
	return &apiRefusal{Status: http.StatusNotFound, Field: segmentParam, Error: segmentParam + ": " + uniqueSegmentNote(spec) + ", so there is no table", Suggestions: []string{}}, nil
}
