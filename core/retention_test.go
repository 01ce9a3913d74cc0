package bitmapist_test

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

var keep = bitmapist.Retention{Hours: 48 * time.Hour, Days: 400 * 24 * time.Hour}

func TestRetentionDeadline(t *testing.T) {
	at := time.Date(2024, 12, 30, 5, 10, 0, 0, time.UTC)
	for _, tc := range []struct {
		g    bitmapist.TimeGroup
		want time.Time
		ok   bool
	}{
		{bitmapist.Hours, time.Date(2025, 1, 1, 6, 0, 0, 0, time.UTC), true},
		{bitmapist.Days, time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC).Add(400 * 24 * time.Hour), true},
		{bitmapist.Weeks, time.Time{}, false},
		{bitmapist.Months, time.Time{}, false},
	} {
		got, ok := keep.Deadline(tc.g, at)
		if ok != tc.ok || !got.Equal(tc.want) {
			t.Errorf("%v: Deadline = %v, %v; want %v, %v", tc.g, got, ok, tc.want, tc.ok)
		}
	}
	if !(bitmapist.Retention{}).IsZero() || keep.IsZero() {
		t.Error("IsZero")
	}
}

// ttl returns the TTL of key (-1 none, -2 missing).
func ttl(t *testing.T, b testutil.Backend, key string) time.Duration {
	t.Helper()
	d, err := b.Client.TTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRetentionOneExpirePerKey(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		c := newClient(b, bitmapist.WithRetention(keep), bitmapist.WithTrackHourly(true),
			bitmapist.WithClock(func() time.Time { return now }))
		log := &cmdLog{}
		b.Client.AddHook(log)
		at := now.Add(-time.Hour) // 11:00, hour key ends 12:00: expires 48 h later
		for id := range uint64(5) {
			if err := c.MarkEvent(ctx, "play", id, bitmapist.At(at)); err != nil {
				t.Fatal(err)
			}
		}
		marks := []bitmapist.Mark{{Event: "play", UserID: 9, Time: at}, {Event: "play", UserID: 10, Time: at}}
		if err := c.MarkEvents(ctx, marks); err != nil {
			t.Fatal(err)
		}
		if n := count(log.take(), "EXPIRE"); n != 2 {
			t.Errorf("%d EXPIRE for 7 marks of one hour and day, want 2 (one per key)", n)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Hours, at)); d < 47*time.Hour || d > 48*time.Hour {
			t.Errorf("hour key TTL %v, want 48 h after 12:00", d)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Days, at)); d < 400*24*time.Hour || d > 401*24*time.Hour {
			t.Errorf("day key TTL %v", d)
		}
		for _, g := range []bitmapist.TimeGroup{bitmapist.Weeks, bitmapist.Months} {
			if d := ttl(t, b, c.Key("play", g, at)); d != -1 {
				t.Errorf("%v key TTL %v, want none", g, d)
			}
		}
		wantIDs(t, c.Hour("play", at), 0, 1, 2, 3, 4, 9, 10)
		// A mark three days old: its hour is past retention and not
		// written; its day, week and month are.
		old := now.Add(-72 * time.Hour)
		if err := c.MarkEvent(ctx, "play", 1, bitmapist.At(old)); err != nil {
			t.Fatal(err)
		}
		if err := c.MarkEvents(ctx, []bitmapist.Mark{{Event: "play", UserID: 2, Time: old}}); err != nil {
			t.Fatal(err)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Hours, old)); d != -2 {
			t.Errorf("expired hour written: TTL %v", d)
		}
		wantIDs(t, c.Day("play", old), 1, 2)
	})
}

func TestRetentionNXKeepsExistingTTL(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithRetention(keep))
		key := c.Key("play", bitmapist.Days, c.Now())
		if err := b.Client.SetBit(ctx, key, 3, 1).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.Expire(ctx, key, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		mark(t, c, "play", c.Now(), 4)
		if d := ttl(t, b, key); d > time.Hour || d < 59*time.Minute {
			t.Errorf("TTL %v after a mark, want the hour set by hand (NX)", d)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "its EXPIRE has no NX: a mark sets the retention's deadline (documented)"))
}

func TestApplyRetention(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		clock := bitmapist.WithClock(func() time.Time { return now })
		plain := newClient(b, bitmapist.WithTrackHourly(true), clock)
		mark(t, plain, "play", now, 1)                    // hour, day: get a TTL
		mark(t, plain, "play", now.AddDate(0, 0, -10), 2) // hour past retention; day not
		if _, err := plain.ApplyRetention(ctx, true, nil); !errors.Is(err, bitmapist.ErrUnsupported) {
			t.Errorf("ApplyRetention without WithRetention: %v", err)
		}
		c := newClient(b, bitmapist.WithRetention(keep), clock)
		// Two hours, days, weeks and months: weeks and months are kept
		// forever, the old hour is past its 48 h.
		want := bitmapist.RetentionReport{Keys: 8, Kept: 4, Set: 3, Expired: 1}
		var calls int
		rep, err := c.ApplyRetention(ctx, false, func(done, total int) { calls++ })
		if err != nil || rep != want || calls == 0 {
			t.Fatalf("dry run = %+v, %v (progress %d); want %+v", rep, err, calls, want)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Days, now)); d != -1 {
			t.Errorf("dry run wrote a TTL: %v", d)
		}
		if rep, err = c.ApplyRetention(ctx, true, nil); err != nil || rep != want {
			t.Fatalf("apply = %+v, %v", rep, err)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Days, now)); d < 400*24*time.Hour || d > 401*24*time.Hour {
			t.Errorf("day TTL %v", d)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Months, now)); d != -1 {
			t.Errorf("month TTL %v, want none", d)
		}
		rep, err = c.ApplyRetention(ctx, false, nil)
		if err != nil || rep.HadTTL < 3 || rep.Set != 0 {
			t.Errorf("after apply: %+v, %v", rep, err)
		}
	})
}

