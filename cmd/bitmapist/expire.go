package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// expireCommand builds "expire": Client.ApplyRetention from the shell.
func (a *app) expireCommand() *cobra.Command {
	var (
		keep  [4]string // hours, days, weeks, months
		apply bool
		quiet bool
	)
	cmd := &cobra.Command{
		Use:   "expire",
		Short: "Give existing bitmaps the TTL of a retention policy (dry run unless --apply)",
		Long: `Give every period bitmap under --prefix that has no TTL yet the one that
bitmapist.WithRetention gives new bitmaps: it expires at the end of its period
plus the retention of its group (--hours, --days, --weeks, --months; a Go
duration or a number of days like 400d; unset keeps the group forever). A
bitmap already past that expires within a second. Keys with a TTL, unique
bitmaps and other keys are left alone (EXPIRE ... NX). Without --apply nothing
is written: the counts say what would be done. A finer time group kept longer
than a coarser one (--hours 2d --days 1h: hour bitmaps outlive the days that
hold them) gets a warning on stderr; it is done all the same. Python
bitmapist ignores TTLs:
it reads the bitmaps until they expire. Cohorts over expired periods read as
empty.`,
		Example: `  bitmapist expire --hours 2d --days 400d
  bitmapist expire --hours 2d --days 400d --apply`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var r bitmapist.Retention
			for i, d := range []*time.Duration{&r.Hours, &r.Days, &r.Weeks, &r.Months} {
				v, err := parseKeep(keep[i])
				if err != nil {
					return usagef("--%s: %v", [...]string{"hours", "days", "weeks", "months"}[i], err)
				}
				*d = v
			}
			if r.IsZero() {
				return usagef("give a retention: --hours, --days, --weeks or --months")
			}
			for _, w := range retentionWarnings(keep, r) {
				fmt.Fprintln(a.stderr, w)
			}
			c, done, err := a.open(ctx, bitmapist.WithRetention(r))
			if err != nil {
				return err
			}
			defer done()
			bar := a.newBar(-1, "expire", quiet, false)
			rep, err := c.ApplyRetention(ctx, apply, func(n, total int) {
				if bar != nil && total >= statsBarFrom {
					if bar.GetMax() != total {
						bar.ChangeMax(total)
					}
					_ = bar.Set(n)
				}
			})
			if err != nil {
				return err
			}
			verb := "would get"
			if apply {
				verb = "got"
			}
			fmt.Fprintf(a.stdout, "%d period bitmaps under prefix %q: %d kept forever, %d already have a TTL, %d %s one, %d past their retention %s 1 s\n",
				rep.Keys, a.prefix, rep.Kept, rep.HadTTL, rep.Set, verb, rep.Expired, verb)
			if !apply && rep.Set+rep.Expired > 0 {
				fmt.Fprintln(a.stdout, "dry run: nothing written; add --apply")
			}
			return nil
		},
	}
	f := cmd.Flags()
	for i, g := range []string{"hours", "days", "weeks", "months"} {
		f.StringVar(&keep[i], g, "", "keep "+g+" bitmaps this long after their period (e.g. 48h, 400d; unset: forever)")
	}
	f.BoolVar(&apply, "apply", false, "write the TTLs (default: dry run)")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

// parseKeep parses a retention: "" (forever, 0), a Go duration ("48h") or
// a whole number of days ("400d"). Negative values are refused.
func parseKeep(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	var d time.Duration
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days > 100*366 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		d = time.Duration(days) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (48h, 400d)", s)
		}
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

// retentionWarnings returns a warning for each pair of time groups, both
// given, where the finer one is kept longer than the coarser one (keep
// holds the flag values, r the parsed durations, both hours, days, weeks,
// months).
func retentionWarnings(keep [4]string, r bitmapist.Retention) []string {
	names := [...]string{"hours", "days", "weeks", "months"}
	one := [...]string{"hour", "day", "week", "month"}
	d := [...]time.Duration{r.Hours, r.Days, r.Weeks, r.Months}
	var out []string
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			if d[i] > 0 && d[j] > 0 && d[i] > d[j] {
				out = append(out, fmt.Sprintf("bitmapist: warning: --%s %s keeps %s bitmaps longer than --%s %s keeps %s bitmaps (a finer time group usually expires first; is it swapped?)",
					names[i], keep[i], one[i], names[j], keep[j], one[j]))
			}
		}
	}
	return out
}
