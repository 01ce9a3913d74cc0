package main

import (
	"compress/gzip"
	"encoding/csv"
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// eventLog is a CSV log read independently of the library:
// days[event][user] is the set of days (UTC) the user did the event.
type eventLog map[string]map[string]map[time.Time]bool

// readLog reads a CSV with a header from r; user, date and event are the
// column indexes (event < 0: every row is event name fixed).
func readLog(t *testing.T, r io.Reader, user, date, event int, fixed string) eventLog {
	t.Helper()
	recs, err := csv.NewReader(r).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	l := eventLog{}
	for _, rec := range recs[1:] {
		if rec[user] == "" {
			continue
		}
		d, err := time.Parse("2006-01-02", rec[date])
		if err != nil {
			t.Fatal(err)
		}
		ev := fixed
		if event >= 0 {
			ev = rec[event]
		}
		if l[ev] == nil {
			l[ev] = map[string]map[time.Time]bool{}
		}
		if l[ev][rec[user]] == nil {
			l[ev][rec[user]] = map[time.Time]bool{}
		}
		l[ev][rec[user]][d] = true
	}
	return l
}

func gameLog(t *testing.T) eventLog {
	t.Helper()
	f, err := os.Open("testdata/gamelaunch.csv.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	return readLog(t, zr, 0, 1, 2, "")
}

// active returns the users who did event on a day in [from, to).
func (l eventLog) active(event string, from, to time.Time) map[string]bool {
	out := map[string]bool{}
	for u, days := range l[event] {
		for d := range days {
			if !d.Before(from) && d.Before(to) {
				out[u] = true
				break
			}
		}
	}
	return out
}

// first returns each user's first day of event.
func (l eventLog) first(event string) map[string]time.Time {
	out := map[string]time.Time{}
	for u, days := range l[event] {
		for d := range days {
			if f, ok := out[u]; !ok || d.Before(f) {
				out[u] = d
			}
		}
	}
	return out
}

func day(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }

type trendJSON struct {
	Event     string `json:"event"`
	TimeGroup string `json:"time_group"`
	Periods   []struct {
		Label    string    `json:"label"`
		Start    time.Time `json:"start"`
		Count    int64     `json:"count"`
		WAU      *int64    `json:"wau"`
		MAU      *int64    `json:"mau"`
		Previous struct {
			Label string `json:"label"`
			Count int64  `json:"count"`
		} `json:"previous"`
	} `json:"periods"`
}

type lifecycleJSON struct {
	Periods []struct {
		Label                                 string
		Start                                 time.Time
		New, Returning, Resurrecting, Dormant int64
	} `json:"periods"`
}

type stickinessJSON struct {
	Buckets []struct {
		Periods int   `json:"periods"`
		Users   int64 `json:"users"`
	} `json:"buckets"`
}

type funnelJSON struct {
	Steps []struct {
		Event string `json:"event"`
		Users int64  `json:"users"`
	} `json:"steps"`
	Rows []struct {
		Label string `json:"label"`
		Steps []struct {
			Event string `json:"event"`
			Users int64  `json:"users"`
		} `json:"steps"`
	} `json:"rows"`
}

func decode(t *testing.T, r result, v any) {
	t.Helper()
	if err := jsonUnmarshal(mustOK(t, r).stdout, v); err != nil {
		t.Fatalf("%v in %.300s", err, r.stdout)
	}
}

// checkLifecycle compares a lifecycle computed by the command with one
// computed from the log: periods start at from and advance by next;
// prevStart is the start of the period before from.
func checkLifecycle(t *testing.T, l eventLog, event string, got lifecycleJSON, prevStart, from time.Time, next func(time.Time) time.Time) {
	t.Helper()
	first := l.first(event)
	p := from
	for i, g := range got.Periods {
		end := next(p)
		cur, prev := l.active(event, p, end), l.active(event, prevStart, p)
		var n, ret, res, dor int64
		for u := range cur {
			switch {
			case prev[u]:
				ret++
			case first[u].Before(prevStart):
				res++
			default:
				n++
			}
		}
		for u := range prev {
			if !cur[u] {
				dor--
			}
		}
		if g.New != n || g.Returning != ret || g.Resurrecting != res || g.Dormant != dor || !g.Start.Equal(p) {
			t.Errorf("%s period %d (%s): got %+v, want new %d returning %d resurrecting %d dormant %d", event, i, p.Format("2006-01-02"), g, n, ret, res, dor)
		}
		prevStart, p = p, end
	}
}

// TestReportsOnGameLaunch imports the game-launch log (string ids) and
// checks every report against values computed from the CSV here.
func TestReportsOnGameLaunch(t *testing.T) {
	l := gameLog(t)
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "import", "-q", "--string-ids", "--user-col", "userid", "--time-col", "eventDate", "--event-col", "eventName", "testdata/gamelaunch.csv.gz"))

		// Daily active players with rolling WAU/MAU, and the previous range.
		var tr trendJSON
		decode(t, cli(t, b, "", "trend", "gameStarted", "--group", "days", "--from", "2016-05-10", "--to", "2016-05-27", "--rolling", "--json"), &tr)
		if tr.Event != "gameStarted" || tr.TimeGroup != "days" || len(tr.Periods) != 18 {
			t.Fatalf("trend %+v", tr)
		}
		for i, p := range tr.Periods {
			d := day("2016-05-10").AddDate(0, 0, i)
			dau := len(l.active("gameStarted", d, d.AddDate(0, 0, 1)))
			wau := len(l.active("gameStarted", d.AddDate(0, 0, -6), d.AddDate(0, 0, 1)))
			mau := len(l.active("gameStarted", d.AddDate(0, 0, -29), d.AddDate(0, 0, 1)))
			pd := d.AddDate(0, 0, -18)
			prev := len(l.active("gameStarted", pd, pd.AddDate(0, 0, 1)))
			if p.Label != d.Format("2006-01-02") || p.Count != int64(dau) || p.WAU == nil || *p.WAU != int64(wau) || *p.MAU != int64(mau) ||
				p.Previous.Count != int64(prev) || p.Previous.Label != pd.Format("2006-01-02") {
				t.Errorf("trend %s: got %+v, want dau %d wau %d mau %d previous %d", d.Format("2006-01-02"), p, dau, wau, mau, prev)
			}
		}

		// Lifecycle per ISO week.
		var lc lifecycleJSON
		decode(t, cli(t, b, "", "lifecycle", "gameStarted", "--group", "weeks", "--from", "2016-04-25", "--to", "2016-05-29", "--json"), &lc)
		if len(lc.Periods) != 5 {
			t.Fatalf("lifecycle has %d weeks, want 5", len(lc.Periods))
		}
		checkLifecycle(t, l, "gameStarted", lc, day("2016-04-18"), day("2016-04-25"), func(t time.Time) time.Time { return t.AddDate(0, 0, 7) })

		// 7-day funnel newPlayer -> gameStarted.
		var fu funnelJSON
		decode(t, cli(t, b, "", "funnel", "newPlayer", "gameStarted", "--group", "days", "--window", "7", "--from", "2016-04-27", "--to", "2016-05-20", "--json"), &fu)
		var total [2]int64
		for i, r := range fu.Rows {
			p := day("2016-04-27").AddDate(0, 0, i)
			entry := l.active("newPlayer", p, p.AddDate(0, 0, 1))
			played := l.active("gameStarted", p, p.AddDate(0, 0, 8))
			var conv int64
			for u := range entry {
				if played[u] {
					conv++
				}
			}
			total[0] += int64(len(entry))
			total[1] += conv
			if r.Label != p.Format("2006-01-02") || r.Steps[0].Users != int64(len(entry)) || r.Steps[1].Users != conv {
				t.Errorf("funnel %s: got %+v, want %d then %d", p.Format("2006-01-02"), r, len(entry), conv)
			}
		}
		if len(fu.Rows) != 24 || fu.Steps[0].Users != total[0] || fu.Steps[1].Users != total[1] {
			t.Errorf("funnel total %+v, want %v over 24 rows", fu.Steps, total)
		}

		// Stickiness over the first 7 days.
		var st stickinessJSON
		decode(t, cli(t, b, "", "stickiness", "gameStarted", "--group", "days", "--from", "2016-04-27", "--to", "2016-05-03", "--json"), &st)
		want := make([]int64, 8)
		for _, days := range l["gameStarted"] {
			k := 0
			for d := range days {
				if !d.Before(day("2016-04-27")) && d.Before(day("2016-05-04")) {
					k++
				}
			}
			want[k]++
		}
		if len(st.Buckets) != 7 {
			t.Fatalf("stickiness buckets %+v", st.Buckets)
		}
		for i, bk := range st.Buckets {
			if bk.Periods != i+1 || bk.Users != want[i+1] {
				t.Errorf("stickiness k=%d: %+v, want %d", i+1, bk, want[i+1])
			}
		}

		// A segment: the players who started on 2016-04-27 only.
		var seg stickinessJSON
		decode(t, cli(t, b, "", "stickiness", "gameStarted", "--from", "2016-04-27", "--to", "2016-05-03", "--segment", "newPlayer@2016-04-27", "--json"), &seg)
		newOn := l.active("newPlayer", day("2016-04-27"), day("2016-04-28"))
		want = make([]int64, 8)
		for u, days := range l["gameStarted"] {
			if !newOn[u] {
				continue
			}
			k := 0
			for d := range days {
				if !d.Before(day("2016-04-27")) && d.Before(day("2016-05-04")) {
					k++
				}
			}
			want[k]++
		}
		for i, bk := range seg.Buckets {
			if bk.Users != want[i+1] {
				t.Errorf("segment stickiness k=%d: %+v, want %d", i+1, bk, want[i+1])
			}
		}
	})
}

