package cohort_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// TestReportTimeGroupsTable: the table's rows, the sentinel of each
// refusal and the copy ReportTimeGroups returns.
func TestReportTimeGroupsTable(t *testing.T) {
	all := bitmapist.TimeGroups()
	want := map[cohort.Report][]bitmapist.TimeGroup{
		cohort.ReportCohort: all, cohort.ReportTrend: all, cohort.ReportStickiness: all, cohort.ReportFunnel: all,
		cohort.ReportLifecycle: {bitmapist.Days, bitmapist.Weeks, bitmapist.Months, bitmapist.Years},
	}
	if len(cohort.Reports()) != len(want) {
		t.Fatalf("Reports() = %v", cohort.Reports())
	}
	for _, r := range cohort.Reports() {
		if got := cohort.ReportTimeGroups(r); !slices.Equal(got, want[r]) {
			t.Errorf("%s: %v, want %v", r, got, want[r])
		}
		for _, g := range all {
			err := cohort.CheckReportTimeGroup(r, g)
			if slices.Contains(want[r], g) != (err == nil) || (err != nil && !errors.Is(err, cohort.ErrTimeGroupNotOffered)) {
				t.Errorf("CheckReportTimeGroup(%s, %s) = %v", r, g, err)
			}
		}
		if err := cohort.CheckReportTimeGroup(r, bitmapist.TimeGroup(9)); !errors.Is(err, bitmapist.ErrInvalidTimeGroup) || !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("CheckReportTimeGroup(%s, 9) = %v", r, err)
		}
	}
	if err := cohort.CheckReportTimeGroup("retention", bitmapist.Days); !errors.Is(err, cohort.ErrTimeGroupNotOffered) {
		t.Errorf("unknown report: %v", err)
	}
	const msg = "cohort: invalid query: TimeGroup: hours is not offered for lifecycle: use days, weeks, months or years"
	if err := cohort.CheckReportTimeGroup(cohort.ReportLifecycle, bitmapist.Hours); err == nil || err.Error() != msg {
		t.Errorf("lifecycle by hours: %v, want %q", err, msg)
	}
	cohort.ReportTimeGroups(cohort.ReportCohort)[0] = bitmapist.Years
	if cohort.ReportTimeGroups(cohort.ReportCohort)[0] != bitmapist.Hours {
		t.Error("ReportTimeGroups returns the table itself")
	}
}
