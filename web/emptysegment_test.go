package web

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// seedZeroSegment marks and unmarks user 5 for "zero" with unique
// tracking: the unique bitmap and the period keys of "zero" exist, every
// bit 0.
func seedZeroSegment(t *testing.T, c *bitmapist.Client) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	if err := c.MarkEvent(ctx, "zero", 5, bitmapist.At(at), bitmapist.TrackUnique(true)); err != nil {
		t.Fatal(err)
	}
	if err := c.UnmarkEvent(ctx, "zero", 5, bitmapist.At(at), bitmapist.TrackUnique(true)); err != nil {
		t.Fatal(err)
	}
}

// TestEmptyUniqueSegmentIsEmptySet (finding C): a segment whose unique
// bitmap exists with only zero bytes is an empty set: cohort.json and
// cohort.csv answer 200 with every total 0, the pages 200 with a note
// that it holds no user; a segment whose unique bitmap does not exist is
// still refused (404) with the unique-tracking explanation.
func TestEmptyUniqueSegmentIsEmptySet(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		seedControls(t, c)
		seedZeroSegment(t, c)
		h := Handler(c)
		code, body := get(t, h, "/cohort.json?"+cohortSegmentQuery+"&segment=zero")
		var table struct {
			Total     int64   `json:"total"`
			RowTotals []int64 `json:"row_totals"`
		}
		if err := json.Unmarshal([]byte(body), &table); code != 200 || err != nil || table.Total != 0 || len(table.RowTotals) != 4 || table.RowTotals[0] != 0 {
			t.Errorf("cohort.json segment=zero: %d %v %s, want 200, 4 rows of 0 users", code, err, body)
		}
		if code, body := get(t, h, "/cohort.csv?"+cohortSegmentQuery+"&segment=zero"); code != 200 || !strings.Contains(body, "2025-W10,0") {
			t.Errorf("cohort.csv segment=zero: %d %q, want 200 with 0 users", code, body)
		}
		const note = `The segment "zero" holds no user (its unique bitmap is there, every bit 0)`
		pages := []string{"cohort?" + cohortSegmentQuery, "funnel?step=play&step=buy&now=2025-03-26"}
		for _, p := range reportPaths[:3] {
			pages = append(pages, p+"play&now=2025-03-26")
		}
		for _, p := range pages {
			code, body := get(t, h, "/"+p+"&segment=zero")
			if got := noteText(body, `data-note="segment"`); code != 200 || !strings.HasPrefix(got, note) {
				t.Errorf("%s&segment=zero: %d, note %q, want 200 %q", p, code, got, note)
			}
		}
		// play has data but no unique bitmap: still the refusal.
		code, body = get(t, h, "/cohort.json?"+cohortSegmentQuery+"&segment="+url.QueryEscape("play"))
		if code != 404 || !strings.Contains(body, "written only with unique tracking on") {
			t.Errorf("cohort.json segment=play (no unique bitmap): %d %s, want 404", code, body)
		}
	})
}

// TestHourSegmentWithoutHourlyData: a segment naming an hour of a day
// whose event was marked without hourly tracking says so on every page
// (not "nobody did the event"); an hour nobody did, on a day with hourly
// data, keeps the plain note.
func TestHourSegmentWithoutHourlyData(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		seedControls(t, c)
		ctx := context.Background()
		at := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
		for id := uint64(1); id <= 3; id++ {
			if err := c.MarkEvent(ctx, "daily", id, bitmapist.At(at)); err != nil {
				t.Fatal(err)
			}
			if err := c.MarkEvent(ctx, "hourly", id, bitmapist.At(at), bitmapist.TrackHourly(true)); err != nil {
				t.Fatal(err)
			}
		}
		h := Handler(c)
		pages := []string{"cohort?" + cohortSegmentQuery, "funnel?step=play&step=buy&now=2025-03-26"}
		for _, p := range reportPaths[:3] {
			pages = append(pages, p+"play&now=2025-03-26")
		}
		for _, p := range pages {
			code, body := get(t, h, "/"+p+"&segment="+url.QueryEscape("daily@2025-03-04T10"))
			const want = `The segment "daily@2025-03-04T10": "daily" has no hourly data on 2025-03-04 (it was marked without hourly tracking) though it has daily data, so an hour of that day holds nobody; use the day, daily@2025-03-04. Every count below is 0.`
			if got := noteText(body, `data-note="segment"`); code != 200 || got != want {
				t.Errorf("%s daily@hour: %d, note %q, want %q", p, code, got, want)
			}
			code, body = get(t, h, "/"+p+"&segment="+url.QueryEscape("hourly@2025-03-04T11"))
			if got := noteText(body, `data-note="segment"`); code != 200 || !strings.Contains(got, "nobody did the event in that period") {
				t.Errorf("%s hourly@empty hour: %d, note %q, want the plain note", p, code, got)
			}
		}
	})
}
