package main

import (
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// TestHourReportsOnFallBackDay is the tester's repro: in Europe/Paris on
// 2024-10-27 the clocks go back, 02:30 CEST and 02:30 CET share the key
// d:x_2024-10-27-2, and every hour report must read that key as ONE
// period starting at 02:00 CEST (users 1 and 2), not as two periods.
func TestHourReportsOnFallBackDay(t *testing.T) {
	testutil.ForEachRedis(t, func(t *testing.T, b testutil.Backend) {
		csv := "u,t\n6,2024-10-26T23:30:00Z\n1,2024-10-27T00:30:00Z\n2,2024-10-27T01:30:00Z\n3,2024-10-27T02:30:00Z\n"
		tz := func(args ...string) []string { return append([]string{"--tz", "Europe/Paris"}, args...) }
		mustOK(t, cli(t, b, csv, tz("import", "--hourly", "--user-col", "u", "--time-col", "t", "--event", "d:x", "-")...))

		var st stickinessJSON
		decode(t, cli(t, b, "", tz("stickiness", "d:x", "--group", "hours", "--from", "2024-10-27 00:00", "--to", "2024-10-27 04:00", "--json")...), &st)
		var sticky []int64
		for _, bk := range st.Buckets {
			sticky = append(sticky, bk.Users)
		}
		if want := []int64{4, 0, 0, 0, 0}; !slices.Equal(sticky, want) {
			t.Errorf("stickiness 00:00..04:00 = %v, want %v (1 hour: 4, over 5 hour periods)", sticky, want)
		}

		var fu funnelJSON
		decode(t, cli(t, b, "", tz("funnel", "d:x", "d:x", "--group", "hours", "--window", "1", "--from", "2024-10-27 01:00", "--to", "2024-10-27 03:00", "--json")...), &fu)
		var rows []string
		for _, r := range fu.Rows {
			rows = append(rows, r.Label+" "+itoa(r.Steps[0].Users)+"->"+itoa(r.Steps[1].Users))
		}
		if want := []string{"2024-10-27 01:00 1->0", "2024-10-27 02:00 2->0", "2024-10-27 03:00 1->0"}; !slices.Equal(rows, want) {
			t.Errorf("funnel rows %q, want %q", rows, want)
		}

		r := mustOK(t, cli(t, b, "", tz("cohort", "d:x", "--group", "hours", "--start", "2024-10-27 01:00", "--now", "2024-10-27 04:00", "--with-replacement")...))
		var cells [][]string
		for _, l := range lines(r.stdout) {
			if f := strings.Fields(l); len(f) > 2 && f[0] == "2024-10-27" && f[1] <= "03:00" {
				cells = append(cells, f[1:])
			}
		}
		want := [][]string{{"01:00", "1", "1", "0", "0", "0"}, {"02:00", "2", "2", "0", "0"}, {"03:00", "1", "1", "0"}}
		if !slices.EqualFunc(cells, want, slices.Equal) {
			t.Errorf("cohort rows %q, want %q (no false returns from 02:00)\n%s", cells, want, r.stdout)
		}

		for _, to := range []string{"2024-10-27T03:00:00Z", "2024-10-27 04:00"} {
			var tr trendJSON
			decode(t, cli(t, b, "", tz("trend", "d:x", "--group", "hours", "--from", "2024-10-26T23:00:00Z", "--to", to, "--json")...), &tr)
			var got []string
			for _, p := range tr.Periods {
				got = append(got, p.Start.UTC().Format(time.RFC3339)+" "+itoa(p.Count))
			}
			want := []string{"2024-10-26T23:00:00Z 1", "2024-10-27T00:00:00Z 2", "2024-10-27T02:00:00Z 1", "2024-10-27T03:00:00Z 0"}
			if !slices.Equal(got, want) {
				t.Errorf("trend to %s: %q, want %q (01:00, 02:00 CEST of two hours, 03:00, 04:00)", to, got, want)
			}
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
