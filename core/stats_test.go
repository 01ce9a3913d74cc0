package bitmapist_test

import (
	"context"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestStats(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b, bitmapist.WithTrackUnique(true))
		mark(t, c, "play", day0, 1, 2, 70_000)
		mark(t, c, "play", day0.AddDate(0, 0, -20), 5)
		mark(t, c, "buy", day0, 3)
		if err := c.UnmarkEvent(ctx, "buy", 3, bitmapist.At(day0)); err != nil {
			t.Fatal(err) // keys stay, all zero: no highest id
		}
		if err := b.Client.Set(ctx, b.Prefix+"bitop_AND_x", "", 0).Err(); err != nil {
			t.Fatal(err)
		}
		var last [2]int
		st, err := c.Stats(ctx, bitmapist.StatsOptions{Sample: 1, Largest: 3, Progress: func(d, n int) { last = [2]int{d, n} }})
		if err != nil {
			t.Fatal(err)
		}
		// play: 2 days, 2 weeks, 2 months (April and May), unique; buy:
		// day, week, month, unique; one temporary key.
		if st.Keys != 7+4+1 || last != [2]int{12, 12} {
			t.Errorf("Keys = %d, progress %v", st.Keys, last)
		}
		byGroup := map[[2]string]bitmapist.GroupStats{}
		for _, g := range st.Groups {
			byGroup[[2]string{g.Event, g.Group}] = g
		}
		for id, want := range map[[2]string]int{
			{"play", "days"}: 2, {"play", "weeks"}: 2, {"play", "months"}: 2, {"play", "unique"}: 1,
			{"buy", "days"}: 1, {"", "other"}: 1,
		} {
			g := byGroup[id]
			if g.Keys != want || g.Bytes <= 0 || g.Measured < 1 {
				t.Errorf("%v: %+v, want %d keys with bytes", id, g, want)
			}
		}
		// Sample 1 measures one key per group, plus the largest key.
		one, err := c.Stats(ctx, bitmapist.StatsOptions{Sample: 1, Largest: 1})
		if err != nil {
			t.Fatal(err)
		}
		measured := 0
		for _, g := range one.Groups {
			measured += g.Measured
		}
		if want := len(one.Groups); !onServer(b) && measured != want && measured != want+1 {
			t.Errorf("%d keys measured with Sample 1 in %d groups", measured, want)
		}
		if onServer(b) && measured != one.Keys {
			t.Errorf("bitmapist-server: %d of %d keys measured", measured, one.Keys)
		}
		if len(st.Events) != 2 || st.Events[0].Event != "buy" || st.Events[0].MaxID != -1 ||
			st.Events[1].Event != "play" || st.Events[1].MaxID != 70_000 || st.Events[1].Keys != 7 {
			t.Errorf("Events = %+v", st.Events)
		}
		if len(st.Largest) != 3 || st.Largest[0].Length != 70_000/8+1 || st.Largest[0].Bytes <= 0 {
			t.Errorf("Largest = %+v", st.Largest)
		}
		only, err := c.Stats(ctx, bitmapist.StatsOptions{Prefix: "bu"})
		if err != nil || len(only.Events) != 1 || only.Events[0].Event != "buy" {
			t.Errorf("Stats(bu) = %+v, %v", only, err)
		}
		if only.Prefix != b.Prefix+"bu" || only.EventPrefix != "bu" || st.Prefix != b.Prefix || st.EventPrefix != "" {
			t.Errorf("searched prefixes %q, %q (bu) and %q, %q (all)", only.Prefix, only.EventPrefix, st.Prefix, st.EventPrefix)
		}
	})
}

// TestStatsForeignKeys: keys under the prefix that are not strings (a
// hash, a list another program keeps there, even where a bitmap key would
// be) are counted with length 0, not a failure of the whole report.
func TestStatsForeignKeys(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		ctx := context.Background()
		c := newClient(b)
		mark(t, c, "play", day0, 1, 70_000)
		for _, k := range []string{"settings", "play_2099-1"} {
			if err := b.Client.HSet(ctx, b.Prefix+k, "a", "1").Err(); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Client.RPush(ctx, b.Prefix+"queue", "x").Err(); err != nil {
			t.Fatal(err)
		}
		st, err := c.Stats(ctx, bitmapist.StatsOptions{Sample: 0, Largest: 10})
		if err != nil {
			t.Fatal(err)
		}
		if st.Keys != 6 || st.Largest[0].Length != 70_000/8+1 || st.Events[0].MaxID != 70_000 {
			t.Errorf("stats with foreign keys: %d keys, largest %+v, events %+v; want 6 keys, play's 8751 bytes, max id 70000", st.Keys, st.Largest, st.Events)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it has no hashes or lists"))
}
