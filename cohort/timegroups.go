package cohort

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Report names one of the reports the bitmapist command and the dashboard
// (package web) offer, for ReportTimeGroups: "cohort", "trend" (the
// dashboard's event page), "lifecycle", "stickiness" and "funnel".
type Report string

// The reports of ReportTimeGroups.
const (
	ReportCohort     Report = "cohort"
	ReportTrend      Report = "trend"
	ReportLifecycle  Report = "lifecycle"
	ReportStickiness Report = "stickiness"
	ReportFunnel     Report = "funnel"
)

// ErrTimeGroupNotOffered is wrapped (by CheckReportTimeGroup's
// *QueryError) when a valid time group is not one a report takes
// (ReportTimeGroups): lifecycle by hours.
var ErrTimeGroupNotOffered = errors.New("cohort: time group not offered for this report")

// reportTimeGroups is the one table behind ReportTimeGroups.
var reportTimeGroups = map[Report][]bitmapist.TimeGroup{
	ReportCohort:     {bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
	ReportTrend:      {bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
	ReportLifecycle:  {bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
	ReportStickiness: {bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
	ReportFunnel:     {bitmapist.Hours, bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
}

// Reports returns every report of ReportTimeGroups' table, in the order
// above (cohort, trend, lifecycle, stickiness, funnel).
func Reports() []Report {
	return []Report{ReportCohort, ReportTrend, ReportLifecycle, ReportStickiness, ReportFunnel}
}

// ReportTimeGroups returns the time groups report takes, shortest first:
// the one table that the bitmapist command's --group and the dashboard's
// time_group parameter are both checked against (CheckReportTimeGroup),
// and the groups the dashboard's forms offer:
//
//	report       hours  days  weeks  months  years
//	cohort       yes    yes   yes    yes     yes
//	trend        yes    yes   yes    yes     yes
//	lifecycle    no     yes   yes    yes     yes
//	stickiness   yes    yes   yes    yes     yes
//	funnel       yes    yes   yes    yes     yes
//
// Lifecycle does not take hours, as the dashboard never offered it. The
// library functions themselves (Get, GetLifecycle, ...) compute every
// group; the table is what the command and the dashboard offer.
// The slice is a copy; nil for an unknown report.
func ReportTimeGroups(report Report) []bitmapist.TimeGroup {
	return slices.Clone(reportTimeGroups[report])
}

// CheckReportTimeGroup returns nil when report takes g (ReportTimeGroups),
// otherwise a *QueryError with Field "TimeGroup" wrapping
// ErrTimeGroupNotOffered (a valid group the report does not take, or an
// unknown report) or bitmapist.ErrInvalidTimeGroup (g is not a time
// group).
func CheckReportTimeGroup(report Report, g bitmapist.TimeGroup) error {
	if !g.Valid() {
		return &QueryError{Field: "TimeGroup", Msg: fmt.Sprintf("%d is not a time group", int(g)), Err: bitmapist.ErrInvalidTimeGroup}
	}
	groups, ok := reportTimeGroups[report]
	if !ok {
		return &QueryError{Field: "TimeGroup", Msg: fmt.Sprintf("%q is not a report", string(report)), Err: ErrTimeGroupNotOffered}
	}
	if slices.Contains(groups, g) {
		return nil
	}
	return &QueryError{Field: "TimeGroup", Err: ErrTimeGroupNotOffered,
		Msg: fmt.Sprintf("%s is not offered for %s: use %s", g, report, TimeGroupList(groups))}
}

// TimeGroupList returns the groups' names as a list in words: "days,
// weeks, months or years".
func TimeGroupList(groups []bitmapist.TimeGroup) string {
	names := make([]string, len(groups))
	for i, g := range groups {
		names[i] = g.String()
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
