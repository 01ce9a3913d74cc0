package web

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestOverviewPagePastTheEnd: a page number past the last page shows the
// last page with a note naming the page asked for and the page count,
// never page 1 silently.
func TestOverviewPagePastTheEnd(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	for i := range 5 {
		mark(t, c, fmt.Sprintf("ev:%d", i), demoNow, 1)
	}
	for i := range overviewPageSize * 2 {
		mark(t, c, fmt.Sprintf("many:%03d", i), demoNow, 1)
	}
	h := Handler(c)
	for _, tc := range []struct{ query, note, rows string }{
		{"q=ev:&page=1000", "There is no page 1000: the 5 matching events fit on 1 page. This is the last page.", "ev:4"},
		{"q=ev:&page=2", "There is no page 2: the 5 matching events fit on 1 page.", "ev:0"},
		{"sort=name&page=4", "There is no page 4: the 105 events fit on 3 pages. This is the last page.", "many:099"},
		{"q=nothing-matches&page=2", "There is no page 2: the 0 matching events fit on 1 page.", ""},
	} {
		code, body := get(t, h, "/?"+tc.query)
		if code != http.StatusOK || !strings.Contains(body, `id="page-note"`) || !strings.Contains(body, tc.note) {
			t.Errorf("?%s: %d, no note %q", tc.query, code, tc.note)
		}
		if tc.rows != "" && !strings.Contains(body, `data-event="`+tc.rows+`"`) {
			t.Errorf("?%s: the last page (with %s) is not shown", tc.query, tc.rows)
		}
	}
	for _, q := range []string{"", "page=1", "sort=name&page=3", "q=ev:&page=1"} {
		if _, body := get(t, h, "/?"+q); strings.Contains(body, `id="page-note"`) {
			t.Errorf("?%s: a page that exists has the past-the-end note", q)
		}
	}
}

// oneUnitsRE finds "1 users", "1 days"...: a plural after exactly 1.
var oneUnitsRE = regexp.MustCompile(`(^|[^0-9,.])1 (user|event|day|week|month|hour|year|page|step|period|entry day|entry week)s\b`)

// TestSingularOne: with a single user (and a single event, day, page...)
// no page of the dashboard says "1 users", "1 days" and the like.
func TestSingularOne(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "solo", demoNow, 1)
	h := Handler(c)
	for _, target := range []string{
		"/", "/?sort=name", "/?page=9",
		"/event?event=solo", "/event?event=solo&from=2025-03-26",
		"/lifecycle?event=solo", "/lifecycle?event=solo&from=2025-03-24",
		"/stickiness?event=solo", "/stickiness?event=solo&from=2025-03-26",
		"/funnel?step=solo&step=solo", "/funnel?step=solo&step=solo&window=1&from=2025-03-26",
		"/cohort?primary_event=solo&secondary_event=solo&num_rows=1&num_cols=1",
	} {
		code, body := get(t, h, target)
		if code != http.StatusOK {
			t.Errorf("%s: %d", target, code)
			continue
		}
		if m := oneUnitsRE.FindString(body); m != "" {
			t.Errorf("%s says %q", target, strings.TrimSpace(m))
		}
	}
	if _, body := get(t, h, "/"); !strings.Contains(body, "peak 1 user a day") {
		t.Error(`the overview's sparkline does not say "peak 1 user a day"`)
	}
}

