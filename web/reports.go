package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// reportParams are the parameters the report pages (event, lifecycle,
// stickiness, funnel) share: the event(s), the time group, the date
// control (from, to; to defaults to the page's now) and the segment
// (cohort.ParseSegment's text form).
type reportParams struct {
	Events          []string // "event" (one), or "step" (the funnel's steps)
	Group           bitmapist.TimeGroup
	From, To        time.Time
	Now             time.Time
	Segment         bitmapist.Set
	Window          int // funnel only
	FromText        string
	ToText          string
	SegText         string     // the segments, joined by " and " (for messages)
	Segs            []string   // the segment parameters (segmentSpecs), ANDed
	Values          url.Values // the request's parameters
	defaultPeriods  int
	defaultGroupStr string
}

// reportDefaults are a page's defaults: its group and how many periods
// the range covers when "from" is empty.
type reportDefaults struct {
	group   bitmapist.TimeGroup
	periods int
	report  cohort.Report // its row of cohort.ReportTimeGroups: the groups the page takes and offers
	multi   bool          // funnel: the "step" list instead of "event"
}

// parseReport reads v for a report page. Errors are *cohort.QueryError
// naming the parameter.
func (h *handler) parseReport(v url.Values, def reportDefaults) (reportParams, error) {
	p := reportParams{Values: v, Group: def.group, defaultPeriods: def.periods}
	if def.multi {
		for _, s := range v["step"] {
			if s = strings.TrimSpace(s); s != "" {
				p.Events = append(p.Events, s)
			}
		}
	} else if e := strings.TrimSpace(v.Get("event")); e != "" {
		p.Events = []string{e}
	}
	var err error
	if p.Now, err = h.pageNow(v); err != nil {
		return p, err
	}
	if s := strings.TrimSpace(v.Get("time_group")); s != "" {
		g, err := bitmapist.ParseTimeGroup(s)
		if err == nil {
			err = cohort.CheckReportTimeGroup(def.report, g)
		}
		if err != nil {
			return p, &cohort.QueryError{Field: "time_group", Err: err, Msg: quoteClip(s) + " is not one of " + groupList(cohort.ReportTimeGroups(def.report))}
		}
		p.Group = g
	}
	p.To = p.Now
	if p.ToText = strings.TrimSpace(v.Get("to")); p.ToText != "" {
		if p.To, err = parseTimeParam("to", p.ToText, h.c.Location()); err != nil {
			return p, err
		}
		if end, ok := cohort.PeriodEnd(p.ToText, h.c.Location()); ok {
			p.To = end // to=2016-W18 is the whole week, to its last instant
		}
	}
	p.From = p.Group.Add(p.Group.Start(p.To), -(def.periods - 1))
	if p.FromText = strings.TrimSpace(v.Get("from")); p.FromText != "" {
		if p.From, err = parseTimeParam("from", p.FromText, h.c.Location()); err != nil {
			return p, err
		}
	}
	if p.FromText != "" && p.Group.Start(p.From).After(p.Group.Start(p.To)) {
		end := "to (" + p.toWhen() + ")"
		if p.ToText == "" {
			end = "now (" + fmtWhen(p.To) + "), where the range ends when to is empty"
		}
		return p, &cohort.QueryError{Field: "from", Msg: fmtWhen(p.From) + " is after " + end + ": a range runs forward, so pick a from on or before it"}
	}
	if def.multi {
		if p.Window, err = parseWindow(v.Get("window")); err != nil {
			return p, err
		}
	}
	p.Segs = segmentSpecs(v)
	p.SegText = strings.Join(p.Segs, " and ")
	if p.Segment, err = cohort.ParseSegment(h.c, p.Segs...); err != nil {
		return p, err
	}
	return p, nil
}

// toWhen names the range's end for a message: the to parameter as given
// when it is a period label (2025-03, meaning the whole month:
// cohort.PeriodEnd), else fmtWhen(To).
func (p reportParams) toWhen() string {
	if _, ok := cohort.PeriodEnd(p.ToText, time.UTC); ok {
		return p.ToText
	}
	return fmtWhen(p.To)
}

// parseWindow reads the funnel's window parameter: a whole number of
// periods in 0..cohort.MaxFunnelWindow, defaultFunnelWindow when empty.
// The error (a *cohort.QueryError, field "window") quotes the value as
// typed.
func parseWindow(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return defaultFunnelWindow, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > cohort.MaxFunnelWindow {
		return 0, &cohort.QueryError{Field: "window", Msg: fmt.Sprintf("%s is not a whole number in 0..%d", quoteClip(s), cohort.MaxFunnelWindow)}
	}
	return n, nil
}

func groupList(gs []bitmapist.TimeGroup) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.String()
	}
	return strings.Join(s, ", ")
}

