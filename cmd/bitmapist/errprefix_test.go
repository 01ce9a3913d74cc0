package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestErrorsSayBitmapistOnce: every error line starts with "bitmapist: "
// once, with no library prefix ("bitmapist: ", "cohort: ") repeated inside
// it, for bad input to every command that takes it.
func TestErrorsSayBitmapistOnce(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "e", "1"))
	for _, args := range [][]string{
		{"count", "--group", "bad", "e"},
		{"count", "--at", "bad", "e"},
		{"count", "--at", "0001-01-01T00:00:00Z", "e"},
		{"count", "--op", "nand", "e", "e"},
		{"count", "bad\nname"},
		{"ids", "--group", "bad", "e"},
		{"mark", "--at", "bad", "e", "1"},
		{"mark", "bad name", "1"},
		{"mark", "e", "x"},
		{"cohort", "e", "--group", "bad"},
		{"cohort", "e", "--additional", "nand:e"},
		{"cohort", "e", "--rows", "0"},
		{"cohort", "e", "--now", "0001-01-01"},
		{"trend", "e", "--group", "bad"},
		{"trend", "e", "--segment", "e@2024-13"},
		{"trend", "e", "--rolling", "--group", "weeks"},
		{"lifecycle", "e", "--from", "0001-01-01T00:00:00Z"},
		{"stickiness", "e", "--to", "bad"},
		{"funnel", "e", "e", "--window", "-1"},
		{"delete"},
		{"expire", "--days", "bad"},
	} {
		r := cli(t, b, "", args...)
		if r.code == exitOK {
			t.Errorf("%q: exit 0, want an error", args)
			continue
		}
		line := strings.TrimSpace(r.stderr)
		if !strings.HasPrefix(line, "bitmapist: ") || strings.Contains(line, "\n") {
			t.Errorf("%q: stderr %q, want one line starting with \"bitmapist: \"", args, r.stderr)
		}
		for _, inner := range []string{"bitmapist: bitmapist", ": bitmapist: ", ": cohort: ", "cohort: invalid", "bitmapist/web: "} {
			if strings.Contains(line, inner) {
				t.Errorf("%q: stderr %q repeats a library prefix (%q)", args, line, inner)
			}
		}
	}
}
