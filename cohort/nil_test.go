package cohort_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// callEveryMethod calls every exported pointer-receiver method of recv (a
// pointer) with zero arguments (io.Discard for an io.Writer) and fails the
// test if one panics. It returns the results by method name. Value-receiver
// methods are left out: calling one through a nil pointer panics in the
// language itself, before the method runs.
func callEveryMethod(t *testing.T, recv any) map[string][]reflect.Value {
	t.Helper()
	out := map[string][]reflect.Value{}
	v := reflect.ValueOf(recv)
	writer := reflect.TypeFor[io.Writer]()
	for i := range v.NumMethod() {
		m, name := v.Method(i), v.Type().Method(i).Name
		if _, byValue := v.Type().Elem().MethodByName(name); byValue {
			continue
		}
		args := make([]reflect.Value, m.Type().NumIn())
		for k := range args {
			switch in := m.Type().In(k); {
			case in == writer:
				args[k] = reflect.ValueOf(io.Discard)
			default:
				args[k] = reflect.Zero(in)
			}
		}
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Errorf("(%T).%s panics: %v", recv, name, p)
				}
			}()
			out[name] = m.Call(args)
		}()
	}
	return out
}

// TestNilSafety: every exported function and method of the package is
// safe on a nil client, a nil *Table, a nil *QueryError and a nil *Op,
// returning an error or a zero value as its doc says.
func TestNilSafety(t *testing.T) {
	ctx := context.Background()
	q := cohort.Query{Primary: "a", Secondary: "b", TimeGroup: bitmapist.Days, Rows: 2, Cols: 2}
	if tab, err := cohort.Get(ctx, nil, q); tab != nil || !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("Get(nil client) = %v, %v; want ErrNilClient", tab, err)
	}
	d := cohort.DatesQuery{Select1: "a", Select2: "b", TimeGroup: bitmapist.Days, NumResults: 2, NumOfRows: 1}
	if tab, err := cohort.DatesData(ctx, nil, d); tab != nil || !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("DatesData(nil client) = %v, %v; want ErrNilClient", tab, err)
	}
	if set, err := cohort.Chain(nil, "a", []cohort.Step{{Event: "b"}}, bitmapist.Days, time.Now()); set != nil || !errors.Is(err, cohort.ErrNilClient) {
		t.Errorf("Chain(nil client) = %v, %v; want ErrNilClient", set, err)
	}
	for _, v := range []map[string][]string{nil, {}} {
		if _, err := cohort.ParseQuery(v); !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("ParseQuery(%#v): %v, want ErrInvalidQuery", v, err)
		}
		if _, err := cohort.ParseQueryIn(v, nil); !errors.Is(err, cohort.ErrInvalidQuery) {
			t.Errorf("ParseQueryIn(%#v, nil): %v, want ErrInvalidQuery", v, err)
		}
	}

	// A nil *Table: zero values, null, ErrNilTable.
	var nilTable *cohort.Table
	res := callEveryMethod(t, nilTable)
	if got := res["RowLabel"][0].String(); got != "" {
		t.Errorf("RowLabel = %q", got)
	}
	if got := res["ColumnLabel"][0].String(); got != "" {
		t.Errorf("ColumnLabel = %q", got)
	}
	if v, ok := nilTable.Value(0, 0); v != 0 || ok {
		t.Errorf("Value = %v, %v", v, ok)
	}
	if row := nilTable.DatesRow(0); row != nil {
		t.Errorf("DatesRow = %v", row)
	}
	if b, err := nilTable.MarshalJSON(); string(b) != "null" || err != nil {
		t.Errorf("MarshalJSON = %s, %v; want null", b, err)
	}
	if b, err := json.Marshal(struct{ T *cohort.Table }{}); string(b) != `{"T":null}` || err != nil {
		t.Errorf("json.Marshal = %s, %v", b, err)
	}
	var buf bytes.Buffer
	if err := nilTable.WriteCSV(&buf); !errors.Is(err, cohort.ErrNilTable) || buf.Len() != 0 {
		t.Errorf("WriteCSV = %v, wrote %q; want ErrNilTable and nothing", err, buf.String())
	}

	var nilQE *cohort.QueryError
	res = callEveryMethod(t, nilQE)
	if got := res["Error"][0].String(); got != cohort.ErrInvalidQuery.Error() {
		t.Errorf("(*QueryError)(nil).Error() = %q", got)
	}
	if !errors.Is(nilQE, cohort.ErrInvalidQuery) {
		t.Error("(*QueryError)(nil) does not match ErrInvalidQuery")
	}
	var nilOp *cohort.Op
	callEveryMethod(t, nilOp)
	if err := nilOp.UnmarshalText([]byte("and")); !errors.Is(err, cohort.ErrInvalidQuery) {
		t.Errorf("(*Op)(nil).UnmarshalText: %v, want ErrInvalidQuery", err)
	}
}

// TestRaggedTable: a Table whose slices do not match its Query (built or
// decoded by hand) never makes a method panic; what exists is used.
func TestRaggedTable(t *testing.T) {
	day := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	for name, tab := range map[string]*cohort.Table{
		"zero":          {},
		"negative cols": {Query: cohort.Query{Cols: -3, Rows: -1}},
		"bad group":     {Query: cohort.Query{TimeGroup: 9, Cols: 2}, Dates: []time.Time{day}},
		"ragged": {
			Query: cohort.Query{TimeGroup: bitmapist.Days, Rows: 1, Cols: 3, AsPercent: true},
			Dates: []time.Time{day},
			Cells: [][]cohort.Cell{{{Count: 1, Fraction: 0.5, Valid: true}}, {{}, {Count: 2, Fraction: 1, Valid: true}}},
			// no Totals, no Averages, no ColTotals
		},
	} {
		t.Run(name, func(t *testing.T) {
			callEveryMethod(t, tab)
			for _, i := range []int{-1, 0, 1, 5} {
				tab.DatesRow(i)
				tab.RowLabel(i)
				tab.ColumnLabel(i)
				tab.Value(i, i)
			}
			if _, err := json.Marshal(tab); err != nil {
				t.Errorf("json.Marshal: %v", err)
			}
			var buf bytes.Buffer
			if err := tab.WriteCSV(&buf); err != nil {
				t.Errorf("WriteCSV: %v", err)
			}
			if name == "ragged" {
				want := "Date,Total,0,1,2\n2025-03-01,0,50\n,0,,100\n"
				if buf.String() != want {
					t.Errorf("CSV:\n%s\nwant\n%s", buf.String(), want)
				}
				if row := tab.DatesRow(1); len(row) != 4 || !row[0].(time.Time).IsZero() || row[1] != int64(0) || row[3] != 100.0 {
					t.Errorf("DatesRow(1) = %v", row)
				}
			}
			if name == "negative cols" && !strings.HasPrefix(buf.String(), "Date,Total\n") {
				t.Errorf("CSV %q", buf.String())
			}
		})
	}
}
