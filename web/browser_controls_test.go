package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// newBrowser starts headless Chromium (BITMAPIST_TEST_CHROMIUM; the test
// is skipped without it outside CI, and fails in CI) and returns a tab's
// context, bounded to limit, closed when t ends.
func newBrowser(t *testing.T, limit time.Duration) context.Context {
	t.Helper()
	chromium, ok := testutil.ChromiumPath(t)
	if !ok {
		t.Skip("set BITMAPIST_TEST_CHROMIUM to a Chromium binary to run the browser test")
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("force-color-profile", "srgb"),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(cancel)
	// Start the browser on the un-timed context, then bound the steps.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(cancelTimeout)
	return ctx
}

// browserStepLimit bounds one browser step (a navigation, a click and
// the page it leads to): far above what a step takes on a loaded machine
// (well under a second), so a step that cannot finish (a click that
// reached no link, a page that never came) fails with its name instead of
// waiting for the whole test's limit.
const browserStepLimit = 90 * time.Second

// browserStep runs actions in the tab, bounded to browserStepLimit,
// failing t with what was being done and the start of the page's text.
func browserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, browserStepLimit)
	defer cancel()
	if err := chromedp.Do(stepCtx, actions...); err != nil {
		if stepCtx.Err() != nil && ctx.Err() == nil {
			err = fmt.Errorf("not done within %v (%w)", browserStepLimit, err)
		}
		pageCtx, cancelPage := context.WithTimeout(ctx, 10*time.Second)
		defer cancelPage()
		page, _ := chromedp.Run(pageCtx, chromedp.Evaluate[string](`location.href + " (" + document.readyState + ")\n" + document.body.innerText.slice(0, 600)`))
		t.Fatalf("%s: %v\npage: %s", what, err, page)
	}
}

// pageLoaded waits until the tab shows a page that is not marked stale
// (see clickLink) and has loaded with its stylesheet: a click before that
// can land where the link was before the style moved it, and lead
// nowhere. It retries while a navigation replaces the document.
func pageLoaded() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		for {
			done, err := chromedp.Evaluate[bool](`document.readyState === "complete" && !!document.body && !document.body.dataset.stale`)(ctx, tab)
			if err == nil && done {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("page not loaded: %w (last error %v)", ctx.Err(), err)
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// markStale marks the current page's body, so that waiting for
// body:not([data-stale]) waits for the next page.
func markStale() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tab *chromedp.Target) error {
		_, err := chromedp.Evaluate[bool](`document.body.dataset.stale = "1", true`)(ctx, tab)
		return err
	})
}

// clickTo clicks sel once the page has loaded and sel is visible, then
// waits for the page the click leads to have loaded.
func clickTo(sel string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{pageLoaded(), chromedp.WaitVisible(sel), markStale(),
		chromedp.Click(sel), chromedp.WaitReady(`body:not([data-stale]) footer`), pageLoaded()}
}

// submitForm sets the form fields (CSS selector → value), clicks the
// form's submit button and waits for the page it leads to.
func submitForm(t *testing.T, ctx context.Context, form string, fields [][2]string) {
	t.Helper()
	// chromedp.SetValue sends "" as undefined (a text field would read
	// "undefined"), so the fields are set by script.
	for _, f := range fields {
		sel, val, _ := strings.Cut(string(mustJSON(t, []string{f[0], f[1]})), ",")
		sel, val = strings.TrimPrefix(sel, "["), strings.TrimSuffix(val, "]")
		js := `(e => !!e && (e.value = ` + val + `, e.dispatchEvent(new Event("change", {bubbles: true})), e.value === ` + val + `))(document.querySelector(` + sel + `))`
		if !eval[bool](t, ctx, js) {
			t.Fatalf("submit %s: cannot set %s to %q", form, f[0], f[1])
		}
	}
	browserStep(t, ctx, "submit "+form+fmt.Sprint(fields), clickTo(form+` button[type=submit]`)...)
}

// mustJSON returns v as JSON.
func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clickLink clicks the link sel and waits for the page it leads to.
func clickLink(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	browserStep(t, ctx, "click "+sel, clickTo(sel)...)
}

