package main

import (
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
