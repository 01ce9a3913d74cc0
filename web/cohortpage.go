package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Form parameter names: cohort.ParseQuery's, so that the dashboard, the
// JSON and CSV endpoints and the CLI read the same URLs.
type paramNames struct {
	Primary, Secondary, TimeGroup, Rows, Cols string
	Event, Op                                 string // one additional event row: event and its and/or
	AsPercent, WithReplacement, FirstTime     string
	OnOrAfter                                 string
}

var names = paramNames{
	Primary: "primary_event", Secondary: "secondary_event", TimeGroup: "time_group",
	Rows: "num_rows", Cols: "num_cols", Event: "additional_event", Op: "additional_op",
	AsPercent: "as_percent", WithReplacement: "with_replacement", FirstTime: "first_time",
	OnOrAfter: "on_or_after",
}

// hiddenParams are cohort.ParseQuery parameters the form has no field for;
// when a URL gives them, the form carries them along as hidden fields so
// that submitting it keeps them.
var hiddenParams = []string{"primary_and", "blank_empty", "include_future"}

// blankSteps is how many empty additional-event rows the form offers below
// the filled ones: enough to add events without JavaScript (each submit
// adds more).
const blankSteps = 2

// parseCohortForm turns request parameters into a cohort query with
// cohort.ParseQueryIn (times in the client's zone). Form rows whose
// additional event was left blank ("—") are dropped first; the field of an
// error about an additional event is mapped back to the form row
// ("additional[3]" names the fourth row as shown).
func parseCohortForm(v url.Values, loc *time.Location) (cohort.Query, error) {
	v, rows := dropBlankSteps(v)
	q, err := cohort.ParseQueryIn(v, loc)
	var qe *cohort.QueryError
	if err != nil && errors.As(err, &qe) {
		var k int
		if _, scanErr := fmt.Sscanf(qe.Field, "additional[%d]", &k); scanErr == nil && k >= 0 && k < len(rows) {
			qe.Field = stepField(rows[k])
		}
	}
	return q, err
}

// dropBlankSteps returns v without the additional_event/additional_op pairs
// whose event is blank, and the form row index of each pair kept. When the
// two lists differ in length v is returned as it is, for ParseQuery to
// reject.
func dropBlankSteps(v url.Values) (url.Values, []int) {
	events, ops := v[names.Event], v[names.Op]
	if len(events) != len(ops) {
		return v, nil
	}
	var keptE, keptO []string
	var rows []int
	for i, e := range events {
		if strings.TrimSpace(e) == "" {
			continue
		}
		keptE, keptO = append(keptE, e), append(keptO, ops[i])
		rows = append(rows, i)
	}
	if len(keptE) == len(events) {
		return v, rows
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = vs
	}
	out[names.Event], out[names.Op] = keptE, keptO
	if len(keptE) == 0 {
		delete(out, names.Event)
		delete(out, names.Op)
	}
	return out, rows
}

// stepField names additional event row i in errors: "additional[i]".
func stepField(i int) string { return "additional[" + strconv.Itoa(i) + "]" }

// stepView is one additional event row of the form.
type stepView struct {
	Op    string // "and" or "or"
	Event string // "" for a blank row
}

// formView is the cohort form as submitted, so a bad value stays visible
// and the field it is in can be marked.
type formView struct {
	Names                                            paramNames
	Events                                           []string // recorded event names, sorted
	Primary, Secondary, TimeGroup, Rows, Cols        string
	Steps                                            []stepView
	AsPercent, WithReplacement, FirstTime, OnOrAfter bool
	TimeGroups                                       []string
	MaxRows, MaxCols                                 int
	Invalid                                          string        // parameter named by the error, if any
	Hidden                                           []hiddenField // parameters without a field, carried along
	Now, Start                                       dateField     // the date control
	Segment                                          string        // the first segment field (cohort.ParseSegment's text)
	SegMore                                          []string      // the other segment fields, ANDed
}

// hiddenField is a parameter carried along by the form.
type hiddenField struct{ Name, Value string }

