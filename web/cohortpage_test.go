package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// seedConformance records flask-bitmapist's own get_cohort test case:
// daily, now = day 3 of 4, events popped and locked.
func seedConformance(t *testing.T, c *bitmapist.Client, now time.Time) {
	t.Helper()
	d := func(k int) time.Time { return now.AddDate(0, 0, k-3) }
	span := func(lo, hi uint64) []uint64 {
		var ids []uint64
		for id := lo; id <= hi; id++ {
			ids = append(ids, id)
		}
		return ids
	}
	mark(t, c, "popped", d(0), span(100, 105)...)
	mark(t, c, "popped", d(1), span(106, 112)...)
	mark(t, c, "popped", d(3), span(113, 117)...)
	mark(t, c, "locked", d(0), span(100, 104)...)
	mark(t, c, "locked", d(1), 100, 101, 102, 106, 107)
	mark(t, c, "locked", d(2), 107, 108)
	mark(t, c, "locked", d(3), 105, 106, 107, 109, 110, 113, 114, 115, 116)
}

// cellRE matches a heatmap cell and captures row, column, the optional
// data-count, the class and the text.
var cellRE = regexp.MustCompile(`<td class="cell (h\d+|none)" data-row="(\d+)" data-col="(\d+)"(?: data-count="(\d+)" data-fraction="[^"]*")? title="[^"]*">([^<]*)</td>`)

// pageCell is one heatmap cell as rendered.
type pageCell struct {
	class, text string
	count       int64 // -1 without data-count
}

func pageCells(t *testing.T, body string) map[[2]int]pageCell {
	t.Helper()
	out := map[[2]int]pageCell{}
	for _, m := range cellRE.FindAllStringSubmatch(body, -1) {
		i, _ := strconv.Atoi(m[2])
		j, _ := strconv.Atoi(m[3])
		n := int64(-1)
		if m[4] != "" {
			n, _ = strconv.ParseInt(m[4], 10, 64)
		}
		out[[2]int{i, j}] = pageCell{class: m[1], text: html.UnescapeString(m[5]), count: n}
	}
	return out
}

func TestCohortConformance(t *testing.T) {
	// The reference's own case, through the page, the JSON and the CSV.
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		now := time.Date(2025, 3, 26, 12, 0, 0, 0, time.UTC)
		c := newClient(b, now)
		seedConformance(t, c, now)
		h := Handler(c)
		const n = -1 // no value
		want := [][]int64{{5, 0, 0, 1}, {2, 1, 2, n}, {n, n, n, n}, {4, n, n, n}}
		wantTotals := []int64{6, 7, 0, 5}
		q := "primary_event=popped&secondary_event=locked&time_group=days&num_rows=4&num_cols=4"

		code, body := get(t, h, "/cohort?"+q)
		if code != http.StatusOK {
			t.Fatalf("status %d:\n%s", code, body)
		}
		cells := pageCells(t, body)
		if len(cells) != 16 {
			t.Fatalf("%d cells in the page, want 16", len(cells))
		}
		for i, row := range want {
			for j, v := range row {
				got := cells[[2]int{i, j}]
				switch {
				case v == n && (got.class != "none" || got.text != "–" || got.count != -1):
					t.Errorf("cell %d,%d = %+v, want an empty cell", i, j, got)
				case v != n && (got.count != v || got.text != strconv.FormatInt(v, 10)):
					t.Errorf("cell %d,%d = %+v, want %d", i, j, got, v)
				case v == 0 && got.class != "h0":
					t.Errorf("cell %d,%d: class %s, want h0 (zero, not empty)", i, j, got.class)
				}
			}
		}
		for i, tot := range wantTotals {
			if !strings.Contains(body, fmt.Sprintf(`data-total="%d"`, tot)) {
				t.Errorf("row %d total %d missing", i, tot)
			}
		}
		for _, s := range []string{"2025-03-23", "2025-03-26", "&#43;1 day", "&#43;3 days", `href="cohort.json?` + html.EscapeString(q) + `"`} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}
		// Average row: column 0 is (5+2+4)/3 = 3.7; column 3 is 1.
		if !regexp.MustCompile(`data-avg="0" title="[^"]*">3\.7</td>`).MatchString(body) ||
			!regexp.MustCompile(`data-avg="3" title="[^"]*">1\.0</td>`).MatchString(body) {
			t.Error("average row wrong")
		}

		code, body = get(t, h, "/cohort.json?"+q)
		if code != http.StatusOK {
			t.Fatalf("json status %d: %s", code, body)
		}
		var js struct {
			Cohort    [][]*float64 `json:"cohort"`
			RowTotals []int64      `json:"row_totals"`
			Total     int64        `json:"total"`
		}
		if err := json.Unmarshal([]byte(body), &js); err != nil {
			t.Fatal(err)
		}
		for i, row := range want {
			for j, v := range row {
				g := js.Cohort[i][j]
				if (v == n) != (g == nil) || (g != nil && *g != float64(v)) {
					t.Errorf("json cell %d,%d = %v, want %d", i, j, g, v)
				}
			}
		}
		if !reflect.DeepEqual(js.RowTotals, wantTotals) || js.Total != 18 {
			t.Errorf("json totals %v %d", js.RowTotals, js.Total)
		}

		code, body = get(t, h, "/cohort.csv?"+q)
		if code != http.StatusOK {
			t.Fatalf("csv status %d: %s", code, body)
		}
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		wantCSV := [][]string{
			{"Date", "Total", "0", "1", "2", "3"},
			{"2025-03-23", "6", "5", "0", "0", "1"},
			{"2025-03-24", "7", "2", "1", "2", ""},
			{"2025-03-25", "0", "", "", "", ""},
			{"2025-03-26", "5", "4", "", "", ""},
		}
		if !reflect.DeepEqual(recs, wantCSV) {
			t.Errorf("csv = %q, want %q", recs, wantCSV)
		}
	})
}

