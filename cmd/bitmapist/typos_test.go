package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestMisspelledEventsAreNamed: an event without any data is an error
// naming it and the closest existing names, not a zero or a table of zeros,
// in every command that reads events; real zeros stay zeros.
func TestMisspelledEventsAreNamed(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:signed_up", "1"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "user:logged_in", "1"))
		for _, args := range [][]string{
			{"count", "--at", "2024-12-30", "user:signed_upp"},
			{"cohort", "user:signed_upp", "user:logged_in", "--now", "2024-12-31"},
			{"cohort", "user:signed_up", "user:logged_inn", "--now", "2024-12-31"},
			{"cohort", "user:signed_up", "user:logged_in", "--additional", "and:user:signed_upp", "--now", "2024-12-31"},
		} {
			r := cli(t, b, "", args...)
			if r.code != exitError || !strings.Contains(r.stderr, "has no data in any period") || !strings.Contains(r.stderr, "did you mean user:") {
				t.Errorf("%v: exit %d, stderr %q; want exit %d naming the event and a suggestion", args, r.code, r.stderr, exitError)
			}
		}
		// Existing events with nobody in the period are a real zero.
		if r := mustOK(t, cli(t, b, "", "count", "--at", "2020-01-01", "user:signed_up")); strings.TrimSpace(r.stdout) != "0" {
			t.Errorf("count of an existing event in an empty period: %q, want 0", r.stdout)
		}
		mustOK(t, cli(t, b, "", "cohort", "user:signed_up", "user:logged_in", "--now", "2020-01-01"))
	})
}

// TestMisspelledEventInEveryPosition: every event a command names (each
// funnel step, each --op operand whatever the op, the cohort's primary,
// secondary, --primary-and and --additional events, --segment events,
// negated ones included) must
// have data, checked before the report is computed, even where the result
// would not be empty (a typo in funnel step 2 printed 0 on every row).
func TestMisspelledEventInEveryPosition(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, ev := range []string{"song:played", "song:liked", "song:shared"} {
			mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-02", ev, "1"))
			mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-03", ev, "1"))
		}
		day := []string{"--from", "2024-12-01", "--to", "2024-12-05"}
		var cases [][]string
		for _, op := range []string{"and", "or", "xor", "andnot"} {
			for _, cmd := range []string{"count", "ids"} {
				at := []string{cmd, "--group", "months", "--at", "2024-12", "--op", op}
				cases = append(cases,
					append(slices.Clone(at), "song:playd", "song:liked"),
					append(slices.Clone(at), "song:played", "song:likd"),
					append(slices.Clone(at), "song:played", "song:liked", "song:sharedd"))
			}
		}
		for _, cmd := range []string{"trend", "lifecycle", "stickiness"} {
			g := []string{"--group", "days"}
			if cmd == "lifecycle" {
				g = []string{"--group", "weeks"}
			}
			cases = append(cases,
				append(append([]string{cmd, "song:playd"}, g...), day...),
				append(append([]string{cmd, "song:played", "--segment", "song:likd@2024-12"}, g...), day...),
				append(append([]string{cmd, "song:played", "--segment", "!song:likd@2024-12"}, g...), day...),
				append(append([]string{cmd, "song:played", "--segment", "song:liked@2024-12", "--segment", "!song:likd"}, g...), day...))
		}
		cases = append(cases,
			append([]string{"funnel", "song:playd", "song:liked"}, day...),
			append([]string{"funnel", "song:played", "song:likd"}, day...),
			append([]string{"funnel", "song:played", "song:liked", "song:sharedd"}, day...),
			append([]string{"funnel", "song:played", "song:liked", "--segment", "song:sharedd@2024-12"}, day...),
			append([]string{"funnel", "song:played", "song:liked", "--segment", "!song:sharedd@2024-12"}, day...))
		co := []string{"--group", "days", "--start", "2024-12-02", "--now", "2024-12-05", "--rows", "2", "--cols", "2"}
		cases = append(cases,
			append([]string{"cohort", "song:playd", "song:liked"}, co...),
			append([]string{"cohort", "song:played", "song:likd"}, co...),
			append([]string{"cohort", "song:playd"}, co...),
			append([]string{"cohort", "song:played", "song:liked", "--primary-and", "song:sharedd"}, co...),
			append([]string{"cohort", "song:played", "song:liked", "--additional", "or:song:sharedd"}, co...),
			append([]string{"cohort", "song:played", "song:liked", "--additional", "and:song:shared", "--additional", "or:song:likd"}, co...),
			append([]string{"cohort", "song:played", "song:liked", "--segment", "song:sharedd@2024-12"}, co...),
			append([]string{"cohort", "song:played", "song:liked", "--segment", "!song:sharedd"}, co...))
		for _, args := range cases {
			r := cli(t, b, "", args...)
			// A negated segment's event is named without its "!".
			if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, "has no data in any period") || !strings.Contains(r.stderr, "did you mean song:") || strings.Contains(r.stderr, `"!`) {
				t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit %d, no output, the unknown event (without !) and a suggestion", args, r.code, r.stdout, r.stderr, exitError)
			}
		}
		// The same commands with the right names give the real values.
		for args, want := range map[string]string{
			"count --group months --at 2024-12 --op or song:played song:liked":            "1",
			"count --group months --at 2024-12 --op xor song:played song:liked":           "0",
			"ids --group months --at 2024-12 --op and song:played song:liked song:shared": "1",
		} {
			if r := mustOK(t, cli(t, b, "", strings.Fields(args)...)); strings.TrimSpace(r.stdout) != want {
				t.Errorf("%s: %q, want %s", args, r.stdout, want)
			}
		}
		r := mustOK(t, cli(t, b, "", append([]string{"funnel", "song:played", "song:liked", "--json"}, day...)...))
		var fu struct{ Steps []struct{ Users int64 } }
		if err := jsonUnmarshal(r.stdout, &fu); err != nil || len(fu.Steps) != 2 || fu.Steps[0].Users != 2 || fu.Steps[1].Users != 2 {
			t.Errorf("funnel with the right names: %+v (%v), want 2 steps of 2 users (user 1 entered on 2 days)", fu, err)
		}
	})
}
