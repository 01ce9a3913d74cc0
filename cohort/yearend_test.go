package cohort_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestTableAtTheEndOfTime: a table whose Now is in the last period of the
// year 9999 is computed in every time group, through Get and ParseQuery's
// now, although its columns reach past 9999: those cells are after Now,
// so they are blank, as every cell after Now is; the cells up to Now
// count the users marked at the end of 9999. Only IncludeFuture, which
// asks for the cells after Now, and rows after 9999 are still refused.
// Before, every such table was refused ("the table would reach 10008").
func TestTableAtTheEndOfTime(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx := context.Background()
	now := time.Date(9999, 12, 31, 23, 30, 0, 0, time.UTC)
	c := newClient(b, time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), bitmapist.WithTrackHourly(true))
	for _, g := range bitmapist.TimeGroups() {
		e := "e_" + g.String()
		markIDs(t, c, e, g.Add(now, -1), 1, 2) // the period before now's
		markIDs(t, c, e, now, 1)
		q := cohort.Query{Primary: e, Secondary: e, TimeGroup: g, Rows: 2, Cols: 3, Now: now, WithReplacement: true}
		tab, err := cohort.Get(ctx, c, q)
		if err != nil {
			t.Errorf("%s: %v", g, err)
			continue
		}
		if got, want := tab.RowLabel(1), g.Label(now); got != want {
			t.Errorf("%s: last row %s, want %s", g, got, want)
		}
		// Row 0: both users, user 1 again in now's period, then the
		// period after 9999: blank. Row 1: user 1, then blank.
		want := [2][3]string{{"2", "1", ""}, {"1", "", ""}}
		for i := range 2 {
			for j := range 3 {
				if got := cellText(tab, i, j); got != want[i][j] {
					t.Errorf("%s: cell (%d, %d) = %q, want %q", g, i, j, got, want[i][j])
				}
			}
		}
		if a := tab.Averages; a[0].Count != 1.5 || a[1].Count != 1 || a[2].Valid {
			t.Errorf("%s: averages %+v, want 1.5, 1, none", g, a)
		}
		q.IncludeFuture = true
		if _, err := cohort.Get(ctx, c, q); !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("%s with IncludeFuture: %v, want ErrInvalidQuery", g, err)
		}
		q.IncludeFuture, q.Start = false, now // row 1 after 9999
		var qe *cohort.QueryError
		if _, err := cohort.Get(ctx, c, q); !errors.As(err, &qe) || qe.Field != "Start" {
			t.Errorf("%s starting at now: %v, want a QueryError on Start", g, err)
		}
		pq, err := cohort.ParseQuery(map[string][]string{"primary_event": {e}, "secondary_event": {e},
			"time_group": {g.String()}, "now": {"9999-12-31T23:30:00Z"}, "num_rows": {"2"}, "num_cols": {"3"}})
		if err == nil {
			_, err = cohort.Get(ctx, c, pq)
		}
		if err != nil {
			t.Errorf("%s through ParseQuery: %v", g, err)
		}
	}
}

// cellText returns cell (i, j)'s value as text, "" when it has none.
func cellText(t *cohort.Table, i, j int) string {
	if v, ok := t.Value(i, j); ok {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return ""
}