// TestReportsOnOnlineRetail imports the Online Retail log (integer ids)
// and checks the monthly trend, the monthly lifecycle and the stickiness
// over 2011's months against values computed from the CSV here.
func TestReportsOnOnlineRetail(t *testing.T) {
	csvText := onlineRetailString(t)
	l := readLog(t, strings.NewReader(csvText), 0, 1, -1, "customer:purchased")
	month := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC) }
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, csvText, "import", "-q", "--allow-rejects", "--user-col", "CustomerID", "--time-col", "InvoiceDate", "--event", "customer:purchased", "-"))
		var tr trendJSON
		decode(t, cli(t, b, "", "trend", "customer:purchased", "--group", "months", "--from", "2011-01", "--to", "2011-12", "--json"), &tr)
		for i, p := range tr.Periods {
			m := time.Date(2011, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC)
			pm := m.AddDate(-1, 0, 0)
			want, prev := len(l.active("customer:purchased", m, month(m))), len(l.active("customer:purchased", pm, month(pm)))
			if p.Count != int64(want) || p.Previous.Count != int64(prev) || p.WAU != nil {
				t.Errorf("trend %s: %+v, want %d (previous %d)", m.Format("2006-01"), p, want, prev)
			}
		}
		var lc lifecycleJSON
		decode(t, cli(t, b, "", "lifecycle", "customer:purchased", "--group", "months", "--from", "2011-01", "--to", "2011-12", "--json"), &lc)
		if len(lc.Periods) != 12 {
			t.Fatalf("lifecycle has %d months", len(lc.Periods))
		}
		checkLifecycle(t, l, "customer:purchased", lc, day("2010-12-01"), day("2011-01-01"), month)
		// The published first-purchase cohorts are the new customers.
		if lc.Periods[0].New != 421 || lc.Periods[1].New != 380 {
			t.Errorf("new customers in 2011-01, 2011-02: %d, %d; published 421, 380", lc.Periods[0].New, lc.Periods[1].New)
		}
		var st stickinessJSON
		decode(t, cli(t, b, "", "stickiness", "customer:purchased", "--group", "months", "--from", "2011-01", "--to", "2011-12", "--json"), &st)
		want := make([]int64, 13)
		for _, days := range l["customer:purchased"] {
			months := map[time.Month]bool{}
			for d := range days {
				if d.Year() == 2011 {
					months[d.Month()] = true
				}
			}
			want[len(months)]++
		}
		for i, bk := range st.Buckets {
			if bk.Users != want[i+1] {
				t.Errorf("stickiness k=%d: %+v, want %d", i+1, bk, want[i+1])
			}
		}
	})
}

