package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	sqlite "github.com/glebarez/sqlite"
	"github.com/redis/go-redis/v9"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	bitmapistplugin "github.com/bitmapist-go/bitmapist/gormplugin"
	"github.com/bitmapist-go/bitmapist/web"
)

// pythonDiffs lists every deliberate difference from the Python originals
// (Doist's bitmapist 3.x and cuttlesoft's flask-bitmapist 0.1.2): the input
// that shows it, what Python gives, and what Go gives (asserted).
// docs/python.md links to each row by its name.
var pythonDiffs = []struct {
	name   string
	input  string
	python string
	want   string
	run    func(t *testing.T, c *bitmapist.Client, mr *miniredis.Miniredis) string
}{
	{
		name:   "iso_week_keys",
		input:  "weekly bitmap of 2024-12-30 read by a cohort table",
		python: "trackist_active_W2024-1 (calendar year with the ISO week number)",
		want:   "trackist_active_W2025-1",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			return c.Events("active", bitmapist.Weeks, pyDay(2024, 12, 30)).Key()
		},
	},
	{
		name:   "iso_week_labels",
		input:  "label of the weekly row containing 2024-12-30",
		python: "2024-52 (Sunday-based %U week number)",
		want:   "2025-W01",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			return bitmapist.Weeks.Label(pyDay(2024, 12, 30))
		},
	},
	{
		name:   "time_zones",
		input:  "mark at 2021-01-01T00:30+02:00 (hourly tracking on, UTC client)",
		python: "day 2021-1-1, hour 0 (fields taken as they are)",
		want:   "[trackist_e_2020-12-31 trackist_e_2020-12-31-22]",
		run: func(t *testing.T, c *bitmapist.Client, mr *miniredis.Miniredis) string {
			c = bitmapist.New(redis.NewClient(&redis.Options{Addr: mr.Addr()}), bitmapist.WithTrackHourly(true))
			at := time.Date(2021, 1, 1, 0, 30, 0, 0, time.FixedZone("+02", 2*3600))
			pyMust(t, c.MarkEvent(t.Context(), "e", 1, bitmapist.At(at)))
			var days []string
			for _, k := range mr.Keys() {
				if strings.HasPrefix(k, "trackist_e_2020-12-31") {
					days = append(days, k)
				}
			}
			return fmt.Sprint(days)
		},
	},
	{
		name:   "or_events_every_cell",
		input:  "get_cohort signup / login with [or pay]; pay only on day 1",
		python: "[[0 0]]: the first cell deletes the or steps from the list, later cells lose them",
		want:   "[[0 2]]",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			pyMark(t, c, "signup", pyDay(2025, 1, 1), 1, 2)
			pyMark(t, c, "login", pyDay(2025, 1, 1), 9)
			pyMark(t, c, "login", pyDay(2025, 1, 2), 9)
			pyMark(t, c, "pay", pyDay(2025, 1, 2), 1, 2)
			return cohortGrid(t, c, cohort.Query{Primary: "signup", Secondary: "login",
				Additional: []cohort.Step{{Event: "pay", Op: cohort.Or}}, TimeGroup: bitmapist.Days,
				Rows: 1, Cols: 2, WithReplacement: true, Start: pyDay(2025, 1, 1), Now: pyDay(2025, 1, 3)})
		},
	},
	{
		name:   "return_event_without_marks",
		input:  "get_cohort signup / purchase with [or login]; nobody purchased",
		python: "[[0 0]]: chain_events stops when purchase has no marks, ignoring login",
		want:   "[[2 1]]",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			pyMark(t, c, "signup", pyDay(2025, 1, 1), 1, 2)
			pyMark(t, c, "login", pyDay(2025, 1, 1), 1, 2)
			pyMark(t, c, "login", pyDay(2025, 1, 2), 2)
			return cohortGrid(t, c, cohort.Query{Primary: "signup", Secondary: "purchase",
				Additional: []cohort.Step{{Event: "login", Op: cohort.Or}}, TimeGroup: bitmapist.Days,
				Rows: 1, Cols: 2, WithReplacement: true, Start: pyDay(2025, 1, 1), Now: pyDay(2025, 1, 3)})
		},
	},
	{
		name:   "empty_and_is_no_data",
		input:  "get_dates_data signup / active with select1b active, select2b signup; nobody signs up on day 1",
		python: "[1 100 0]: the empty AND result key exists, and existence is tested",
		want:   "[1 100 ]",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			pyMark(t, c, "signup", pyDay(2025, 1, 1), 1)
			pyMark(t, c, "active", pyDay(2025, 1, 1), 1)
			pyMark(t, c, "active", pyDay(2025, 1, 2), 1)
			tab, err := cohort.DatesData(t.Context(), c, cohort.DatesQuery{Select1: "signup", Select1b: "active",
				Select2: "active", Select2b: "signup", TimeGroup: bitmapist.Days, NumResults: 1, NumOfRows: 1,
				AsPercent: true, Start: pyDay(2025, 1, 1), Now: pyDay(2025, 1, 3)})
			pyMust(t, err)
			return fmt.Sprint(tab.DatesRow(0)[1:])
		},
	},
	{
		name:   "dates_rows_are_period_starts",
		input:  "get_dates_data weekly, num_results 1, start_date Wednesday 2024-03-06",
		python: "row date 2024-03-06 (the datetime inside the week)",
		want:   "2024-03-04",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			tab, err := cohort.DatesData(t.Context(), c, cohort.DatesQuery{Select1: "a", Select2: "a",
				TimeGroup: bitmapist.Weeks, NumResults: 1, Start: pyDay(2024, 3, 6), Now: pyDay(2025, 1, 1)})
			pyMust(t, err)
			return tab.Dates[0].Format(time.DateOnly)
		},
	},
	{
		name:   "no_temporary_keys",
		input:  "count a AND b",
		python: "leaves trackist_bitop_AND_... in Redis, never expired",
		want:   "count 1, keys before 6, after 6",
		run: func(t *testing.T, c *bitmapist.Client, mr *miniredis.Miniredis) string {
			pyMark(t, c, "a", pyDay(2025, 1, 1), 1, 2)
			pyMark(t, c, "b", pyDay(2025, 1, 1), 1)
			before := len(mr.Keys())
			n, err := bitmapist.And(c.Events("a", bitmapist.Months, pyDay(2025, 1, 1)),
				c.Events("b", bitmapist.Months, pyDay(2025, 1, 1))).Count(t.Context())
			pyMust(t, err)
			return fmt.Sprintf("count %d, keys before %d, after %d", n, before, len(mr.Keys()))
		},
	},
	{
		name:   "and_not",
		input:  "a = {1, 20}, b = {2}: a AND NOT b, and AndNot(a, b)",
		python: "[1] only (NOT flips bytes up to b's length); no true difference",
		want:   "Not: [1], AndNot: [1 20]",
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			pyMark(t, c, "a", pyDay(2025, 1, 1), 1, 20)
			pyMark(t, c, "b", pyDay(2025, 1, 1), 2)
			a, b := c.Events("a", bitmapist.Days, pyDay(2025, 1, 1)), c.Events("b", bitmapist.Days, pyDay(2025, 1, 1))
			x, err := bitmapist.And(a, bitmapist.Not(b)).IDs(t.Context())
			pyMust(t, err)
			y, err := bitmapist.AndNot(a, b).IDs(t.Context())
			pyMust(t, err)
			return fmt.Sprintf("Not: %v, AndNot: %v", x, y)
		},
	},
	{
		name:   "rolled_back_rows_unmarked",
		input:  "create a row in a transaction that rolls back",
		python: "1 (the ORM mixin marks at flush)",
		want:   "0",
		run: func(t *testing.T, c *bitmapist.Client, mr *miniredis.Miniredis) string {
			db, err := gorm.Open(sqlite.Open("file:pythondiff?mode=memory"), &gorm.Config{Logger: logger.Discard})
			pyMust(t, err)
			pyMust(t, db.Use(bitmapistplugin.New(nil, bitmapistplugin.WithClient(c))))
			type Item struct {
				ID uint
				bitmapist.Tracked
			}
			pyMust(t, db.AutoMigrate(&Item{}))
			rollback := errors.New("roll back")
			err = db.Transaction(func(tx *gorm.DB) error {
				pyMust(t, tx.Create(&Item{}).Error)
				return rollback
			})
			if !errors.Is(err, rollback) {
				t.Fatalf("transaction: %v", err)
			}
			n, err := c.Events("item:created", bitmapist.Months, c.Now()).Count(t.Context())
			pyMust(t, err)
			return fmt.Sprint(n)
		},
	},
	{
		name:   "column_headers",
		input:  "daily table, headers of columns 0, 1 and 2",
		python: `"< 1", "+ 1 days", "+ 2 days"`,
		want:   `"0" "+1 day" "+2 days"`,
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			tab, err := cohort.Get(t.Context(), c, cohort.Query{Primary: "a", Secondary: "a",
				TimeGroup: bitmapist.Days, Rows: 1, Cols: 3})
			pyMust(t, err)
			return fmt.Sprintf("%q %q %q", tab.ColumnLabel(0), tab.ColumnLabel(1), tab.ColumnLabel(2))
		},
	},
	{
		name:   "bounded_tables",
		input:  "cohort request with num_rows=500",
		python: "computes it (no bound on rows, columns or additional events)",
		want:   `cohort: invalid query: num_rows: "500" is not a whole number in 1..400`,
		run: func(t *testing.T, c *bitmapist.Client, _ *miniredis.Miniredis) string {
			_, err := cohort.ParseQuery(url.Values{"primary_event": {"a"}, "secondary_event": {"b"}, "num_rows": {"500"}})
			return fmt.Sprint(err)
		},
	},
	{
		name:   "dashboard_escapes_and_has_no_cdn",
		input:  "an event named <b>x</b> in Redis, dashboard overview page",
		python: "writes the name into the page unescaped; loads Bootstrap and jQuery from CDNs",
		want:   "escaped true, raw false, external URLs false",
		run: func(t *testing.T, c *bitmapist.Client, mr *miniredis.Miniredis) string {
			pyMust(t, mr.Set("trackist_<b>x</b>_2025-1", "\x40"))
			rec := httptest.NewRecorder()
			web.Handler(c).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
			body, _ := io.ReadAll(rec.Body)
			s := string(body)
			// Scripts and style sheets from elsewhere (a plain link to the
			// project's page is not a load).
			ext := regexp.MustCompile(`<script[^>]+src="(https?:)?//|<link[^>]+href="(https?:)?//`).MatchString(s)
			if !strings.Contains(s, `<link rel="stylesheet" href="static/style.css">`) {
				t.Errorf("no local style sheet in the page")
			}
			return fmt.Sprintf("escaped %v, raw %v, external URLs %v",
				strings.Contains(s, "&lt;b&gt;x&lt;/b&gt;"), strings.Contains(s, "<b>x</b>"), ext)
		},
	},
}

