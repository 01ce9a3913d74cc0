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
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		saveScreenshot(t, name, png)
	}

	// Overview → the event's page by its name.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/bitmapist/?now=2025-03-26"),
		chromedp.WaitVisible(`tr[data-event="`+evActive+`"] th a`),
		chromedp.Click(`tr[data-event="`+evActive+`"] th a`),
		chromedp.WaitVisible("svg.chart"),
	); err != nil {
		t.Fatal(err)
	}
	lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart path.line").length`))
	if err != nil || lines != 4 { // DAU, WAU, MAU; DAU/MAU
		t.Errorf("event page: %d lines (%v), want 4", lines, err)
	}
	shot("event.png")

	// Lifecycle and stickiness by the report links.
	if err := chromedp.Do(ctx,
		chromedp.Click(`.reportnav a[href^="lifecycle"]`),
		chromedp.WaitVisible("rect.bar.dormant"),
	); err != nil {
		t.Fatal(err)
	}
	shot("lifecycle.png")
	if err := chromedp.Do(ctx,
		chromedp.Click(`.reportnav a[href^="stickiness"]`),
		chromedp.WaitVisible("#stickiness-table"),
	); err != nil {
		t.Fatal(err)
	}
	shot("stickiness.png")

	// The funnel form, filled in and submitted.
	if err := chromedp.Do(ctx,
		chromedp.Click(`.reportnav a[href^="funnel"]`),
		chromedp.WaitVisible("#step-1"),
		chromedp.SetValue("#step-0", evSignup),
		chromedp.SetValue("#step-1", evSong),
		chromedp.SetValue("#step-2", evPlaylist),
		chromedp.SetValue("#window", "7"),
		chromedp.Click(`#report-form button[type=submit]`),
		chromedp.WaitVisible("#funnel-total"),
	); err != nil {
		t.Fatal(err)
	}
	users, err := chromedp.Run(ctx, chromedp.Evaluate[[]int64](`[...document.querySelectorAll("#funnel-total td[data-users]")].map(td => +td.dataset.users)`))
	if err != nil {
		t.Fatal(err)
	}
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