// eval evaluates a JavaScript expression in the tab, bounded to
// browserStepLimit.
func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserStepLimit)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return v
}

// rowData returns, for each row with a data-label in the table sel, its
// cells' data-* numbers by name: {"2025-W10": {"new": 3, ...}}.
func rowData(t *testing.T, ctx context.Context, sel string) map[string]map[string]int64 {
	t.Helper()
	return eval[map[string]map[string]int64](t, ctx, `Object.fromEntries([...document.querySelectorAll(`+"`"+sel+` tbody tr[data-label]`+"`"+`)].map(tr =>
		[tr.dataset.label, Object.fromEntries([...tr.querySelectorAll("td")].flatMap(td => Object.entries(td.dataset).map(([k, v]) => [k, +v])))]))`)
}

// usersOf returns the data-users numbers of the cells under sel.
func usersOf(t *testing.T, ctx context.Context, sel string) []int64 {
	t.Helper()
	return eval[[]int64](t, ctx, `[...document.querySelectorAll(`+"`"+sel+` td[data-users]`+"`"+`)].map(td => +td.dataset.users)`)
}

// The controls fixture: every count below follows from these marks (UTC;
// Mondays of ISO weeks 2025-W10..W13 are 03-03, 03-10, 03-17, 03-24).
//
//	play  03-03: 1-8   03-10: 1-5, 9   03-17: 1, 2, 10, 11   03-24: 1, 3, 9, 12
//	      02-10: 20, 21 (February, for the overview's date control)
//	pro   03-01: 1, 2, 3, 9   (the segment pro@2025-03)
//	buy   03-04: 1, 2   03-05: 4   03-12: 9   03-25: 12
//	ev:000 .. ev:059 on 03-20: ev:NNN has NNN+13 users (ids 100..)
func seedControls(t *testing.T, c *bitmapist.Client) {
	t.Helper()
	day := func(m, d int) time.Time { return time.Date(2025, time.Month(m), d, 10, 0, 0, 0, time.UTC) }
	mark(t, c, "play", day(3, 3), 1, 2, 3, 4, 5, 6, 7, 8)
	mark(t, c, "play", day(3, 10), 1, 2, 3, 4, 5, 9)
	mark(t, c, "play", day(3, 17), 1, 2, 10, 11)
	mark(t, c, "play", day(3, 24), 1, 3, 9, 12)
	mark(t, c, "play", day(2, 10), 20, 21)
	mark(t, c, "pro", day(3, 1), 1, 2, 3, 9)
	mark(t, c, "buy", day(3, 4), 1, 2)
	mark(t, c, "buy", day(3, 5), 4)
	mark(t, c, "buy", day(3, 12), 9)
	mark(t, c, "buy", day(3, 25), 12)
	var marks []bitmapist.Mark
	for i := range 60 {
		for id := range uint64(i + 13) {
			marks = append(marks, bitmapist.Mark{Event: fmt.Sprintf("ev:%03d", i), UserID: 100 + id, Time: day(3, 20)})
		}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatal(err)
	}
}

// overviewRows returns the overview's rows as "event month-count".
func overviewRows(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-event]")].map(r => r.dataset.event + " " + r.querySelector("[data-period=month]").textContent)`)
}

// evRows returns "ev:NNN count" for i from hi down to lo, the overview's
// order (this month's users, most first).
func evRows(hi, lo int) []string {
	var out []string
	for i := hi; i >= lo; i-- {
		out = append(out, fmt.Sprintf("ev:%03d %d", i, i+13))
	}
	return out
}

