package web

import (
	"errors"
	"net/url"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestReportPagesCheckTheTimeGroupTable: every report page's time_group
// (and the cohort page's, through cohort.ParseQueryIn) takes exactly the
// groups of cohort.ReportTimeGroups, and a refusal is a *cohort.QueryError
// naming time_group that wraps the table's sentinel:
// cohort.ErrTimeGroupNotOffered for a group the report does not take,
// bitmapist.ErrInvalidTimeGroup for a name that is no group.
func TestReportPagesCheckTheTimeGroupTable(t *testing.T) {
	h := &handler{c: newClient(testutil.Miniredis(t), demoNow)}
	defs := map[cohort.Report]reportDefaults{cohort.ReportTrend: eventDefaults, cohort.ReportLifecycle: lifecycleDefaults,
		cohort.ReportStickiness: stickinessDefaults, cohort.ReportFunnel: funnelDefaults}
	for _, r := range cohort.Reports() {
		for _, gs := range []string{"hours", "days", "weeks", "months", "years", "fortnights"} {
			var want error
			if g, err := bitmapist.ParseTimeGroup(gs); err != nil {
				want = bitmapist.ErrInvalidTimeGroup
			} else if cohort.CheckReportTimeGroup(r, g) != nil {
				want = cohort.ErrTimeGroupNotOffered
			}
			v := url.Values{"event": {"a"}, "step": {"a", "b"}, "primary_event": {"a"}, "secondary_event": {"b"}, "time_group": {gs}}
			var err error
			if r == cohort.ReportCohort {
				_, err = cohort.ParseQueryIn(v, nil)
			} else {
				_, err = h.parseReport(v, defs[r])
			}
			var qe *cohort.QueryError
			switch {
			case want == nil && err != nil:
				t.Errorf("%s by %s: %v, want it taken", r, gs, err)
			case want != nil && (!errors.Is(err, want) || !errors.As(err, &qe) || qe.Field != "time_group"):
				t.Errorf("%s by %s: %v, want a time_group error wrapping %v", r, gs, err, want)
			}
		}
	}
}
