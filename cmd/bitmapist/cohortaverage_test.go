package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestCohortTextAverageMatchesJSON: the text table's average line shows
// the JSON's averages (one decimal, "%" with --percent; blank where the
// JSON has null), and when every average is null (every cohort empty, as
// a --first-time table whose users all started earlier, or every cell
// blank) there is no empty "average" line but a "no average: ..." line
// saying why. Before, such a table ended in an "average" line without
// any value.
func TestCohortTextAverageMatchesJSON(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, m := range [][]string{
		{"2024-12-28", "buy", "1"}, {"2024-12-29", "buy", "1"}, {"2024-12-30", "buy", "1"},
		{"2024-12-30", "buy", "2"}, {"2024-12-28", "buy", "3"}, {"2024-12-01", "ret", "1"},
	} {
		mustOK(t, cli(t, b, "", "mark", "--at", m[0], m[1], m[2]))
	}
	base := []string{"--start", "2024-12-29", "--now", "2024-12-30", "--rows", "2", "--cols", "2"}
	for _, tc := range []struct {
		args []string
		avgs []string // the text's average values; nil: no average line
		none string   // the reason line when avgs is nil
	}{
		{[]string{"buy", "--first-time"}, []string{"1.0"}, ""},
		{[]string{"buy", "--first-time", "--percent"}, []string{"100.0%"}, ""},
		{[]string{"buy"}, []string{"1.5", "0.0"}, ""},
		{[]string{"buy", "--first-time", "--segment", "buy@2024-12-28"}, nil,
			"no average: every cohort has 0 users (--first-time: no segment user's first buy fell in these days, so every cell is blank)"},
		{[]string{"buy", "--first-time", "--start", "2024-12-30", "--segment", "buy@2024-12-29"}, nil,
			"no average: every cohort has 0 users (--first-time: no segment user's first buy fell in these days, so every cell is blank)"},
		{[]string{"buy", "ret", "--blank-empty"}, nil, "no average: every cell is blank (--blank-empty: nobody returned in these days)"},
	} {
		args := append(append([]string{"cohort"}, base...), tc.args...)
		text := mustOK(t, cli(t, b, "", args...)).stdout
		var js struct{ Averages []*float64 }
		if err := json.Unmarshal([]byte(mustOK(t, cli(t, b, "", append(args, "--json")...)).stdout), &js); err != nil {
			t.Fatal(err)
		}
		var fromJSON []string
		for _, a := range js.Averages {
			if a != nil {
				s := strconv.FormatFloat(*a, 'f', 1, 64)
				if strings.Contains(strings.Join(args, " "), "--percent") {
					s += "%"
				}
				fromJSON = append(fromJSON, s)
			}
		}
		var avgLine, noneLine string
		for _, l := range lines(text) {
			switch {
			case strings.HasPrefix(l, "average"):
				avgLine = l
			case strings.HasPrefix(l, "no average"):
				noneLine = l
			}
		}
		got := strings.Fields(avgLine)
		if len(got) > 0 {
			got = got[1:]
		}
		if strings.Join(got, " ") != strings.Join(tc.avgs, " ") || strings.Join(got, " ") != strings.Join(fromJSON, " ") {
			t.Errorf("%q: average line %q, want %q; JSON averages %q", args, avgLine, tc.avgs, fromJSON)
		}
		if (tc.avgs == nil) != (avgLine == "") || noneLine != tc.none {
			t.Errorf("%q: average line %q, reason %q; want the reason %q\n%s", args, avgLine, noneLine, tc.none, text)
		}
	}
}
