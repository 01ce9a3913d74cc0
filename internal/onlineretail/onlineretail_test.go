package onlineretail

import (
	"encoding/csv"
	"testing"
)

func TestCSVMatchesItsDescription(t *testing.T) {
	recs, err := csv.NewReader(CSV()).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if recs[0][0] != "CustomerID" || recs[0][1] != "InvoiceDate" {
		t.Fatalf("header %q", recs[0])
	}
	customers, empty := map[string]bool{}, 0
	for _, r := range recs[1:] {
		if r[0] == "" {
			empty++
			continue
		}
		customers[r[0]] = true
	}
	if len(recs)-1 != Rows || empty != NoCustomer || len(customers) != Customers {
		t.Errorf("rows %d, without customer %d, customers %d; want %d, %d, %d",
			len(recs)-1, empty, len(customers), Rows, NoCustomer, Customers)
	}
	if p := Published(); len(p) != 6 || p[0][0] != 948 || len(p[0]) != 13 {
		t.Errorf("published table %v", p)
	}
}
