package cohort

import (
	"errors"
	"testing"
)

// TestCheckCostNamesTheField: a table that would read more than
// MaxReadBytes or combine more than MaxCombineBytes is a *QueryError
// naming the field; one within both passes.
func TestCheckCostNamesTheField(t *testing.T) {
	q := &Query{Rows: 2, Cols: 2, Additional: []Step{{Event: "paid"}}}
	lay := func(bytes int64) layout {
		w := window{0, bytes - 1}
		return layout{rowWin: []window{w, w}, all: w, retWin: []window{w, w, w}}
	}
	if err := checkCost(q, lay(1<<20), 3<<20, 2); err != nil {
		t.Errorf("a small table: %v", err)
	}
	var qe *QueryError
	if err := checkCost(q, lay(1<<20), MaxReadBytes+1, 2); !errors.As(err, &qe) || qe.Field != "Additional" || !errors.Is(err, ErrInvalidQuery) {
		t.Errorf("over MaxReadBytes: %v", err)
	}
	if err := checkCost(q, lay(MaxCombineBytes/2), 1, 2); !errors.As(err, &qe) || qe.Field != "Rows" {
		t.Errorf("over MaxCombineBytes: %v", err)
	}
}