// reportField maps the Go field names of the reports' errors to the
// page's parameters.
var reportField = map[string]string{
	"Event": "event", "TimeGroup": "time_group", "From": "from", "To": "to",
	"Segment": "segment", "Steps": "step", "Window": "window", "Rolling": "time_group",
}

// rangeParams is the parameter an error names when the from..to range as
// a whole is wrong (too many periods): both fields are marked.
const rangeParams = "from/to"

// reportError returns the parameter and message of a bad-input error of a
// report page (a *cohort.QueryError or *bitmapist.ReportError), ok false
// for any other error.
func reportError(err error) (field, msg string, ok bool) {
	var qe *cohort.QueryError
	var re *bitmapist.ReportError
	switch {
	case errors.As(err, &qe):
		field, msg = qe.Field, qe.Msg
	case errors.As(err, &re):
		field, msg = re.Field, re.Msg
	case errors.Is(err, errMalformedQuery):
		return "", err.Error(), true
	default:
		return "", "", false
	}
	if p, ok := reportField[field]; ok {
		field = p
	}
	if strings.HasPrefix(field, "Steps[") {
		field = "step"
	}
	if errors.Is(err, bitmapist.ErrTooManyPeriods) {
		field = rangeParams // the range is too long, not to wrong
	}
	// ParseSegment's messages start with the package's own prefixes.
	for _, pre := range []string{"cohort: invalid query: ", "bitmapist: "} {
		msg = strings.TrimPrefix(msg, pre)
	}
	return field, field + ": " + msg, true
}

// reportPage is what every report template reads besides its own data.
type reportPage struct {
	base
	Kind     string // "event", "lifecycle", "stickiness", "funnel"
	Event    string // the event (the first step of a funnel)
	Steps    []string
	Events   []string // recorded events, for the pickers
	Groups   []string
	Group    string
	From, To dateField
	Segment  string   // the segments, " and " between them
	SegFirst string   // the first segment field
	SegMore  []string // the other segment fields, ANDed
	Window   string
	Invalid  string // parameter of the error
	Error    string
	Missing  []missingEvent
	Range    string     // "2025-01-01 to 2025-03-31", in words; "" when the range is not valid
	Notes    []pageNote // what the reader should know: periods after now, an empty segment
	Links    map[string]string
	Caption  string
	Chart    *chart
	Chart2   *chart
	Data     any       // the page's own rows
	NowField dateField // the "now" parameter: the time the page is computed for
}

// newReportPage fills the shared part of a report page.
func (h *handler) newReportPage(kind string, p reportParams, def reportDefaults, events []string) reportPage {
	v := p.Values
	d := reportPage{base: h.pageBase(kind, v, p.Now), Kind: kind, Events: events, Group: p.Group.String(),
		From:    dateField{ID: "from", Name: "from", Label: "From", Value: p.FromText, Hint: "empty: " + strconv.Itoa(def.periods) + " periods before to"},
		To:      dateField{ID: "to", Name: "to", Label: "To", Value: p.ToText, Hint: "empty: now"},
		Segment: p.SegText, Window: strings.TrimSpace(v.Get("window")), Steps: p.Events,
		NowField: dateField{ID: "now", Name: nowParam, Label: "Now", Value: strings.TrimSpace(v.Get(nowParam)), Hint: "empty: today"}}
	if len(p.Segs) > 0 {
		d.SegFirst, d.SegMore = p.Segs[0], p.Segs[1:]
	}
	for _, g := range cohort.ReportTimeGroups(def.report) {
		d.Groups = append(d.Groups, g.String())
	}
	if len(p.Events) > 0 {
		d.Event = p.Events[0]
	}
	if !p.From.IsZero() && !p.To.IsZero() && !p.Group.Start(p.From).After(p.Group.Start(p.To)) {
		d.Range = bitmapist.Days.Label(p.Group.Start(p.From)) + " to " + bitmapist.Days.Label(bitmapist.Days.Add(p.Group.Add(p.Group.Start(p.To), 1), -1))
		if p.Group == bitmapist.Hours {
			d.Range = bitmapist.Hours.Label(p.Group.Start(p.From)) + " to " + bitmapist.Hours.Label(p.Group.Start(p.To))
		}
		d.Notes = rangeNotes(p)
	}
	d.Links = reportLinks(d.Event, v)
	return d
}

// pageNote is a note on a report page; Kind ("range", "segment") names
// it for tests and styles.
type pageNote struct{ Kind, Text string }

