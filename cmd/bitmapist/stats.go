package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// statsBarFrom is the key count from which stats shows a progress bar.
const statsBarFrom = 10_000

// statsCommand builds "stats": Client.Stats from the shell.
func (a *app) statsCommand() *cobra.Command {
	var (
		opts   bitmapist.StatsOptions
		asJSON bool
		quiet  bool
	)
	cmd := &cobra.Command{
		Use:   "stats [EVENT_PREFIX]",
		Short: "Keys and memory per event and time group, the largest keys, the highest id per event",
		Long: `List every key under --prefix (SCAN, never KEYS) and report, per event and time
group, the number of keys and their memory; the largest keys; and the highest
user id of each event (which sizes its bitmaps: highest id / 8 bytes each).
With EVENT_PREFIX, only events whose name starts with it.

On Redis, memory is MEMORY USAGE, measured on --sample keys per event and group
(0: every key) and estimated at their mean for the others; the largest keys
are always measured. On bitmapist-server every key is read (GET) and its size
is that of its roaring bitmap as the server stores it (estimated from the
bits). Read-only. A progress bar shows on stderr from 10,000 keys on.

The first line names the key prefix searched (--prefix followed by
EVENT_PREFIX). --json prints the same report as one object: backend, prefix
(the key prefix searched, as on the first line), event_prefix (EVENT_PREFIX,
"" without it), keys, bytes, events, groups and largest.`,
		Example: `  bitmapist stats
  bitmapist --prefix trackist_ stats song: --json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if len(args) == 1 {
				opts.Prefix = args[0]
			}
			if opts.Sample < 0 || opts.Largest < 1 {
				return usagef("--sample must be 0 or more and --largest 1 or more")
			}
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			bar := a.newBar(-1, "stats", quiet, false)
			opts.Progress = func(n, total int) {
				if bar == nil || total < statsBarFrom {
					return
				}
				if bar.GetMax() != total {
					bar.ChangeMax(total)
				}
				_ = bar.Set(n)
			}
			st, err := c.Stats(ctx, opts)
			if bar != nil && st != nil && st.Keys >= statsBarFrom {
				_ = bar.Finish()
				fmt.Fprintln(a.stderr)
			}
			if err != nil {
				return err
			}
			if st.Keys == 0 && opts.Prefix != "" {
				if err := prefixHint(ctx, a.stderr, c, opts.Prefix); err != nil {
					return err
				}
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(st)
			}
			a.printStats(st)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&opts.Sample, "sample", 100, "keys per event and group measured with MEMORY USAGE on Redis (0: all)")
	f.IntVar(&opts.Largest, "largest", 10, "how many of the largest keys to list")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// printStats writes st as three aligned tables, after a line naming the
// key prefix searched (st.Prefix: --prefix followed by stats'
// EVENT_PREFIX argument).
func (a *app) printStats(st *bitmapist.Stats) {
	fmt.Fprintf(a.stdout, "%s: %s, %s under prefix %q\n\n", st.Backend, plural(st.Keys, "key"), humanBytes(st.Bytes), st.Prefix)
	w := tabwriter.NewWriter(a.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "EVENT\tGROUP\tKEYS\tBYTES\tMEASURED")
	for _, g := range st.Groups {
		ev := g.Event
		if ev == "" {
			ev = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%d\n", quoteName(ev), g.Group, g.Keys, humanBytes(g.Bytes), g.Measured)
	}
	_ = w.Flush()
	fmt.Fprintln(a.stdout)
	w = tabwriter.NewWriter(a.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "EVENT\tKEYS\tBYTES\tMAX ID")
	for _, e := range st.Events {
		id := "-"
		if e.MaxID >= 0 {
			id = fmt.Sprint(e.MaxID)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\n", quoteName(e.Event), e.Keys, humanBytes(e.Bytes), id)
	}
	_ = w.Flush()
	fmt.Fprintln(a.stdout)
	w = tabwriter.NewWriter(a.stdout, 2, 8, 2, ' ', 0)
	fmt.Fprintln(w, "LARGEST KEYS\tLENGTH\tBYTES")
	for _, k := range st.Largest {
		b := "-"
		if k.Bytes >= 0 {
			b = humanBytes(k.Bytes)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\n", quoteName(k.Key), k.Length, b)
	}
	_ = w.Flush()
}

// quoteName returns s Go-quoted when it holds control characters or
// invalid UTF-8 (possible in data Python wrote), else s.
func quoteName(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) || !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	return s
}

// humanBytes formats n bytes as "512 B", "1.5 KiB", "3.2 MiB", ...
func humanBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1024, "KiB"
	for _, u := range []string{"MiB", "GiB", "TiB"} {
		if v < 1024 {
			break
		}
		v, unit = v/1024, u
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}