// Choices returns the event names of a select: the recorded ones, with
// current added first when it is not among them (an unknown event asked
// for by URL).
func (f formView) Choices(current string) []string {
	if current == "" || slices.Contains(f.Events, current) {
		return f.Events
	}
	return append([]string{current}, f.Events...)
}

// Bad reports whether the error is about the parameter named param.
func (f formView) Bad(param string) bool { return f.Invalid != "" && f.Invalid == param }

func newFormView(v url.Values, events []string) formView {
	f := formView{
		Names: names, Events: events,
		Primary: v.Get(names.Primary), Secondary: v.Get(names.Secondary),
		TimeGroup: v.Get(names.TimeGroup), Rows: v.Get(names.Rows), Cols: v.Get(names.Cols),
		MaxRows: cohort.MaxRows, MaxCols: cohort.MaxCols,
		Now:   dateField{ID: "now", Name: nowParam, Label: "Now (last row)", Value: strings.TrimSpace(v.Get(nowParam)), Hint: "empty: today"},
		Start: dateField{ID: "start", Name: "start", Label: "Start (first row)", Value: strings.TrimSpace(v.Get("start")), Hint: "empty: count back from now"},
	}
	if segs := segmentSpecs(v); len(segs) > 0 {
		f.Segment, f.SegMore = segs[0], segs[1:]
	}
	for _, g := range cohort.ReportTimeGroups(cohort.ReportCohort) {
		f.TimeGroups = append(f.TimeGroups, g.String())
	}
	if f.Primary == "" && f.Secondary == "" { // first visit (or only a date): defaults
		if len(events) > 0 {
			f.Primary, f.Secondary = events[0], events[0]
		}
		f.TimeGroup = cohort.DefaultTimeGroup.String()
		f.Rows, f.Cols = strconv.Itoa(cohort.DefaultRows), strconv.Itoa(cohort.DefaultCols)
		// The same event as primary and secondary needs replacement:
		// without it everyone returns in column 0 and later columns are 0.
		f.AsPercent, f.WithReplacement = true, true
	} else {
		if g, err := bitmapist.ParseTimeGroup(f.TimeGroup); err == nil {
			f.TimeGroup = g.String()
		} else if strings.TrimSpace(f.TimeGroup) == "" { // cohort.ParseQuery's default
			f.TimeGroup = cohort.DefaultTimeGroup.String()
		}
		if strings.TrimSpace(f.Rows) == "" {
			f.Rows = strconv.Itoa(cohort.DefaultRows)
		}
		if strings.TrimSpace(f.Cols) == "" {
			f.Cols = strconv.Itoa(cohort.DefaultCols)
		}
		on := func(name string) bool {
			switch strings.ToLower(v.Get(name)) {
			case "1", "true", "t", "on", "yes", "y":
				return true
			}
			return false
		}
		f.AsPercent, f.WithReplacement = on(names.AsPercent), on(names.WithReplacement)
		f.FirstTime, f.OnOrAfter = on(names.FirstTime), on(names.OnOrAfter)
	}
	events2, ops := v[names.Event], v[names.Op]
	for i, e := range events2 {
		if strings.TrimSpace(e) == "" {
			continue
		}
		if len(f.Steps) == cohort.MaxAdditional {
			break // more is a 400 (cohort.MaxAdditional); the form offers what may be sent
		}
		op := "and"
		if i < len(ops) && strings.EqualFold(strings.TrimSpace(ops[i]), "or") {
			op = "or"
		}
		f.Steps = append(f.Steps, stepView{Op: op, Event: e})
	}
	for _, name := range hiddenParams {
		for _, val := range v[name] {
			f.Hidden = append(f.Hidden, hiddenField{name, val})
		}
	}
	for range blankSteps {
		f.Steps = append(f.Steps, stepView{Op: "and"})
	}
	return f
}

// segmentParam is the cohort page's segment parameter, as on the report
// pages: cohort.ParseSegment's text form, ANDed into every row's cohort
// (cohort.Query.Segment).
const segmentParam = "segment"