func TestReportUsageErrors(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"trend", "e", "--group", "weeks", "--rolling"}, "--rolling: "},
		{[]string{"trend", "e", "--group", "fortnights"}, "--group: "},
		{[]string{"trend", "e", "--from", "2025-02-01", "--to", "2025-01-01"}, "--from 2025-02-01 is after --to 2025-01-01"},
		{[]string{"trend", "e", "--json", "--csv"}, "at most one"},
		{[]string{"lifecycle", "bitop_e"}, "EVENT: "},
		{[]string{"stickiness", "e", "--from", "2020-01-01", "--to", "2025-01-01"}, "--to: "},
		{[]string{"stickiness", "e", "--segment", "x@2025-13"}, "--segment: "},
		{[]string{"funnel", "a", "b", "--window", "-1"}, "--window: "},
		{[]string{"funnel", "a"}, "requires at least 2 arg"},
		// Each invalid flag is named, not only the first one checked.
		{[]string{"trend", "e", "--from", "2016-W53", "--to", "2016-W53"}, `--from: time "2016-W53" is not a valid week (2016 has ISO weeks W01..W52); --to: time "2016-W53" is not a valid week`},
		{[]string{"funnel", "a", "b", "--from", "2016-W53", "--to", "2016-W50"}, `bitmapist: --from: time "2016-W53" is not a valid week`},
		{[]string{"stickiness", "e", "--from", "2016-W50", "--to", "2016-W53"}, `bitmapist: --to: time "2016-W53" is not a valid week`},
	} {
		r := cli(t, b, "", tc.args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", tc.args, r.code, r.stderr, exitUsage, tc.msg)
		}
	}
	if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
		t.Errorf("usage errors wrote %v", keys)
	}
}

