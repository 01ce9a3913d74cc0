package main

import (
	"bytes"
	"compress/gzip"
	csvpkg "encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// badRowsCSV has one good row per kind of bad row, so the report can be
// checked line by line.
const badRowsCSV = `user,day,event
1,2024-12-30,signup
,2024-12-30,signup
2,2024-13-01,signup
4294967296,2024-12-30,signup
-5,2024-12-30,signup
3,2024-12-30
abc,2024-12-30,signup
4,,signup
5,2024-12-30,
6,2024-12-30,bad event
7,2024-12-31,signup,extra
100000,2024-12-31,login
8,"2024-12-31,login
`

func TestImportBadRows(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		rejects := filepath.Join(t.TempDir(), "rejects.csv")
		// A shorter file: the "bad CSV" row must not hide the rows before it.
		r := cli(t, b, badRowsCSV, "import", "--user-col", "user", "--time-col", "day", "--event-col", "event", "--rejects", rejects, "--batch", "2", "-")
		if r.code != exitRejects || !strings.Contains(r.stderr, "rows rejected: 11 of 13 rows, 2 marked") {
			t.Errorf("exit %d, stderr %q; want %d (rows rejected)", r.code, r.stderr, exitRejects)
		}
		want := []string{
			"line 3: missing id: column user is empty",
			`line 4: bad time: "2024-13-01" is not a valid date (month out of range)`,
			"line 5: id out of range: 4294967296 is above 268435455 (--max-id)",
			"line 6: id out of range: -5 is negative (ids are 0..268435455)",
			"line 7: wrong column count: 2 fields, the header has 3",
			`line 8: bad id: "abc" is not an integer (use --string-ids for string ids)`,
			"line 9: missing time: column day is empty",
			"line 10: missing event: column event is empty",
			`line 11: bad event name: "bad event" contains whitespace`,
			"line 12: wrong column count: 4 fields, the header has 3",
			`line 14: bad CSV: extraneous or missing " in quoted-field`,
		}
		for _, w := range want {
			if !strings.Contains(r.stdout, "    "+w+"\n") {
				t.Errorf("report lacks %q:\n%s", w, r.stdout)
			}
		}
		for _, w := range []string{
			"rows:     13 read, 2 marked, 11 rejected",
			"users:    2",
			"events:   login (1), signup (1)",
			"rejected: 11 (bad CSV: 1, bad event name: 1, bad id: 1, bad time: 1, id out of range: 2, missing event: 1, missing id: 1, missing time: 1, wrong column count: 2)",
		} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("summary lacks %q:\n%s", w, r.stdout)
			}
		}
		data, err := os.ReadFile(rejects)
		if err != nil {
			t.Fatal(err)
		}
		if got := lines(string(data)); len(got) != 12 || got[0] != "line,end_line,reason,detail,row" || got[1] != `3,3,missing id,column user is empty,",2024-12-30,signup"` {
			t.Errorf("rejects file:\n%s", data)
		}

		// Only the good rows were written.
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		ctx := t.Context()
		if ids, err := c.Day("signup", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)).IDs(ctx); err != nil || !slices.Equal(ids, []uint64{1}) {
			t.Errorf("signup ids = %v, %v", ids, err)
		}
		if names, err := c.EventNames(ctx, ""); err != nil || !slices.Equal(names, []string{"login", "signup"}) {
			t.Errorf("events = %v, %v", names, err)
		}
	})
}