// segmentSpecs returns the segment parameters of v, trimmed, blank ones
// left out: each is one cohort.ParseSegment text form, and several are
// ANDed, as the command's repeated --segment.
func segmentSpecs(v url.Values) []string {
	var out []string
	for _, s := range v[segmentParam] {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseCohortRequest is parseCohortForm plus the segment parameter
// (cohort.ParseSegment on the handler's client). A bad segment is a
// *cohort.QueryError with Field "segment".
func (h *handler) parseCohortRequest(v url.Values) (cohort.Query, error) {
	q, err := parseCohortForm(v, h.c.Location())
	if err != nil {
		return q, err
	}
	if q.Segment, err = cohort.ParseSegment(h.c, segmentSpecs(v)...); err != nil {
		var qe *cohort.QueryError
		if errors.As(err, &qe) {
			return q, &cohort.QueryError{Field: segmentParam, Msg: strings.TrimPrefix(qe.Msg, cohort.ErrInvalidQuery.Error()+": "), Err: err}
		}
		return q, err
	}
	return q, nil
}

// cohortData is what cohort.html reads.
type cohortData struct {
	base
	Form    formView
	Error   string   // message of a bad input, naming the field
	Caption string   // what the table shows, in words
	Heatmap *heatmap // nil until a query is submitted
	Curve   *curve   // nil when no column has a value
	JSONURL string   // the same query as JSON
	CSVURL  string   // the same query as CSV
	// Missing lists the events of the query that have no data, each with
	// the recorded names that look like it; the page shows no table then.
	Missing []missingEvent
	// NoHourly says why an hourly table is not shown: its primary event
	// has daily data but no hourly data in those hours.
	NoHourly string
	// SameEvent links to the table with replacement, when primary and
	// secondary are the same event without it (every column after 0 is 0).
	SameEvent string
	// StartNote says that start is after now: every cell is in the future.
	StartNote string
	// Segment is the segment the table is restricted to ("" for none),
	// and SegmentNote why every cohort is empty when it holds no user.
	Segment, SegmentNote string
	Empty                bool // no cohort has a user
}

// errMalformedQuery is wrapped by the error about a query string that does
// not parse (url.ParseQuery's error: a ";" separator, a bad %-escape, more
// parameters than net/url allows). Such a request is answered 400 about
// the query string, never computed from the parameters that did parse.
var errMalformedQuery = errors.New("malformed query string")

// queryValues parses the request's query string (the dashboard serves GET
// and HEAD only: the URL holds every parameter). It returns what parsed
// and an error wrapping errMalformedQuery when some of it did not, or a
// *cohort.QueryError (repeatedParam) when a single-valued parameter is
// given more than once.
func queryValues(r *http.Request) (url.Values, error) {
	v, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return v, fmt.Errorf("%w: %v", errMalformedQuery, err)
	}
	return v, repeatedParam(v)
}

// listParams are the parameters that take several values: the segments
// (ANDed, as the command's repeated --segment), the funnel's steps and
// the cohort's additional events.
var listParams = map[string]bool{segmentParam: true, "step": true, "additional": true, "additional_event": true, "additional_op": true}

// repeatedParam returns a *cohort.QueryError naming the first parameter
// (in name order) of v outside listParams that is given more than once,
// "now: given twice ("a", "b"); it takes one value, give it once", so that no page
// silently takes one of the values; nil when there is none.
func repeatedParam(v url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(v)) {
		if n := len(v[k]); n > 1 && !listParams[k] {
			times := "twice"
			if n > 2 {
				times = strconv.Itoa(n) + " times"
			}
			quoted := make([]string, n)
			for i, s := range v[k] {
				quoted[i] = quoteClip(s)
			}
			return &cohort.QueryError{Field: k, Msg: "given " + times + " (" + strings.Join(quoted, ", ") + "); it takes one value, give it once"}
		}
	}
	return nil
}

// goFieldParams maps the Query fields that cohort.Get itself checks (after
// ParseQuery) to their request parameters.
var goFieldParams = map[string]string{"Start": "start", "Now": "now", "Segment": segmentParam}

