package cohort_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// steps returns n additional events e0, e1, ... joined by op.
func steps(n int, op cohort.Op) []cohort.Step {
	out := make([]cohort.Step, n)
	for i := range out {
		out[i] = cohort.Step{Event: fmt.Sprintf("e%d", i), Op: op}
	}
	return out
}

// wantQueryErr fails unless err is a *QueryError wrapping ErrInvalidQuery
// that names field.
func wantQueryErr(t *testing.T, what string, err error, field string) {
	t.Helper()
	var qe *cohort.QueryError
	if !errors.Is(err, cohort.ErrInvalidQuery) || !errors.As(err, &qe) || qe.Field != field {
		t.Errorf("%s: error %v, want a *QueryError naming %s", what, err, field)
	}
}

// TestQueryWorkBounds: a query asking for more additional events than
// MaxAdditional, or for more bitmaps than MaxBitmaps, is rejected by every
// entry point before any Redis command; queries at the bounds pass.
func TestQueryWorkBounds(t *testing.T) {
	b := testutil.Miniredis(t)
	c := newClient(b, time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC))
	rec := record(b)
	ctx := context.Background()
	base := cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Hours, Rows: cohort.MaxRows, Cols: cohort.MaxCols}

	tooMany := base
	tooMany.Additional = steps(cohort.MaxAdditional+1, cohort.Or)
	_, err := cohort.Get(ctx, c, tooMany)
	wantQueryErr(t, "Get, MaxAdditional+1 steps", err, "Additional")
	huge := base
	huge.Additional = steps(3000, cohort.Or) // the tester's request
	_, err = cohort.Get(ctx, c, huge)
	wantQueryErr(t, "Get, 3000 steps", err, "Additional")
	_, err = cohort.Chain(c, "a", steps(cohort.MaxAdditional+1, cohort.And), bitmapist.Days, time.Now())
	wantQueryErr(t, "Chain, MaxAdditional+1 steps", err, "Additional")

	// MaxBitmaps: 400 × 400 years with 20 events reads 12 × (400 + 799×21)
	// bitmaps.
	years := base
	years.TimeGroup = bitmapist.Years
	years.Additional = steps(cohort.MaxAdditional, cohort.And)
	_, err = cohort.Get(ctx, c, years)
	wantQueryErr(t, "Get, 400×400 years with MaxAdditional steps", err, "Additional")
	if err != nil && !strings.Contains(err.Error(), fmt.Sprint(12*(400+799*21))) {
		t.Errorf("error %q does not give the number of bitmaps", err)
	}
	if rt, cmds := rec.reset(); rt != 0 {
		t.Errorf("rejected queries sent %d round trips: %v", rt, cmds)
	}

	// Without additional events no table within MaxRows × MaxCols reaches
	// MaxBitmaps, whatever the group; MaxAdditional events pass on daily
	// tables of any size. ParseQuery validates like Get, without Redis.
	for _, g := range bitmapist.TimeGroups() {
		v := url.Values{"primary_event": {"a"}, "primary_and": {"p"}, "secondary_event": {"b"},
			"time_group": {g.String()}, "num_rows": {"400"}, "num_cols": {"400"}}
		if _, err := cohort.ParseQuery(v); err != nil {
			t.Errorf("%s, 400×400 with primary_and: %v", g, err)
		}
	}
	v := url.Values{"primary_event": {"a"}, "primary_and": {"p"}, "secondary_event": {"b"},
		"time_group": {"days"}, "num_rows": {"400"}, "num_cols": {"400"}}
	for i := range cohort.MaxAdditional {
		v.Add("additional", fmt.Sprintf("or:e%d", i))
	}
	if q, err := cohort.ParseQuery(v); err != nil || len(q.Additional) != cohort.MaxAdditional {
		t.Errorf("days, 400×400 with MaxAdditional events: %d steps, %v", len(q.Additional), err)
	}
	ok := base
	ok.Additional = steps(cohort.MaxAdditional, cohort.Or)
	if _, err := cohort.Get(ctx, c, ok); err != nil {
		t.Errorf("Get, 400×400 hours with MaxAdditional steps: %v", err)
	}
	if _, cmds := rec.reset(); len(cmds) > cohort.MaxBitmaps {
		t.Errorf("a table within the bounds sent %d commands", len(cmds))
	}
}

func TestParseQueryWorkBounds(t *testing.T) {
	base := url.Values{"primary_event": {"a"}, "secondary_event": {"b"}}
	with := func(k string, vals ...string) url.Values {
		v := url.Values{}
		for n, vs := range base {
			v[n] = vs
		}
		v[k] = vals
		return v
	}
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	long := strings.Repeat("x", bitmapist.MaxEventNameLen+1)
	for _, tc := range []struct {
		name  string
		v     url.Values
		field string
	}{
		{"packed", with("additional", many(cohort.MaxAdditional+1, "or:e%d")...), "additional"},
		{"packed 3000", with("additional", many(3000, "or:e%d")...), "additional"},
		{"form rows", func() url.Values {
			v := with("additional_event", many(cohort.MaxAdditional+1, "e%d")...)
			v["additional_op"] = many(cohort.MaxAdditional+1, "and")
			return v
		}(), "additional_event"},
		{"long primary", url.Values{"primary_event": {long}, "secondary_event": {"b"}}, "primary_event"},
		{"long secondary", url.Values{"primary_event": {"a"}, "secondary_event": {long}}, "secondary_event"},
		{"long primary_and", with("primary_and", long), "primary_and"},
		{"long additional", with("additional", "and:"+long), "additional[0]"},
		{"control character", with("additional", "and:a\x7fb"), "additional[0]"},
	} {
		_, err := cohort.ParseQuery(tc.v)
		wantQueryErr(t, tc.name, err, tc.field)
		if err != nil && len(err.Error()) > 200 {
			t.Errorf("%s: the error repeats the input: %d bytes", tc.name, len(err.Error()))
		}
	}
	// Names of MaxEventNameLen bytes are fine; names are trimmed.
	name := strings.Repeat("y", bitmapist.MaxEventNameLen)
	q, err := cohort.ParseQuery(url.Values{"primary_event": {name}, "secondary_event": {" b "}, "additional": {"and: c "}})
	if err != nil || q.Primary != name || q.Secondary != "b" || len(q.Additional) != 1 || q.Additional[0].Event != "c" {
		t.Errorf("ParseQuery: %+v, %v", q, err)
	}
}

