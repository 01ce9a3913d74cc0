package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestBrowserReports drives Chromium from the overview to an event's page
// and through its reports (lifecycle, stickiness, the funnel form), checks
// the funnel against GetFunnel and saves a screenshot of each page.
func TestBrowserReports(t *testing.T) {
	ctx := newBrowser(t, 8*time.Minute) // first: skipped before any data is written
	c := newClient(testutil.Redis(t), demoNow)
	seedDemo(t, c, demoNow, 12)
	mux := http.NewServeMux()
	mux.Handle("/bitmapist/", http.StripPrefix("/bitmapist", Handler(c, WithTitle("Acme Music analytics"))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	shot := func(name string) {
		t.Helper()
		saveScreenshot(t, name, screenshot(t, ctx))
	}

	// Overview → the event's page by its name.
	browserStep(t, ctx, "overview", chromedp.Navigate(srv.URL+"/bitmapist/?now=2025-03-26"), pageLoaded())
	clickLink(t, ctx, `tr[data-event="`+evActive+`"] th a`)
	browserStep(t, ctx, "event page", chromedp.WaitVisible("svg.chart"))
	if lines := eval[int](t, ctx, `document.querySelectorAll("svg.chart path.line").length`); lines != 4 { // DAU, WAU, MAU; DAU/MAU
		t.Errorf("event page: %d lines, want 4", lines)
	}
	shot("event.png")

	// Lifecycle and stickiness by the report links.
	clickLink(t, ctx, `.reportnav a[href^="lifecycle"]`)
	browserStep(t, ctx, "lifecycle page", chromedp.WaitVisible("rect.bar.dormant"))
	shot("lifecycle.png")
	clickLink(t, ctx, `.reportnav a[href^="stickiness"]`)
	browserStep(t, ctx, "stickiness page", chromedp.WaitVisible("#stickiness-table"))
	shot("stickiness.png")

	// The funnel form, filled in and submitted.
	clickLink(t, ctx, `.reportnav a[href^="funnel"]`)
	browserStep(t, ctx, "fill the funnel form", chromedp.WaitVisible("#step-1"), chromedp.SetValue("#step-0", evSignup),
		chromedp.SetValue("#step-1", evSong), chromedp.SetValue("#step-2", evPlaylist), chromedp.SetValue("#window", "7"))
	browserStep(t, ctx, "submit the funnel form", append(clickTo(`#report-form button[type=submit]`), chromedp.WaitVisible("#funnel-total"))...)
	users := eval[[]int64](t, ctx, `[...document.querySelectorAll("#funnel-total td[data-users]")].map(td => +td.dataset.users)`)
	f, err := cohort.GetFunnel(context.Background(), c, cohort.FunnelQuery{Steps: []string{evSignup, evSong, evPlaylist}, TimeGroup: bitmapist.Days, Window: 7,
		From: bitmapist.Days.Add(demoNow, -29), To: demoNow})
	if err != nil {
		t.Fatal(err)
	}
	var want []int64
	for _, s := range f.Steps {
		want = append(want, s.Users)
	}
	if !equalInts(users, want) || want[0] == 0 {
		t.Errorf("funnel in the browser %v, GetFunnel %v", users, want)
	}
	shot("funnel.png")
}