// With --fail-on-reject every row is checked before anything is written:
// one bad row anywhere (first batch, last batch, the very last row, a row
// with an impossible year) means nothing is written, from a file, a
// gzipped file or stdin; with no bad row everything is written.
func TestImportFailOnReject(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		var good strings.Builder
		good.WriteString("user,day\n")
		for i := range 25 {
			fmt.Fprintf(&good, "%d,2024-12-%02d\n", i, 1+i%28)
		}
		bad := map[string]string{
			"first row":   strings.Replace(good.String(), "0,2024-12-01", ",2024-12-01", 1),
			"middle row":  strings.Replace(good.String(), "12,2024-12-13", "12,2024-13-13", 1),
			"last row":    good.String() + "x,2024-12-30\n",
			"year 0":      good.String() + "99,0000-12-30\n",
			"short row":   good.String() + "99\n",
			"bad CSV row": good.String() + "99,\"2024-12-30\n",
		}
		dir := t.TempDir()
		for name, csv := range bad {
			plain := filepath.Join(dir, "log.csv")
			gz := filepath.Join(dir, "log.csv.gz")
			writeFile(t, plain, csv, false)
			writeFile(t, gz, csv, true)
			rejects := filepath.Join(dir, "rejects.csv")
			for _, src := range []string{plain, gz, "-"} {
				r := cli(t, b, csv, "import", "--user-col", "user", "--time-col", "day", "--event", "e", "--batch", "4", "--fail-on-reject", "--rejects", rejects, src)
				if r.code != exitRejects || !strings.Contains(r.stderr, "rows rejected: 1 of ") || !strings.Contains(r.stderr, "(--fail-on-reject): nothing written") ||
					!strings.Contains(r.stdout, "nothing written") || !strings.Contains(r.stdout, "1 rejected") {
					t.Errorf("%s from %s: exit %d\nstdout %s\nstderr %s", name, src, r.code, r.stdout, r.stderr)
				}
				if got := testutil.Keys(t, b.Client, b.Prefix); len(got) != 0 {
					t.Errorf("%s from %s: keys written: %q", name, src, got)
				}
				if data, err := os.ReadFile(rejects); err != nil || strings.Count(string(data), "\n") != 2 {
					t.Errorf("%s from %s: rejects file %q, %v", name, src, data, err)
				}
			}
		}
		r := mustOK(t, cli(t, b, good.String(), "import", "--user-col", "user", "--time-col", "day", "--event", "e", "--batch", "4", "--fail-on-reject", "-"))
		if !strings.Contains(r.stdout, "25 read, 25 marked, 0 rejected") {
			t.Errorf("good file:\n%s", r.stdout)
		}
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		if n, err := c.Month("e", time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC)).Count(t.Context()); err != nil || n != 25 {
			t.Errorf("month count %d, %v", n, err)
		}
	})
}

// writeFile writes content to path, gzipped when gz is set.
func writeFile(t *testing.T, path, content string, gz bool) {
	t.Helper()
	var buf bytes.Buffer
	if gz {
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write([]byte(content))
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	} else {
		buf.WriteString(content)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// Outputs are opened before anything is written: a --rejects file that
// cannot be created fails the run with Redis untouched, with and without
// --fail-on-reject, whether rows are rejected or not.
func TestImportRejectsFileFirst(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		dir := t.TempDir()
		for _, path := range []string{"/nonexistent/dir/r.csv", dir, filepath.Join(dir, "missing", "r.csv")} {
			for _, extra := range [][]string{nil, {"--fail-on-reject"}} {
				for _, csv := range []string{"u,t\n1,2024-12-30\n", "u,t\n1,2024-12-30\nx,2024-12-30\n"} {
					args := append([]string{"import", "--user-col", "u", "--time-col", "t", "--event", "e", "--rejects", path}, extra...)
					r := cli(t, b, csv, append(args, "-")...)
					if r.code != exitError || !strings.HasPrefix(r.stderr, "bitmapist: --rejects: ") || r.stdout != "" {
						t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
					}
					if got := testutil.Keys(t, b.Client, b.Prefix); len(got) != 0 {
						t.Fatalf("%q: keys written: %q", args, got)
					}
				}
			}
		}
	})
}

