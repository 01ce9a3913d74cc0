package cohort_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// exampleClient returns a client on an in-process miniredis whose clock
// reads now, with three days of sign-ups and logins marked. Call the
// returned function when done.
func exampleClient(now time.Time) (*bitmapist.Client, func()) {
	mr, err := miniredis.Run()
	if err != nil {
		panic(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	c := bitmapist.New(rdb, bitmapist.WithClock(func() time.Time { return now }))
	ctx := context.Background()
	mark := func(event string, daysAgo int, ids ...uint64) {
		for _, id := range ids {
			if err := c.MarkEvent(ctx, event, id, bitmapist.At(now.AddDate(0, 0, -daysAgo))); err != nil {
				panic(err)
			}
		}
	}
	mark("signup", 2, 1, 2, 3, 4)
	mark("signup", 1, 5, 6)
	mark("login", 2, 1, 2, 3)
	mark("login", 1, 1, 5)
	mark("login", 0, 2, 5, 6)
	return c, func() { rdb.Close(); mr.Close() }
}

func ExampleGet() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	tab, err := cohort.Get(context.Background(), c, cohort.Query{
		Primary: "signup", Secondary: "login", TimeGroup: bitmapist.Days,
		Rows: 3, Cols: 3, WithReplacement: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range tab.Cells {
		fmt.Print(tab.RowLabel(i), " ", tab.Totals[i], ":")
		for j := range tab.Cells[i] {
			if v, ok := tab.Value(i, j); ok {
				fmt.Print(" ", v)
			} else {
				fmt.Print(" -")
			}
		}
		fmt.Println()
	}
	fmt.Println(tab.ColumnLabel(0), "|", tab.ColumnLabel(2))
	// Output:
	// 2025-03-02 4: 3 1 1
	// 2025-03-03 2: 1 2 -
	// 2025-03-04 0: - - -
	// 0 | +2 days
}

func ExampleGet_firstTime() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	// Cohort = users whose first login fell in the row's day.
	tab, err := cohort.Get(context.Background(), c, cohort.Query{
		Primary: "login", Secondary: "login", TimeGroup: bitmapist.Days,
		Rows: 3, Cols: 1, FirstTime: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tab.Totals)
	// Output: [3 1 1]
}

func ExampleDatesData() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	tab, err := cohort.DatesData(context.Background(), c, cohort.DatesQuery{
		Select1: "signup", Select2: "login", TimeGroup: bitmapist.Days,
		NumResults: 2, NumOfRows: 2, AsPercent: true, Start: now.AddDate(0, 0, -2),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range tab.Dates {
		fmt.Printf("%q\n", fmt.Sprint(tab.DatesRow(i)[1:]))
	}
	// Output:
	// "[4 75 25 25]"
	// "[2 50 100 ]"
}

func ExampleTable_WriteCSV() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	tab, err := cohort.Get(context.Background(), c, cohort.Query{
		Primary: "signup", Secondary: "login", TimeGroup: bitmapist.Days, Rows: 3, Cols: 2,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := tab.WriteCSV(os.Stdout); err != nil {
		fmt.Println(err)
	}
	// Output:
	// Date,Total,0,1
	// 2025-03-02,4,3,0
	// 2025-03-03,2,1,1
	// 2025-03-04,0,,
}

func ExampleTable_MarshalJSON() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	tab, err := cohort.Get(context.Background(), c, cohort.Query{
		Primary: "signup", Secondary: "login", TimeGroup: bitmapist.Days, Rows: 2, Cols: 2,
		Start: now.AddDate(0, 0, -1),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := json.Marshal(tab)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(out))
	// Output:
	// {"cohort":[[1,1],[null,null]],"dates":["2025-03-03T00:00:00Z","2025-03-04T00:00:00Z"],"labels":["2025-03-03","2025-03-04"],"columns":["0","+1 day"],"total":2,"row_totals":[2,0],"col_totals":[1,1],"averages":[1,1],"time_group":"days","as_percent":false,"num_rows":2,"num_cols":2}
}

func ExampleParseQuery() {
	v, _ := url.ParseQuery("primary_event=signup&secondary_event=login" +
		"&additional=or:user:logged_in&additional=and:paid&time_group=weeks&num_rows=8&num_cols=6&first_time=on")
	q, err := cohort.ParseQuery(v)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(q.Primary, q.Secondary, q.Additional, q.TimeGroup, q.Rows, q.Cols, q.FirstTime)

	_, err = cohort.ParseQuery(url.Values{"primary_event": {"a"}, "secondary_event": {"b"}, "num_rows": {"500"}})
	fmt.Println(err)
	// Output:
	// signup login [{user:logged_in or} {paid and}] weeks 8 6 true
	// cohort: invalid query: num_rows: "500" is not a whole number in 1..400
}

func ExampleChain() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	// Users who logged in or signed up two days ago.
	set, err := cohort.Chain(c, "login", []cohort.Step{{Event: "signup", Op: cohort.Or}}, bitmapist.Days, now.AddDate(0, 0, -2))
	if err != nil {
		fmt.Println(err)
		return
	}
	ids, err := set.IDs(context.Background())
	fmt.Println(ids, err)
	// Output: [1 2 3 4] <nil>
}

// A return event with no marks in a period, combined with an Or event that
// has marks: flask-bitmapist's chain_events gives up when the first event
// of the chain (here "purchase") has no marks in the cell's period, so
// every cell of its table is 0. Go evaluates the whole chain, purchase OR
// login, and counts the users who logged in.
func ExampleChain_returnEventWithoutMarks() {
	now := time.Date(2025, 3, 4, 12, 0, 0, 0, time.UTC)
	c, done := exampleClient(now)
	defer done()

	steps := []cohort.Step{{Event: "login", Op: cohort.Or}}
	set, err := cohort.Chain(c, "purchase", steps, bitmapist.Days, now.AddDate(0, 0, -1))
	if err != nil {
		fmt.Println(err)
		return
	}
	n, err := set.Count(context.Background())
	fmt.Println("purchase or login, yesterday:", n, err)

	tab, err := cohort.Get(context.Background(), c, cohort.Query{
		Primary: "signup", Secondary: "purchase", Additional: steps,
		TimeGroup: bitmapist.Days, Rows: 2, Cols: 2, WithReplacement: true,
		Start: now.AddDate(0, 0, -2),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(grid(tab))
	// Output:
	// purchase or login, yesterday: 2 <nil>
	// [[3 1] [1 2]]
}
