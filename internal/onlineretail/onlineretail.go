// Package onlineretail holds one real, public event log, the UCI "Online
// Retail" data set as one row per customer and invoice day, together with
// the monthly first-purchase cohort table that others published from it.
// The demo replays it and the tests check cohort tables against the
// published one; README.md beside this file gives its source and licence.
package onlineretail

import (
	"bytes"
	_ "embed"
	"io"
)

//go:embed online_cohorts.csv
var csvData []byte

// Rows is the number of data rows of the CSV (without its header), and
// NoCustomer how many of them have an empty CustomerID.
const (
	Rows       = 19_573
	NoCustomer = 277
	Customers  = 4_372
)

// CSV returns a reader of the log: header "CustomerID,InvoiceDate", then
// one row per (customer, invoice day), 2010-12-01 .. 2011-12-09, dates as
// YYYY-MM-DD, an empty CustomerID for invoices without a customer.
func CSV() io.Reader { return bytes.NewReader(csvData) }

// Size returns the size of the CSV in bytes.
func Size() int { return len(csvData) }

// Published returns the published monthly first-purchase cohort table:
// row r is the cohort of month 2010-12 + r (customers whose first invoice
// fell in that month), cell k the number of its customers with at least
// one invoice in month cohort+k; cell 0 is the cohort's size. Rows without
// a customer are left out, as the publication does. Each call returns a
// fresh copy.
func Published() [][]int64 {
	return [][]int64{
		{948, 362, 317, 367, 341, 376, 360, 336, 336, 374, 354, 474, 260},
		{421, 101, 119, 102, 138, 126, 110, 108, 131, 146, 155, 63},
		{380, 94, 73, 106, 102, 94, 97, 107, 98, 119, 35},
		{440, 84, 112, 96, 102, 78, 116, 105, 127, 39},
		{299, 68, 66, 63, 62, 71, 69, 78, 25},
		{279, 66, 48, 48, 60, 68, 74, 29},
	}
}
