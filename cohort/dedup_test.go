package cohort_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestRepeatedStepsReadOnce: the same event given 20 times as an
// additional event gives the table of one step, read with the same
// commands (each bitmap once).
func TestRepeatedStepsReadOnce(t *testing.T) {
	now := time.Date(2025, 6, 18, 12, 0, 0, 0, time.UTC)
	b := testutil.Miniredis(t)
	ctx := context.Background()
	c := newClient(b, now)
	for m := range 3 {
		at := bitmapist.Months.Add(now, -m)
		markIDs(t, c, "signup", at, span(uint64(100*m), uint64(100*m+40))...)
		markIDs(t, c, "active", at, span(0, 300)...)
		markIDs(t, c, "paid", at, span(uint64(20*m), 250)...)
	}
	q := cohort.Query{Primary: "signup", Secondary: "active", TimeGroup: bitmapist.Months, Rows: 3, Cols: 3, Now: now,
		Additional: []cohort.Step{{Event: "paid", Op: cohort.And}}}
	rec := record(b)
	if _, err := cohort.Get(ctx, c, q); err != nil { // the client's first query: backend detection
		t.Fatal(err)
	}
	rec.reset()
	one, err := cohort.Get(ctx, c, q)
	if err != nil {
		t.Fatal(err)
	}
	_, cmdsOne := rec.reset()
	q.Additional = slices.Repeat([]cohort.Step{{Event: "paid", Op: cohort.And}, {Event: "active", Op: cohort.And}}, 10)
	twenty, err := cohort.Get(ctx, c, q)
	if err != nil {
		t.Fatal(err)
	}
	_, cmdsTwenty := rec.reset()
	if !reflect.DeepEqual(one.Cells, twenty.Cells) || one.Cells[0][0].Count == 0 {
		t.Errorf("20 repeated steps give other cells: %v vs %v", twenty.Cells, one.Cells)
	}
	if strings.Join(cmdsOne, "|") != strings.Join(cmdsTwenty, "|") {
		t.Errorf("20 repeated steps sent other commands:\n%v\nwant\n%v", cmdsTwenty, cmdsOne)
	}
}
