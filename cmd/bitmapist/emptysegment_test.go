package main

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestEmptyUniqueSegment (finding C): --segment EVENT whose unique bitmap
// exists with every bit 0 (the user was unmarked) is an empty segment:
// every report command and cohort run (exit 0) and count 0 users; one
// whose unique bitmap does not exist is still refused (exit 1).
func TestEmptyUniqueSegment(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		importSegmentLog(t, b)
		mustOK(t, cli(t, b, "", "mark", "--unique", "--at", "2026-11-01", "zero", "5"))
		mustOK(t, cli(t, b, "", "mark", "--unmark", "--unique", "--at", "2026-11-01", "zero", "5"))
		for name, args := range segmentCmds("--json") {
			everyone := mustOK(t, cli(t, b, "", args...)).stdout
			r := cli(t, b, "", append(args, "--segment", "zero")...)
			if r.code != exitOK {
				t.Errorf("%s --segment zero: exit %d, stderr %s", name, r.code, r.stderr)
				continue
			}
			// Everyone's report counts users; the empty segment's no one.
			if all, seg := userCounts(t, everyone), userCounts(t, r.stdout); all == 0 || seg != 0 {
				t.Errorf("%s: %g users counted for everyone, %g for --segment zero, want some and 0:\n%s", name, all, seg, r.stdout)
			}
			noUnique := append(args, "--segment", "signup")
			expect{code: exitError, stderr: []string{"holds no user", "written only with unique tracking on"}}.check(t, noUnique, cli(t, b, "", noUnique...))
		}
	})
}

// userCounts sums the absolute values of every count of users in a
// report's JSON: the numbers under total, unique, users, count, new,
// returning, resurrecting and dormant.
func userCounts(t *testing.T, js string) float64 {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(js), &v); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	counts := map[string]bool{"total": true, "unique": true, "users": true, "count": true, "new": true, "returning": true, "resurrecting": true, "dormant": true}
	var sum func(v any, key string) float64
	sum = func(v any, key string) float64 {
		switch v := v.(type) {
		case map[string]any:
			n := 0.0
			for k, x := range v {
				n += sum(x, k)
			}
			return n
		case []any:
			n := 0.0
			for _, x := range v {
				n += sum(x, key)
			}
			return n
		case float64:
			if counts[key] {
				return math.Abs(v)
			}
		}
		return 0
	}
	return sum(v, "")
}
