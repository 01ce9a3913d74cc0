package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestMarkPrintsInTZ: mark and mark --unmark print the time in --tz, as the
// other commands do, whatever zone --at was written in.
func TestMarkPrintsInTZ(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, tc := range []struct{ tz, at, want string }{
			{"Europe/Berlin", "2024-10-27T00:30:00Z", "at 2024-10-27 02:30:00 CEST\n"},
			{"Europe/Berlin", "2024-10-27T01:30:00Z", "at 2024-10-27 02:30:00 CET\n"},
			{"Asia/Tokyo", "2024-10-27T00:30:00+02:00", "at 2024-10-27 07:30:00 JST\n"},
			{"UTC", "2024-10-27 00:30", "at 2024-10-27 00:30:00 UTC\n"},
		} {
			for _, unmark := range []string{"--unmark=false", "--unmark"} {
				r := mustOK(t, cli(t, b, "", "--tz", tc.tz, "mark", unmark, "--at", tc.at, "ev", "1"))
				if !strings.HasSuffix(r.stdout, tc.want) {
					t.Errorf("--tz %s mark %s --at %s: %q, want it to end %q", tc.tz, unmark, tc.at, r.stdout, tc.want)
				}
			}
		}
	})
}
