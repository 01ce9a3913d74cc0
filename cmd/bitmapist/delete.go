package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// deleteCommand builds "delete": DeleteEvent, DeleteAll and
// DeleteTemporaryBitmaps from the shell.
func (a *app) deleteCommand() *cobra.Command {
	var (
		all, temporary, yes bool
	)
	cmd := &cobra.Command{
		Use:   "delete [EVENT...]",
		Short: "Delete every bitmap of the named events, of all events (--all), or leftover temporary keys",
		Long: `Delete every bitmap (all periods, and the unique bitmap) of each EVENT, found
with SCAN on every master (never KEYS); keys of other events whose names merely
start with EVENT are kept. --all deletes every key under --prefix (Python
bitmapist's delete_all_events) and needs --yes. --temporary deletes leftover
<prefix>bitop_* keys, such as the ones Python bitmapist never expires
(delete_temporary_bitop_keys). String id maps are not touched.

An EVENT without any key is an error (exit 1, "no such event", with the
closest existing names), as in the reading commands; the events that exist
are deleted all the same.`,
		Example: `  bitmapist delete song:played
  bitmapist delete --temporary
  bitmapist --prefix demo_ delete --all --yes`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			modes := 0
			for _, on := range []bool{all, temporary, len(args) > 0} {
				if on {
					modes++
				}
			}
			if modes != 1 {
				return usagef("give event names, or --all, or --temporary (one of them)")
			}
			if all && !yes {
				return usagef("--all deletes every key under prefix %q: add --yes", a.prefix)
			}
			for _, ev := range args {
				// Any name that EventNames lists can be deleted, including
				// ones Python bitmapist wrote with spaces or globs.
				if err := cohort.CheckEventName(ev); err != nil {
					return eventNameError(ev, err)
				}
			}
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			switch {
			case all:
				n, err := c.DeleteAll(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted %s under prefix %q\n", plural(n, "key"), a.prefix)
			case temporary:
				n, err := c.DeleteTemporaryBitmaps(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "deleted %d temporary keys\n", n)
			default:
				return a.deleteEvents(ctx, c, args)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&all, "all", false, "delete every key under --prefix (delete_all_events)")
	f.BoolVar(&temporary, "temporary", false, "delete leftover <prefix>bitop_* temporary keys")
	f.BoolVar(&yes, "yes", false, "confirm --all")
	return cmd
}

// deleteEvents deletes every key of each event and prints how many; an
// event that had no key is reported at the end as missingEvents does
// (errNoSuchEvent, with did-you-mean), after the others are deleted.
func (a *app) deleteEvents(ctx context.Context, c *bitmapist.Client, events []string) error {
	var missing []string
	for _, ev := range events {
		n, err := c.DeleteEvent(ctx, ev)
		if err != nil {
			return err
		}
		if n == 0 {
			missing = append(missing, ev)
			continue
		}
		fmt.Fprintf(a.stdout, "deleted %s of %s\n", plural(n, "key"), ev)
	}
	if len(missing) == 0 {
		return nil
	}
	return missingEvents(ctx, c, missing, nil) // DeleteEvent found no key: list the names
}
