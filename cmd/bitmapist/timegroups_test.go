package main

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
	"github.com/bitmapist-go/bitmapist/web"
)

// TestTimeGroupsAgreeWithDashboard: for every report (cohort, trend,
// lifecycle, stickiness, funnel) and every time group (and one name that
// is none), the command and the dashboard page over the same data either
// both take the group (exit 0, 200) or both refuse it (exit 2, 400 naming
// time_group), as cohort.ReportTimeGroups says; the command's refusal
// wraps the sentinel cohort.CheckReportTimeGroup gives
// (cohort.ErrTimeGroupNotOffered, bitmapist.ErrInvalidTimeGroup), and
// the dashboard's form offers exactly the table's groups. Before, the
// dashboard refused years for every report and hours for stickiness,
// which the command took.
func TestTimeGroupsAgreeWithDashboard(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, e := range []string{"a", "b"} {
		mustOK(t, cli(t, b, "", "mark", "--hourly", "--at", "2024-12-30T00:10:00Z", e, "1"))
	}
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix),
		bitmapist.WithClock(func() time.Time { return time.Date(2024, 12, 30, 12, 0, 0, 0, time.UTC) }))
	h := web.Handler(c)
	const now = "2024-12-30"
	cliArgs := map[cohort.Report][]string{
		cohort.ReportCohort:     {"cohort", "a", "b", "--now", now, "--rows", "2", "--cols", "2"},
		cohort.ReportTrend:      {"trend", "a", "--to", now},
		cohort.ReportLifecycle:  {"lifecycle", "a", "--to", now},
		cohort.ReportStickiness: {"stickiness", "a", "--to", now},
		cohort.ReportFunnel:     {"funnel", "a", "b", "--to", now},
	}
	pages := map[cohort.Report]string{
		cohort.ReportCohort:     "/cohort?primary_event=a&secondary_event=b&num_rows=2&num_cols=2&now=" + now,
		cohort.ReportTrend:      "/event?event=a&now=" + now,
		cohort.ReportLifecycle:  "/lifecycle?event=a&now=" + now,
		cohort.ReportStickiness: "/stickiness?event=a&now=" + now,
		cohort.ReportFunnel:     "/funnel?step=a&step=b&now=" + now,
	}
	groups := append(groupNames(bitmapist.TimeGroups()), "fortnights")
	for _, r := range cohort.Reports() {
		code, body := getPage(t, h, pages[r])
		if code != http.StatusOK {
			t.Fatalf("%s: status %d", pages[r], code)
		}
		if got, want := offeredGroups(body), groupNames(cohort.ReportTimeGroups(r)); !slices.Equal(got, want) {
			t.Errorf("%s: the form offers %q, the table says %q", pages[r], got, want)
		}
		for _, gs := range groups {
			var want error // the sentinel of the table, nil when r takes gs
			if g, err := bitmapist.ParseTimeGroup(gs); err != nil {
				want = bitmapist.ErrInvalidTimeGroup
			} else if cerr := cohort.CheckReportTimeGroup(r, g); cerr != nil {
				want = cohort.ErrTimeGroupNotOffered
			}
			args := append(append([]string(nil), cliArgs[r]...), "--group", gs)
			res := cli(t, b, "", args...)
			code, body := getPage(t, h, pages[r]+"&time_group="+url.QueryEscape(gs))
			cliOK, webOK := res.code == exitOK, code == http.StatusOK
			if cliOK != webOK || cliOK != (want == nil) {
				t.Errorf("%s by %s: command exit %d (%s), dashboard %d; the table takes it: %v", r, gs, res.code, strings.TrimSpace(res.stderr), code, want == nil)
				continue
			}
			if want == nil {
				continue
			}
			if res.code != exitUsage || !strings.Contains(res.stderr, "--group: ") {
				t.Errorf("%s by %s: command exit %d, stderr %q; want a usage error naming --group", r, gs, res.code, res.stderr)
			}
			if code != http.StatusBadRequest || !strings.Contains(body, "time_group: ") {
				t.Errorf("%s by %s: dashboard %d without a time_group error", r, gs, code)
			}
			if err := cliGroupError(r, gs); !errors.Is(err, want) {
				t.Errorf("%s by %s: the command's error %v does not wrap %v", r, gs, err, want)
			}
		}
	}
}

// cliGroupError returns the error the command's flag parsing gives for
// --group gs of report r (nil when it takes it), before Redis.
func cliGroupError(r cohort.Report, gs string) error {
	if r != cohort.ReportCohort {
		_, err := parseGroupFlag(gs, r)
		return err
	}
	f := cohortFlags{group: gs, rows: 2, cols: 2}
	v, err := f.values("a", "b", time.UTC)
	if err != nil {
		return err
	}
	_, err = cohort.ParseQueryIn(v, time.UTC)
	return queryFlagError(err)
}

// getPage sends a GET for target to h.
func getPage(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	body, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(body)
}

// offeredGroups returns the options of the page's time_group select.
func offeredGroups(body string) []string {
	sel := regexp.MustCompile(`(?s)<select id="time_group".*?</select>`).FindString(body)
	var out []string
	for _, m := range regexp.MustCompile(`<option[^>]*>([^<]*)</option>`).FindAllStringSubmatch(sel, -1) {
		out = append(out, m[1])
	}
	return out
}

func groupNames(gs []bitmapist.TimeGroup) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.String()
	}
	return out
}
