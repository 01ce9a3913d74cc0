package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// damages are the ways TestImportAccountsForEveryLine spoils a line of a
// good event log ("id,time,event").
var damages = []func(r *rand.Rand, line string) string{
	func(_ *rand.Rand, l string) string { return strings.Replace(l, ",", `,"`, 1) },   // quote never closed
	func(_ *rand.Rand, l string) string { return l + `"` },                            // bare quote at the end
	func(_ *rand.Rand, l string) string { return strings.Replace(l, ",", `1"2,`, 1) }, // bare quote inside
	func(_ *rand.Rand, l string) string { return l + ",extra" },                       // a field too many
	func(_ *rand.Rand, l string) string { return l[:strings.LastIndexByte(l, ',')] },  // a field short
	func(_ *rand.Rand, l string) string { return strings.Replace(l, "2024", "20x4", 1) },
	func(_ *rand.Rand, l string) string { return "\n" + l },           // a blank line before
	func(_ *rand.Rand, l string) string { return `"` + l },            // a quote opened at the start
	func(_ *rand.Rand, l string) string { return l + "\r" },           // CRLF
	func(r *rand.Rand, l string) string { return l[:r.IntN(len(l))] }, // cut short
}

// TestImportAccountsForEveryLine: random event logs with random damage.
// Every physical line is the header, a blank line, part of a marked row or
// part of exactly one rejected row; with a single damaged line, every other
// row is marked.
func TestImportAccountsForEveryLine(t *testing.T) {
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
	r := rand.New(rand.NewPCG(14, 14))
	for iter := range 400 {
		n := 1 + r.IntN(40)
		lines := make([]string, n)
		for i := range lines {
			lines[i] = fmt.Sprintf("%d,2024-%02d-%02d %02d:%02d:%02d,e%d", r.IntN(1000), 1+r.IntN(12), 1+r.IntN(28), r.IntN(24), r.IntN(60), r.IntN(60), r.IntN(3))
		}
		// detectRows rows and more must read the format of the good ones.
		nDamage := r.IntN(min(4, n))
		if iter%4 == 0 {
			nDamage = 1
		}
		damaged := map[int]bool{}
		for range nDamage {
			i := r.IntN(n)
			lines[i] = damages[r.IntN(len(damages))](r, lines[i])
			damaged[i] = true
		}
		text := "id,time,event\n" + strings.Join(lines, "\n")
		if r.IntN(2) == 0 {
			text += "\n"
		}
		physical := strings.Count(text, "\n")
		if !strings.HasSuffix(text, "\n") {
			physical++
		}
		sum, err := importCSV(context.Background(), c, strings.NewReader(text), importConfig{UserCol: "id", TimeCol: "time", EventCol: "event", Batch: 1 + r.IntN(10)})
		if err != nil {
			t.Fatalf("iteration %d: %v\n%s", iter, err, text)
		}
		covered := make([]int, physical+2)
		covered[1]++ // the header
		rejectedLines := 0
		for _, rj := range sum.Rejected {
			for l := rj.Line; l <= max(rj.End, rj.Line); l++ {
				if l < 2 || l > physical {
					t.Fatalf("iteration %d: rejected %s is outside lines 2..%d\n%s", iter, rj, physical, text)
				}
				covered[l]++
				rejectedLines++
			}
		}
		if got := 1 + sum.Blank + sum.MarkedLines + rejectedLines; got != physical {
			t.Fatalf("iteration %d: %d lines accounted for (1 header, %d blank, %d marked, %d rejected), the file has %d\nrejected %v\n%q",
				iter, got, sum.Blank, sum.MarkedLines, rejectedLines, physical, sum.Rejected, text)
		}
		for l, k := range covered {
			if k > 1 {
				t.Fatalf("iteration %d: line %d counted %d times: %v", iter, l, k, sum.Rejected)
			}
		}
		if sum.Marked+len(sum.Rejected) != sum.Rows {
			t.Fatalf("iteration %d: %d marked + %d rejected != %d rows", iter, sum.Marked, len(sum.Rejected), sum.Rows)
		}
		if nDamage == 1 && sum.Marked < n-1 {
			t.Fatalf("iteration %d: one damaged line, but only %d of %d rows marked: %v\n%s", iter, sum.Marked, n, sum.Rejected, text)
		}
	}
}

