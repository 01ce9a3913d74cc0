package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	sqlite "github.com/glebarez/sqlite" // pure Go: the demo needs no C compiler
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/internal/onlineretail"
)

// Events the demo records.
const (
	demoCreated   = "customer:created"   // by the GORM plugin, at a customer's first invoice
	demoUpdated   = "customer:updated"   // by the GORM plugin, when a returning customer's row is updated
	demoPurchased = "customer:purchased" // by MarkEvents, on every invoice day
)

// Customer is the demo application's GORM model. Embedding bitmapist.Tracked
// makes the plugin mark customer:created, customer:updated and
// customer:deleted for its rows, with the row's ID as the user id.
type Customer struct {
	ID            uint64 `gorm:"primaryKey;autoIncrement:false"` // the log's CustomerID
	FirstPurchase time.Time
	LastPurchase  time.Time
	Purchases     int // invoice days so far
	bitmapist.Tracked
}

// demoApp is the small GORM application of the demo: an in-memory SQLite
// database with the bitmapist plugin installed.
type demoApp struct {
	db     *gorm.DB
	plugin *bitmapistplugin.Plugin
	mu     sync.Mutex
	errs   []error // marks the plugin could not record
}

// newDemoApp opens an in-memory SQLite database, installs the plugin
// marking through c, and creates the customers table.
func newDemoApp(c *bitmapist.Client) (*demoApp, error) {
	app := &demoApp{}
	db, err := gorm.Open(sqlite.Open(":memory:"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return nil, fmt.Errorf("open SQLite: %w", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	// Each connection to ":memory:" is its own database: keep one.
	sqlDB.SetMaxOpenConns(1)
	// The outbox, as recommended for production: marks commit with their
	// rows and none is lost while Redis is away.
	app.plugin = bitmapistplugin.New(nil,
		bitmapistplugin.WithClient(c),
		bitmapistplugin.WithOutbox(),
		bitmapistplugin.WithTimeout(30*time.Second),
		bitmapistplugin.WithErrorHandler(func(_ context.Context, err error) {
			app.mu.Lock()
			app.errs = append(app.errs, err)
			app.mu.Unlock()
		}))
	if err := db.Use(app.plugin); err != nil {
		return nil, fmt.Errorf("install the bitmapist GORM plugin: %w", err)
	}
	if err := db.AutoMigrate(&Customer{}); err != nil {
		return nil, fmt.Errorf("create table: %w", err)
	}
	app.db = db
	return app, nil
}

// Close stops the plugin's outbox relay and closes the database.
func (a *demoApp) Close() error {
	_ = a.plugin.Close()
	sqlDB, err := a.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// pluginErr returns the first error the plugin reported, if any.
func (a *demoApp) pluginErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.errs) == 0 {
		return nil
	}
	return fmt.Errorf("the GORM plugin could not record %d batches of marks, the first: %w", len(a.errs), a.errs[0])
}

// demoStats is what loadDemo loaded.
type demoStats struct {
	Rows       int       // data rows of the log
	NoCustomer int       // rows without a CustomerID, left out (as the published table does)
	Customers  int       // customers created through GORM (customer:created)
	Updates    int       // returning-customer row updates through GORM (customer:updated)
	Purchases  int       // purchase days marked (customer:purchased)
	First      time.Time // first invoice day
	Last       time.Time // last invoice day
}

// demoBatch is how many customer rows one CreateInBatches statement inserts.
const demoBatch = 500

// loadDemo replays the Online Retail log r (columns CustomerID,
// InvoiceDate) day by day, in date order:
//
//   - the customers whose first invoice is that day are created through
//     GORM in batches, with the plugin's event time set to the day
//     (bitmapistplugin.WithTime), so the plugin marks customer:created;
//   - the returning customers of that day are updated through GORM (one
//     UPDATE by condition), so the plugin marks customer:updated;
//   - every customer with an invoice that day is marked customer:purchased
//     with MarkEvents (pipelined).
//
// Rows without a CustomerID are counted in NoCustomer and left out; any
// other malformed row is an error. progress, if not nil, is called with the
// number of rows done so far and the total.
func loadDemo(ctx context.Context, c *bitmapist.Client, app *demoApp, r io.Reader, progress func(done, total int)) (*demoStats, error) {
	type invoice struct {
		id  uint64
		day time.Time
	}
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("demo data: %w", err)
	}
	if !slices.Equal(header, []string{"CustomerID", "InvoiceDate"}) {
		return nil, fmt.Errorf("demo data: header %v, want CustomerID,InvoiceDate", header)
	}
	st := &demoStats{}
	var invs []invoice
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
		st.Rows++
		if rec[0] == "" {
			st.NoCustomer++
			continue
		}
		line, _ := cr.FieldPos(0)
		id, err := strconv.ParseUint(rec[0], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("demo data line %d: customer id %q: %w", line, rec[0], err)
		}
		day, err := cohort.ParseInLocation("2006-01-02", rec[1], c.Location())
		if err != nil {
			return nil, fmt.Errorf("demo data line %d: %w", line, err)
		}
		invs = append(invs, invoice{id, day})
	}
	slices.SortStableFunc(invs, func(a, b invoice) int { return a.day.Compare(b.day) })
	if len(invs) > 0 {
		st.First, st.Last = invs[0].day, invs[len(invs)-1].day
	}

	seen := map[uint64]bool{}
	var marks []bitmapist.Mark
	done := st.NoCustomer
	for start := 0; start < len(invs); {
		if err := ctx.Err(); err != nil {
			return st, err
		}
		day := invs[start].day
		end := start
		var fresh []Customer
		var returning []uint64
		for end < len(invs) && invs[end].day.Equal(day) {
			id := invs[end].id
			if !seen[id] {
				seen[id] = true
				fresh = append(fresh, Customer{ID: id, FirstPurchase: day, LastPurchase: day, Purchases: 1})
			} else {
				returning = append(returning, id)
			}
			marks = append(marks, bitmapist.Mark{Event: demoPurchased, UserID: id, Time: day})
			end++
		}
		dayDB := app.db.WithContext(bitmapistplugin.WithTime(ctx, day))
		if len(fresh) > 0 {
			if err := dayDB.CreateInBatches(&fresh, demoBatch).Error; err != nil {
				return st, fmt.Errorf("create customers of %s: %w", day.Format("2006-01-02"), err)
			}
			st.Customers += len(fresh)
		}
		if len(returning) > 0 {
			res := dayDB.Model(&Customer{}).Where("id IN ?", returning).
				Updates(map[string]any{"last_purchase": day, "purchases": gorm.Expr("purchases + 1")})
			if res.Error != nil {
				return st, fmt.Errorf("update customers of %s: %w", day.Format("2006-01-02"), res.Error)
			}
			st.Updates += int(res.RowsAffected)
		}
		if err := app.pluginErr(); err != nil {
			return st, err
		}
		if len(marks) >= bitmapist.MarkEventsBatchSize || end == len(invs) {
			if err := c.MarkEvents(ctx, marks); err != nil {
				return st, err
			}
			st.Purchases += len(marks)
			marks = marks[:0]
		}
		done += end - start
		if progress != nil {
			progress(done, st.Rows)
		}
		start = end
	}
	return st, nil
}

