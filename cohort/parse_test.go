package cohort_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

func TestParseQuery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want cohort.Query
	}{
		{"primary_event=user:logged_in&secondary_event=song_played",
			cohort.Query{Primary: "user:logged_in", Secondary: "song_played", TimeGroup: bitmapist.Days, Rows: 10, Cols: 10}},
		{"primary=a&secondary=b&time_group=weeks&rows=12&cols=8&as_percent=on&with_replacement=1&first_time=true" +
			"&on_or_after=yes&blank_empty=0&include_future=&primary_and=ios",
			cohort.Query{Primary: "a", PrimaryAnd: "ios", Secondary: "b", TimeGroup: bitmapist.Weeks, Rows: 12, Cols: 8,
				AsPercent: true, WithReplacement: true, FirstTime: true, OnOrAfter: true}},
		{"primary_event=a&secondary_event=b&additional=or:user:x&additional=and:c&num_rows=400&num_cols=1&time_group=Month",
			cohort.Query{Primary: "a", Secondary: "b", Additional: []cohort.Step{{Event: "user:x", Op: cohort.Or}, {Event: "c", Op: cohort.And}},
				TimeGroup: bitmapist.Months, Rows: 400, Cols: 1}},
		{"primary_event=a&secondary_event=b&additional_event=c&additional_op=and&additional_event=d&additional_op=OR" +
			"&now=2025-03-31T22:00:00%2B02:00&start=2025-01-02",
			cohort.Query{Primary: "a", Secondary: "b", Additional: []cohort.Step{{Event: "c", Op: cohort.And}, {Event: "d", Op: cohort.Or}},
				TimeGroup: bitmapist.Days, Rows: 10, Cols: 10,
				Now: time.Date(2025, 3, 31, 22, 0, 0, 0, time.FixedZone("", 2*3600)), Start: day(2025, 1, 2)}},
	} {
		v, err := url.ParseQuery(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cohort.ParseQuery(v)
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !got.Now.Equal(tc.want.Now) || !got.Start.Equal(tc.want.Start) {
			t.Errorf("%s: now %v start %v, want %v %v", tc.in, got.Now, got.Start, tc.want.Now, tc.want.Start)
		}
		got.Now, got.Start, tc.want.Now, tc.want.Start = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseQueryIn(t *testing.T) {
	loc := time.FixedZone("UTC-5", -5*3600)
	q, err := cohort.ParseQueryIn(url.Values{"primary": {"a"}, "secondary": {"b"},
		"start": {"2025-03-01"}, "now": {"2025-03-31T10:00"}}, loc)
	if err != nil {
		t.Fatal(err)
	}
	if !q.Start.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, loc)) || !q.Now.Equal(time.Date(2025, 3, 31, 10, 0, 0, 0, loc)) {
		t.Errorf("start %v now %v, want them in %v", q.Start, q.Now, loc)
	}
}

func TestParseQueryErrors(t *testing.T) {
	base := "primary_event=a&secondary_event=b"
	for _, tc := range []struct{ in, field string }{
		{"secondary_event=b", "primary_event"},
		{"primary_event=a", "secondary_event"},
		{base + "&num_rows=0", "num_rows"},
		{base + "&rows=401", "num_rows"},
		{base + "&num_cols=x", "num_cols"},
		{base + "&cols=-3", "num_cols"},
		{base + "&time_group=fortnights", "time_group"},
		{base + "&as_percent=maybe", "as_percent"},
		{base + "&first_time=2", "first_time"},
		{base + "&now=yesterday", "now"},
		{base + "&start=2025-13-01", "start"},
		{base + "&additional=xor:c", "additional"},
		{base + "&additional=c", "additional"},
		{base + "&additional=and:c&additional_event=d&additional_op=and", "additional"},
		{base + "&additional_event=d", "additional_op"},
		{base + "&additional_event=d&additional_op=nand", "additional_op"},
		{base + "&additional=and:bad%0Aname", "additional[0]"},
		{"primary_event=a%00b&secondary_event=b", "primary_event"},
		{base + "&primary_and=bitop_x", "primary_and"},
	} {
		v, err := url.ParseQuery(tc.in)
		if err != nil {
			t.Fatal(err)
		}
		_, err = cohort.ParseQuery(v)
		var qe *cohort.QueryError
		if !errors.Is(err, cohort.ErrInvalidQuery) || !errors.As(err, &qe) || qe.Field != tc.field {
			t.Errorf("%s: error %v, want a QueryError naming %s", tc.in, err, tc.field)
		}
	}
}

// TestQueryJSON: a flask-bitmapist style JSON request decodes into a Query.
func TestQueryJSON(t *testing.T) {
	body := `{"primary_event":"user:logged_in","secondary_event":"user:logged_in",
		"additional_events":[{"name":"song:play","op":"or"},{"name":"paid","op":"and"}],
		"time_group":"weeks","num_rows":8,"num_cols":6,"as_percent":true}`
	var q cohort.Query
	if err := json.Unmarshal([]byte(body), &q); err != nil {
		t.Fatal(err)
	}
	want := cohort.Query{Primary: "user:logged_in", Secondary: "user:logged_in",
		Additional: []cohort.Step{{Event: "song:play", Op: cohort.Or}, {Event: "paid", Op: cohort.And}},
		TimeGroup:  bitmapist.Weeks, Rows: 8, Cols: 6, AsPercent: true}
	if !reflect.DeepEqual(q, want) {
		t.Errorf("got %+v\nwant %+v", q, want)
	}
	out, err := json.Marshal(q)
	if err != nil {
		t.Fatal(err)
	}
	var back cohort.Query
	if err := json.Unmarshal(out, &back); err != nil || !reflect.DeepEqual(back, want) {
		t.Errorf("round trip %s: %+v, %v", out, back, err)
	}
	if err := json.Unmarshal([]byte(`{"additional_events":[{"name":"x","op":"nor"}]}`), &q); !errors.Is(err, cohort.ErrInvalidQuery) {
		t.Errorf("bad op: %v", err)
	}
}