// redis62 makes a client's server look like Redis 6.2 to the client: INFO
// server answers redis_version:6.2.14 and a pipeline holding EXPIRE with an
// option fails as a MULTI does there (the command takes no options before
// 7.0: the transaction is aborted).
type redis62 struct{ log cmdLog }

func (h *redis62) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *redis62) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.log.add(cmd)
		if args := cmd.Args(); cmd.Name() == "info" && len(args) == 2 && strings.EqualFold(fmt.Sprint(args[1]), "server") {
			cmd.(*redis.StringCmd).SetVal("# Server\r\nredis_version:6.2.14\r\nredis_mode:standalone\r\n")
			return nil
		}
		return next(ctx, cmd)
	}
}

func (h *redis62) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, c := range cmds {
			h.log.add(c)
		}
		for _, c := range cmds {
			if c.Name() == "expire" && len(c.Args()) > 3 {
				err := errors.New("EXECABORT Transaction discarded because of previous errors (ERR wrong number of arguments for 'expire' command)")
				for _, c := range cmds {
					c.SetErr(err)
				}
				return err
			}
		}
		return next(ctx, cmds)
	}
}

// TestRetentionBeforeRedis7 runs WithRetention against a server that says
// it is Redis 6.2 (no EXPIRE NX): marks still give new keys their TTL,
// leave a TTL set by hand alone, and ApplyRetention works, with one INFO
// server for the client's life and no EXPIRE option sent.
func TestRetentionBeforeRedis7(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		h := &redis62{}
		b.Client.AddHook(h)
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		clock := bitmapist.WithClock(func() time.Time { return now })
		c := newClient(b, bitmapist.WithRetention(keep), bitmapist.WithTrackHourly(true), clock)
		byHand := c.Key("play", bitmapist.Days, now)
		if err := b.Client.SetBit(ctx, byHand, 3, 1).Err(); err != nil {
			t.Fatal(err)
		}
		if err := b.Client.Expire(ctx, byHand, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		h.log.take()
		mark(t, c, "play", now, 1, 2)
		if err := c.MarkEvents(ctx, []bitmapist.Mark{{Event: "play", UserID: 4, Time: now}, {Event: "skip", UserID: 5, Time: now}}); err != nil {
			t.Fatal(err)
		}
		cmds := h.log.take()
		if n := count(cmds, "INFO"); n != 2 && !(n == 1 && b.Name == testutil.NameCluster) {
			t.Errorf("%d INFO sent, want INFO keys and INFO server once each", n)
		}
		if n := count(cmds, "EVAL"); n != 4 {
			t.Errorf("%d EVAL for the hour and day keys of two events, want 4 (%v)", n, cmds)
		}
		if d := ttl(t, b, byHand); d > time.Hour || d < 59*time.Minute {
			t.Errorf("TTL %v after marks, want the hour set by hand", d)
		}
		if d := ttl(t, b, c.Key("skip", bitmapist.Hours, now)); d < 48*time.Hour || d > 49*time.Hour {
			t.Errorf("new hour key TTL %v, want 48 h after 13:00", d)
		}
		if d := ttl(t, b, c.Key("skip", bitmapist.Weeks, now)); d != -1 {
			t.Errorf("week key TTL %v, want none", d)
		}
		wantIDs(t, c.Day("play", now), 1, 2, 3, 4)

		// Existing keys without a TTL get theirs from ApplyRetention.
		plain := newClient(b, bitmapist.WithTrackHourly(true), clock)
		old := now.AddDate(0, 0, -3)
		mark(t, plain, "play", old, 7)
		rep, err := c.ApplyRetention(ctx, true, nil)
		if err != nil || rep.Set != 1 || rep.Expired != 1 {
			t.Fatalf("ApplyRetention = %+v, %v; want the old day set and the old hour expired", rep, err)
		}
		if d := ttl(t, b, c.Key("play", bitmapist.Days, old)); d < 397*24*time.Hour || d > 398*24*time.Hour {
			t.Errorf("old day key TTL %v after ApplyRetention", d)
		}
		if d := ttl(t, b, byHand); d > time.Hour {
			t.Errorf("ApplyRetention replaced the TTL set by hand: %v", d)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "not Redis: it gets a plain EXPIRE whatever its INFO says (TestRetentionOneExpirePerKey)"))
}