// demoCohortQuery returns the dashboard query parameters of the
// first-purchase monthly cohort table that matches the published Online
// Retail one: cohorts by month of customer:created (each customer's first
// invoice), returns counted every month a customer purchased.
func demoCohortQuery(st *demoStats) url.Values {
	v := url.Values{}
	v.Set("primary_event", demoCreated)
	v.Set("secondary_event", demoPurchased)
	v.Set("time_group", "months")
	v.Set("num_rows", "13")
	v.Set("num_cols", "13")
	v.Set("start", st.First.Format("2006-01-02"))
	v.Set("now", st.Last.Format("2006-01-02"))
	v.Set("with_replacement", "1")
	return v
}

// demoCohortCLI returns the cohort command line that prints the same table
// as demoCohortQuery.
func demoCohortCLI(st *demoStats) string {
	return fmt.Sprintf("cohort %s %s --group months --rows 13 --cols 13 --start %s --now %s --with-replacement",
		demoCreated, demoPurchased, st.First.Format("2006-01-02"), st.Last.Format("2006-01-02"))
}

// demoData returns a reader of the embedded UCI Online Retail log (one row
// per customer and invoice day); internal/onlineretail/README.md gives its
// source and licence.
func demoData() (io.Reader, error) { return onlineretail.CSV(), nil }