// TestParseQueryEmptyMeansDefault: an empty (or blank) value is an absent
// parameter, as a form field left blank.
func TestParseQueryEmptyMeansDefault(t *testing.T) {
	absent, err := cohort.ParseQuery(url.Values{"primary_event": {"a"}, "secondary_event": {"b"}})
	if err != nil {
		t.Fatal(err)
	}
	if absent.TimeGroup != cohort.DefaultTimeGroup || absent.Rows != cohort.DefaultRows || absent.Cols != cohort.DefaultCols {
		t.Fatalf("defaults: %+v", absent)
	}
	for _, blank := range []string{"", " ", "\t"} {
		v := url.Values{"primary_event": {"a"}, "secondary_event": {"b"}}
		for _, k := range []string{"time_group", "num_rows", "num_cols", "now", "start", "primary_and",
			"as_percent", "with_replacement", "first_time", "on_or_after", "blank_empty", "include_future"} {
			v.Set(k, blank)
		}
		q, err := cohort.ParseQuery(v)
		if err != nil || !reflect.DeepEqual(q, absent) {
			t.Errorf("all parameters %q: %+v, %v; want %+v", blank, q, err, absent)
		}
	}
	_, err = cohort.ParseQuery(url.Values{"primary_event": {" "}, "secondary_event": {"b"}})
	wantQueryErr(t, "blank primary_event", err, "primary_event")
}

func TestCheckEventName(t *testing.T) {
	// Names Python bitmapist may have written: unusual, still readable.
	for _, n := range []string{"a", "user:active", "signed up", "plan[pro]", "a*b?", `back\slash`, "ünïcode",
		"nbsp\u00a0x", strings.Repeat("x", bitmapist.MaxEventNameLen)} {
		if err := cohort.CheckEventName(n); err != nil {
			t.Errorf("CheckEventName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range []string{"", "nul\x00", "new\nline", "del\x7f", "c1\u0085", "\xff\xfe", "bitop_AND_x",
		strings.Repeat("x", bitmapist.MaxEventNameLen+1)} {
		if err := cohort.CheckEventName(n); !errors.Is(err, bitmapist.ErrInvalidEventName) {
			t.Errorf("CheckEventName(%q) = %v, want ErrInvalidEventName", n, err)
		}
	}
}

// TestGetUnusualNames: events that Python bitmapist wrote under names the
// Go side would not write (spaces, glob characters) are read by Get,
// first-time cohorts (whose history SCAN must escape the glob characters)
// included.
func TestGetUnusualNames(t *testing.T) {
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, now)
		const primary, secondary = "signed up[1]", "plan[pro]*"
		// Python's mark_event: month, week and day bitmaps, by SETBIT.
		set := func(event string, at time.Time, ids ...int64) {
			for _, g := range []bitmapist.TimeGroup{bitmapist.Months, bitmapist.Weeks, bitmapist.Days} {
				for _, id := range ids {
					if err := b.Client.SetBit(ctx, c.Key(event, g, at), id, 1).Err(); err != nil {
						t.Fatal(err)
					}
				}
			}
		}
		d0, d1 := now.AddDate(0, 0, -1), now
		set(primary, now.AddDate(0, -2, 0), 2) // user 2 signed up before
		set(primary, d0, 1, 2, 3)
		set(secondary, d1, 1, 2, 9)
		// An event that the unescaped pattern "signed up[1]_*" matches
		// instead of primary's own keys.
		set("signed up1", now.AddDate(0, -2, 0), 1)

		q := cohort.Query{Primary: primary, Secondary: secondary, TimeGroup: bitmapist.Days, Rows: 1, Cols: 2,
			Start: d0, WithReplacement: true}
		tab, err := cohort.Get(ctx, c, q)
		if err != nil {
			t.Fatal(err)
		}
		if tab.Totals[0] != 3 || tab.Cells[0][1].Count != 2 {
			t.Errorf("recurring: totals %v, cells %v; want 3 users, 2 returning", tab.Totals, grid(tab))
		}
		q.FirstTime = true
		if tab, err = cohort.Get(ctx, c, q); err != nil {
			t.Fatal(err)
		}
		if tab.Totals[0] != 2 || tab.Cells[0][1].Count != 1 {
			t.Errorf("first time: totals %v, cells %v; want users 1 and 3, 1 returning", tab.Totals, grid(tab))
		}
		set2, err := cohort.Chain(c, secondary, []cohort.Step{{Event: primary, Op: cohort.Or}}, bitmapist.Days, d1)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := set2.Count(ctx); err != nil || n != 3 {
			t.Errorf("Chain count = %d, %v; want 3", n, err)
		}
	})
}
