package main

import (
	"encoding/json"
	"fmt"
	"io"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/onlineretail"
)

// publishedOnlineRetail is the monthly first-purchase cohort table that
// others published from the Online Retail log (internal/onlineretail).
var publishedOnlineRetail = onlineretail.Published()

// onlineRetailCustomers is the number of distinct customers in the log.
const onlineRetailCustomers = onlineretail.Customers

// cohortJSON is the part of the cohort JSON (cohort.Table.MarshalJSON)
// that the tests read.
type cohortJSON struct {
	Cohort    [][]*float64 `json:"cohort"`
	Labels    []string     `json:"labels"`
	RowTotals []int64      `json:"row_totals"`
	Total     int64        `json:"total"`
}

// checkPublished fails t unless the 13×13 monthly table in body (cohort
// JSON) starts with the published rows, has no value after 2011-12, and its
// cohorts add up to every customer.
func checkPublished(t *testing.T, body []byte) {
	t.Helper()
	var got cohortJSON
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("cohort JSON: %v\n%s", err, body)
	}
	if len(got.Cohort) != 13 || len(got.Labels) != 13 || got.Labels[0] != "2010-12" || got.Labels[12] != "2011-12" {
		t.Fatalf("rows %d, labels %v; want 13 rows 2010-12 .. 2011-12", len(got.Cohort), got.Labels)
	}
	for r, want := range publishedOnlineRetail {
		if got.RowTotals[r] != want[0] {
			t.Errorf("row %s: cohort size %d, published %d", got.Labels[r], got.RowTotals[r], want[0])
		}
		for k, w := range want {
			cell := got.Cohort[r][k]
			if cell == nil || *cell != float64(w) {
				t.Errorf("row %s k=%d: got %s, published %d", got.Labels[r], k, show(cell), w)
			}
		}
		// Months after 2011-12 have no value.
		for k := len(want); k < 13; k++ {
			if got.Cohort[r][k] != nil {
				t.Errorf("row %s k=%d: got %v, want null (after the log's end)", got.Labels[r], k, *got.Cohort[r][k])
			}
		}
	}
	if got.Total != onlineRetailCustomers {
		t.Errorf("cohorts add up to %d customers, want %d", got.Total, onlineRetailCustomers)
	}
}

func show(p *float64) string {
	if p == nil {
		return "null"
	}
	return fmt.Sprint(*p)
}

// onlineRetailString returns the whole Online Retail CSV, for stdin.
func onlineRetailString(t *testing.T) string {
	t.Helper()
	b, err := io.ReadAll(onlineretail.CSV())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