// rangeNotes says when a valid range reaches past the page's now: those
// periods are counted as recorded (nothing yet, unless now was moved back
// or marks carry later times).
func rangeNotes(p reportParams) []pageNote {
	g := p.Group
	now := g.Start(p.Now)
	switch {
	case g.Start(p.From).After(now):
		return []pageNote{{"range", "The whole range (from " + fmtWhen(p.From) + ") is after now (" + fmtWhen(p.Now) + "): it shows what is recorded for those " + g.String() + ", which is nothing unless marks were written with later times. Move from and to before now, or leave them empty."}}
	case g.Start(p.To).After(now):
		return []pageNote{{"range", "The range ends on " + p.toWhen() + ", after now (" + fmtWhen(p.Now) + "): its " + g.String() + " after now show what is recorded for them, which is nothing unless marks were written with later times."}}
	}
	return nil
}

// reportLinks are the links between an event's reports, keeping the date
// control and the segment.
func reportLinks(event string, v url.Values) map[string]string {
	if event == "" {
		return nil
	}
	ev := url.QueryEscape(event)
	keep := []string{nowParam, "segment"}
	return map[string]string{
		"event":      withParams("event?event="+ev, v, append(keep, "from", "to")...),
		"lifecycle":  withParams("lifecycle?event="+ev, v, keep...),
		"stickiness": withParams("stickiness?event="+ev, v, keep...),
		"funnel":     withParams("funnel?step="+ev, v, keep...),
		"retention":  withSegment(retentionLink(event, strings.TrimSpace(v.Get(nowParam))), v),
	}
}

// withSegment returns link with v's segment parameters added, if any (the
// cohort page takes them too).
func withSegment(link string, v url.Values) string {
	for _, seg := range segmentSpecs(v) {
		link += "&segment=" + url.QueryEscape(seg)
	}
	return link
}

// serveReport is the frame of every report page: parse, list the events,
// say so for events without data, compute, render. compute runs inside
// h.run and fills d.
func (h *handler) serveReport(w http.ResponseWriter, r *http.Request, kind string, def reportDefaults,
	compute func(ctx context.Context, p reportParams, d *reportPage) error) {
	v, badErr := queryValues(r)
	p, err := h.parseReport(v, def)
	if badErr == nil {
		badErr = err
	}
	var events []string
	var missing []missingEvent
	var page *reportPage
	runErr := h.run(r, func(ctx context.Context) error {
		var err error
		if events, err = h.c.EventNames(ctx, ""); err != nil || badErr != nil || len(p.Events) == 0 {
			return err
		}
		missing = append(missingEvents(p.Events, events), missingSegment(h.c, p.Segs, events)...)
		if len(missing) > 0 {
			return nil
		}
		d := h.newReportPage(kind, p, def, events)
		if note, err := emptySegmentNote(ctx, h.c, p); err != nil {
			return err
		} else if note != "" {
			d.Notes = append(d.Notes, pageNote{Kind: "segment", Text: note})
		}
		if err := compute(ctx, p, &d); err != nil {
			return err
		}
		page = &d
		return nil
	})
	if runErr == nil && page != nil {
		h.render(w, r, http.StatusOK, kind, *page)
		return
	}
	if runErr != nil {
		if _, _, ok := reportError(runErr); !ok {
			h.failRedis(w, r, runErr, false)
			return
		}
		badErr = runErr
	}
	d := h.newReportPage(kind, p, def, events)
	switch {
	case badErr != nil:
		d.Invalid, d.Error, _ = reportError(badErr)
		whole := d.Invalid == rangeParams
		d.From.Bad, d.To.Bad, d.NowField.Bad = whole || d.Invalid == "from", whole || d.Invalid == "to", d.Invalid == nowParam
		h.render(w, r, http.StatusBadRequest, kind, d)
	case len(missing) > 0:
		d.Missing = withSuggestionLinks(kind, v, missing)
		h.render(w, r, http.StatusNotFound, kind, d)
	default: // no event yet: the form
		h.render(w, r, http.StatusOK, kind, d)
	}
}

// withSuggestionLinks returns missing with the "did you mean" links of
// page kind filled in: the segment's event replaced in the segment, any
// other event wherever v holds it.
func withSuggestionLinks(kind string, v url.Values, missing []missingEvent) []missingEvent {
	out := make([]missingEvent, len(missing))
	for i, m := range missing {
		if m.Segment != "" {
			m.Links = segmentSuggestionLinks(kind, v, m)
		} else {
			m.Links = suggestionLinks(kind, v, m)
		}
		out[i] = m
	}
	return out
}

