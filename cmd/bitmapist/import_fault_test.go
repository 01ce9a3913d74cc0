package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/faults"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// cutReader reads r and calls cut once, when more than at bytes have been
// read: a fault in the middle of an import's input.
type cutReader struct {
	r    io.Reader
	at   int
	n    int
	once sync.Once
	cut  func()
}

// Read reads from r, cutting once past at bytes.
func (c *cutReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if c.n += n; c.n > c.at {
		c.once.Do(c.cut)
	}
	return n, err
}

// faultLog returns an event log of rows data rows whose line numbers
// differ from their positions in any batch: every 97th row is bad (not
// an id), every 50th is followed by a blank line, every 200th has a quoted
// note over two lines.
func faultLog(rows int) string {
	var b strings.Builder
	b.WriteString("uid,ts,note\n")
	for i := range rows {
		id := strconv.Itoa(i)
		if i%97 == 5 {
			id = "x" + id
		}
		note := "n"
		if i%200 == 3 {
			note = "\"two\nlines\""
		}
		fmt.Fprintf(&b, "u%s,2024-05-%02d,%s\n", id, 1+i%28, note)
		if i%50 == 0 {
			b.WriteString("\n")
		}
	}
	return strings.ReplaceAll(b.String(), "ux", "x")
}

// lineRun is a "line N" or "lines N-M" of a message.
var lineRun = regexp.MustCompile(`lines? (\d+)(?:-(\d+))?`)

// TestImportFaultNamesFileLines (finding A): when Redis goes away in the
// middle of an import, every line range the error and the summary print is
// one of real file lines: the failed batch's first and last lines, the runs
// of rows not written or maybe written (each run starts and ends at a row
// the --rejects file lists with that reason), the line reading stopped at.
func TestImportFaultNamesFileLines(t *testing.T) {
	t.Run("command", func(t *testing.T) {
		b := testutil.Redis(t)
		p, in, stdin := faultInput(t, b, false)
		opt := b.Client.(*redis.Client).Options()
		rej := filepath.Join(t.TempDir(), "rej.csv")
		args := []string{"--redis", fmt.Sprintf("redis://%s/%d", p.Addr(), opt.DB), "--prefix", b.Prefix,
			"import", "--user-col", "uid", "--time-col", "ts", "--event", "e", "--batch", "2500", "--rejects", rej, "-"}
		var out, errb bytes.Buffer
		if code := run(t.Context(), args, stdin, &out, &errb); code != exitError {
			t.Fatalf("exit %d, want %d; stderr %s", code, exitError, errb.String())
		}
		checkFaultLines(t, in, errb.String(), out.String(), readRejects(t, rej))
	})
	// The string id map fails first; a client that does not redial keeps
	// the test short.
	t.Run("string-ids", func(t *testing.T) {
		b := testutil.Redis(t)
		p, in, stdin := faultInput(t, b, true)
		opt := b.Client.(*redis.Client).Options()
		rdb := redis.NewClient(&redis.Options{Addr: p.Addr(), DB: opt.DB, MaxRetries: -1, DialerRetries: 1})
		defer rdb.Close()
		c := bitmapist.New(rdb, bitmapist.WithPrefix(b.Prefix))
		cfg := importConfig{UserCol: "uid", TimeCol: "ts", Event: "e", Batch: 2500, StringIDs: true, IDMap: "fault"}
		sum, err := importCSV(t.Context(), c, stdin, cfg)
		if err == nil {
			t.Fatal("import through a closed proxy succeeded")
		}
		var out strings.Builder
		(&app{stdout: &out}).printImportSummary("stdin", sum, 0)
		rejected := map[int]string{}
		for _, r := range sum.Rejected {
			rejected[r.Line] = r.Reason
		}
		checkFaultLines(t, in, "bitmapist: "+err.Error(), out.String(), rejected)
	})
}