func TestCohortCSVHeaders(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, `a"b;c`, demoNow, 1)
	mark(t, c, "b", demoNow, 1)
	rec := serve(Handler(c), "/cohort.csv?"+url.Values{"primary_event": {`a"b;c`}, "secondary_event": {"b"}}.Encode())
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		rec.Header().Get("Content-Disposition") != `attachment; filename="cohort-a_b_c-days.csv"` {
		t.Errorf("%d %v", rec.Code, rec.Header())
	}
}

// TestCohortMatchesGet checks every cell of a table with additional events
// against cohort.Get, in counts and in percent.
func TestCohortMatchesGet(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		seedDemo(t, c, demoNow, 6)
		for _, pct := range []bool{false, true} {
			v := url.Values{
				"primary_event": {evSignup}, "secondary_event": {evActive}, "time_group": {"weeks"},
				"num_rows": {"6"}, "num_cols": {"5"},
				// a blank form row between two filled ones is ignored
				"additional_event": {evSong, "", evPlaylist}, "additional_op": {"and", "and", "or"},
			}
			if pct {
				v.Set("as_percent", "1")
			}
			code, body := get(t, Handler(c), "/cohort?"+v.Encode())
			if code != http.StatusOK {
				t.Fatalf("status %d: %s", code, body)
			}
			table, err := cohort.Get(context.Background(), c, cohort.Query{
				Primary: evSignup, Secondary: evActive, TimeGroup: bitmapist.Weeks, Rows: 6, Cols: 5,
				Additional: []cohort.Step{{Event: evSong, Op: cohort.And}, {Event: evPlaylist, Op: cohort.Or}},
				AsPercent:  pct,
			})
			if err != nil {
				t.Fatal(err)
			}
			cells := pageCells(t, body)
			valid := 0
			for i, row := range table.Cells {
				if !strings.Contains(body, ">"+table.RowLabel(i)+"<") {
					t.Errorf("row label %s missing", table.RowLabel(i))
				}
				for j, want := range row {
					got := cells[[2]int{i, j}]
					if !want.Valid {
						if got.class != "none" {
							t.Errorf("cell %d,%d = %+v, want empty", i, j, got)
						}
						continue
					}
					valid++
					text := thousands(want.Count)
					if pct {
						text = fmt.Sprintf("%.1f%%", want.Fraction*100)
					}
					if got.count != want.Count || got.text != text {
						t.Errorf("cell %d,%d = %+v, want %d %q", i, j, got, want.Count, text)
					}
				}
			}
			if valid < 15 || table.Totals[0] < 200 {
				t.Fatalf("demo data too thin: %d valid cells, %v totals", valid, table.Totals)
			}
			if !strings.Contains(body, "<svg") || !strings.Contains(body, `class="line"`) {
				t.Error("no retention curve")
			}
			// The submitted rows stay in the form, plus blank rows.
			for _, s := range []string{"<option selected>" + evSong + "</option>", "<option selected>" + evPlaylist + "</option>", `<option value="or" selected>OR</option>`} {
				if !strings.Contains(body, s) {
					t.Errorf("form lost %q", s)
				}
			}
			if n := strings.Count(body, `name="additional_event"`); n != 2+blankSteps {
				t.Errorf("%d additional event rows, want %d", n, 2+blankSteps)
			}
		}
	})
}