func TestReportTextAndCSV(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, m := range [][]string{{"1", "2025-03-03"}, {"2", "2025-03-03"}, {"2", "2025-03-04"}} {
		mustOK(t, cli(t, b, "", "mark", "play", m[0], "--at", m[1]))
	}
	r := mustOK(t, cli(t, b, "", "trend", "play", "--from", "2025-03-03", "--to", "2025-03-04", "--rolling", "--csv"))
	want := "label,start,count,wau,mau,dau_mau,previous_label,previous_start,previous_count,previous_wau,previous_mau,previous_dau_mau\n" +
		"2025-03-03,2025-03-03T00:00:00Z,2,2,2,1.0000,2025-03-01,2025-03-01T00:00:00Z,0,0,0,0.0000\n" +
		"2025-03-04,2025-03-04T00:00:00Z,1,2,2,0.5000,2025-03-02,2025-03-02T00:00:00Z,0,0,0,0.0000\n"
	if r.stdout != want {
		t.Errorf("trend CSV:\n%s\nwant:\n%s", r.stdout, want)
	}
	r = mustOK(t, cli(t, b, "", "lifecycle", "play", "--group", "days", "--from", "2025-03-03", "--to", "2025-03-04"))
	if got := lines(r.stdout); len(got) != 4 || !slices.Equal(strings.Fields(got[3]), []string{"2025-03-04", "1", "0", "1", "0", "-1"}) {
		t.Errorf("lifecycle text:\n%s", r.stdout)
	}
}

// TestFunnelHelpRepeatedSteps: funnel --help says how a repeated event's
// step is counted (a period strictly after the step it repeats).
func TestFunnelHelpRepeatedSteps(t *testing.T) {
	r := mustOK(t, runCLI(t, "", "funnel", "--help"))
	out := strings.Join(strings.Fields(r.stdout), " ")
	if want := "A repeated event (A A, A B A) is reached only in a period strictly after the step it repeats"; !strings.Contains(out, want) {
		t.Errorf("funnel --help lacks %q:\n%s", want, r.stdout)
	}
}

// TestReportsEndingInYear9999: a range entirely inside year 9999 works in
// every report (stickiness and lifecycle refused it as "would reach
// 10000-01-01" while trend worked), a funnel whose window reaches the
// year 10000 too (those periods hold nobody): every report accepts the
// same ranges.
func TestReportsEndingInYear9999(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--allow-future", "--at", "9999-12-05", "e", "1"))
	mustOK(t, cli(t, b, "", "mark", "--allow-future", "--at", "9999-12-31", "e", "1"))
	r9999 := []string{"--from", "9999-12-01", "--to", "9999-12-31"}
	for args, want := range map[string]string{
		"trend e":                     "1 user in the range, 0 in the previous one",
		"stickiness e":                "1 user active in 9999-12-01..9999-12-31 (31 days)\n  days  users   share\n     1      0    0.0%\n     2      1  100.0%",
		"lifecycle e":                 "9999-W48       1    1          0             0        0",
		"funnel e e --window 0":       "  9999-12-31  1  0  0.0%\n       total  2  0  0.0%\n",
		"funnel e e --window 7":       "  9999-12-31  1  0  0.0%\n       total  2  0  0.0%\n",
		"stickiness e --group months": "1 user active in 9999-12..9999-12",
	} {
		r := cli(t, b, "", append(strings.Fields(args), r9999...)...)
		if !strings.Contains(r.stdout+r.stderr, want) {
			t.Errorf("%s %v: exit %d, stdout %q, stderr %q; want %q", args, r9999, r.code, r.stdout, r.stderr, want)
		}
	}
}
