package main

import (
	"context"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestReadsAndDeletesPythonEventNames: Python bitmapist accepts any event
// name, so a shared Redis may hold names with spaces or glob characters.
// Whatever `events` lists, `count`, `ids` and `delete` can use; only marking
// applies the strict rule.
func TestReadsAndDeletesPythonEventNames(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		for _, ev := range []string{"signed up", "plan[pro]", "what?*"} {
			// As Python's mark_event would write it: day 2024-05-14, user 9.
			if err := b.Client.SetBit(ctx, b.Prefix+ev+"_2024-5-14", 9, 1).Err(); err != nil {
				t.Fatal(err)
			}
			if r := mustOK(t, cli(t, b, "", "count", "--group", "days", "--at", "2024-05-14", ev)); strings.TrimSpace(r.stdout) != "1" {
				t.Errorf("count %q = %q, want 1", ev, r.stdout)
			}
			if r := mustOK(t, cli(t, b, "", "ids", "--group", "days", "--at", "2024-05-14", ev)); strings.TrimSpace(r.stdout) != "9" {
				t.Errorf("ids %q = %q, want 9", ev, r.stdout)
			}
			if r := cli(t, b, "", "mark", ev, "1"); r.code != exitUsage {
				t.Errorf("mark %q: exit %d, want %d (marking keeps the strict rule)", ev, r.code, exitUsage)
			}
		}
		// A name with an escape sequence is listed quoted, not raw.
		if err := b.Client.SetBit(ctx, b.Prefix+"x\x1b[31m_2024-5-14", 1, 1).Err(); err != nil {
			t.Fatal(err)
		}
		r := mustOK(t, cli(t, b, "", "events"))
		if !strings.Contains(r.stdout, "signed up\n") || strings.Contains(r.stdout, "\x1b") || !strings.Contains(r.stdout, `"x\x1b[31m"`) {
			t.Errorf("events: %q", r.stdout)
		}
		if _, err := b.Client.Del(ctx, b.Prefix+"x\x1b[31m_2024-5-14").Result(); err != nil {
			t.Fatal(err)
		}
		for _, ev := range []string{"signed up", "plan[pro]", "what?*"} {
			mustOK(t, cli(t, b, "", "delete", ev))
		}
		if r := mustOK(t, cli(t, b, "", "events")); strings.TrimSpace(r.stdout) != "" {
			t.Errorf("events after delete: %q", r.stdout)
		}
	})
}