func TestCohortFormOnly(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	mark(t, c, "zeta", demoNow, 1)
	mark(t, c, "alpha", demoNow, 1)
	code, body := get(t, Handler(c), "/cohort")
	if code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	if strings.Contains(body, `id="heatmap"`) {
		t.Error("heatmap without a query")
	}
	for _, s := range []string{`name="primary_event"`, `name="secondary_event"`, `name="time_group"`, `name="num_rows"`, `name="num_cols"`,
		`name="as_percent"`, `name="with_replacement"`, `name="first_time"`, `name="on_or_after"`, `name="additional_op"`,
		"<option selected>alpha</option>", "<option>zeta</option>", `value="10"`} {
		if !strings.Contains(body, s) {
			t.Errorf("form lacks %q", s)
		}
	}
}

func TestCohortUnknownEvents(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		c := newClient(b, demoNow)
		mark(t, c, "real", demoNow, 1, 2)
		mark(t, c, "user:signed_up", demoNow, 1)
		h := Handler(c)
		q := "primary_event=user:signedup&secondary_event=real&additional_event=gone&additional_op=or&time_group=weeks&num_rows=3&num_cols=3"
		code, body := get(t, h, "/cohort?"+q)
		if code != http.StatusNotFound {
			t.Fatalf("status %d, want 404: %s", code, body)
		}
		if strings.Contains(body, `id="heatmap"`) {
			t.Error("a table of zeros for events that have no data")
		}
		for _, s := range []string{`data-missing="user:signedup"`, `data-missing="gone"`, b.Prefix, "Did you mean"} {
			if !strings.Contains(body, s) {
				t.Errorf("page lacks %q", s)
			}
		}
		if strings.Contains(body, `data-missing="real"`) {
			t.Error("a recorded event is reported missing")
		}
		// The suggestion links to the same query with the name replaced.
		var link string
		for _, l := range hrefs(body) {
			if strings.Contains(l, "user%3Asigned_up") {
				link = l
			}
		}
		if link == "" {
			t.Fatalf("no suggestion link to user:signed_up in %q", hrefs(body))
		}
		u, err := url.Parse(link)
		if err != nil {
			t.Fatal(err)
		}
		if got := u.Query(); got.Get("primary_event") != "user:signed_up" || got.Get("secondary_event") != "real" || got.Get("additional_event") != "gone" || got.Get("num_rows") != "3" {
			t.Errorf("suggestion link %q", link)
		}
		if !strings.Contains(body, "<option selected>user:signedup</option>") {
			t.Error("the unknown event is not kept in the form")
		}
		// JSON and CSV refuse the same way (404, no table of zeros):
		// TestCohortAPIRefusals checks them in detail.
		code, body = get(t, h, "/cohort.json?"+q)
		if code != http.StatusNotFound || strings.Contains(body, `"total"`) {
			t.Errorf("json: %d %s", code, body)
		}
	})
}