// faultInput returns a proxy to b, an event log (string ids "u0"... when
// strIDs) and a reader of it that closes the proxy, as if Redis went
// away, once two batches of 2,500 rows are written and the parser is
// three quarters through: the second batch (its reply lost) or a later
// one fails.
func faultInput(t *testing.T, b testutil.Backend, strIDs bool) (*faults.Proxy, string, io.Reader) {
	t.Helper()
	p, err := faults.NewProxy("127.0.0.1:0", b.Client.(*redis.Client).Options().Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	in := faultLog(12000)
	if !strIDs {
		in = strings.ReplaceAll(in, "\nu", "\n")
	}
	cut := func() {
		waitMarked(t, bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix)), 5000)
		_ = p.Close()
	}
	return p, in, &cutReader{r: strings.NewReader(in), at: len(in) * 3 / 4, cut: cut}
}

// waitMarked waits until c's event "e" of May 2024 has n users.
func waitMarked(t *testing.T, c *bitmapist.Client, n int64) {
	t.Helper()
	month := c.Month("e", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if got, err := month.Count(t.Context()); err == nil && got >= n {
			return
		}
	}
	t.Errorf("%d users were never marked", n)
}

// readRejects reads a --rejects file: line number to reason.
func readRejects(t *testing.T, path string) map[int]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, r := range recs[1:] {
		n, _ := strconv.Atoi(r[0])
		got[n] = r[2]
	}
	return got
}

// checkFaultLines checks the line numbers of a failed import's stderr and
// summary against the rejected rows and the input in.
func checkFaultLines(t *testing.T, in, stderr, stdout string, rejected map[int]string) {
	t.Helper()
	total := strings.Count(in, "\n")
	m := regexp.MustCompile(`^bitmapist: (?:marking|mapping the string ids of) the rows of lines (\d+)-(\d+) \((\d+) rows\): (.*)`).FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("stderr does not name the failed batch by its lines: %s", stderr)
	}
	first, _ := strconv.Atoi(m[1])
	last, _ := strconv.Atoi(m[2])
	// The first batch was confirmed before the second was sent; the second
	// may be the one that failed (written, its reply lost).
	if first <= 2 || last > total || last-first+1 < 2500 {
		t.Fatalf("failed batch at lines %d-%d of %d: %s", first, last, total, stderr)
	}
	notMarked := 0
	for l, r := range rejected {
		if l >= first && l <= last && (r == reasonNotWritten || r == reasonMaybe) {
			notMarked++
		}
	}
	if strings.HasPrefix(m[4], strconv.Itoa(notMarked)+" not marked: ") {
		for _, run := range lineRun.FindAllStringSubmatch(strings.Split(m[4], ": ")[1], -1) {
			checkRun(t, run, rejected, stderr)
		}
	} else if notMarked != 2500 {
		t.Errorf("the batch of lines %d-%d has %d rows not marked, stderr names none: %s", first, last, notMarked, stderr)
	}
	// The parser may have read to the end before the writer failed.
	u := regexp.MustCompile(`from line (\d+) on were not read`).FindStringSubmatch(stdout)
	if u == nil && !strings.Contains(stdout, "  rows:     12000 read") {
		t.Fatalf("summary lacks the unread line:\n%s", stdout)
	}
	if u == nil {
		return
	}
	if from, _ := strconv.Atoi(u[1]); from <= last || from > total {
		t.Errorf("unread from line %d; failed batch ends at %d, the input has %d lines", from, last, total)
	}
}

// checkRun checks one "lines A-B outcome" run of the error: A and B are
// lines of rows rejected with that outcome, and so is every rejected row
// between them that is not a bad row.
func checkRun(t *testing.T, run []string, rejected map[int]string, stderr string) {
	t.Helper()
	a, _ := strconv.Atoi(run[1])
	b := a
	if run[2] != "" {
		b, _ = strconv.Atoi(run[2])
	}
	want := reasonNotWritten
	if strings.Contains(stderr, run[0]+" may have been written") {
		want = reasonMaybe
	}
	// b is the end of a row: a quoted note's second line, or the row's line.
	if rejected[a] != want || (rejected[b] != want && rejected[b-1] != want) {
		t.Errorf("%s: rejected %q at %d and %q at %d, want %q: %s", run[0], rejected[a], a, rejected[b], b, want, stderr)
	}
	for l := a; l <= b; l++ {
		if r, ok := rejected[l]; ok && r != want && r != reasonBadID {
			t.Errorf("%s: line %d is %q inside a run of %q", run[0], l, r, want)
		}
	}
}
