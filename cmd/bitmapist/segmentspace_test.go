package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestSegmentWithSpace: a --segment holding two specs separated by a
// space is a usage error saying event names cannot contain whitespace and
// that each segment is its own --segment, on every command taking
// --segment, not "no such event".
func TestSegmentWithSpace(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--at", "2016-05-03T10:00:00Z", "a", "1"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2016-05-03T10:00:00Z", "b", "1"))
		seg := []string{"--segment", "a@2016-05-03 b@2016-05-03"}
		for _, args := range [][]string{
			{"trend", "a"}, {"lifecycle", "a"}, {"stickiness", "a"}, {"funnel", "a", "b"},
			{"cohort", "a", "b", "--now", "2016-05-03"},
		} {
			r := cli(t, b, "", append(args, seg...)...)
			if r.code != exitUsage || !strings.Contains(r.stderr, "event names cannot contain whitespace; each segment is one field (segment=A&segment=B, --segment A --segment B)") {
				t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
			}
		}
	})
}