func TestImportUsageErrors(t *testing.T) {
	b := testutil.Miniredis(t)
	csv := "user,day,event\n1,2024-12-30,e\n"
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--user-col", "user", "--time-col", "day", "-"}, exitUsage, "exactly one of"},
		{[]string{"--user-col", "user", "--time-col", "day", "--event", "e", "--event-col", "event", "-"}, exitUsage, "exactly one of"},
		{[]string{"--user-col", "uid", "--time-col", "day", "--event", "e", "-"}, exitUsage, `no column "uid" (--user-col); the columns are user, day, event`},
		{[]string{"--user-col", "user", "--time-col", "day", "--event", "e", "--time-format", "yyyy-mm-dd", "-"}, exitUsage, "not a Go time layout"},
		{[]string{"--user-col", "user", "--time-col", "day", "--event", "bad*name", "-"}, exitUsage, "invalid event name"},
		{[]string{"--user-col", "user", "--time-col", "day", "--event", "e", "no-such-file.csv"}, exitError, "no-such-file.csv"},
		{[]string{"--user-col", "user", "--time-col", "day", "--event", "e", "--delimiter", ";;", "-"}, exitUsage, "--delimiter"},
	}
	for _, tc := range tests {
		r := cli(t, b, csv, append([]string{"import"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%v: exit %d stderr %q; want %d with %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
	}
	if r := cli(t, b, "", "import", "--user-col", "u", "--time-col", "t", "--event", "e", "-"); r.code != exitError || !strings.Contains(r.stderr, "empty") {
		t.Errorf("empty file: exit %d stderr %q", r.code, r.stderr)
	}
}

func TestImportTimeFormats(t *testing.T) {
	b := testutil.Redis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
	ctx := t.Context()
	tests := []struct {
		format, value string
		day           time.Time // the day key the mark must be in
	}{
		{"rfc3339", "2021-01-01T00:30:00+02:00", time.Date(2020, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"unix", "1735535400", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)},
		{"unixms", "1735535400000", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)},
		{"02/01/2006 15:04", "30/12/2024 23:30", time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)},
		// Zone-less times are read in --tz, and days are cut there too.
		{"2006-01-02 15:04", "2025-03-01 00:30", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)},
	}
	for i, tc := range tests {
		event := "fmt" + string(rune('a'+i))
		args := []string{"import", "--user-col", "u", "--time-col", "t", "--event", event, "--time-format", tc.format, "--delimiter", ";", "-"}
		if i == len(tests)-1 {
			args = append([]string{"--tz", "Europe/Paris"}, args...)
		}
		mustOK(t, cli(t, b, "u;t\n5;"+tc.value+"\n", args...))
		if ok, err := c.Day(event, tc.day).Has(ctx, 5); err != nil || !ok {
			t.Errorf("%s %q: user 5 not in day %s (%v)", tc.format, tc.value, tc.day.Format("2006-01-02"), err)
		}
	}
}

func TestImportStringIDsGzip(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		r := mustOK(t, cli(t, b, "", "import", "--string-ids", "--user-col", "userid", "--time-col", "eventDate", "--event-col", "eventName", "testdata/gamelaunch.csv.gz"))
		for _, w := range []string{"rows:     29324 read, 29324 marked, 0 rejected", "users:    3994", "events:   gameStarted (25222), newPlayer (4102)", "times:    2016-04-27 00:00:00 .. 2016-05-27 00:00:00"} {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("summary lacks %q:\n%s", w, r.stdout)
			}
		}
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		if n, err := c.Users().Len(t.Context()); err != nil || n != 3994 {
			t.Errorf("id map holds %d strings (%v), want 3994", n, err)
		}
		// Importing again maps every string to the same offset: nothing changes.
		r = mustOK(t, cli(t, b, "", "import", "-q", "--string-ids", "--user-col", "userid", "--time-col", "eventDate", "--event-col", "eventName", "testdata/gamelaunch.csv.gz"))
		if n, err := c.Users().Len(t.Context()); err != nil || n != 3994 {
			t.Errorf("after a second import the id map holds %d strings (%v), want 3994", n, err)
		}
	})
}

func TestImportByteOrderMarkAndQuotedHeader(t *testing.T) {
	b := testutil.Miniredis(t)
	r := mustOK(t, cli(t, b, "\ufeff\"User\",When\n7,2024-12-30\n", "import", "--user-col", "user", "--time-col", "when", "--event", "e", "-"))
	if !strings.Contains(r.stdout, "1 marked, 0 rejected") {
		t.Errorf("summary:\n%s", r.stdout)
	}
}

func TestImportTabDelimited(t *testing.T) {
	b := testutil.Miniredis(t)
	r := mustOK(t, cli(t, b, "u\tt\n3\t2024-12-30\n", "import", "--user-col", "u", "--time-col", "t", "--event", "e", "--delimiter", `\t`, "-"))
	if !strings.Contains(r.stdout, "1 marked, 0 rejected") {
		t.Errorf("summary:\n%s", r.stdout)
	}
}

