package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// reportCmds are the report commands with the arguments of one event.
var reportCmds = [][]string{
	{"trend", "user:signed_up"},
	{"lifecycle", "user:signed_up"},
	{"stickiness", "user:signed_up"},
	{"funnel", "user:signed_up", "user:logged_in"},
}

// TestCommandsTellTheTruth: every command and every kind of input that used
// to give zeros (or nothing) with exit 0 now gives an error naming the
// cause or a note on stderr, and real zeros stay zeros.
func TestCommandsTellTheTruth(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:signed_up", "1"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:logged_in", "1"))
		type want struct {
			code   int
			stderr []string // every one must appear
		}
		day := []string{"--from", "2024-12-30", "--to", "2024-12-30"}
		hours := []string{"--group", "hours", "--from", "2024-12-30T00:00:00Z", "--to", "2024-12-30T05:00:00Z"}
		var cases []struct {
			args []string
			want want
		}
		add := func(w want, args ...string) {
			cases = append(cases, struct {
				args []string
				want want
			}{args, w})
		}
		for _, rc := range reportCmds {
			name := rc[0]
			// --from after --to.
			add(want{exitUsage, []string{"--from 2025-01-10 is after --to 2025-01-01"}}, append(rc, "--group", "days", "--from", "2025-01-10", "--to", "2025-01-01")...)
			// A segment on an event without data.
			add(want{exitError, []string{"--segment: no such event", `"user:signed_upp" has no data`, "did you mean user:signed_up"}},
				append(append(rc, day...), "--segment", "user:signed_upp@2024-12")...)
			// A misspelled event.
			bad := append([]string{name, "user:signed_upp"}, rc[2:]...)
			add(want{exitError, []string{"no such event", "did you mean user:signed_up"}}, append(bad, day...)...)
			// Hours without hourly tracking.
			if name == "lifecycle" {
				add(want{exitUsage, []string{"--group: hours is not offered for lifecycle"}}, append(rc, hours...)...)
			} else {
				named := "user:signed_up has users on 2024-12-30"
				if name == "funnel" {
					named = "user:logged_in, user:signed_up have users on 2024-12-30"
				}
				add(want{exitError, []string{"no hourly data", named, "from 2024-12-30 00:00 to 2024-12-30 05:00", "use --group days"}}, append(rc, hours...)...)
			}
			// A range into the future: a note, exit 0.
			add(want{exitOK, []string{"note: --to 2030 is after now"}}, append(rc, "--from", "2024-12-30", "--to", "2030-01-01", "--group", "years")...)
			// Errors without doubled library prefixes.
			add(want{exitUsage, []string{"bitmapist: --group: invalid time group: \"bad\""}}, append(rc, "--group", "bad")...)
			add(want{exitUsage, []string{"bitmapist: --from: time \"0001-01-01T00:00:00Z\"", "cannot be used", "give a label for its period (0001-01-01, 0001-01, 0001)"}}, append(rc, "--from", "0001-01-01T00:00:00Z")...)
			add(want{exitUsage, []string{"bitmapist: --segment: invalid query: "}}, append(rc, "--segment", "a@2024-13")...)
		}
		add(want{exitError, []string{"no hourly data", "in hour 2024-12-30 03:00"}}, "count", "--group", "hours", "--at", "2024-12-30T03:00:00Z", "user:signed_up")
		add(want{exitUsage, []string{"bitmapist: --group: invalid time group"}}, "count", "--group", "bad", "user:signed_up")
		add(want{exitError, []string{"no hourly data", "in hour 2024-12-30 03:00"}}, "ids", "--group", "hours", "--at", "2024-12-30T03:00:00Z", "user:signed_up")
		add(want{exitError, []string{"no such event", "did you mean user:signed_up"}}, "ids", "--at", "2024-12-30", "user:signed_upp")
		add(want{exitOK, []string{"note: --at 2030-01-01 is after now"}}, "count", "--at", "2030-01-01", "user:signed_up")
		add(want{exitOK, []string{"note: --at 2030-01 is after now"}}, "ids", "--group", "months", "--at", "2030-01-01", "user:signed_up")
		add(want{exitError, []string{"no hourly data", "user:signed_up has users on 2024-12-30", "use --group days"}},
			"cohort", "user:signed_up", "--group", "hours", "--start", "2024-12-30T00:00:00Z", "--now", "2024-12-30T05:00:00Z", "--rows", "6", "--cols", "2")
		add(want{exitUsage, []string{"--start 2025-01-05 is after --now 2025-01-01", "--include-future"}}, "cohort", "user:signed_up", "--start", "2025-01-05", "--now", "2025-01-01")
		add(want{exitOK, []string{"note: rows after --now 2024-12-31 (up to 2025-01-03) show their users but blank cells"}}, "cohort", "user:signed_up", "--start", "2024-12-25", "--now", "2024-12-31", "--rows", "10", "--cols", "2")
		add(want{exitOK, []string{"note: --now 2030-01-01 is after the current time"}}, "cohort", "user:signed_up", "--now", "2030-01-01", "--rows", "2", "--cols", "2")
		add(want{exitUsage, []string{`bitmapist: --group: "bad" is not hours, days`}}, "cohort", "user:signed_up", "--group", "bad")
		add(want{exitOK, []string{`note: no event name starts with "nosuch"`, "2 events with data"}}, "stats", "nosuch")
		add(want{exitOK, []string{`no event name starts with "user:*" (the argument is a prefix, not a glob: try "user:")`}}, "events", "user:*")
		add(want{exitOK, []string{`no event name starts with "user:signed_upp"`}}, "events", "user:signed_upp")
		// Errors without doubled library prefixes or plurals of one.
		doubled := []string{"bitmapist: bitmapist", ": bitmapist: ", ": cohort: ", "1 events", "1 years", "reads as now"}
		for _, tc := range cases {
			expect{code: tc.want.code, stderr: tc.want.stderr, notStderr: doubled}.check(t, tc.args, cli(t, b, "", tc.args...))
		}
		// With hourly tracking an empty hour is a real zero.
		mustOK(t, cli(t, b, "", "mark", "--hourly", "--at", "2024-12-30T03:10:00Z", "user:hourly", "1"))
		if r := mustOK(t, cli(t, b, "", "count", "--group", "hours", "--at", "2024-12-30T04:00:00Z", "user:hourly")); strings.TrimSpace(r.stdout) != "0" {
			t.Errorf("count of an hour without users, hourly tracking on: %q, want 0", r.stdout)
		}
		if r := mustOK(t, cli(t, b, "", append([]string{"trend", "user:hourly"}, hours...)...)); !strings.Contains(r.stdout, "1 user in the range") {
			t.Errorf("hourly trend: %q, want 1 user", r.stdout)
		}
		mustOK(t, cli(t, b, "", "stickiness", "user:hourly", "--group", "hours", "--from", "2024-12-30T05:00:00Z", "--to", "2024-12-30T06:00:00Z"))
		// Real zeros stay zeros: existing events, a period without users.
		for _, rc := range reportCmds {
			mustOK(t, cli(t, b, "", append(rc, "--from", "2020-01-01", "--to", "2020-01-05")...))
		}
		// Plurals in the text output.
		r := mustOK(t, cli(t, b, "", "stickiness", "user:signed_up", "--group", "years", "--from", "2024", "--to", "2024"))
		if !strings.Contains(r.stdout, "1 user active in 2024..2024 (1 year)") {
			t.Errorf("stickiness: %q, want \"1 user ... (1 year)\"", r.stdout)
		}
		r = mustOK(t, cli(t, b, "", "funnel", "user:signed_up", "user:logged_in", "--window", "1", "--from", "2024-12-30", "--to", "2024-12-30"))
		if !strings.Contains(r.stdout, "window 1 day\n") {
			t.Errorf("funnel: %q, want \"window 1 day\"", r.stdout)
		}
	})
}
