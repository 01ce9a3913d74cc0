package main

import (
	"strconv"
	"strings"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestStatsCommand(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, id := range []string{"7", "7000"} {
			mustOK(t, cli(t, b, "", "mark", "--at", "2026-11-30T05:10:00Z", "song:played", id))
		}
		mustOK(t, cli(t, b, "", "mark", "--at", "2026-11-30T05:10:00Z", "login", "3"))
		out := mustOK(t, cli(t, b, "", "stats")).stdout
		for _, want := range []string{" 6 keys", "song:played  days", "login        weeks", "7000", b.Prefix + "song:played_2026-11"} {
			if !strings.Contains(out, want) {
				t.Errorf("stats output lacks %q:\n%s", want, out)
			}
		}
		if want := "under prefix " + strconv.Quote(b.Prefix) + "\n"; !strings.Contains(out, want) {
			t.Errorf("stats output lacks %q:\n%s", want, out)
		}
		var st bitmapist.Stats
		js := mustOK(t, cli(t, b, "", "stats", "--json", "song")).stdout
		if err := jsonUnmarshal(js, &st); err != nil {
			t.Fatal(err)
		}
		if st.Keys != 3 || len(st.Events) != 1 || st.Events[0].MaxID != 7000 || st.Largest[0].Length != 7000/8+1 {
			t.Errorf("stats --json song = %+v", st)
		}
		// The searched prefix, as the text's first line names it.
		for _, want := range []string{`"prefix": "` + b.Prefix + `song",`, `"event_prefix": "song",`} {
			if !strings.Contains(js, want) {
				t.Errorf("stats --json song lacks %s:\n%s", want, js)
			}
		}
		if text := mustOK(t, cli(t, b, "", "stats", "song")).stdout; !strings.Contains(text, "under prefix "+strconv.Quote(st.Prefix)) {
			t.Errorf("stats song names another prefix than its JSON %q:\n%s", st.Prefix, text)
		}
		js = mustOK(t, cli(t, b, "", "stats", "--json")).stdout
		if err := jsonUnmarshal(js, &st); err != nil || st.Prefix != b.Prefix || st.EventPrefix != "" || st.Keys != 6 {
			t.Errorf("stats --json: %v, prefix %q, event prefix %q, %d keys", err, st.Prefix, st.EventPrefix, st.Keys)
		}
		if r := cli(t, b, "", "stats", "--sample", "-1"); r.code != exitUsage {
			t.Errorf("--sample -1: exit %d", r.code)
		}
	})
}

func TestExpireCommand(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		mustOK(t, cli(t, b, "", "mark", "song:played", "1"))
		mustOK(t, cli(t, b, "", "mark", "--at", "2020-01-01T05:00:00Z", "song:played", "2"))
		dry := mustOK(t, cli(t, b, "", "expire", "--days", "400d")).stdout
		if !strings.Contains(dry, "6 period bitmaps") || !strings.Contains(dry, "4 kept forever") ||
			!strings.Contains(dry, "1 would get one, 1 past their retention") || !strings.Contains(dry, "dry run") {
			t.Errorf("dry run said:\n%s", dry)
		}
		c := bitmapist.New(b.Client, bitmapist.WithPrefix(b.Prefix))
		day := c.Key("song:played", bitmapist.Days, c.Now())
		if d, _ := b.Client.TTL(t.Context(), day).Result(); d != -1 {
			t.Errorf("dry run set a TTL: %v", d)
		}
		mustOK(t, cli(t, b, "", "expire", "--days", "400d", "--apply"))
		if d, _ := b.Client.TTL(t.Context(), day).Result(); d < 399*24*3600e9 {
			t.Errorf("TTL after --apply: %v", d)
		}
		for _, bad := range [][]string{{"expire"}, {"expire", "--days", "-3d"}, {"expire", "--hours", "soon"}} {
			if r := cli(t, b, "", bad...); r.code != exitUsage {
				t.Errorf("%v: exit %d, %s", bad, r.code, r.stderr)
			}
		}
	})
}