func TestCohortBadInput(t *testing.T) {
	c := newClient(testutil.Miniredis(t), demoNow)
	h := Handler(c)
	base := "primary_event=a&secondary_event=b"
	for _, tc := range []struct{ query, field string }{
		{"secondary_event=b", "primary_event"},
		{"primary_event=a", "secondary_event"},
		{base + "&num_rows=0", "num_rows"},
		{base + "&num_rows=401", "num_rows"},
		{base + "&num_rows=ten", "num_rows"},
		{base + "&num_cols=401", "num_cols"},
		{base + "&num_cols=1.5", "num_cols"},
		{base + "&num_cols=-3", "num_cols"},
		{base + "&time_group=fortnights", "time_group"},
		{base + "&as_percent=maybe", "as_percent"},
		{base + "&additional_event=c&additional_op=xor", "additional_op"},
		{base + "&additional_event=c", "additional_op"},
		{"primary_event=a%00b&secondary_event=b", "primary_event"},
		{base + "&additional_event=&additional_op=and&additional_event=a%0Ab&additional_op=and", "additional[1]"},
		// Periods outside the years 1..9999, which cohort.Get rejects.
		{base + "&start=9999-12-31&num_rows=2&num_cols=2", "start"},
		{base + "&now=0001-01-02&num_rows=5", "now"},
	} {
		for _, path := range []string{"/cohort", "/cohort.json", "/cohort.csv"} {
			code, body := get(t, h, path+"?"+tc.query)
			if code != http.StatusBadRequest {
				t.Errorf("%s?%s: status %d, want 400", path, tc.query, code)
				continue
			}
			switch path {
			case "/cohort":
				if !strings.Contains(body, `role="alert" id="form-error">`+html.EscapeString(tc.field)+":") {
					t.Errorf("%s?%s: message does not name %s:\n%s", path, tc.query, tc.field, body)
				}
				if !strings.Contains(body, `<form class="query"`) {
					t.Errorf("%s?%s: no form to correct the input", path, tc.query)
				}
			case "/cohort.json":
				var e struct{ Error, Field string }
				if err := json.Unmarshal([]byte(body), &e); err != nil || e.Field != tc.field || !strings.HasPrefix(e.Error, tc.field+": ") {
					t.Errorf("%s?%s: %s (%v)", path, tc.query, body, err)
				}
			default:
				if !strings.HasPrefix(body, tc.field+": ") {
					t.Errorf("%s?%s: %s", path, tc.query, body)
				}
			}
		}
	}
	// The field in error is marked in the form.
	_, body := get(t, h, "/cohort?"+base+"&num_cols=0")
	if !strings.Contains(body, `name="num_cols" value="0" aria-invalid="true"`) {
		t.Error("num_cols not marked invalid")
	}
	_, body = get(t, h, "/cohort?"+base+"&additional_event=&additional_op=and&additional_event=a%0Ab&additional_op=and")
	if strings.Count(body, `aria-invalid="true"`) != 1 || !strings.Contains(body, `aria-label="additional event 1"`) {
		t.Error("additional event row not marked invalid")
	}
}

func TestEscaping(t *testing.T) {
	const evil = `x"><script>alert(1)</script>`
	b := testutil.Miniredis(t)
	c := newClient(b, demoNow)
	// Marking refuses '/' (bitmapist-server could not list it); Python may
	// have written it all the same.
	for _, g := range []bitmapist.TimeGroup{bitmapist.Days, bitmapist.Weeks, bitmapist.Months} {
		for _, id := range []int64{1, 2} {
			if err := b.Client.SetBit(t.Context(), c.Key(evil, g, demoNow), id, 1).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	mark(t, c, "ok", demoNow, 1)
	h := Handler(c, WithTitle(`<b>T</b>`))
	escaped := html.EscapeString(evil)
	for _, target := range []string{
		"/",
		"/cohort",
		"/cohort?" + url.Values{"primary_event": {evil}, "secondary_event": {evil}, "additional_event": {evil}, "additional_op": {"or"}}.Encode(),
		"/cohort?" + url.Values{"primary_event": {evil}, "secondary_event": {"ok"}, "num_rows": {evil}}.Encode(),
	} {
		code, body := get(t, h, target)
		if code != http.StatusOK && code != http.StatusBadRequest {
			t.Fatalf("%s: status %d", target, code)
		}
		if strings.Contains(body, "<script") || strings.Contains(body, "<b>T</b>") {
			t.Errorf("%s: unescaped markup in the page:\n%s", target, body)
		}
		if !strings.Contains(body, escaped) && !strings.Contains(body, "x&#34;&gt;&lt;script&gt;") {
			t.Errorf("%s: the event name is not shown as text", target)
		}
	}
}
