package main

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// notSegmentLog: signup by 1..4 on 2026-11-02, login by 1, 2, 3 on 11-03
// and 2, 3, 4 on 11-04, pro's unique bitmap {1, 3} (and a pro mark on
// 11-01).
const notSegmentLog = "user,time,event\n" +
	"1,2026-11-02 10:00:00,signup\n2,2026-11-02 10:00:00,signup\n3,2026-11-02 10:00:00,signup\n4,2026-11-02 10:00:00,signup\n" +
	"1,2026-11-03 10:00:00,login\n2,2026-11-03 10:00:00,login\n3,2026-11-03 10:00:00,login\n" +
	"2,2026-11-04 10:00:00,login\n3,2026-11-04 10:00:00,login\n4,2026-11-04 10:00:00,login\n"

// TestNegatedSegmentMatchesGo: --segment !EVENT and !EVENT@PERIOD, alone
// and ANDed with a positive --segment, give on every report command and
// cohort (--json) exactly the report the Go API computes with the
// bitmapist.Not segment, on every backend; and a negated segment does
// leave its users out (trend of login without pro: 2, then 2 and 4).
func TestNegatedSegmentMatchesGo(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		mustOK(t, cli(t, b, notSegmentLog, "import", "-q", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		mustOK(t, cli(t, b, "user,time,event\n1,2026-11-01 10:00:00,pro\n3,2026-11-01 10:00:00,pro\n", "import", "-q", "--unique", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		d := func(day int) time.Time { return time.Date(2026, 11, day, 0, 0, 0, 0, time.UTC) }
		for _, tc := range []struct {
			specs []string
			set   bitmapist.Set
		}{
			{[]string{"!pro"}, bitmapist.Not(c.Unique("pro"))},
			{[]string{"!pro", "signup@2026-11"}, bitmapist.And(bitmapist.Not(c.Unique("pro")), c.Events("signup", bitmapist.Months, d(1)))},
			{[]string{"signup@2026-11-02", "!login@2026-11-03"}, bitmapist.And(c.Events("signup", bitmapist.Days, d(2)), bitmapist.Not(c.Events("login", bitmapist.Days, d(3))))},
			{[]string{"!login@2026-W45"}, bitmapist.Not(c.Events("login", bitmapist.Weeks, d(2)))},
		} {
			var segArgs []string
			for _, s := range tc.specs {
				segArgs = append(segArgs, "--segment", s)
			}
			rng := []string{"--group", "days", "--from", "2026-11-01", "--to", "2026-11-05", "--json"}
			for name, run := range map[string]struct {
				args []string
				gov  func() (any, error)
			}{
				"trend": {append([]string{"trend", "login"}, rng...), func() (any, error) {
					return c.Trend(ctx, bitmapist.TrendQuery{Event: "login", TimeGroup: bitmapist.Days, From: d(1), To: d(5), Segment: tc.set})
				}},
				"lifecycle": {append([]string{"lifecycle", "login"}, rng...), func() (any, error) {
					return cohort.GetLifecycle(ctx, c, cohort.LifecycleQuery{Event: "login", TimeGroup: bitmapist.Days, From: d(1), To: d(5), Segment: tc.set})
				}},
				"stickiness": {append([]string{"stickiness", "login"}, rng...), func() (any, error) {
					return cohort.GetStickiness(ctx, c, cohort.StickinessQuery{Event: "login", TimeGroup: bitmapist.Days, From: d(1), To: d(5), Segment: tc.set})
				}},
				"funnel": {append([]string{"funnel", "signup", "login", "--window", "2"}, rng...), func() (any, error) {
					return cohort.GetFunnel(ctx, c, cohort.FunnelQuery{Steps: []string{"signup", "login"}, TimeGroup: bitmapist.Days, Window: 2, From: d(1), To: d(5), Segment: tc.set})
				}},
				"cohort": {[]string{"cohort", "signup", "login", "--group", "days", "--start", "2026-11-02", "--now", "2026-11-05", "--rows", "2", "--cols", "3", "--json"}, func() (any, error) {
					return cohort.Get(ctx, c, cohort.Query{Primary: "signup", Secondary: "login", TimeGroup: bitmapist.Days, Start: d(2), Now: d(5), Rows: 2, Cols: 3, Segment: tc.set})
				}},
			} {
				args := append(slices.Clone(run.args), segArgs...)
				r := cli(t, b, "", args...)
				if r.code != exitOK {
					t.Errorf("%q: exit %d, stderr %s", args, r.code, r.stderr)
					continue
				}
				v, err := run.gov()
				if err != nil {
					t.Fatalf("%s %v from Go: %v", name, tc.specs, err)
				}
				if got, want := decodeJSON(t, r.stdout), decodeJSON(t, mustMarshal(t, v)); !reflect.DeepEqual(got, want) {
					t.Errorf("%q:\n got %s\nwant %s", args, r.stdout, mustMarshal(t, v))
				}
			}
		}
		r := mustOK(t, cli(t, b, "", "trend", "login", "--group", "days", "--from", "2026-11-03", "--to", "2026-11-04", "--csv", "--segment", "!pro"))
		if !strings.Contains(r.stdout, "2026-11-03,2026-11-03T00:00:00Z,1,") || !strings.Contains(r.stdout, "2026-11-04,2026-11-04T00:00:00Z,2,") {
			t.Errorf("trend of login without pro: %s, want 1 user (2) on 11-03 and 2 (2, 4) on 11-04", r.stdout)
		}
	})
}

// TestNegatedSegmentForms: a bad "!" form is a usage error naming
// --segment on every report command and cohort ("!", "!!x", "! x"); a
// negated event without data is reported like a positive one, with the
// closest names; !EVENT whose unique bitmap does not exist is refused as
// EVENT is (it would leave nobody out), and !EVENT@HOUR of a day marked
// without hourly tracking too.
func TestNegatedSegmentForms(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		importSegmentLog(t, b)
		mustOK(t, cli(t, b, "user,time,event\n1,2026-11-01 10:00:00,pro\n", "import", "-q", "--unique", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		for _, args := range segmentCmds() {
			for _, tc := range []struct {
				segs []string
				want expect
			}{
				{[]string{"!"}, expect{code: exitUsage, stderr: []string{`--segment: `, `"!": ! wants an event right after it`}}},
				{[]string{"!!pro"}, expect{code: exitUsage, stderr: []string{`--segment: `, `"!!pro": a segment is negated once`}}},
				{[]string{"! pro"}, expect{code: exitUsage, stderr: []string{`--segment: `, `"! pro": ! is followed at once by the event`}}},
				{[]string{"pro", "!!pro"}, expect{code: exitUsage, stderr: []string{`a segment is negated once`}}},
				{[]string{"!prp"}, expect{code: exitError, stderr: []string{`--segment: no such event`, `"prp" has no data in any period`, "did you mean pro"}}},
				{[]string{"!signupp@2026-11"}, expect{code: exitError, stderr: []string{`"signupp" has no data in any period`, "did you mean signup"}}},
				{[]string{"!signup"}, expect{code: exitError, stderr: []string{`--segment: the segment "!signup" leaves no user out: a segment without @ is the event's unique bitmap`, "Use !signup@PERIOD"}}},
				{[]string{"!signup@2026-11-02T10"}, expect{code: exitError, stderr: []string{`--segment "!signup@2026-11-02T10": "signup" has no hourly data on 2026-11-02`, "so the segment excludes nobody; use the day, !signup@2026-11-02"}}},
				{[]string{"!pro"}, expect{code: exitOK}},
				{[]string{"!signup@2026-11", "login@2026-11"}, expect{code: exitOK}},
			} {
				withSeg := slices.Clone(args)
				for _, s := range tc.segs {
					withSeg = append(withSeg, "--segment", s)
				}
				tc.want.check(t, withSeg, cli(t, b, "", withSeg...))
			}
		}
	})
}

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

func mustMarshal(t *testing.T, v any) string {
	t.Helper()
	js, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(js)
}
