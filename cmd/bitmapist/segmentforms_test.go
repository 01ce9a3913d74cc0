package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestSegmentFormsRefused: on every report command and cohort, a segment
// that would silently give zeros is refused: EVENT@ (no label) is a usage
// error naming the form, EVENT without a unique bitmap is exit 1 with the
// dashboard's explanation; EVENT with a unique bitmap and EVENT@LABEL
// still run; an empty or blank --segment is a usage error naming the
// flag (not silently everyone).
func TestSegmentFormsRefused(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		importSegmentLog(t, b)
		mustOK(t, cli(t, b, "user,time,event\n1,2026-11-01 10:00:00,pro\n", "import", "-q", "--unique", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		for _, args := range segmentCmds() {
			for _, tc := range []struct {
				seg  string
				want expect
			}{
				{"", expect{code: exitUsage, stderr: []string{`--segment "": an empty segment names no event`}}},
				{"  ", expect{code: exitUsage, stderr: []string{`--segment "  ": an empty segment names no event`}}},
				{"signup@", expect{code: exitUsage, stderr: []string{`--segment: `, `"signup@": EVENT@LABEL wants a period label after @`}}},
				{"signup@ ", expect{code: exitUsage, stderr: []string{`EVENT@LABEL wants a period label after @`}}},
				{"@2026-11", expect{code: exitUsage, stderr: []string{`--segment: invalid event name`}}},
				{"signup", expect{code: exitError, stderr: []string{`--segment: the segment "signup" holds no user: a segment without @ is the event's unique bitmap`, "written only with unique tracking on", "Use signup@PERIOD"}}},
				{"signup@2026-02-30", expect{code: exitUsage, stderr: []string{`--segment: invalid query: period label "2026-02-30" is not a valid date (day out of range)`}}},
				{"signup@2025-W53", expect{code: exitUsage, stderr: []string{`--segment: invalid query: period label "2025-W53" is not a valid week (2025 has ISO weeks W01..W52)`}}},
				{"pro", expect{code: exitOK}},
				{"signup@2026-11", expect{code: exitOK}},
			} {
				withSeg := append(slices.Clone(args), "--segment", tc.seg)
				tc.want.check(t, withSeg, cli(t, b, "", withSeg...))
			}
		}
	})
}

// importSegmentLog imports the event log of the segment tests: login by
// users 1 and 2 on 2026-11-03, signup by user 1 on 2026-11-02.
func importSegmentLog(t *testing.T, b testutil.Backend) {
	t.Helper()
	log := "user,time,event\n1,2026-11-03 10:00:00,login\n2,2026-11-03 10:00:00,login\n1,2026-11-02 10:00:00,signup\n"
	mustOK(t, cli(t, b, log, "import", "-q", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
}

// segmentCmds returns, by name, every report command and cohort over the
// days of importSegmentLog, each with extra appended.
func segmentCmds(extra ...string) map[string][]string {
	rng := append([]string{"--group", "days", "--from", "2026-11-01", "--to", "2026-11-05"}, extra...)
	return map[string][]string{
		"trend":      append([]string{"trend", "login"}, rng...),
		"lifecycle":  append([]string{"lifecycle", "login"}, rng...),
		"stickiness": append([]string{"stickiness", "login"}, rng...),
		"funnel":     append([]string{"funnel", "signup", "login"}, rng...),
		"cohort":     append([]string{"cohort", "signup", "login", "--group", "days", "--start", "2026-11-02", "--now", "2026-11-05"}, extra...),
	}
}

// TestRangeTooLongNamesRange: a --from..--to range of more periods than a
// report reads is a usage error naming the range (--from/--to), not --to,
// on every report command.
func TestRangeTooLongNamesRange(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "user,time,event\n1,2026-11-03 10:00:00,login\n", "import", "-q", "--user-col", "user", "--time-col", "time", "--event-col", "event", "-"))
		for _, args := range [][]string{
			{"trend", "login", "--group", "hours"},
			{"trend", "login", "--group", "days"},
			{"lifecycle", "login", "--group", "days"},
			{"stickiness", "login", "--group", "hours"},
			{"funnel", "login", "login", "--group", "hours"},
			{"funnel", "login", "login", "--group", "days"},
		} {
			r := cli(t, b, "", append(args, "--from", "2000-01-01", "--to", "2026-12-01")...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "bitmapist: --from/--to: 2000-01-01") || !strings.Contains(r.stderr, "is more than 400 ") || strings.Contains(r.stderr, "bitmapist: --to:") {
				t.Errorf("%v: exit %d, stderr %q, want 2 and --from/--to: ... is more than 400", args, r.code, r.stderr)
			}
		}
	})
}
