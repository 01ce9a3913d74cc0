package main

import (
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// count of an event whose bitmap key holds a hash exits 1 with a message
// naming the key.
func TestCountOfHashKeyNamesIt(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		key := b.Prefix + "hashy_2016-5"
		if err := b.Client.HSet(t.Context(), key, "a", "b").Err(); err != nil {
			t.Fatal(err)
		}
		r := cli(t, b, "", "count", "--group", "month", "--at", "2016-05-03", "hashy")
		want := `bitmapist: count: key "` + key + `" is not a bitmap (string) key: WRONGTYPE`
		if r.code != 1 || !strings.HasPrefix(r.stderr, want) || r.stdout != "" {
			t.Errorf("exit %d, stdout %q, stderr %q; want exit 1 and stderr starting %q", r.code, r.stdout, r.stderr, want)
		}
	}, testutil.NotOn(testutil.NameBitmapistServer, "it has no hashes"))
}