// emptySegmentNote says why every count is 0 when the segment holds no
// user (one bounded HasEvents read), "" when it holds some or there is no
// segment. For a negated segment (!EVENT, "everyone else") it says why
// the segment leaves nobody out when that is because of how the data was
// recorded (no unique bitmap, no hourly bitmap), "" otherwise. Of several
// segments (ANDed), a negated one's note comes first, then the first
// other that holds nobody by itself says why; when each holds users, none
// is in all of them.
func emptySegmentNote(ctx context.Context, c *bitmapist.Client, p reportParams) (string, error) {
	if p.Segment == nil {
		return "", nil
	}
	if len(p.Segs) < 2 {
		return oneSegmentNote(ctx, c, p.Segment, p.SegText)
	}
	specs := make([]cohort.SegmentSpec, 0, len(p.Segs))
	for _, text := range p.Segs {
		s, err := cohort.ParseSegmentSpec(c, text)
		if err != nil {
			return "", nil // parsed into p.Segment already: not reached
		}
		if s.Not {
			if note, err := negatedSegmentNote(ctx, c, s); err != nil || note != "" {
				return note, err
			}
			continue
		}
		specs = append(specs, s)
	}
	ok, err := p.Segment.HasEvents(ctx)
	if err != nil || ok {
		return "", err
	}
	for _, s := range specs {
		if ok, err := s.Set.HasEvents(ctx); err != nil || !ok {
			if err != nil {
				return "", err
			}
			return oneSegmentNote(ctx, c, s.Set, s.Text)
		}
	}
	return "The segments " + quoteClip(p.SegText) + " have no user in common (none is in all of them): every count below is 0.", nil
}

// oneSegmentNote is emptySegmentNote for the one segment spec text,
// parsed into seg.
func oneSegmentNote(ctx context.Context, c *bitmapist.Client, seg bitmapist.Set, text string) (string, error) {
	s, err := cohort.ParseSegmentSpec(c, text)
	if err != nil {
		return "", nil // parsed into seg already: not reached
	}
	if s.Not {
		return negatedSegmentNote(ctx, c, s)
	}
	ok, err := seg.HasEvents(ctx)
	if err != nil || ok {
		return "", err
	}
	if s.Unique() {
		exists, err := c.Unique(s.Event).Exists(ctx)
		if err != nil {
			return "", err
		}
		if exists {
			return "The segment " + quoteClip(s.Text) + " holds no user (its unique bitmap is there, every bit 0): every count below is 0.", nil
		}
		return uniqueSegmentNote(s) + ". Every count below is 0.", nil
	}
	if why, err := cohort.SegmentWithoutHours(ctx, c, s.Text); err != nil || why != "" {
		return "The " + why + ". Every count below is 0.", err
	}
	return "The segment " + quoteClip(s.Text) + " holds no user (nobody did the event in that period): every count below is 0.", nil
}

// negatedSegmentNote says why a negated segment s leaves nobody out when
// its event's set is empty because of how the data was recorded: !EVENT
// without a unique bitmap, !EVENT@HOUR of a day marked without hourly
// tracking; "" otherwise (an all-zero unique bitmap is a real "nobody to
// leave out"). One EXISTS, or SegmentWithoutHours's.
func negatedSegmentNote(ctx context.Context, c *bitmapist.Client, s cohort.SegmentSpec) (string, error) {
	if s.Unique() {
		ok, err := c.Unique(s.Event).Exists(ctx)
		if err != nil || ok {
			return "", err
		}
		return uniqueSegmentNote(s) + ". Every count below counts everyone.", nil
	}
	why, err := cohort.SegmentWithoutHours(ctx, c, s.Text)
	if err != nil || why == "" {
		return "", err
	}
	return "The " + why + ". Every count below counts everyone.", nil
}

// uniqueSegmentNote says why a segment without @ (EVENT or !EVENT) whose
// unique bitmap does not exist holds no user, or leaves none out (without
// a final period): the page's note and cohort.json's refusal.
func uniqueSegmentNote(s cohort.SegmentSpec) string {
	what, not := "holds no user", ""
	if s.Not {
		what, not = "leaves no user out", "!"
	}
	return "The segment " + quoteClip(s.Text) + " " + what + ": a segment without @ is the event's unique bitmap, written only with unique tracking on (bitmapist.WithTrackUnique). Use " + not + s.Event + "@PERIOD (2025-03, 2025-W09, 2025-03-01) for the users who did it in a period"
}

// StepSlots returns the funnel form's step fields: the steps given and
// one empty field more, at least 3 fields, at most cohort.MaxFunnelSteps.
func (d reportPage) StepSlots() []string {
	out := append([]string(nil), d.Steps...)
	for len(out) < 3 || (len(out) < cohort.MaxFunnelSteps && len(out) == len(d.Steps)) {
		out = append(out, "")
	}
	return out
}

// Bad reports whether the error is about the parameter named param.
func (d reportPage) Bad(param string) bool { return d.Invalid != "" && d.Invalid == param }
