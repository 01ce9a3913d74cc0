package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

func TestDeleteCommand(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		for _, ev := range []string{"song", "song:played", "login"} {
			mustOK(t, cli(t, b, "", "mark", "--at", "2024-12-30", "--unique", ev, "3"))
		}
		ctx := t.Context()
		// A temporary key as Python bitmapist leaves them.
		if err := b.Client.Set(ctx, b.Prefix+"bitop_AND_x-y", "\x10", 0).Err(); err != nil {
			t.Fatal(err)
		}
		r := mustOK(t, cli(t, b, "", "delete", "song"))
		if strings.TrimSpace(r.stdout) != "deleted 4 keys of song" {
			t.Errorf("delete song: %q", r.stdout)
		}
		if r := mustOK(t, cli(t, b, "", "events")); !slices.Equal(lines(r.stdout), []string{"login", "song:played"}) {
			t.Errorf("events after delete: %q", r.stdout)
		}
		if r := mustOK(t, cli(t, b, "", "delete", "--temporary")); strings.TrimSpace(r.stdout) != "deleted 1 temporary keys" {
			t.Errorf("delete --temporary: %q", r.stdout)
		}
		if r := cli(t, b, "", "delete", "--all"); r.code != exitUsage || !strings.Contains(r.stderr, "--yes") {
			t.Errorf("delete --all without --yes: exit %d, %q", r.code, r.stderr)
		}
		if r := cli(t, b, "", "delete"); r.code != exitUsage {
			t.Errorf("delete without arguments: exit %d", r.code)
		}
		if r := mustOK(t, cli(t, b, "", "delete", "--all", "--yes")); strings.TrimSpace(r.stdout) != "deleted 8 keys under prefix \""+b.Prefix+"\"" {
			t.Errorf("delete --all: %q", r.stdout)
		}
		if r := mustOK(t, cli(t, b, "", "events")); r.stdout != "" {
			t.Errorf("events after delete --all: %q", r.stdout)
		}
	})
}
