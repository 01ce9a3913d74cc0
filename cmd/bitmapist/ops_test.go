package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

func TestMarkCountIdsEvents(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, id := range []string{"42", "7", "1000003"} {
			r := mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30T05:10:00Z", "song:played", id))
			if !strings.HasPrefix(r.stdout, "marked song:played for user "+id) {
				t.Errorf("mark output %q", r.stdout)
			}
		}
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-31", "user:logged_in", "7"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2025-01-02", "user:logged_in", "9"))

		// The bits are where Python bitmapist puts them.
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithIDMapClient(b.IDMap))
		ctx := t.Context()
		day := time.Date(2024, 12, 30, 0, 0, 0, 0, time.UTC)
		if ids, err := c.Day("song:played", day).IDs(ctx); err != nil || !slices.Equal(ids, []uint64{7, 42, 1000003}) {
			t.Errorf("day ids = %v, %v", ids, err)
		}
		if n, err := b.Client.BitCount(ctx, b.Prefix+"song:played_W2025-1", nil).Result(); err != nil || n != 3 {
			t.Errorf("week key count = %d, %v", n, err)
		}

		tests := []struct {
			args []string
			want []string
		}{
			{[]string{"count", "--at", "2024-12-30", "song:played"}, []string{"3"}},
			{[]string{"count", "-g", "days", "--at", "2024-12-29", "song:played"}, []string{"0"}},
			{[]string{"count", "-g", "weeks", "--at", "2025-01-02", "song:played", "user:logged_in"}, []string{"1"}},
			{[]string{"count", "-g", "weeks", "--at", "2025-01-02", "--op", "or", "song:played", "user:logged_in"}, []string{"4"}},
			{[]string{"count", "-g", "years", "--at", "2024", "user:logged_in"}, []string{"1"}},
			{[]string{"ids", "-g", "weeks", "--at", "2024-12-30", "--op", "xor", "song:played", "user:logged_in"}, []string{"9", "42", "1000003"}},
			{[]string{"ids", "-g", "weeks", "--at", "2024-12-30", "--op", "andnot", "song:played", "user:logged_in"}, []string{"42", "1000003"}},
			{[]string{"ids", "-g", "months", "--at", "2024-12", "--limit", "2", "song:played"}, []string{"7", "42"}},
			{[]string{"events"}, []string{"song:played", "user:logged_in"}},
			{[]string{"events", "user:"}, []string{"user:logged_in"}},
		}
		for _, tc := range tests {
			r := mustOK(t, cli(t, b, "", tc.args...))
			if got := lines(r.stdout); !slices.Equal(got, tc.want) {
				t.Errorf("%v: got %q, want %q", tc.args, got, tc.want)
			}
		}

		// Unmark clears the bits of that day's periods.
		mustOK(t, cli(t, b, "", "mark", "--unmark", "--at", "2024-12-30", "song:played", "42"))
		if r := mustOK(t, cli(t, b, "", "ids", "--at", "2024-12-30", "song:played")); !slices.Equal(lines(r.stdout), []string{"7", "1000003"}) {
			t.Errorf("after unmark: %q", r.stdout)
		}
	})
}

func TestMarkStringID(t *testing.T) {
	b := testutil.Redis(t)
	mustOK(t, cli(t, b, "", "mark", "--string-id", "--at", "2024-12-30", "signup", "alice@example.com"))
	mustOK(t, cli(t, b, "", "mark", "--string-id", "--at", "2024-12-30", "signup", "bob@example.com"))
	r := mustOK(t, cli(t, b, "", "ids", "--at", "2024-12-30", "--strings", "--with-offsets", "signup"))
	if got, want := lines(r.stdout), []string{"0\talice@example.com", "1\tbob@example.com"}; !slices.Equal(got, want) {
		t.Errorf("ids --strings = %q, want %q", got, want)
	}
	r = mustOK(t, cli(t, b, "", "ids", "--at", "2024-12-30", "--strings", "signup"))
	if got, want := lines(r.stdout), []string{"alice@example.com", "bob@example.com"}; !slices.Equal(got, want) {
		t.Errorf("ids --strings = %q, want %q", got, want)
	}
}

func TestTimeZone(t *testing.T) {
	b := testutil.Redis(t)
	// 00:30 in Paris on New Year's day is still 2020-12-31 in UTC.
	mustOK(t, cli(t, b, "", "mark", "--at", "2021-01-01T00:30:00+01:00", "e", "1"))
	if r := mustOK(t, cli(t, b, "", "count", "--at", "2020-12-31", "e")); strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("UTC day count = %q", r.stdout)
	}
	if r := mustOK(t, cli(t, b, "", "--tz", "Europe/Paris", "count", "--at", "2021-01-01", "e")); strings.TrimSpace(r.stdout) != "0" {
		t.Errorf("Paris day count = %q (the UTC-cut bitmap of 2021-01-01 is empty)", r.stdout)
	}
}

