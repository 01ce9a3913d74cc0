package cohort_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestTablesStayInYears1To9999: a table whose periods would leave the years
// keys can hold is a query error, before any Redis work, for every way of
// getting there (Start, Now, many rows or columns) and both entry points.
func TestTablesStayInYears1To9999(t *testing.T) {
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
	ctx := context.Background()
	base := cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Days, Rows: 2, Cols: 2}
	cases := []struct {
		name  string
		edit  func(q *cohort.Query)
		field string
	}{
		{"start in year 0", func(q *cohort.Query) { q.Start = time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC) }, "Start"},
		{"start at the end of 9999", func(q *cohort.Query) { q.Start = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC) }, "Start"},
		{"weeks into 10000", func(q *cohort.Query) {
			// Monday of 9999's last week: row 1 (Get) or cell (1, 1)
			// (DatesData, whose rows start a week earlier) is in 10000.
			q.Start, q.TimeGroup = time.Date(9999, 12, 27, 0, 0, 0, 0, time.UTC), bitmapist.Weeks
		}, "Start"},
		{"now in year 10000", func(q *cohort.Query) { q.Now = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }, "Now"},
		{"rows back before year 1", func(q *cohort.Query) {
			q.Now, q.TimeGroup, q.Rows = time.Date(20, 1, 1, 0, 0, 0, 0, time.UTC), bitmapist.Months, 400
		}, "Now"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			q := base
			tc.edit(&q)
			_, err := cohort.Get(ctx, c, q)
			var qe *cohort.QueryError
			if !errors.Is(err, cohort.ErrInvalidQuery) || !errors.As(err, &qe) || qe.Field != tc.field {
				t.Errorf("Get: %v, want a QueryError on %s", err, tc.field)
			}
			_, err = cohort.DatesData(ctx, c, cohort.DatesQuery{Select1: "a", Select2: "b", TimeGroup: q.TimeGroup,
				NumResults: q.Rows, NumOfRows: q.Cols - 1, Start: q.Start, Now: q.Now})
			if !errors.Is(err, cohort.ErrInvalidQuery) {
				t.Errorf("DatesData: %v, want ErrInvalidQuery", err)
			}
		})
	}
	// The edges themselves are fine.
	q := base
	q.Start = time.Date(9999, 12, 29, 0, 0, 0, 0, time.UTC) // periods 29th, 30th, 31st
	if _, err := cohort.Get(ctx, c, q); err != nil {
		t.Errorf("table ending 9999-12-31: %v", err)
	}
	if keys := b.Mini.Keys(); len(keys) != 0 {
		t.Errorf("keys written: %q", keys)
	}
}

// TestClientWithoutRedis: Get and DatesData on bitmapist.New(nil) return
// bitmapist.ErrNoRedis instead of panicking.
func TestClientWithoutRedis(t *testing.T) {
	c := bitmapist.New(nil)
	ctx := context.Background()
	for _, first := range []bool{false, true} {
		q := cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Days, Rows: 2, Cols: 2, FirstTime: first,
			Additional: []cohort.Step{{Event: "c", Op: cohort.Or}}}
		if _, err := cohort.Get(ctx, c, q); !errors.Is(err, bitmapist.ErrNoRedis) {
			t.Errorf("Get (first time %v): %v, want ErrNoRedis", first, err)
		}
	}
	if _, err := cohort.DatesData(ctx, c, cohort.DatesQuery{Select1: "a", Select2: "b", NumResults: 1, NumOfRows: 1}); !errors.Is(err, bitmapist.ErrNoRedis) {
		t.Errorf("DatesData: %v, want ErrNoRedis", err)
	}
}
