// Package web is the HTTP side of bitmapist: a dashboard of the recorded
// events and their cohort tables (the Go form of flask-bitmapist's
// blueprint), and middleware that marks events for the users of an
// application's requests (flask-bitmapist's mark decorator).
//
// # Dashboard
//
// Handler returns an http.Handler with an overview of every event (users
// today, this ISO week, this month, a 30-day sparkline and the change
// against the 30 days before, a filter and pages of 50 events), a cohort
// form with a heatmap and a retention curve (and a segment field, ANDed
// into every row's cohort: cohort.Query.Segment), the same tables as JSON
// and CSV, and per event its trend (DAU, rolling WAU/MAU, DAU/MAU), lifecycle,
// stickiness and funnel pages (package cohort's reports, with a segment
// field read by cohort.ParseSegment: EVENT, EVENT@LABEL, and !EVENT or
// !EVENT@LABEL for everyone else; several segment parameters are ANDed,
// as the command's repeated --segment, and a parameter that takes one
// value given twice is a 400 naming it). Every page takes a date control:
// "now" (the overview's today, a cohort table's last row, where a
// report's range ends) and, on the reports, "from" and "to": RFC 3339,
// 2025-03-01T05:10, 2025-03-01, 2025-W09 (the week's Monday), 2025-03 (its
// first day) or 2025 (January 1st), as the command's --now, --from and --to;
// a label as to means the whole labelled period, to its last instant
// (cohort.PeriodEnd: to=2025-W09 ends on that week's Sunday).
//
// The pages say what their numbers cannot: a bad date, time group or a
// from after to is a 400 naming the field (with no range in the header);
// an event or a segment event without data is a 404 with "did you mean"
// links (bitmapist.SuggestEventNames; cohort.json and cohort.csv find it
// with EXISTS probes of the table's keys and list the event names only
// then); a now after the client's clock, a
// range reaching past now, a cohort start after now, a segment holding no
// user and hourly reports over data marked without hourly tracking each
// get a note above the numbers.
//
// Templates and the
// stylesheet are embedded; there is no CDN and no JavaScript, and every
// event name is HTML-escaped. Links are relative, so the handler works
// under any prefix:
//
//	mux.Handle("/bitmapist/", http.StripPrefix("/bitmapist", web.Handler(c)))
//
// The cohort endpoints read cohort.ParseQuery's parameters, so a URL of the
// page, of cohort.json and of cohort.csv name the same table:
//
//	cohort?primary_event=user:signed_up&secondary_event=user:active
//	      &additional_event=song:played&additional_op=and
//	      &time_group=weeks&num_rows=12&num_cols=12&as_percent=1
//
// # Access
//
// Like the original, the dashboard serves anyone who can reach it unless
// told otherwise, and it shows analytics about users. Put it behind the
// application's own authentication middleware, or pass WithAuthorize with
// a check of the request (denied requests get 403 before Redis is read).
//
// # Marking
//
// Mark and MarkActive return func(http.Handler) http.Handler middleware,
// usable with net/http, chi and most routers. They mark after the wrapped
// handler answered with a status below 400, for the user that a UserFunc
// reads from the request; anonymous requests and failures mark nothing.
package web