// TestPythonDifferences runs the table of deliberate differences from the
// Python originals: each row's Go result is asserted.
func TestPythonDifferences(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range pythonDiffs {
		if seen[d.name] || d.input == "" || d.python == "" {
			t.Fatalf("row %q: duplicate name or missing input/python text", d.name)
		}
		seen[d.name] = true
		t.Run(d.name, func(t *testing.T) {
			mr := miniredis.RunT(t)
			rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
			t.Cleanup(func() { rdb.Close() })
			c := bitmapist.New(rdb, bitmapist.WithClock(func() time.Time { return pyDay(2025, 6, 1) }))
			if got := d.run(t, c, mr); got != d.want {
				t.Errorf("%s:\n got  %s\n want %s\n (Python: %s)", d.input, got, d.want, d.python)
			}
		})
	}
}

func pyDay(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func pyMust(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func pyMark(t *testing.T, c *bitmapist.Client, event string, at time.Time, ids ...uint64) {
	t.Helper()
	for _, id := range ids {
		pyMust(t, c.MarkEvent(context.Background(), event, id, bitmapist.At(at)))
	}
}

func cohortGrid(t *testing.T, c *bitmapist.Client, q cohort.Query) string {
	t.Helper()
	tab, err := cohort.Get(t.Context(), c, q)
	pyMust(t, err)
	var rows [][]int64
	for i := range tab.Cells {
		var r []int64
		for j := range tab.Cells[i] {
			r = append(r, tab.Cells[i][j].Count)
		}
		rows = append(rows, r)
	}
	return fmt.Sprint(rows)
}