// TestUndefinedRatiosDash: a ratio whose whole is 0 (a funnel step after a
// step nobody reached, DAU/MAU on a day with no MAU, a stickiness share
// of no user) is shown as "–", as the cohort table's empty cells, never
// as 0.0%; ratios of a non-zero whole are percentages.
func TestUndefinedRatiosDash(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	day := func(d int) string { return demoNow.AddDate(0, 0, d).Format("2006-01-02") }
	mark(t, c, "a", demoNow.AddDate(0, 0, -2), 1, 2)
	mark(t, c, "b", demoNow.AddDate(0, 0, -2), 1)
	h := Handler(c)

	// Funnel rows: a step's "from previous" is "–" exactly when the
	// previous step has no users.
	_, body := get(t, h, "/funnel?step=a&step=b&step=a&window=0&from="+day(-5))
	cellRE := regexp.MustCompile(`data-users="(\d+)">[\d,]+(?: <span class="muted">([^<]*)</span>)?</td>`)
	rowRE := regexp.MustCompile(`<tr data-label="[^"]*">.*?</tr>`)
	rowsTable := body[strings.Index(body, `id="funnel-rows"`):]
	var zeroRows, fullRows int
	for _, row := range rowRE.FindAllString(rowsTable, -1) {
		cells := cellRE.FindAllStringSubmatch(row, -1)
		if len(cells) != 3 {
			t.Fatalf("funnel row %q: %d cells", row, len(cells))
		}
		for i := 1; i < len(cells); i++ {
			prev, _ := strconv.Atoi(cells[i-1][1])
			got := cells[i][2]
			switch {
			case prev == 0 && got != "–":
				t.Errorf("funnel row %.80s: step %d after 0 users shows %q, want –", row, i+1, got)
			case prev > 0 && !strings.HasSuffix(got, "%"):
				t.Errorf("funnel row %.80s: step %d shows %q, want a percentage", row, i+1, got)
			}
		}
		if cells[0][1] == "0" {
			zeroRows++
		} else {
			fullRows++
		}
	}
	if zeroRows == 0 || fullRows != 1 {
		t.Errorf("funnel: %d rows without entrants, %d with; want some and 1", zeroRows, fullRows)
	}
	// A funnel total without any entrant.
	_, body = get(t, h, "/funnel?step=a&step=b&from=2025-01-01&to=2025-01-10")
	total := body[strings.Index(body, `id="funnel-total"`):strings.Index(body, `id="funnel-rows"`)]
	if strings.Contains(total, "0.0%") || strings.Count(total, `<td class="num">–</td>`) != 4 {
		t.Errorf("funnel total without entrants: want – for both ratios of both steps:\n%s", total)
	}
	if strings.Contains(body, "· 0.0%") || strings.Contains(body, " 0.0% of step 1") {
		t.Error("the funnel chart labels an undefined ratio 0.0%")
	}

	// Event page: DAU/MAU is – on days without MAU, a percentage otherwise.
	_, body = get(t, h, "/event?event=a&from="+day(-40))
	ratioRE := regexp.MustCompile(`data-mau="(\d+)">[\d,]+</td><td class="num">([^<]*)</td>`)
	var dashes, pcts int
	for _, m := range ratioRE.FindAllStringSubmatch(body, -1) {
		switch {
		case m[1] == "0" && m[2] != "–":
			t.Errorf("event: DAU/MAU with MAU 0 shows %q", m[2])
		case m[1] != "0" && !strings.HasSuffix(m[2], "%"):
			t.Errorf("event: DAU/MAU with MAU %s shows %q", m[1], m[2])
		case m[1] == "0":
			dashes++
		default:
			pcts++
		}
	}
	if dashes == 0 || pcts == 0 {
		t.Errorf("event: %d days without MAU, %d with; want both", dashes, pcts)
	}
	// ... and its chart has no dot for those days (a gap, not 0%).
	if strings.Contains(body, day(-3)+": DAU/MAU") || !strings.Contains(body, day(-2)+": DAU/MAU 100%") || !strings.Contains(body, day(0)+": DAU/MAU 0%") {
		t.Error("event: the DAU/MAU chart shows days without MAU as 0%, or no dot for the days with")
	}
	if strings.Contains(body, "NaN") {
		t.Error("event: NaN in the page")
	}
	_, body = get(t, h, "/event?event=a&to=2025-01-10")
	if !strings.Contains(body, `id="stat-ratio">–<`) {
		t.Error("event: the DAU/MAU stat of a day without MAU is not –")
	}

	// Stickiness of a range without users.
	_, body = get(t, h, "/stickiness?event=a&to=2025-01-10")
	if strings.Contains(body, "0.0%") || !strings.Contains(body, "(–)") {
		t.Error("stickiness without users shows 0.0% shares")
	}
}