// queryError returns the parameter and message of a bad-input error, or
// ok false for any other error. An error about the query string as a whole
// names no parameter.
func queryError(err error) (field, msg string, ok bool) {
	if errors.Is(err, errMalformedQuery) {
		return "", err.Error(), true
	}
	var qe *cohort.QueryError
	if errors.As(err, &qe) {
		field := qe.Field
		if p, ok := goFieldParams[field]; ok {
			field = p // an error from cohort.Get names the Query field
		}
		return field, field + ": " + qe.Msg, true
	}
	if errors.Is(err, cohort.ErrInvalidQuery) {
		return "", err.Error(), true
	}
	return "", "", false
}

// adjectives name the time groups in captions.
var adjectives = map[bitmapist.TimeGroup]string{
	bitmapist.Hours: "hourly", bitmapist.Days: "daily", bitmapist.Weeks: "weekly",
	bitmapist.Months: "monthly", bitmapist.Years: "yearly",
}

// caption describes a table in words: "Recurring weekly cohorts of a
// returning to b AND c, with replacement".
func caption(q cohort.Query) string {
	var b strings.Builder
	if q.FirstTime {
		b.WriteString("First-time ")
	} else {
		b.WriteString("Recurring ")
	}
	fmt.Fprintf(&b, "%s cohorts of %s returning to %s", adjectives[q.TimeGroup], q.Primary, q.Secondary)
	for _, s := range q.Additional {
		fmt.Fprintf(&b, " %s %s", strings.ToUpper(s.Op.String()), s.Event)
	}
	if q.OnOrAfter {
		b.WriteString(", on or after")
	}
	if q.WithReplacement && !q.OnOrAfter {
		b.WriteString(", with replacement")
	}
	return b.String()
}

func (h *handler) cohortHTML(w http.ResponseWriter, r *http.Request) {
	// badErr is a *cohort.QueryError or wraps errMalformedQuery: a 400.
	v, badErr := queryValues(r)
	submitted := badErr == nil && asksTable(v) // a bare /cohort shows the form only
	var (
		q      cohort.Query
		events []string
		table  *cohort.Table
		notes  pageNotes
	)
	if submitted {
		q, badErr = h.parseCohortRequest(v)
	}
	now, nowErr := h.pageNow(v)
	if badErr == nil && nowErr != nil {
		badErr = nowErr
	}
	if err := h.run(r, func(ctx context.Context) error {
		var err error
		if events, err = h.c.EventNames(ctx, ""); err != nil {
			return err
		}
		if !submitted || badErr != nil {
			return nil
		}
		// Get first: a bad Start or Now is a 400 even for unknown events.
		if table, err = h.getTable(ctx, q); err != nil {
			return err
		}
		segs := segmentSpecs(v)
		if notes.Missing = append(missingEvents(queryEvents(q), events), missingSegment(h.c, segs, events)...); len(notes.Missing) > 0 {
			return nil // no table of zeros for events that have no data
		}
		if notes.Segment, err = emptySegmentNote(ctx, h.c, reportParams{Segment: q.Segment, Segs: segs, SegText: strings.Join(segs, " and ")}); err != nil {
			return err
		}
		notes.NoHourly, err = noHourlyData(ctx, h.c, table)
		return err
	}); err != nil {
		if _, _, ok := queryError(err); !ok {
			h.failRedis(w, r, err, false)
			return
		}
		badErr = err
	}
	d := cohortData{base: h.pageBase("cohort", v, now), Form: newFormView(v, events)}
	if badErr != nil {
		d.Form.Invalid, d.Error, _ = queryError(badErr)
		d.Form.Now.Bad, d.Form.Start.Bad = d.Form.Invalid == nowParam, d.Form.Invalid == "start"
		h.render(w, r, http.StatusBadRequest, "cohort", d)
		return
	}
	if len(notes.Missing) > 0 {
		d.Missing = withSuggestionLinks("cohort", v, notes.Missing)
		h.render(w, r, http.StatusNotFound, "cohort", d)
		return
	}
	if table != nil {
		d.Caption = caption(table.Query)
		d.JSONURL = "cohort.json?" + r.URL.RawQuery
		d.CSVURL = "cohort.csv?" + r.URL.RawQuery
		d.SameEvent = sameEventHint(table.Query, v)
		d.StartNote = startAfterNow(table.Query, now)
		d.Segment, d.SegmentNote = strings.Join(segmentSpecs(v), " and "), notes.Segment
		if d.NoHourly = notes.NoHourly; d.NoHourly == "" {
			d.Heatmap = newHeatmap(table)
			d.Curve = newCurve(table)
			d.Empty = d.Heatmap.Total == 0
		}
	}
	h.render(w, r, http.StatusOK, "cohort", d)
}

