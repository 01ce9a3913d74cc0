package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// stalledClient returns a client of a Redis that stops answering at its
// first MULTI (testutil.HangingRedis), with 200 ms read timeouts and no
// retries; it is closed when t ends.
func stalledClient(t *testing.T) *bitmapist.Client {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{
		Addr: testutil.HangingRedis(t, "MULTI"), ReadTimeout: 200 * time.Millisecond,
		MaxRetries: -1, Protocol: 2,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	return bitmapist.New(rdb)
}

// TestImportStalledRedisMayHaveWritten: rows whose batch was sent to a Redis
// that never answered are reported "may have been written", never "not
// written".
func TestImportStalledRedisMayHaveWritten(t *testing.T) {
	c := stalledClient(t)
	var in strings.Builder
	in.WriteString("uid,ts\n")
	for i := range 50 {
		fmt.Fprintf(&in, "%d,2024-05-%02d\n", i, 1+i%28)
	}
	cfg := importConfig{UserCol: "uid", TimeCol: "ts", Event: "e", Batch: 20}
	sum, err := importCSV(context.Background(), c, strings.NewReader(in.String()), cfg)
	if !errors.Is(err, bitmapist.ErrUnknownOutcome) {
		t.Fatalf("import on a stalled Redis: %v, want ErrUnknownOutcome", err)
	}
	// Every row is accounted for: the first batch was sent, the others
	// were not.
	if sum.Marked != 0 || len(sum.Rejected) != 50 {
		t.Fatalf("marked %d, rejected %d rows, want 0 and 50", sum.Marked, len(sum.Rejected))
	}
	for i, r := range sum.Rejected {
		want := reasonNotWritten
		if i < 20 {
			want = reasonMaybe
		}
		if r.Line != i+2 || r.Reason != want {
			t.Errorf("%s: want line %d, reason %q", r, i+2, want)
		}
	}
}

func TestImportMaxID(t *testing.T) {
	b := testutil.Miniredis(t)
	c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix), bitmapist.WithMaxUserID(100))
	in := "uid,ts\n5,2024-05-01\n101,2024-05-01\n100,2024-05-02\n"
	sum, err := importCSV(context.Background(), c, strings.NewReader(in), importConfig{UserCol: "uid", TimeCol: "ts", Event: "e"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Marked != 2 || len(sum.Rejected) != 1 || sum.Rejected[0].Line != 3 || sum.Rejected[0].Reason != reasonIDRange {
		t.Fatalf("marked %d, rejected %v", sum.Marked, sum.Rejected)
	}
	if !strings.Contains(sum.Rejected[0].Detail, "above 100 (--max-id)") {
		t.Errorf("detail %q does not name the bound", sum.Rejected[0].Detail)
	}
}

func TestMarkMaxIDFlag(t *testing.T) {
	b := testutil.Miniredis(t)
	r := cli(t, b, "", "--max-id", "100", "mark", "e", "101")
	if r.code == exitOK || !strings.Contains(r.stderr, "0..100 (--max-id)") {
		t.Fatalf("mark 101 with --max-id 100: exit %d, %s", r.code, r.stderr)
	}
	if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 0 {
		t.Fatalf("refused mark wrote %v", keys)
	}
	mustOK(t, cli(t, b, "", "--max-id", "100", "mark", "e", "100"))
	if keys := testutil.Keys(t, b.Client, b.Prefix); len(keys) != 3 {
		t.Fatalf("mark 100 wrote %v", keys)
	}
}

// TestImportStoppedAccountsForTheRest (finding 6): an import that stops
// because Redis failed says from which line on the input was not read and
// how many lines that is, and counts the rows whose write has an unknown
// outcome apart ("may have been written"), never as rejected.
func TestImportStoppedAccountsForTheRest(t *testing.T) {
	c := stalledClient(t)
	const rows = 1000
	var in strings.Builder
	in.WriteString("uid,ts\n")
	for i := range rows {
		fmt.Fprintf(&in, "%d,2024-05-%02d\n", i, 1+i%28)
	}
	in.WriteString("\n1,2024-05-01") // a blank line and a last line without a newline
	total := rows + 3
	for _, count := range []bool{true, false} {
		cfg := importConfig{UserCol: "uid", TimeCol: "ts", Event: "e", Batch: 20, CountUnread: count}
		sum, err := importCSV(context.Background(), c, strings.NewReader(in.String()), cfg)
		if !errors.Is(err, bitmapist.ErrUnknownOutcome) {
			t.Fatalf("import on a stalled Redis: %v, want ErrUnknownOutcome", err)
		}
		// The rows read are lines 2..UnreadFrom-1.
		if sum.UnreadFrom != sum.Rows+2 || sum.Rows >= rows {
			t.Fatalf("count %v: %d rows read, unread from line %d", count, sum.Rows, sum.UnreadFrom)
		}
		want := total - sum.UnreadFrom + 1
		if !count {
			want = -1
		}
		if sum.Unread != want {
			t.Errorf("count %v: %d lines unread, want %d (from line %d of %d)", count, sum.Unread, want, sum.UnreadFrom, total)
		}
		var out, errb strings.Builder
		a := &app{stdout: &out, stderr: &errb}
		a.printImportSummary("huge.csv", sum, 0)
		_, notWritten, maybe := splitRejected(sum.Rejected)
		if maybe != 20 || notWritten != sum.Rows-20 {
			t.Errorf("maybe %d, not written %d of %d rows", maybe, notWritten, sum.Rows)
		}
		wantLines := []string{
			fmt.Sprintf("  rows:     %d read, 0 marked, 0 rejected, %d not written (Redis failed first), 20 may have been written (sent, no reply)\n", sum.Rows, notWritten),
			fmt.Sprintf("  unread:   %d lines from line %d on were not read: the import stopped\n", want, sum.UnreadFrom),
			fmt.Sprintf("  not marked: %d (may have been written: 20, not written: %d)\n", sum.Rows, notWritten),
		}
		if !count {
			wantLines[1] = fmt.Sprintf("  unread:   the lines from line %d on were not read (not counted): the import stopped\n", sum.UnreadFrom)
		}
		for _, w := range wantLines {
			if !strings.Contains(out.String(), w) {
				t.Errorf("count %v: summary lacks %q:\n%s", count, w, out.String())
			}
		}
	}
	// An import that read everything has no unread line.
	b := testutil.Miniredis(t)
	ok := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
	sum, err := importCSV(context.Background(), ok, strings.NewReader(in.String()), importConfig{UserCol: "uid", TimeCol: "ts", Event: "e", CountUnread: true})
	if err != nil || sum.UnreadFrom != 0 || sum.Unread != 0 || sum.Marked != rows+1 {
		t.Errorf("complete import: %v, marked %d, unread %d from %d", err, sum.Marked, sum.Unread, sum.UnreadFrom)
	}
}
