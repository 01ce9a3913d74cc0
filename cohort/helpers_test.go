package cohort_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// none marks a cell without value in expected grids.
const none = -1

// newClient returns a bitmapist client on b whose clock reads now.
func newClient(b testutil.Backend, now time.Time, opts ...bitmapist.Option) *bitmapist.Client {
	opts = append([]bitmapist.Option{
		bitmapist.WithPrefix(b.Prefix),
		bitmapist.WithIDMapClient(b.IDMap),
		bitmapist.WithClock(func() time.Time { return now }),
	}, opts...)
	return bitmapist.New(b.Client, opts...)
}

// markIDs marks event for every id at time at, in one batch.
func markIDs(t testing.TB, c *bitmapist.Client, event string, at time.Time, ids ...uint64) {
	t.Helper()
	marks := make([]bitmapist.Mark, len(ids))
	for i, id := range ids {
		marks[i] = bitmapist.Mark{Event: event, UserID: id, Time: at}
	}
	if err := c.MarkEvents(context.Background(), marks); err != nil {
		t.Fatalf("mark %s at %v: %v", event, at, err)
	}
}

// span returns the ids lo..hi.
func span(lo, hi uint64) []uint64 {
	var ids []uint64
	for id := lo; id <= hi; id++ {
		ids = append(ids, id)
	}
	return ids
}

// grid returns the table's counts, none for cells without value.
func grid(tb *cohort.Table) [][]int64 {
	out := make([][]int64, len(tb.Cells))
	for i, row := range tb.Cells {
		out[i] = make([]int64, len(row))
		for j, c := range row {
			if c.Valid {
				out[i][j] = c.Count
			} else {
				out[i][j] = none
			}
		}
	}
	return out
}

// recorder is a go-redis hook that records every round trip and command:
// its name, and for BITOP and DEL the keys written ("BITOP <dst>",
// "DEL <key> ..."), for GETRANGE its arguments ("GETRANGE <key> <start>
// <end>").
type recorder struct {
	mu         sync.Mutex
	roundTrips int
	cmds       []string
}

func (r *recorder) DialHook(next redis.DialHook) redis.DialHook { return next }

func (r *recorder) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if notTableWork(cmd) {
			return next(ctx, cmd)
		}
		r.mu.Lock()
		r.roundTrips++
		r.cmds = append(r.cmds, describeCmd(cmd))
		r.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (r *recorder) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !slices.ContainsFunc(cmds, func(c redis.Cmder) bool { return !notTableWork(c) }) {
			return next(ctx, cmds)
		}
		r.mu.Lock()
		r.roundTrips++
		for _, c := range cmds {
			r.cmds = append(r.cmds, describeCmd(c))
		}
		r.mu.Unlock()
		return next(ctx, cmds)
	}
}

// notTableWork reports whether cmd is no part of a table's cost: opening a
// pooled connection (HELLO, CLIENT SETINFO, SELECT, AUTH), which happens
// whenever the pool dials, and the client's backend detection (INFO, once
// per client).
func notTableWork(cmd redis.Cmder) bool {
	switch strings.ToUpper(cmd.Name()) {
	case "HELLO", "CLIENT", "SELECT", "AUTH", "INFO":
		return true
	}
	return false
}

// describeCmd returns cmd's name, followed for BITOP by its destination,
// for DEL by its keys and for GETRANGE by its arguments.
func describeCmd(cmd redis.Cmder) string {
	name := strings.ToUpper(cmd.Name())
	args := cmd.Args()
	switch {
	case name == "BITOP" && len(args) > 2:
		return fmt.Sprint(name, " ", args[2])
	case name == "GETRANGE" && len(args) == 4:
		return fmt.Sprint(name, " ", args[1], " ", args[2], " ", args[3])
	case name == "EXPIRE" && len(args) > 1:
		return fmt.Sprint(name, " ", args[1])
	case name == "DEL":
		return strings.TrimSuffix(fmt.Sprintln(append([]any{name}, args[1:]...)...), "\n")
	}
	return name
}

// reset clears the record and returns what it held.
func (r *recorder) reset() (roundTrips int, cmds []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	roundTrips, cmds = r.roundTrips, r.cmds
	r.roundTrips, r.cmds = 0, nil
	return roundTrips, cmds
}

// record adds a recorder to b's client.
func record(b testutil.Backend) *recorder {
	r := &recorder{}
	b.Client.AddHook(r)
	return r
}

// readOnly fails unless every command is a read (BITPOS, STRLEN, GETRANGE,
// SCAN), part of opening a connection (HELLO, CLIENT SETINFO, SELECT), or
// a MULTI/EXEC whose only writes (BITOP, DEL, EXPIRE) are of temporary keys
// (prefix + "bitop_..."), each given a TTL after every write
// (expiresAfterWrites).
func readOnly(t *testing.T, prefix string, cmds []string) {
	t.Helper()
	expiresAfterWrites(t, cmds)
	for _, c := range cmds {
		name, keys, _ := strings.Cut(c, " ")
		switch name {
		case "BITPOS", "STRLEN", "GETRANGE", "SCAN", "HELLO", "CLIENT", "SELECT", "MULTI", "EXEC":
		case "GET", "BITCOUNT": // bitmapist-server's whole-key reads and counts
		case "BITOP", "DEL", "EXPIRE":
			for _, k := range strings.Fields(keys) {
				if !strings.HasPrefix(k, prefix+"bitop_") {
					t.Fatalf("table computation wrote %s with %q (commands %v); want only temporary keys", name, k, cmds)
				}
			}
		default:
			t.Fatalf("table computation sent %s (commands %v); want only reads", c, cmds)
		}
	}
}

// expiresAfterWrites fails unless every temporary key a BITOP writes gets
// an EXPIRE after each BITOP into it: a BITOP replaces its destination and
// with it any TTL (on Redis and on bitmapist-server alike), so a TTL set
// only after the first write would leave a rewritten key without one if the
// process died before its DEL.
func expiresAfterWrites(t *testing.T, cmds []string) {
	t.Helper()
	pending := map[string]bool{} // written since its last EXPIRE
	for _, c := range cmds {
		name, key, _ := strings.Cut(c, " ")
		switch name {
		case "BITOP":
			pending[key] = true
		case "EXPIRE":
			delete(pending, key)
		}
	}
	for k := range pending {
		t.Errorf("temporary key %s was rewritten by a BITOP without an EXPIRE after it (commands %v)", k, cmds)
	}
}

// keyCount counts b's keys (every master of a cluster).
func keyCount(t *testing.T, b testutil.Backend) int {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	n := 0
	count := func(ctx context.Context, node redis.Cmdable) error {
		iter := node.Scan(ctx, 0, "*"+b.Prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			n++
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	if cc, ok := b.Client.(*redis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error { return count(ctx, node) })
	} else {
		err = count(ctx, b.Client)
	}
	if err != nil {
		t.Fatalf("count keys: %v", err)
	}
	return n
}

// day returns midnight UTC of the date.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func fmtGrid(g [][]int64) string {
	var sb strings.Builder
	for _, row := range g {
		sb.WriteString(fmt.Sprint(row))
		sb.WriteByte('\n')
	}
	return sb.String()
}
