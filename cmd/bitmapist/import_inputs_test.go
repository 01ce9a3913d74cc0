package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestImportOddFiles: files a spreadsheet or an old system writes get the
// exit status and the words below: a header alone is 0 rows and no advice
// to give a time format; UTF-16 is refused naming its encoding; lines that
// end in CR alone are named; a .gz that is not gzip says so; CRLF and a
// UTF-8 byte order mark import as plain files do. Nothing is written for a
// refused file.
func TestImportOddFiles(t *testing.T) {
	b := testutil.Miniredis(t)
	dir := t.TempDir()
	imp := []string{"import", "--user-col", "uid", "--time-col", "ts", "--event", "e"}
	for _, tc := range []struct {
		name, data string
		want       expect
		keys       int
	}{
		{"header.csv", "uid,ts\n", expect{code: exitOK, stdout: []string{"rows:     0 read, 0 marked, 0 rejected\n"}, notStderr: []string{"time-format"}}, 0},
		{"utf16.csv", "\xff\xfeu\x00i\x00d\x00,\x00t\x00s\x00\n\x00", expect{code: exitError, stderr: []string{"CSV header: the file is UTF-16 (it starts with the byte order mark FF FE): import reads UTF-8"}}, 0},
		{"utf16be.csv", "\xfe\xff\x00u\x00i\x00d", expect{code: exitError, stderr: []string{"byte order mark FE FF"}}, 0},
		{"cr.csv", "uid,ts\r1,2024-05-01\r", expect{code: exitUsage, stderr: []string{"the file's lines end in CR alone"}}, 0},
		{"bad.csv.gz", "uid,ts\n1,2024-05-01\n", expect{code: exitError, stderr: []string{"bad.csv.gz: not readable as gzip (its name ends in .gz)"}}, 0},
		{"crlf.csv", "\ufeffuid,ts\r\n1,2024-05-01\r\n2,2024-05-02\r\n", expect{code: exitOK, stdout: []string{"rows:     2 read, 2 marked, 0 rejected\n", "2024-05-01 00:00:00 .. 2024-05-02 00:00:00"}}, 4}, // month, week, 2 days
	} {
		path := filepath.Join(dir, tc.name)
		if err := os.WriteFile(path, []byte(tc.data), 0o600); err != nil {
			t.Fatal(err)
		}
		args := append(append([]string(nil), imp...), path)
		tc.want.check(t, args, cli(t, b, "", args...))
		if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != tc.keys {
			t.Errorf("%s: keys %v, want %d", tc.name, keys, tc.keys)
		}
	}
}

// TestImportSummaryWords: an impossible date in the format of the other
// rows, and an empty time, do not make the time format "mixed" (the rows
// are rejected as "not a valid date" and "missing time"); an open quote
// that swallowed one line names "line N", not "lines N-N".
func TestImportSummaryWords(t *testing.T) {
	b := testutil.Miniredis(t)
	in := "uid,ts\r\n1,2024-05-01\r\n3,2024-02-30\r\n4,\r\n\"5,2024-05-03\r\n6,2024-05-04\r\n"
	r := cli(t, b, in, "import", "--allow-rejects", "--user-col", "uid", "--time-col", "ts", "--event", "e", "-")
	expect{code: exitOK, stdout: []string{
		"  format:   2006-01-02 (detected: it reads 3 of the first 3 rows' times; --time-format sets another)\n",
		"line 3: bad time: \"2024-02-30\" is not a valid date (day out of range)\n",
		"line 4: missing time: column ts is empty\n",
		"(it ran to line 6); line 6 is read again on its own\n",
		"rows:     5 read, 2 marked, 3 rejected\n",
	}}.check(t, []string{"import"}, r)
}