// Bad flags are refused before Redis is contacted: nothing listens on port 1.
func TestImportFlagsCheckedFirst(t *testing.T) {
	for _, args := range [][]string{
		{"--time-col", "t", "--event", "e", "-"},
		{"--user-col", "u", "--time-col", "t", "-"},
		{"--user-col", "u", "--time-col", "t", "--event", "e", "--time-format", "dd/mm", "-"},
	} {
		r := runCLI(t, "u,t\n1,2024-12-30\n", append([]string{"--redis", "redis://127.0.0.1:1", "import"}, args...)...)
		if r.code != exitUsage || strings.Contains(r.stderr, "cannot reach") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// A time whose year (in --tz) is outside 1..9999, or the zero time that the
// library reads as "now", is a rejected row in every time format; the
// bounds themselves are fine and their keys are listed and deleted.
func TestImportImpossibleTimes(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		tests := []struct {
			format string
			tz     string
			bad    []string
			good   []string
		}{
			{"unix", "UTC", []string{"99999999999999", "-62135596801", "253402300800", "-62135596800"}, []string{"-1", "253402300799", "-62135596799"}},
			{"unixms", "UTC", []string{"253402300800000", "-62135596800001", "-62135596800000"}, []string{"253402300799999", "-62135596799999"}},
			{"rfc3339", "UTC", []string{"0000-12-31T23:00:00Z", "0001-01-01T00:30:00+01:00", "0001-01-01T00:00:00Z"}, []string{"9999-12-31T23:59:59Z", "0001-01-01T00:00:01Z"}},
			{"rfc3339", "Pacific/Kiritimati", []string{"9999-12-31T12:00:00Z"}, []string{"9999-12-31T09:00:00Z"}},
			{"2006-01-02", "UTC", []string{"0000-01-01", "0001-01-01"}, []string{"0001-01-02", "9999-12-31"}},
		}
		for i, tc := range tests {
			event := fmt.Sprintf("t%d", i)
			var csv strings.Builder
			csv.WriteString("u;t\n")
			for j, v := range append(slices.Clone(tc.bad), tc.good...) {
				fmt.Fprintf(&csv, "%d;%s\n", j, v)
			}
			r := mustOK(t, cli(t, b, csv.String(), "--tz", tc.tz, "import", "--user-col", "u", "--time-col", "t", "--event", event, "--time-format", tc.format, "--delimiter", ";", "--show-rejected", "-1", "--allow-rejects", "-"))
			want := fmt.Sprintf("%d read, %d marked, %d rejected", len(tc.bad)+len(tc.good), len(tc.good), len(tc.bad))
			if !strings.Contains(r.stdout, want) || strings.Count(r.stdout, ": bad time: ") != len(tc.bad) {
				t.Errorf("%s in %s: want %q and %d bad times:\n%s", tc.format, tc.tz, want, len(tc.bad), r.stdout)
			}
			if r := mustOK(t, cli(t, b, "", "events", event)); strings.TrimSpace(r.stdout) != event {
				t.Errorf("%s: events %q", tc.format, r.stdout)
			}
			keys := testutil.Keys(t, b.Client, b.Prefix+event+"_")
			r = mustOK(t, cli(t, b, "", "delete", event))
			if want := fmt.Sprintf("deleted %d keys of %s", len(keys), event); strings.TrimSpace(r.stdout) != want || len(keys) == 0 {
				t.Errorf("%s: %q, want %q", tc.format, r.stdout, want)
			}
		}
		if got := testutil.Keys(t, b.Client, b.Prefix); len(got) != 0 {
			t.Errorf("keys left: %q", got)
		}
	})
}

