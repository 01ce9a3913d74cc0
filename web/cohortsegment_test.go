package web

import (
	"encoding/csv"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// cohortSegmentQuery is play's weekly cohorts returning to buy, W10..W13,
// on seedControls' marks.
const cohortSegmentQuery = "primary_event=play&secondary_event=buy&time_group=weeks&num_rows=4&num_cols=2&with_replacement=1&now=2025-03-26&start=2025-03-03"

// The cohort table of cohortSegmentQuery from seedControls' marks, for
// everyone and for the segment pro@2025-03 (ids 1, 2, 3, 9): cohorts
// W10 1-8, W11 1-5+9, W12 1,2,10,11, W13 1,3,9,12; buy W10 1,2,4, W11 9,
// W12 nobody, W13 12. -1: no value (W14 is after now).
var (
	allTotals = []int64{8, 6, 4, 4}
	allCells  = []int64{3, 0, 1, 0, 0, 0, 1, -1}
	proTotals = []int64{3, 4, 2, 3} // {1,2,3} {1,2,3,9} {1,2} {1,3,9}
	proCells  = []int64{2, 0, 1, 0, 0, 0, 0, -1}
)

// heatmapNumbers returns the data-total values and the data-count of every
// cell (-1 without value) of a cohort page.
func heatmapNumbers(t *testing.T, body string) (totals, cells []int64) {
	t.Helper()
	for _, m := range regexp.MustCompile(`data-total="(\d+)"`).FindAllStringSubmatch(body, -1) {
		n, _ := strconv.ParseInt(m[1], 10, 64)
		totals = append(totals, n)
	}
	for _, m := range regexp.MustCompile(`<td class="cell [^"]*" data-row="\d+" data-col="\d+"( data-count="(\d+)")?`).FindAllStringSubmatch(body, -1) {
		n := int64(-1)
		if m[2] != "" {
			n, _ = strconv.ParseInt(m[2], 10, 64)
		}
		cells = append(cells, n)
	}
	return totals, cells
}

// TestCohortPageSegment: the cohort page, its JSON and its CSV take the
// segment parameter, ANDed into every row's cohort; an unknown segment
// event is a 404 with "did you mean", a bad label a 400 naming segment, a
// segment without users a note; the report pages' retention link keeps
// the segment.
func TestCohortPageSegment(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	seedControls(t, c)
	h := Handler(c)
	for seg, want := range map[string][2][]int64{"": {allTotals, allCells}, "pro@2025-03": {proTotals, proCells}} {
		code, body := get(t, h, "/cohort?"+cohortSegmentQuery+"&segment="+url.QueryEscape(seg))
		totals, cells := heatmapNumbers(t, body)
		if code != 200 || !slices.Equal(totals, want[0]) || !slices.Equal(cells, want[1]) {
			t.Errorf("segment %q: %d, totals %v cells %v, want %v %v", seg, code, totals, cells, want[0], want[1])
		}
		if seg != "" && (!strings.Contains(body, `<code id="table-segment">pro@2025-03</code>`) || !strings.Contains(body, `id="segment" type="text" list="segment-events" name="segment" value="pro@2025-03"`)) {
			t.Errorf("segment %q: the page does not show it in the caption and the field", seg)
		}
		code, body = get(t, h, "/cohort.json?"+cohortSegmentQuery+"&segment="+url.QueryEscape(seg))
		var tj struct {
			RowTotals []int64 `json:"row_totals"`
		}
		if err := json.Unmarshal([]byte(body), &tj); code != 200 || err != nil || !slices.Equal(tj.RowTotals, want[0]) {
			t.Errorf("segment %q JSON: %d %v, row totals %v, want %v", seg, code, err, tj.RowTotals, want[0])
		}
		code, body = get(t, h, "/cohort.csv?"+cohortSegmentQuery+"&segment="+url.QueryEscape(seg))
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if code != 200 || err != nil || len(recs) != 5 || recs[1][1] != strconv.FormatInt(want[0][0], 10) || recs[2][1] != strconv.FormatInt(want[0][1], 10) {
			t.Errorf("segment %q CSV: %d %v %q", seg, code, err, recs)
		}
	}

	// An unknown segment event: 404, did you mean pro, keeping the period.
	code, body := get(t, h, "/cohort?"+cohortSegmentQuery+"&segment="+url.QueryEscape("prp@2025-03"))
	if got := noteText(body, `data-missing=`); code != 404 || !strings.HasPrefix(got, "No event “prp” (the segment prp@2025-03) is recorded") || !strings.Contains(got, "Did you mean pro?") {
		t.Errorf("unknown segment event: %d, note %q", code, got)
	}
	if strings.Contains(body, `id="heatmap"`) {
		t.Error("unknown segment event: a table of zeros")
	}
	link := regexp.MustCompile(`<a href="([^"]+)" class="suggestion">`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("unknown segment event: no suggestion link")
	}
	u, err := url.Parse(html.UnescapeString(link[1]))
	if err != nil || u.Path != "cohort" || u.Query().Get("segment") != "pro@2025-03" || u.Query().Get("primary_event") != "play" {
		t.Fatalf("suggestion %q (%v), want the cohort page with segment pro@2025-03", link[1], err)
	}
	code, body = get(t, h, "/"+u.String())
	if totals, _ := heatmapNumbers(t, body); code != 200 || !slices.Equal(totals, proTotals) {
		t.Errorf("the suggestion: %d, totals %v, want %v", code, totals, proTotals)
	}

	// A bad label: 400 naming the segment, in HTML and JSON.
	code, body = get(t, h, "/cohort?"+cohortSegmentQuery+"&segment="+url.QueryEscape("pro@2025-13"))
	if got := noteText(body, `id="form-error"`); code != 400 || !strings.HasPrefix(got, "segment: period label") || !regexp.MustCompile(`<input id="segment"[^>]* value="pro@2025-13"[^>]* aria-invalid="true">`).MatchString(body) {
		t.Errorf("bad segment label: %d, error %q", code, got)
	}
	code, body = get(t, h, "/cohort.json?"+cohortSegmentQuery+"&segment="+url.QueryEscape("pro@2025-13"))
	var je struct{ Error, Field string }
	if err := json.Unmarshal([]byte(body), &je); code != 400 || err != nil || je.Field != "segment" {
		t.Errorf("bad segment label JSON: %d %v %+v", code, err, je)
	}

	// A known event, nobody in the segment: every cohort is empty, and the
	// page says why.
	code, body = get(t, h, "/cohort?"+cohortSegmentQuery+"&segment="+url.QueryEscape("pro@2025-02"))
	totals, _ := heatmapNumbers(t, body)
	if got := noteText(body, `data-note="segment"`); code != 200 || !slices.Equal(totals, []int64{0, 0, 0, 0}) || !strings.HasPrefix(got, `The segment "pro@2025-02" holds no user`) || strings.Contains(body, `id="empty-table"`) {
		t.Errorf("empty segment: %d, totals %v, note %q", code, totals, got)
	}

	// The segment alone shows the form, the field filled in, no table.
	if code, body := get(t, h, "/cohort?segment=pro@2025-03"); code != 200 || strings.Contains(body, `id="heatmap"`) || !strings.Contains(body, `value="pro@2025-03"`) {
		t.Errorf("segment alone: %d, table %v", code, strings.Contains(body, `id="heatmap"`))
	}

	// The lifecycle page's retention link carries the segment.
	_, body = get(t, h, "/lifecycle?event=play&now=2025-03-26&segment="+url.QueryEscape("pro@2025-03"))
	link = regexp.MustCompile(`href="(cohort\?[^"]*primary_event=play[^"]*)"`).FindStringSubmatch(body)
	if link == nil {
		t.Fatal("lifecycle: no retention link")
	}
	if u, err := url.Parse(html.UnescapeString(link[1])); err != nil || u.Query().Get("segment") != "pro@2025-03" {
		t.Errorf("lifecycle retention link %q lost the segment", link[1])
	}
}
