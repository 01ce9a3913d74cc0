package web

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// BenchmarkOverview1000Events renders the overview of 1,000 events, each
// with 14 days of data (about 18,000 keys), on miniredis: one SCAN pass and
// one pipeline of 3,000 BITCOUNTs per page.
func BenchmarkOverview1000Events(b *testing.B) {
	be := testutil.Miniredis(b)
	c := newClient(be, demoNow)
	rng := rand.New(rand.NewPCG(1, 2))
	var marks []bitmapist.Mark
	for e := range 1000 {
		ev := fmt.Sprintf("feature:%04d", e)
		for d := range 14 {
			for range 5 {
				marks = append(marks, bitmapist.Mark{Event: ev, UserID: rng.Uint64N(20000), Time: demoNow.AddDate(0, 0, -d)})
			}
		}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		b.Fatal(err)
	}
	h := Handler(c)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(h, "/"); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkCohortHeatmap52Weeks renders the cohort page of a 52×52 weekly
// table (with one additional event) over a year of data on miniredis:
// about 10,000 users, 200 new a week, each returning in later weeks with a
// decaying probability.
func BenchmarkCohortHeatmap52Weeks(b *testing.B) {
	be := testutil.Miniredis(b)
	c := newClient(be, demoNow)
	seedYear(b, c, demoNow)
	h := Handler(c)
	target := "/cohort?primary_event=" + evSignup + "&secondary_event=" + evActive +
		"&additional_event=" + evSong + "&additional_op=and&time_group=weeks&num_rows=52&num_cols=52&as_percent=1"
	if rec := serve(h, target); rec.Code != http.StatusOK {
		b.Fatal(rec.Code, rec.Body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if rec := serve(h, target); rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// seedYear records 52 weeks of signups ending with now's week, with
// activity and song plays in later weeks.
func seedYear(tb testing.TB, c *bitmapist.Client, now time.Time) {
	tb.Helper()
	rng := rand.New(rand.NewPCG(52, 52))
	first := bitmapist.Weeks.Add(now, -51)
	var marks []bitmapist.Mark
	var id uint64
	for w := range 52 {
		start := bitmapist.Weeks.Add(first, w)
		for range 200 {
			id++
			marks = append(marks, bitmapist.Mark{Event: evSignup, UserID: id, Time: start})
			for k := 0; w+k < 52; k++ {
				if k > 0 && rng.Float64() >= 0.15+0.4/float64(k) {
					continue
				}
				at := bitmapist.Weeks.Add(start, k).Add(time.Duration(rng.IntN(7*24)) * time.Hour)
				if at.After(now) {
					continue
				}
				marks = append(marks, bitmapist.Mark{Event: evActive, UserID: id, Time: at})
				if rng.Float64() < 0.8 {
					marks = append(marks, bitmapist.Mark{Event: evSong, UserID: id, Time: at})
				}
			}
		}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		tb.Fatal(err)
	}
}