// A rejected row echoes at most maxEcho characters of a bad value, in the
// summary and in the --rejects file, whatever the reason.
func TestImportClipsEchoedValues(t *testing.T) {
	b := testutil.Miniredis(t)
	huge := strings.Repeat("x", 5<<20)
	csv := "u,t,e\n" +
		huge + ",2024-12-30,ev\n" + // bad id
		"1," + huge + ",ev\n" + // bad time
		"2,2024-12-30," + huge + "\n" + // bad event name (too long)
		"3,2024-12-30,a b" + huge + "\n" + // bad event name (whitespace)
		strings.Repeat("9", 1<<20) + ",2024-12-30,ev\n" // id out of range
	rejects := filepath.Join(t.TempDir(), "rejects.csv")
	r := mustOK(t, cli(t, b, csv, "import", "--allow-rejects", "--user-col", "u", "--time-col", "t", "--event-col", "e", "--rejects", rejects, "-"))
	data, err := os.ReadFile(rejects)
	if err != nil {
		t.Fatal(err)
	}
	// In the rejects file the row column is the row itself, cut at
	// maxRowEcho bytes; the other columns obey the same bound as the summary.
	var detail strings.Builder
	recs, err := csvpkg.NewReader(strings.NewReader(string(data))).ReadAll()
	if err != nil || len(recs) != 6 {
		t.Fatalf("rejects file: %d records, %v", len(recs), err)
	}
	for _, rec := range recs[1:] {
		if n := len(rec[4]); n > maxRowEcho+len("…") || n < maxRowEcho || !strings.HasSuffix(rec[4], "…") {
			t.Errorf("rejects file: row of %d bytes %.40q, want %d and a final …", n, rec[4], maxRowEcho)
		}
		detail.WriteString(strings.Join(rec[:4], ",") + "\n")
	}
	for name, out := range map[string]string{"summary": r.stdout, "rejects file": detail.String()} {
		if !strings.Contains(out, "5 rejected") && name == "summary" {
			t.Errorf("summary:\n%s", out)
		}
		for _, l := range lines(out) {
			if len(l) > 300 {
				t.Errorf("%s line of %d bytes: %.120s", name, len(l), l)
			}
		}
		for _, reason := range []string{reasonBadID, reasonBadTime, reasonBadEvent, reasonIDRange} {
			if !strings.Contains(out, reason) {
				t.Errorf("%s lacks %q", name, reason)
			}
		}
		if strings.Count(out, "…") != 5 {
			t.Errorf("%s: %d clipped values, want 5:\n%s", name, strings.Count(out, "…"), out)
		}
	}
	// The same on the command line.
	for _, args := range [][]string{{"mark", "ev", huge}, {"mark", "--at", huge, "ev", "1"}, {"mark", huge, "1"}, {"count", "--op", huge, "ev"}, {"delete", "a b" + huge}} {
		r := cli(t, b, "", args...)
		if r.code != exitUsage || len(r.stderr) > 300 || !strings.Contains(r.stderr, "…") && !strings.Contains(r.stderr, `"...`) {
			t.Errorf("%.20q: exit %d, stderr %.200q", args, r.code, r.stderr)
		}
	}
}

// TestImportTimesInPeriodZone: the summary's times line shows the first and
// last times in the zone the periods are computed in (--tz, default UTC),
// named, so that it names the day the marks were counted on, not the
// input's own offset.
func TestImportTimesInPeriodZone(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, tc := range []struct {
			tz, in, want, day string
		}{
			{"", "1,2024-01-02T01:00:00+02:00,tzx\n2,2024-01-02T03:00:00+02:00,tzx\n", "times:    2024-01-01 23:00:00 .. 2024-01-02 01:00:00 (UTC, the zone of the periods)", "2024-01-01"},
			{"Europe/Paris", "1,2024-01-01T23:30:00Z,tzy\n2,2024-01-02T23:30:00Z,tzy\n", "times:    2024-01-02 00:30:00 .. 2024-01-03 00:30:00 (Europe/Paris, the zone of the periods)", "2024-01-02"},
		} {
			var tz []string
			if tc.tz != "" {
				tz = []string{"--tz", tc.tz}
			}
			args := append(slices.Clone(tz), "import", "--user-col", "u", "--time-col", "t", "--event-col", "e", "-")
			r := mustOK(t, cli(t, b, "u,t,e\n"+tc.in, args...))
			if !strings.Contains(r.stdout, tc.want+"\n") {
				t.Errorf("tz %q: summary lacks %q:\n%s", tc.tz, tc.want, r.stdout)
			}
			ev := tc.in[strings.LastIndexByte(tc.in[:len(tc.in)-1], ',')+1 : len(tc.in)-1]
			c := mustOK(t, cli(t, b, "", append(slices.Clone(tz), "count", "--at", tc.day, ev)...))
			if strings.TrimSpace(c.stdout) != "1" {
				t.Errorf("tz %q: count of %s on %s = %q, want 1 (user 1, the first time shown)", tc.tz, ev, tc.day, c.stdout)
			}
		}
	})
}
