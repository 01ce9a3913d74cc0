package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// EnvUpdateScreenshot names the variable that, set to 1, makes
// TestBrowser write its screenshot to docs/img/dashboard.png instead of a
// temporary directory.
const envUpdateScreenshot = "BITMAPIST_UPDATE_SCREENSHOT"

// browserCell is a heatmap cell as the browser shows it.
type browserCell struct {
	Row, Col int
	Count    *int64 // nil for a cell without value
	Text     string
}

// TestBrowser drives Chromium through the dashboard mounted under a
// prefix: the overview, then the cohort form filled with two additional
// events, and checks that the heatmap shows the JSON endpoint's numbers.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t, 8*time.Minute) // first: skipped before any data is written
	b := testutil.Redis(t)
	c := newClient(b, demoNow)
	seedDemo(t, c, demoNow, 12)

	mux := http.NewServeMux()
	mux.Handle("/bitmapist/", http.StripPrefix("/bitmapist", Handler(c, WithTitle("Acme Music analytics"))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	// Overview: every event, with the counts the server computes.
	browserStep(t, ctx, "overview", chromedp.Navigate(srv.URL+"/bitmapist/"), pageLoaded(), chromedp.WaitVisible("table.events"))
	saveScreenshot(t, "overview.png", screenshot(t, ctx))
	shown := eval[[]string](t, ctx, `[...document.querySelectorAll("tr[data-event]")].map(r => r.dataset.event + " " + r.querySelector("[data-period=month]").textContent)`)
	rows, err := countEvents(context.Background(), c, demoNow)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range rows {
		want = append(want, r.Event+" "+thousands(r.Month))
	}
	slices.Sort(want)
	slices.Sort(shown)
	if !slices.Equal(shown, want) {
		t.Errorf("overview shows %q, want %q", shown, want)
	}

	// The cohort form, reached by its link, filled in and submitted.
	clickLink(t, ctx, `header nav a[href="cohort"]`)
	fill := []chromedp.Action[chromedp.Void]{
		chromedp.WaitVisible("form.query"),
		chromedp.SetValue("#primary", evSignup),
		chromedp.SetValue("#secondary", evActive),
		chromedp.SetValue("#time_group", "weeks"),
		chromedp.SetValue("#rows", "12"),
		chromedp.SetValue("#cols", "12"),
		chromedp.SetValue("#op-0", "and"),
		chromedp.SetValue("#event-0", evSong),
		chromedp.SetValue("#op-1", "or"),
		chromedp.SetValue("#event-1", evPlaylist),
	}
	// with_replacement is on by default (primary = secondary on a first visit).
	fill = append(fill, clickTo(`form.query button[type=submit]`)...)
	browserStep(t, ctx, "submit the cohort form", append(fill, chromedp.WaitVisible("#heatmap"), chromedp.WaitVisible("svg.curve"))...)
	cells := eval[[]browserCell](t, ctx, `[...document.querySelectorAll("#heatmap td.cell[data-row]")].map(td => ({
		Row: +td.dataset.row, Col: +td.dataset.col,
		Count: td.dataset.count === undefined ? null : +td.dataset.count,
		Text: td.textContent}))`)
	totals := eval[[]int64](t, ctx, `[...document.querySelectorAll("#heatmap td.total[data-total]")].map(td => +td.dataset.total)`)
	jsonURL := eval[string](t, ctx, `document.getElementById("json-link").href`)

	// The JSON endpoint, asked with the same parameters.
	resp, err := srv.Client().Get(jsonURL)
	if err != nil {
		t.Fatal(err)
	}
	var js struct {
		Cohort    [][]*float64 `json:"cohort"`
		RowTotals []int64      `json:"row_totals"`
		AsPercent bool         `json:"as_percent"`
		TimeGroup string       `json:"time_group"`
		NumRows   int          `json:"num_rows"`
		NumCols   int          `json:"num_cols"`
	}
	if err := json.Unmarshal([]byte(readAll(t, resp)), &js); err != nil {
		t.Fatal(err)
	}
	if !js.AsPercent || !strings.Contains(jsonURL, "with_replacement=1") || js.TimeGroup != "weeks" || js.NumRows != 12 || js.NumCols != 12 {
		t.Fatalf("the form sent another query: %+v", js)
	}
	if !slices.Equal(totals, js.RowTotals) {
		t.Errorf("row totals: page %v, JSON %v", totals, js.RowTotals)
	}
	if len(cells) != 144 {
		t.Fatalf("%d cells in the page, want 144", len(cells))
	}
	valid := 0
	for _, cell := range cells {
		v := js.Cohort[cell.Row][cell.Col]
		if v == nil {
			if cell.Count != nil || cell.Text != "–" {
				t.Errorf("cell %d,%d: page %q, JSON null", cell.Row, cell.Col, cell.Text)
			}
			continue
		}
		valid++
		if text := strconv.FormatFloat(*v, 'f', 1, 64) + "%"; cell.Text != text {
			t.Errorf("cell %d,%d: page %q, JSON %v", cell.Row, cell.Col, cell.Text, *v)
		}
		if cell.Count == nil {
			t.Errorf("cell %d,%d: no count", cell.Row, cell.Col)
		} else if pct := float64(*cell.Count) / float64(js.RowTotals[cell.Row]) * 100; fmt.Sprintf("%.9f", pct) != fmt.Sprintf("%.9f", *v) {
			t.Errorf("cell %d,%d: count %d of %d is not %v%%", cell.Row, cell.Col, *cell.Count, js.RowTotals[cell.Row], *v)
		}
	}
	if valid != 78 { // 12 rows, row i has 12-i periods up to now
		t.Errorf("%d cells with a value, want 78", valid)
	}

	saveScreenshot(t, "dashboard.png", screenshot(t, ctx))
}

// screenshot returns a PNG of the whole page, bounded to browserStepLimit.
func screenshot(t *testing.T, ctx context.Context) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, browserStepLimit)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	return png
}

// saveScreenshot writes a PNG to docs/img/name when
// BITMAPIST_UPDATE_SCREENSHOT=1, else to a temporary directory (so test
// runs never dirty the tree).
func saveScreenshot(t *testing.T, name string, png []byte) {
	t.Helper()
	out := filepath.Join(t.TempDir(), name)
	if os.Getenv(envUpdateScreenshot) == "1" {
		out = filepath.Join("..", "docs", "img", name)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(out, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", out, len(png))
}
