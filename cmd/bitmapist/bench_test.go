package main

import (
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/onlineretail"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// BenchmarkImportOnlineRetail imports the 19,573-row Online Retail log
// (integer ids, one fixed event) into the backend of testutil.Redis (a
// real Redis when BITMAPIST_TEST_REDIS_URL is set, else miniredis).
func BenchmarkImportOnlineRetail(b *testing.B) {
	be := testutil.Redis(b)
	c := bitmapist.New(be.Client, bitmapist.WithPrefix(be.Prefix))
	cfg := importConfig{UserCol: "CustomerID", TimeCol: "InvoiceDate", Event: "customer:purchased"}
	b.SetBytes(int64(onlineretail.Size()))
	b.ReportAllocs()
	for b.Loop() {
		sum, err := importCSV(b.Context(), c, onlineretail.CSV(), cfg)
		if err != nil || sum.Marked != 19296 {
			b.Fatalf("marked %v, %v", sum, err)
		}
	}
	b.ReportMetric(float64(19573*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkLoadDemo runs the demo's load (GORM creates and updates through
// the plugin on an in-memory SQLite, plus the purchase marks) into the
// backend of testutil.Redis.
func BenchmarkLoadDemo(b *testing.B) {
	be := testutil.Redis(b)
	c := bitmapist.New(be.Client, bitmapist.WithPrefix(be.Prefix))
	b.ReportAllocs()
	for b.Loop() {
		app, err := newDemoApp(c)
		if err != nil {
			b.Fatal(err)
		}
		st, err := loadDemo(b.Context(), c, app, onlineretail.CSV(), nil)
		if err != nil || st.Customers != onlineRetailCustomers {
			b.Fatalf("%+v, %v", st, err)
		}
		if err := app.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(19573*b.N)/b.Elapsed().Seconds(), "rows/s")
}