// TestBrowserControls drives Chromium through every control the other
// browser tests do not: the overview's filter box, pager and date
// control, and on each report page (trend, lifecycle, stickiness, funnel)
// the date control (from, to, now) and the segment picker. Each step
// checks the numbers on the page against the counts seedControls set up.
func TestBrowserControls(t *testing.T) {
	ctx := newBrowser(t, 8*time.Minute) // first: skipped before any data is written
	c := newClient(testutil.Redis(t), demoNow)
	seedControls(t, c)
	mux := http.NewServeMux()
	mux.Handle("/bitmapist/", http.StripPrefix("/bitmapist", Handler(c)))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Overview, page 1 of 2: 63 events by this month's users.
	browserStep(t, ctx, "overview", chromedp.Navigate(srv.URL+"/bitmapist/"), pageLoaded(), chromedp.WaitVisible("table.events"))
	if got, want := overviewRows(t, ctx), evRows(59, 10); !slices.Equal(got, want) {
		t.Errorf("overview page 1:\n got %q\nwant %q", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector("nav.pager > span:not(.muted)").textContent`); got != "events 1–50 of 63 · page 1 of 2" {
		t.Errorf("pager: %q", got)
	}
	clickLink(t, ctx, "#next-page")
	if got, want := overviewRows(t, ctx), append(evRows(9, 0), "play 12", "buy 5", "pro 4"); !slices.Equal(got, want) {
		t.Errorf("overview page 2:\n got %q\nwant %q", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector("nav.pager > span:not(.muted)").textContent`); got != "events 51–63 of 63 · page 2 of 2" {
		t.Errorf("pager on page 2: %q", got)
	}
	clickLink(t, ctx, "#prev-page")
	if got := overviewRows(t, ctx); len(got) != 50 || got[0] != "ev:059 72" {
		t.Errorf("back on page 1: %d rows, first %q", len(got), got[:min(1, len(got))])
	}

	// Sorted by name, from the column header's link: page 1 starts with buy.
	clickLink(t, ctx, `th a[href*="sort=name"]`)
	if got := overviewRows(t, ctx); len(got) != 50 || got[0] != "buy 5" || got[1] != "ev:000 13" || got[49] != "ev:048 61" {
		t.Errorf("sorted by name: %d rows %q", len(got), got)
	}
	clickLink(t, ctx, `th a[href*="sort=month"]`)

	// The filter box: ten events, one page.
	submitForm(t, ctx, "#overview-form", [][2]string{{"#filter", "EV:05"}})
	if got, want := overviewRows(t, ctx), evRows(59, 50); !slices.Equal(got, want) {
		t.Errorf("filter ev:05:\n got %q\nwant %q", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector(".card-head p.muted").textContent`); !strings.HasPrefix(got, "10 of 63 events") {
		t.Errorf("filtered header %q", got)
	}
	if n := eval[int](t, ctx, `document.querySelectorAll("nav.pager").length`); n != 0 {
		t.Error("a pager for one page of events")
	}
	submitForm(t, ctx, "#overview-form", [][2]string{{"#filter", "nosuch"}})
	if got := eval[string](t, ctx, `document.getElementById("no-match").textContent`); got != "No event name contains “nosuch”." {
		t.Errorf("no match: %q", got)
	}

	// The overview's date control: February 2025, where only play has users.
	submitForm(t, ctx, "#overview-form", [][2]string{{"#filter", "p"}, {"#now", "2025-02-15"}})
	if got, want := overviewRows(t, ctx), []string{"play 2", "pro 0"}; !slices.Equal(got, want) {
		t.Errorf("filter p, now 2025-02-15: %q, want %q", got, want)
	}
	if got := eval[string](t, ctx, `document.querySelector("footer").textContent`); !strings.Contains(got, "now 2025-02-15T00:00:00Z") {
		t.Errorf("footer %q", got)
	}

	// play's trend page, by its link (which keeps now), then the date control.
	clickLink(t, ctx, `tr[data-event="play"] th a`)
	checkTrend(t, ctx)
	checkLifecycle(t, ctx)
	checkStickiness(t, ctx)
	checkFunnel(t, ctx)
	checkCohortDates(t, ctx)
	checkCohortSegment(t, ctx)
}

// checkCohortSegment sets the cohort form's segment on checkCohortDates'
// table: pro@2025-03 (ids 1, 2, 3, 9) cuts each cohort (W10 1,2,3; W11
// 1,2,3,9; W12 1,2; W13 1,3,9) and its cells; an unknown segment event
// says so and its suggestion brings the table back; an empty field gives
// everyone again.
func checkCohortSegment(t *testing.T, ctx context.Context) {
	t.Helper()
	sizes := func() []int64 {
		return eval[[]int64](t, ctx, `[...document.querySelectorAll("#heatmap td.total[data-total]")].map(td => +td.dataset.total)`)
	}
	cells := func() []int64 {
		return eval[[]int64](t, ctx, `[...document.querySelectorAll("#heatmap td.cell[data-row]")].map(td => td.dataset.count === undefined ? -1 : +td.dataset.count)`)
	}
	submitForm(t, ctx, "form.query", [][2]string{{"#segment", "pro@2025-03"}})
	if got := sizes(); !slices.Equal(got, []int64{3, 4, 2, 3}) {
		t.Errorf("segment pro@2025-03: cohort sizes %v, want [3 4 2 3]", got)
	}
	if got, want := cells(), []int64{2, 0, 1, 0, 0, 0, 0, -1}; !slices.Equal(got, want) {
		t.Errorf("segment pro@2025-03: cells %v, want %v", got, want)
	}
	if got := eval[string](t, ctx, `document.getElementById("table-segment").textContent`); got != "pro@2025-03" {
		t.Errorf("table segment %q", got)
	}
	submitForm(t, ctx, "form.query", [][2]string{{"#segment", "prp@2025-03"}})
	if got := eval[string](t, ctx, `document.querySelector("[data-missing]").textContent`); !strings.Contains(got, "No event “prp” (the segment prp@2025-03)") || !strings.Contains(got, "Did you mean pro?") {
		t.Errorf("unknown cohort segment: %q", got)
	}
	clickLink(t, ctx, "a.suggestion")
	if got := sizes(); !slices.Equal(got, []int64{3, 4, 2, 3}) {
		t.Errorf("after the suggestion: cohort sizes %v, want [3 4 2 3]", got)
	}
	submitForm(t, ctx, "form.query", [][2]string{{"#segment", ""}})
	if got, c := sizes(), cells(); !slices.Equal(got, []int64{8, 6, 4, 4}) || !slices.Equal(c, []int64{3, 0, 1, 0, 0, 0, 1, -1}) {
		t.Errorf("segment cleared: sizes %v cells %v, want [8 6 4 4] [3 0 1 0 0 0 1 -1]", got, c)
	}
}

// checkCohortDates fills the cohort form's date control (now, start) and
// reads the table: play's weekly cohorts and who bought, W10..W13.
func checkCohortDates(t *testing.T, ctx context.Context) {
	t.Helper()
	clickLink(t, ctx, `header nav a[href^="cohort"]`)
	submitForm(t, ctx, "form.query", [][2]string{{"#primary", "play"}, {"#secondary", "buy"}, {"#time_group", "weeks"},
		{"#rows", "4"}, {"#cols", "2"}, {"#now", "2025-03-26"}, {"#start", "2025-03-03"}})
	if got := eval[[]int64](t, ctx, `[...document.querySelectorAll("#heatmap td.total[data-total]")].map(td => +td.dataset.total)`); !slices.Equal(got, []int64{8, 6, 4, 4}) {
		t.Errorf("cohort sizes %v, want [8 6 4 4]", got)
	}
	// -1: no value (W14 is after now).
	cells := eval[[]int64](t, ctx, `[...document.querySelectorAll("#heatmap td.cell[data-row]")].map(td => td.dataset.count === undefined ? -1 : +td.dataset.count)`)
	if want := []int64{3, 0, 1, 0, 0, 0, 1, -1}; !slices.Equal(cells, want) {
		t.Errorf("cohort cells %v, want %v", cells, want)
	}
	if got := eval[[]string](t, ctx, `[...document.querySelectorAll("#heatmap tbody th")].map(th => th.textContent.trim())`); len(got) != 4 || !strings.HasPrefix(got[0], "2025-W10") {
		t.Errorf("cohort rows %q, want 2025-W10 first (start)", got)
	}
}

// checkTrend sets the trend page's range and segment and reads its rows.
func checkTrend(t *testing.T, ctx context.Context) {
	t.Helper()
	if got := eval[string](t, ctx, `document.getElementById("now").value`); got != "2025-02-15" {
		t.Errorf("the event link lost now: %q", got)
	}
	count := func(want map[string]int64, total int) {
		t.Helper()
		rows := rowData(t, ctx, "#trend-table")
		if len(rows) != total {
			t.Errorf("trend: %d rows, want %d", len(rows), total)
		}
		for label, r := range rows {
			if r["count"] != want[label] {
				t.Errorf("trend %s: %d users, want %d", label, r["count"], want[label])
			}
		}
	}
	submitForm(t, ctx, "#report-form", [][2]string{{"#now", ""}, {"#from", "2025-03-03"}, {"#to", "2025-03-24"}})
	count(map[string]int64{"2025-03-03": 8, "2025-03-10": 6, "2025-03-17": 4, "2025-03-24": 4}, 22)
	if got := eval[string](t, ctx, `document.getElementById("stat-unique").textContent`); got != "12" {
		t.Errorf("distinct users in 2025-03-03..24: %q, want 12", got)
	}
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", "pro@2025-03"}})
	count(map[string]int64{"2025-03-03": 3, "2025-03-10": 4, "2025-03-17": 2, "2025-03-24": 3}, 22)
	if got := eval[string](t, ctx, `document.querySelector(".card-head p.muted").textContent`); !strings.HasSuffix(got, "2025-03-03 to 2025-03-24 · segment pro@2025-03") {
		t.Errorf("trend header %q", got)
	}
	// now instead of to: 90 days ending 2025-03-17, segment kept.
	submitForm(t, ctx, "#report-form", [][2]string{{"#from", ""}, {"#to", ""}, {"#now", "2025-03-17"}})
	count(map[string]int64{"2025-03-03": 3, "2025-03-10": 4, "2025-03-17": 2}, 90)
	if got := eval[string](t, ctx, `document.querySelector(".card-head p.muted").textContent`); !strings.HasSuffix(got, "2024-12-18 to 2025-03-17 · segment pro@2025-03") {
		t.Errorf("trend header with now 2025-03-17: %q", got)
	}
	if first := eval[string](t, ctx, `document.querySelector("#trend-table tbody tr").dataset.label`); first != "2025-03-17" {
		t.Errorf("newest row %q, want now's day 2025-03-17", first)
	}
	// A range past now says so (and shows what is recorded: this data
	// goes on after that now).
	submitForm(t, ctx, "#report-form", [][2]string{{"#from", "2025-03-10"}, {"#to", "2025-03-24"}})
	if got := eval[string](t, ctx, `(document.querySelector("[data-note=range]") || {}).textContent || ""`); !strings.HasPrefix(got, "The range ends on 2025-03-24, after now (2025-03-17)") {
		t.Errorf("range note %q", got)
	}
	count(map[string]int64{"2025-03-10": 4, "2025-03-17": 2, "2025-03-24": 3}, 15)
}

// checkLifecycle reaches the lifecycle page by its link and checks the
// weekly lifecycle of the segment and of everyone.
func checkLifecycle(t *testing.T, ctx context.Context) {
	t.Helper()
	clickLink(t, ctx, `.reportnav a[href^="lifecycle"]`)
	submitForm(t, ctx, "#report-form", [][2]string{{"#now", ""}, {"#time_group", "weeks"}, {"#from", "2025-03-03"}, {"#to", "2025-03-24"}})
	check := func(what string, want map[string][4]int64) {
		t.Helper()
		rows := rowData(t, ctx, "#lifecycle-table")
		if len(rows) != len(want) {
			t.Errorf("lifecycle %s: %d rows, want %d", what, len(rows), len(want))
		}
		for label, w := range want {
			r := rows[label]
			if got := [4]int64{r["new"], r["returning"], r["resurrecting"], r["dormant"]}; got != w {
				t.Errorf("lifecycle %s %s: new, returning, resurrecting, dormant = %v, want %v", what, label, got, w)
			}
		}
	}
	if got := eval[string](t, ctx, `document.getElementById("segment").value`); got != "pro@2025-03" {
		t.Fatalf("the lifecycle link lost the segment: %q", got)
	}
	check("of pro@2025-03", map[string][4]int64{
		"2025-W10": {3, 0, 0, 0}, "2025-W11": {1, 3, 0, 0}, "2025-W12": {0, 2, 0, -2}, "2025-W13": {0, 1, 2, -1}})
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", ""}})
	check("of everyone", map[string][4]int64{
		"2025-W10": {8, 0, 0, 0}, "2025-W11": {1, 5, 0, -3}, "2025-W12": {2, 2, 0, -4}, "2025-W13": {1, 1, 2, -3}})
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", "pro@2025-03"}})
}

// checkStickiness: of the users active in W10..W13, how many were active
// in exactly 1, 2, 3, 4 of those weeks.
func checkStickiness(t *testing.T, ctx context.Context) {
	t.Helper()
	clickLink(t, ctx, `.reportnav a[href^="stickiness"]`)
	submitForm(t, ctx, "#report-form", [][2]string{{"#time_group", "weeks"}, {"#from", "2025-03-03"}, {"#to", "2025-03-24"}})
	if got := usersOf(t, ctx, "#stickiness-table"); !slices.Equal(got, []int64{0, 1, 2, 1}) {
		t.Errorf("stickiness of pro@2025-03: %v, want [0 1 2 1] (9: 2 weeks; 2, 3: 3; 1: 4)", got)
	}
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", ""}})
	if got := usersOf(t, ctx, "#stickiness-table"); !slices.Equal(got, []int64{6, 3, 2, 1}) {
		t.Errorf("stickiness of everyone: %v, want [6 3 2 1]", got)
	}
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", "pro@2025-03"}})
}

// checkFunnel: play → buy by week with a one-week window, per entry week
// and in total, for the segment and for everyone.
func checkFunnel(t *testing.T, ctx context.Context) {
	t.Helper()
	clickLink(t, ctx, `.reportnav a[href^="funnel"]`)
	if got := eval[string](t, ctx, `document.getElementById("step-0").value`); got != "play" {
		t.Fatalf("funnel link: step 1 is %q", got)
	}
	submitForm(t, ctx, "#report-form", [][2]string{{"#step-1", "buy"}, {"#window", "1"}, {"#time_group", "weeks"}, {"#from", "2025-03-03"}, {"#to", "2025-03-24"}})
	check := func(what string, total []int64, rows map[string][]int64) {
		t.Helper()
		if got := usersOf(t, ctx, "#funnel-total"); !slices.Equal(got, total) {
			t.Errorf("funnel %s total %v, want %v", what, got, total)
		}
		for label, want := range rows {
			if got := usersOf(t, ctx, `#funnel-rows tr[data-label="`+label+`"]`); !slices.Equal(got, want) {
				t.Errorf("funnel %s %s: %v, want %v", what, label, got, want)
			}
		}
	}
	check("of pro@2025-03", []int64{12, 3}, map[string][]int64{"2025-W10": {3, 2}, "2025-W11": {4, 1}, "2025-W12": {2, 0}, "2025-W13": {3, 0}})
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", ""}})
	check("of everyone", []int64{22, 5}, map[string][]int64{"2025-W10": {8, 3}, "2025-W11": {6, 1}, "2025-W12": {4, 0}, "2025-W13": {4, 1}})
	// An unknown segment event: the page says so and offers the real name.
	submitForm(t, ctx, "#report-form", [][2]string{{"#segment", "prp@2025-03"}})
	if got := eval[string](t, ctx, `document.querySelector("[data-missing]").textContent`); !strings.Contains(got, "No event “prp” (the segment prp@2025-03)") || !strings.Contains(got, "Did you mean pro?") {
		t.Errorf("unknown segment: %q", got)
	}
	clickLink(t, ctx, "a.suggestion")
	check("after did-you-mean", []int64{12, 3}, nil)
}
