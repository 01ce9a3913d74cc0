package main

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// checkUsage fails t unless r is a usage error: exit 2 and one stderr line
// starting with "bitmapist: " that contains want.
func checkUsage(t *testing.T, args []string, r result, want string) {
	t.Helper()
	if r.code != exitUsage || !strings.Contains(r.stderr, want) || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "bitmapist: ") {
		t.Errorf("%q: exit %d, stderr %q; want exit %d, one line containing %q", args, r.code, r.stderr, exitUsage, want)
	}
}

// A prefix that is empty, or that holds whitespace, control or glob
// characters, is refused by every command before Redis is touched, whether
// it comes from --prefix or from $BITMAPIST_PREFIX; a foreign key survives.
func TestBadPrefixRefused(t *testing.T) {
	b := testutil.Miniredis(t)
	ctx := t.Context()
	// A key of another application, outside any prefix.
	if err := b.Client.Set(ctx, "foreign", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	url := backendURL(t, b)
	commands := [][]string{
		{"delete", "--all", "--yes"},
		{"delete", "--temporary"},
		{"delete", "ev"},
		{"mark", "--at", "2024-12-30", "ev", "1"},
		{"import", "--user-col", "u", "--time-col", "t", "--event", "ev", "-"},
		{"events"},
		{"count", "ev"},
		{"ids", "ev"},
		{"cohort", "ev"},
		{"serve", "--addr", "127.0.0.1:0"},
		{"demo", "--addr", "127.0.0.1:0"},
	}
	for _, prefix := range []string{"", "a b", " ", "app_\t", "app*", "a?", "a[b]", `a\b`, "a\x00"} {
		for _, cmd := range commands {
			args := append([]string{"--redis", url, "--prefix", prefix}, cmd...)
			checkUsage(t, args, runCLI(t, "u,t\n1,2024-12-30\n", args...), "--prefix")
		}
	}
	// The same prefixes from the environment.
	for _, prefix := range []string{"a b", "app*"} {
		t.Run("env", func(t *testing.T) {
			t.Setenv(envPrefix, prefix)
			args := []string{"--redis", url, "delete", "--all", "--yes"}
			checkUsage(t, args, runCLI(t, "", args...), "$"+envPrefix)
		})
	}
	if got := testutil.Keys(t, b.Client, ""); !slices.Equal(got, []string{"foreign"}) {
		t.Errorf("keys after the refused commands: %q", got)
	}
	// Usual prefixes still work.
	for _, prefix := range []string{"trackist_", "app:v2:", "x"} {
		mustOK(t, runCLI(t, "", "--redis", url, "--prefix", prefix, "mark", "--at", "2024-12-30", "ev", "1"))
		mustOK(t, runCLI(t, "", "--redis", url, "--prefix", prefix, "delete", "--all", "--yes"))
	}
	if got := testutil.Keys(t, b.Client, ""); !slices.Equal(got, []string{"foreign"}) {
		t.Errorf("keys at the end: %q", got)
	}
}

// Every string flag given an empty value, and every numeric flag given a
// value outside its range, is a one-line usage error with nothing written.
func TestNonsenseFlagValuesRefused(t *testing.T) {
	b := testutil.Miniredis(t)
	csv := "uid,uid,t\n1,2,2024-12-30\n"
	good := "u,t\n1,2024-12-30\n"
	imp := []string{"import", "--user-col", "u", "--time-col", "t", "--event", "ev"}
	with := func(base []string, extra ...string) []string {
		return append(slices.Clone(base), append(extra, "-")...)
	}
	tests := []struct {
		stdin string
		args  []string
		want  string
	}{
		{good, with(imp, "--batch", "0"), "--batch 0"},
		{good, with(imp, "--batch", "-5"), "--batch -5"},
		{good, with(imp, "--show-rejected", "-5"), "--show-rejected -5"},
		{good, with(imp, "--time-format", ""), "--time-format"},
		{good, with(imp, "--time-format", "  "), "--time-format"},
		{good, with(imp, "--id-map", "m"), "--id-map works only with --string-ids"},
		{good, with(imp, "--rejects", ""), "--rejects"},
		{good, with(imp, "--delimiter", ""), "--delimiter"},
		{good, with(imp, "--delimiter", `"`), "--delimiter"},
		{good, with([]string{"import", "--user-col", "", "--time-col", "t", "--event", "ev"}), "--user-col"},
		{good, with([]string{"import", "--user-col", "u", "--time-col", "t", "--event", ""}), "--event"},
		{csv, with([]string{"import", "--user-col", "uid", "--time-col", "t", "--event", "ev"}), `--user-col "uid" matches columns 1 and 2`},
		{"U,u,t\n1,2,2024-12-30\n", with([]string{"import", "--user-col", "user", "--time-col", "t", "--event", "ev"}), `no column "user"`},
		{"U,u,t\n1,2,2024-12-30\n", with([]string{"import", "--user-col", "uid", "--time-col", "t", "--event", "ev"}), `no column "uid"`},
		{"Uid,UID,t\n1,2,2024-12-30\n", with([]string{"import", "--user-col", "uid", "--time-col", "t", "--event", "ev"}), `"uid" matches columns 1 and 2`},
		{good, with([]string{"import", "--user-col", "u", "--time-col", "u", "--event", "ev"}), "both name column 1"},
		{"u,t,e\n1,2024-12-30,ev\n", with([]string{"import", "--user-col", "u", "--time-col", "t", "--event-col", "t"}), "--event-col names column 2"},
		{"", []string{"mark", "--at", "", "ev", "1"}, "--at"},
		{"", []string{"mark", "--at", " ", "ev", "1"}, "--at"},
		{"", []string{"mark", "--id-map", "m", "ev", "1"}, "--id-map works only with --string-id"},
		{"", []string{"mark", "--string-id", "--id-map", "", "ev", "alice"}, "--id-map"},
		{"", []string{"count", "--at", "", "ev"}, "--at"},
		{"", []string{"count", "--group", "", "ev"}, "--group"},
		{"", []string{"ids", "--limit", "-1", "ev"}, "--limit -1"},
		{"", []string{"ids", "--with-offsets", "ev"}, "--with-offsets works only with --strings"},
		{"", []string{"ids", "--id-map", "m", "ev"}, "--id-map works only with --strings"},
		{"", []string{"ids", "--strings", "--id-map", "", "ev"}, "--id-map"},
		{"", []string{"cohort", "ev", "--now", ""}, "--now"},
		{"", []string{"cohort", "ev", "--start", " "}, "--start"},
		{"", []string{"cohort", "ev", "--group", ""}, "--group"},
		{"", []string{"cohort", "ev", "--primary-and", ""}, "--primary-and"},
		{"", []string{"--tz", "", "count", "ev"}, "--tz"},
		{"", []string{"serve", "--addr", ""}, "--addr"},
		{"", []string{"serve", "--title", ""}, "--title"},
	}
	for _, tc := range tests {
		checkUsage(t, tc.args, cli(t, b, tc.stdin, tc.args...), tc.want)
	}
	if got := testutil.Keys(t, b.Client, ""); len(got) != 0 {
		t.Errorf("keys written: %q", got)
	}
}

// cohort errors name the command's flags and arguments, never the
// dashboard's request parameters.
func TestCohortErrorsNameFlags(t *testing.T) {
	b := testutil.Miniredis(t)
	params := []string{"primary_event", "secondary_event", "primary_and", "additional", "time_group", "num_rows", "num_cols", "with_replacement", "first_time", "on_or_after", "as_percent", "blank_empty", "include_future"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cohort", "a", "--rows", "0"}, "--rows: "},
		{[]string{"cohort", "a", "--rows", "-3"}, "--rows: "},
		{[]string{"cohort", "a", "--cols", "100000"}, "--cols: "},
		{[]string{"cohort", "a", "--group", "fortnights"}, "--group: "},
		{[]string{"cohort", "a", "--additional", "xor:b"}, "--additional: "},
		{[]string{"cohort", "a", "--additional", "and:bitop_x"}, "--additional: "},
		{[]string{"cohort", "a", "--primary-and", "bitop_x"}, "--primary-and: "},
		{[]string{"cohort", "bitop_x"}, "PRIMARY: "},
		{[]string{"cohort", "a", "bitop_x"}, "SECONDARY: "},
		{[]string{"cohort", "a", "--start", "soon"}, "--start: "},
	}
	for _, tc := range tests {
		r := cli(t, b, "", tc.args...)
		checkUsage(t, tc.args, r, tc.want)
		rest := strings.ReplaceAll(r.stderr, "--additional", "")
		for _, p := range params {
			if strings.Contains(rest, p) {
				t.Errorf("%q: stderr %q names the parameter %s", tc.args, r.stderr, p)
			}
		}
	}
}

// A negative number where an argument is expected is explained, not taken
// for an unknown one-letter flag; after "--" it is an argument.
func TestNegativeNumberArguments(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, n := range []string{"-1", "-5", "-4294967296", "-1.5"} {
		for _, args := range [][]string{{"mark", "ev", n}, {"mark", "--at", "2024-12-30", "ev", n}, {"mark", "--string-id", "ev", n}} {
			r := cli(t, b, "", args...)
			checkUsage(t, args, r, `user id "`+n+`"`)
			if strings.Contains(r.stderr, "shorthand") || !strings.Contains(r.stderr, "-- "+n) {
				t.Errorf("%q: %q", args, r.stderr)
			}
		}
		args := []string{"count", "ev", n}
		r := cli(t, b, "", args...)
		checkUsage(t, args, r, `"`+n+`" is not a flag`)
		if !strings.Contains(r.stderr, `after "--"`) {
			t.Errorf("%q: %q", args, r.stderr)
		}
	}
	// A string id may start with "-" after "--".
	r := mustOK(t, cli(t, b, "", "mark", "--string-id", "--at", "2024-12-30", "ev", "--", "-1"))
	if !strings.HasPrefix(r.stdout, "marked ev for user 0") {
		t.Errorf("mark --string-id -- -1: %q", r.stdout)
	}
	// Unknown letters are still unknown flags.
	checkUsage(t, []string{"count", "-x"}, cli(t, b, "", "count", "-x", "ev"), "unknown shorthand flag")
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 1<<20)
	for _, s := range []string{"", "short", strings.Repeat("a", maxEcho), strings.Repeat("a", maxEcho+1), long} {
		c := clip(s)
		n := utf8.RuneCountInString(s)
		switch {
		case n <= maxEcho && c != s:
			t.Errorf("clip(%d runes) = %q, want it unchanged", n, c)
		case n > maxEcho && (c != string([]rune(s)[:maxEcho])+"…"):
			t.Errorf("clip(%d runes) = %q", n, c)
		}
	}
	if q := quoteClip(long); !strings.HasSuffix(q, `"…`) || utf8.RuneCountInString(q) != maxEcho+3 {
		t.Errorf("quoteClip = %q", q)
	}
}