// One quote left open in the first of 1,000 rows loses that row only: the
// lines it swallowed are read again and marked, and the report names the
// span.
func TestImportOpenQuoteLosesOneRow(t *testing.T) {
	b := testutil.Miniredis(t)
	var in strings.Builder
	in.WriteString("uid,ts\n")
	for i := range 1000 {
		q := ""
		if i == 0 {
			q = `"`
		}
		fmt.Fprintf(&in, "%d,%s2024-05-%02d 10:00:00\n", i, q, 1+i%28)
	}
	r := cli(t, b, in.String(), "import", "--user-col", "uid", "--time-col", "ts", "--event", "e", "-")
	if r.code != exitRejects {
		t.Errorf("exit %d, want %d (rows rejected)", r.code, exitRejects)
	}
	for _, w := range []string{
		"rows:     1000 read, 999 marked, 1 rejected",
		"format:   2006-01-02 15:04:05 (detected",
		`line 2: bad CSV: extraneous or missing " in quoted-field: a quoted field opened on this line is never closed properly (it ran to line 1001); lines 3-1001 are read again on their own`,
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("summary lacks %q:\n%s", w, r.stdout)
		}
	}
	if r2 := cli(t, b, in.String(), "import", "--allow-rejects", "--user-col", "uid", "--time-col", "ts", "--event", "e", "-"); r2.code != 0 {
		t.Errorf("--allow-rejects: exit %d, %s", r2.code, r2.stderr)
	}
}

// Without --time-format the format is detected per file, from the first
// rows: every format of detectableFormats, and rows in another format are
// rejected saying which format the file was read in.
func TestImportDetectsTimeFormat(t *testing.T) {
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
	for _, tc := range []struct{ value, format string }{
		{"2024-01-02T15:04:05Z", "rfc3339"},
		{"2024-01-02T15:04:05.123+01:00", "rfc3339"},
		{"2024-01-02T15:04:05", "2006-01-02T15:04:05"},
		{"2024-01-02 15:04:05", "2006-01-02 15:04:05"},
		{"2024-01-02 15:04:05.5", "2006-01-02 15:04:05"},
		{"2024-01-02 15:04:05+00:00", "2006-01-02 15:04:05Z07:00"},
		{"2024-01-02 15:04", "2006-01-02 15:04"},
		{"2024-01-02", "2006-01-02"},
		{"1704207845", "unix"},
		{"1704207845000", "unixms"},
	} {
		in := "u,t\n1," + tc.value + "\n2," + tc.value + "\n3,02/01/2024\n"
		sum, err := importCSV(t.Context(), c, strings.NewReader(in), importConfig{UserCol: "u", TimeCol: "t", Event: "e"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.TimeFormat != tc.format || sum.Marked != 2 || len(sum.Rejected) != 1 ||
			!strings.Contains(sum.Rejected[0].Detail, `"02/01/2024" does not match `+tc.format) {
			t.Errorf("%s: format %q, marked %d, rejected %v; want %s, 2 and the last row", tc.value, sum.TimeFormat, sum.Marked, sum.Rejected, tc.format)
		}
		if !sum.First.Equal(sum.Last) || sum.First.Year() != 2024 || sum.First.YearDay() != 2 {
			t.Errorf("%s: marked at %v", tc.value, sum.First)
		}
	}
	sum, err := importCSV(t.Context(), c, strings.NewReader("u,t\n1,yesterday\n"), importConfig{UserCol: "u", TimeCol: "t", Event: "e"})
	if err != nil || sum.Marked != 0 || len(sum.Rejected) != 1 || !strings.Contains(sum.Rejected[0].Detail, "give --time-format") {
		t.Errorf("unknown format: %v, %+v", err, sum)
	}
}