func TestErrorsAreOneLine(t *testing.T) {
	b := testutil.Miniredis(t)
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"mark", "e"}, exitUsage, "accepts 2 arg(s)"},
		{[]string{"mark", "e", "--", "-1"}, exitUsage, `user id "-1"`},
		{[]string{"mark", "e", "4294967296"}, exitUsage, "0..268435455 (--max-id)"},
		{[]string{"mark", "bad event", "1"}, exitUsage, "invalid event name"},
		{[]string{"mark", "--at", "2999-01-01", "e", "1"}, exitUsage, "--allow-future"},
		{[]string{"mark", "--at", time.Now().AddDate(0, 0, 3).Format(time.RFC3339), "e", "1"}, exitUsage, "in the future"},
		{[]string{"count", "--group", "fortnights", "e"}, exitUsage, "invalid time group"},
		{[]string{"count", "--at", "yesterday-ish", "e"}, exitUsage, "--at"},
		{[]string{"count", "--op", "nand", "e", "f"}, exitUsage, "--op"},
		{[]string{"count", "--nope", "e"}, exitUsage, "unknown flag"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"--tz", "Mars/Olympus", "count", "e"}, exitUsage, "--tz"},
	}
	for _, tc := range tests {
		r := cli(t, b, "", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d stderr %q; want exit %d containing %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if n := strings.Count(r.stderr, "\n"); n != 1 || !strings.HasPrefix(r.stderr, "bitmapist: ") {
			t.Errorf("%v: stderr is not one line starting with \"bitmapist: \": %q", tc.args, r.stderr)
		}
	}
	// Nothing listens on port 1: bad flags are refused before connecting.
	for _, args := range [][]string{{"count", "-g", "fortnights", "e"}, {"ids", "--op", "nand", "e"}, {"count", "bad\x01event"}, {"ids", "--at", "soon", "e"}, {"mark", "--at", "soon", "e", "1"}} {
		r := runCLI(t, "", append([]string{"--redis", "redis://127.0.0.1:1"}, args...)...)
		if r.code != exitUsage || strings.Contains(r.stderr, "cannot reach") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	r := runCLI(t, "", "--redis", "redis://:secret@127.0.0.1:1/0", "events")
	if r.code != exitError || !strings.Contains(r.stderr, "cannot reach Redis") || strings.Contains(r.stderr, "secret") {
		t.Errorf("unreachable Redis: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestHelpOnEverySubcommand(t *testing.T) {
	r := mustOK(t, runCLI(t, "", "--help"))
	var cmds []string
	inCmds := false
	for _, l := range strings.Split(r.stdout, "\n") {
		switch {
		case strings.HasPrefix(l, "Available Commands:"):
			inCmds = true
		case inCmds && strings.HasPrefix(l, "  "):
			cmds = append(cmds, strings.Fields(l)[0])
		case inCmds:
			inCmds = false
		}
	}
	for _, want := range []string{"events", "count", "ids", "mark", "import"} {
		if !slices.Contains(cmds, want) {
			t.Errorf("--help does not list %q: %v", want, cmds)
		}
	}
	for _, c := range cmds {
		r := mustOK(t, runCLI(t, "", c, "--help"))
		if !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "bitmapist "+c) {
			t.Errorf("%s --help: %q", c, r.stdout)
		}
	}
}

func TestInterrupted(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := runCLIContext(t, ctx, badRowsCSV, append(globalArgs(t, b), "import", "--user-col", "user", "--time-col", "day", "--event-col", "event", "-")...)
	if r.code != exitInt || r.stderr != "bitmapist: interrupted\n" {
		t.Errorf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// Every time given on the command line (mark --at, count/ids --at, cohort
// --now/--start) whose year in --tz is outside 1..9999, or that is the zero
// time, is a usage error and nothing is written; the bounds work and their
// keys are listed and deleted.
func TestImpossibleTimesRefused(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		bad := []struct{ tz, at string }{
			{"UTC", "0000-01-01"},
			{"UTC", "0000-12-31T23:59:59Z"},
			{"UTC", "0001-01-01T00:00:00Z"}, // the zero time: "now" to the library (the label 0001-01-01 is its day: TestYearOneLabels)
			{"UTC", "0001-01-01T00:30:00+01:00"},
			{"America/New_York", "0001-01-01T02:00:00Z"},
			{"Pacific/Kiritimati", "9999-12-31T23:00:00Z"},
		}
		for _, tc := range bad {
			for _, args := range [][]string{
				{"mark", "--at", tc.at, "ev", "1"},
				{"mark", "--unmark", "--at", tc.at, "ev", "1"},
				{"mark", "--string-id", "--at", tc.at, "ev", "alice"},
				{"count", "--at", tc.at, "ev"},
				{"ids", "--at", tc.at, "ev"},
				{"cohort", "ev", "--now", tc.at},
				{"cohort", "ev", "--start", tc.at},
			} {
				args = append([]string{"--tz", tc.tz}, args...)
				r := cli(t, b, "", args...)
				checkUsage(t, args, r, fmt.Sprintf("time %q: ", tc.at))
				if !strings.Contains(r.stderr, "is outside 1..9999") && !strings.Contains(r.stderr, "cannot be used") {
					t.Errorf("%q: stderr %q, want the year range or the reserved instant named", args, r.stderr)
				}
			}
		}
		if got := testutil.Keys(t, b.Client, b.Prefix); len(got) != 0 {
			t.Fatalf("keys written: %q", got)
		}
		for i, at := range []string{"0001-01-01T00:00:01Z", "9999-12-31T23:59:59Z"} {
			mustOK(t, cli(t, b, "", "mark", "--allow-future", "--at", at, "ev", strconv.Itoa(i)))
			if r := mustOK(t, cli(t, b, "", "count", "-g", "years", "--at", at, "ev")); strings.TrimSpace(r.stdout) != "1" {
				t.Errorf("count at %s: %q", at, r.stdout)
			}
		}
		if r := mustOK(t, cli(t, b, "", "events")); strings.TrimSpace(r.stdout) != "ev" {
			t.Errorf("events: %q", r.stdout)
		}
		keys := testutil.Keys(t, b.Client, b.Prefix)
		if r := mustOK(t, cli(t, b, "", "delete", "ev")); strings.TrimSpace(r.stdout) != "deleted "+strconv.Itoa(len(keys))+" keys of ev" || len(keys) != 6 {
			t.Errorf("delete: %q, keys were %q", r.stdout, keys)
		}
	})
}

// ids --strings never prints a blank line: an id without a string in the
// id map is printed as "#<id>" with a warning on stderr, and when none of
// the ids has one (a mistyped --id-map) the command fails naming the map.
func TestIDsStringsUnmapped(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "--string-id", "--at", "2024-12-30", "signup", "alice"))
		mustOK(t, cli(t, b, "", "mark", "--string-id", "--at", "2024-12-30", "--id-map", "other", "signup", "bob")) // id 0 in "other"
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "signup", "17"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "signup", "5"))

		r := mustOK(t, cli(t, b, "", "ids", "--at", "2024-12-30", "--strings", "signup"))
		if got, want := lines(r.stdout), []string{"alice", "#5", "#17"}; !slices.Equal(got, want) || strings.Contains(r.stdout, "\n\n") {
			t.Errorf("ids --strings = %q, want %q", got, want)
		}
		if !strings.Contains(r.stderr, `2 of 3 ids have no string in id map "users"`) {
			t.Errorf("stderr %q", r.stderr)
		}
		r = mustOK(t, cli(t, b, "", "ids", "--at", "2024-12-30", "--strings", "--with-offsets", "signup"))
		if got, want := lines(r.stdout), []string{"0\talice", "5\t#5", "17\t#17"}; !slices.Equal(got, want) {
			t.Errorf("ids --strings --with-offsets = %q, want %q", got, want)
		}
		for _, idMap := range []string{"usres", "nothing-here"} {
			r = cli(t, b, "", "ids", "--at", "2024-12-30", "--strings", "--id-map", idMap, "signup")
			if r.code != exitError || r.stdout != "" || !strings.Contains(r.stderr, `none of the 3 ids has a string in id map "`+idMap+`"`) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("--id-map %s: exit %d, stdout %q, stderr %q", idMap, r.code, r.stdout, r.stderr)
			}
		}
		// No ids at all is not an error.
		if r := mustOK(t, cli(t, b, "", "ids", "--at", "2020-01-01", "--strings", "--id-map", "usres", "signup")); r.stdout != "" || r.stderr != "" {
			t.Errorf("empty day: %q %q", r.stdout, r.stderr)
		}
	})
}

func TestMarkAllowFuture(t *testing.T) {
	b := testutil.Miniredis(t)
	mustOK(t, cli(t, b, "", "mark", "--allow-future", "--at", "2999-01-01", "e", "1"))
	if r := mustOK(t, cli(t, b, "", "count", "--group", "days", "--at", "2999-01-01", "e")); strings.TrimSpace(r.stdout) != "1" {
		t.Errorf("count after mark --allow-future: %q, want 1", r.stdout)
	}
	// Within a day of now needs no flag (clock skew, time zones).
	mustOK(t, cli(t, b, "", "mark", "--at", time.Now().Add(20*time.Hour).Format(time.RFC3339), "e", "2"))
}