// table parses the request's parameters and computes the table for the
// JSON and CSV endpoints; on failure it has answered the request (400 with
// a JSON or text message naming the field, 404 or 400 from refuseTable
// where the page shows a note instead of a table, 502 or 504) and returns
// nil.
func (h *handler) table(w http.ResponseWriter, r *http.Request, asJSON bool) *cohort.Table {
	fail := func(err error) {
		field, msg, ok := queryError(err)
		switch {
		case !ok && asJSON:
			h.failRedisAs(w, r, err, func(status int, msg string) {
				writeRefusal(w, &apiRefusal{Status: status, Error: msg, Suggestions: []string{}}, true)
			})
			return
		case !ok:
			h.failRedis(w, r, err, true)
			return
		case asJSON:
			writeRefusal(w, &apiRefusal{Status: http.StatusBadRequest, Error: msg, Field: field, Suggestions: []string{}}, true)
			return
		}
		http.Error(w, msg, http.StatusBadRequest)
	}
	v, err := queryValues(r)
	if err != nil {
		fail(err)
		return nil
	}
	q, err := h.parseCohortRequest(v)
	if err != nil {
		fail(err)
		return nil
	}
	if note := h.apiStartAfterNow(q); note != "" {
		fail(&cohort.QueryError{Field: "start", Msg: note})
		return nil
	}
	var t *cohort.Table
	var ref *apiRefusal
	if err := h.run(r, func(ctx context.Context) error {
		var err error
		if t, err = h.getTable(ctx, q); err != nil {
			return err
		}
		ref, err = h.refuseTable(ctx, v, q, t)
		return err
	}); err != nil {
		fail(err)
		return nil
	}
	if ref != nil {
		writeRefusal(w, ref, asJSON)
		return nil
	}
	return t
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "cannot encode JSON", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

func (h *handler) cohortJSON(w http.ResponseWriter, r *http.Request) {
	if t := h.table(w, r, true); t != nil {
		writeJSON(w, http.StatusOK, t)
	}
}

func (h *handler) cohortCSV(w http.ResponseWriter, r *http.Request) {
	t := h.table(w, r, false)
	if t == nil {
		return
	}
	var buf bytes.Buffer
	if err := t.WriteCSV(&buf); err != nil {
		h.cfg.onError(r, err)
		http.Error(w, "cannot write CSV", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+csvName(t.Query)+`"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// csvName returns the download name of a table, "cohort-<primary>-<group>.csv",
// with every byte outside [A-Za-z0-9._-] replaced by "_".
func csvName(q cohort.Query) string {
	s := "cohort-" + q.Primary + "-" + q.TimeGroup.String() + ".csv"
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}

// apiStartAfterNow is startAfterNow for the JSON and CSV endpoints, which
// refuse such a table (as the command does) unless include_future asks
// for the future periods.
func (h *handler) apiStartAfterNow(q cohort.Query) string {
	if q.IncludeFuture {
		return ""
	}
	now := q.Now
	if now.IsZero() {
		now = h.c.Now()
	}
	return startAfterNow(q, now.In(h.c.Location()))
}

// startAfterNow returns the note for a table whose start is in a period
// after now's (every cell then has no value), "" otherwise.
func startAfterNow(q cohort.Query, now time.Time) string {
	if q.Start.IsZero() || !q.TimeGroup.Start(q.Start).After(q.TimeGroup.Start(now)) {
		return ""
	}
	return "start (" + fmtWhen(q.Start) + ") is after now (" + fmtWhen(now) + "): the table's periods are all after now, so no cell has a value yet. Move start before now, or set now later."
}
