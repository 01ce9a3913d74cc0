package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestRejectsFileIsNeverClobbered: --rejects may name an existing file; a
// run that fails before writing its rejects leaves that file as it was, and
// naming the input file itself (directly or through a link) is refused
// before anything is opened for writing.
func TestRejectsFileIsNeverClobbered(t *testing.T) {
	b := testutil.Miniredis(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "log.csv")
	if err := os.WriteFile(input, []byte(badRowsCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(input, link); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "old-rejects.csv")
	const oldContent = "precious\n"
	if err := os.WriteFile(old, []byte(oldContent), 0o644); err != nil {
		t.Fatal(err)
	}
	cols := []string{"import", "--user-col", "user", "--time-col", "day", "--event-col", "event"}
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"rejects is the input", append(append([]string{}, cols...), "--rejects", input, input)},
		{"rejects links to the input", append(append([]string{}, cols...), "--rejects", link, input)},
		{"run fails on a missing column", []string{"import", "--user-col", "nope", "--time-col", "day", "--event-col", "event", "--rejects", old, input}},
		{"run fails on a dead Redis", append(append([]string{"--redis", "redis://127.0.0.1:1"}, cols...), "--rejects", old, input)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.args[0] == "--redis" {
				r = runCLI(t, "", tc.args...)
			} else {
				r = cli(t, b, "", tc.args...)
			}
			if r.code == 0 {
				t.Fatalf("exit 0, want a failure:\n%s", r.stdout)
			}
			if got, _ := os.ReadFile(input); string(got) != badRowsCSV {
				t.Errorf("input file changed: %q", got)
			}
			if got, _ := os.ReadFile(old); string(got) != oldContent {
				t.Errorf("existing rejects file changed: %q", got)
			}
			if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*.tmp")); len(leftovers) != 0 {
				t.Errorf("temporary files left: %q", leftovers)
			}
		})
	}
	// A successful run replaces the old file with the rejected rows.
	r := cli(t, b, "", append(append([]string{}, cols...), "--rejects", old, input)...)
	if got, _ := os.ReadFile(old); string(got) == oldContent || len(got) == 0 {
		t.Errorf("rejects file not written (exit %d, %s): %q", r.code, r.stderr, got)
	}
}

// TestRejectsFileHoldsTheRows (finding 7): every rejected row in the
// --rejects file carries its own content in the row column: the original
// line for rows rejected by the checks, for broken CSV and for a quote
// left open (its first line), with any delimiter.
func TestRejectsFileHoldsTheRows(t *testing.T) {
	b := testutil.Miniredis(t)
	for _, delim := range []string{",", ";"} {
		in := strings.ReplaceAll(badRowsCSV, ",", delim)
		out := filepath.Join(t.TempDir(), "rejects.csv")
		r := cli(t, b, in, "import", "--delimiter", delim, "--user-col", "user", "--time-col", "day", "--event-col", "event", "--rejects", out, "-")
		if r.code != exitRejects {
			t.Fatalf("delimiter %q: exit %d, %s", delim, r.code, r.stderr)
		}
		f, err := os.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"line", "end_line", "reason", "detail", "row"}; !slices.Equal(recs[0], want) {
			t.Errorf("header %q, want %q", recs[0], want)
		}
		src := strings.Split(in, "\n")
		if len(recs) != 12 {
			t.Errorf("delimiter %q: %d rejected rows, want 11", delim, len(recs)-1)
		}
		for _, rec := range recs[1:] {
			line, _ := strconv.Atoi(rec[0])
			if line < 2 || line > len(src) || rec[4] != src[line-1] {
				t.Errorf("delimiter %q: line %s (%s): row %q, want the line itself", delim, rec[0], rec[2], rec[4])
			}
		}
	}
}
