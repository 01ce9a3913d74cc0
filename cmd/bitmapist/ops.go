package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// selection is the set named by the flags shared by count and ids: one or
// more events in the period of --group containing --at, combined with --op.
type selection struct {
	group string // --group
	at    string // --at
	op    string // --op
}

// addFlags binds --group, --at and --op of cmd to s.
func (s *selection) addFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVarP(&s.group, "group", "g", "days", "period length: hours, days, weeks, months or years")
	f.StringVar(&s.at, "at", "now", "a time inside the period (2024-12-30, 2024-W01, 2024-12, RFC 3339, now)")
	f.StringVar(&s.op, "op", "and", "how several events combine: and, or, xor, andnot (first minus the others)")
}

// check returns the *usageError that set would return for these flags and
// events, without a client, so that bad input is refused before Redis is
// contacted.
func (s *selection) check(a *app, events []string) error {
	loc, err := a.location()
	if err != nil {
		return err
	}
	_, err = s.set(bitmapist.New(nil, bitmapist.WithLocation(loc)), events) // --at in --tz, as after connecting
	return err
}

// set builds the selection on c: the events in the period of --group that
// contains --at, combined with --op. Bad flags or event names return a
// open connects to Redis and returns the client, the selection's Set for
// events and the function that closes the connection. Flags are checked (set) after
// connecting only because the time zone and clock come from the client;
// check has already refused what needs no client.
func (s *selection) open(ctx context.Context, a *app, events []string) (*bitmapist.Client, bitmapist.Set, func(), error) {
	c, done, err := a.open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	set, err := s.set(c, events)
	if err == nil {
		err = missingEvents(ctx, c, events, s.probe(c))
	}
	if err != nil {
		done()
		return nil, nil, nil, err
	}
	return c, set, done, nil
}

// *usageError.
func (s *selection) set(c *bitmapist.Client, events []string) (bitmapist.Set, error) {
	g, err := bitmapist.ParseTimeGroup(s.group)
	if err != nil {
		return nil, usagef("--group: %v", err)
	}
	at, err := parseTime(s.at, c.Location(), c.Now())
	if err != nil {
		return nil, usagef("--at: %v", err)
	}
	sets := make([]bitmapist.Set, len(events))
	for i, ev := range events {
		// Reading takes any name Python bitmapist may have written
		// ("signed up"); only marking needs ValidateEventName's rule.
		if err := cohort.CheckEventName(ev); err != nil {
			return nil, eventNameError(ev, err)
		}
		sets[i] = c.Events(ev, g, at)
	}
	switch strings.ToLower(s.op) {
	case "and":
		return bitmapist.And(sets...), nil
	case "or":
		return bitmapist.Or(sets...), nil
	case "xor":
		return bitmapist.Xor(sets...), nil
	case "andnot":
		if len(sets) == 1 {
			return sets[0], nil
		}
		return bitmapist.AndNot(sets[0], bitmapist.Or(sets[1:]...)), nil
	}
	return nil, usagef("--op %s: want and, or, xor or andnot", quoteClip(s.op))
}

// eventsCommand builds "events": EventNames from the shell.
func (a *app) eventsCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "events [PREFIX]",
		Short: "List the event names that have data (optionally only those starting with PREFIX)",
		Long: `List the event names that have data, sorted, one per line, as Python
bitmapist's get_event_names does (SCAN, never KEYS, on every cluster master).
When there is none, a note on stderr names the --prefix searched (exit 0).`,
		Example: "  bitmapist events\n  bitmapist events user:",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			prefix := ""
			if len(args) == 1 {
				prefix = args[0]
			}
			names, err := c.EventNames(ctx, prefix)
			if err != nil {
				return err
			}
			if len(names) == 0 && prefix != "" {
				if err := prefixHint(ctx, a.stderr, c, prefix); err != nil {
					return err
				}
			} else if len(names) == 0 {
				fmt.Fprintf(a.stderr, "bitmapist: note: no events under prefix %q (is --prefix right? Python bitmapist's default is %q)\n", a.prefix, bitmapist.DefaultPrefix)
			}
			for _, n := range names {
				// A name with control characters (possible in data Python
				// wrote) is printed Go-quoted, never raw to the terminal.
				if strings.ContainsFunc(n, unicode.IsControl) || !utf8.ValidString(n) {
					n = strconv.Quote(n)
				}
				fmt.Fprintln(a.stdout, n)
			}
			return nil
		},
	}
}

// countCommand builds "count": Set.Count of a selection.
func (a *app) countCommand() *cobra.Command {
	var sel selection
	cmd := &cobra.Command{
		Use:   "count EVENT [EVENT...]",
		Short: "Print how many users did EVENT in one hour, day, week, month or year",
		Long: `Print how many users did EVENT in the period of --group that contains --at
(Redis BITCOUNT). Several events are combined with --op (and by default).`,
		Example: `  bitmapist count --group months --at 2011-01 customer:purchased
  bitmapist count --group days --at 2016-05-01 --op and newPlayer gameStarted`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := sel.check(a, args); err != nil {
				return err
			}
			c, s, done, err := sel.open(ctx, a, args)
			if err != nil {
				return err
			}
			defer done()
			n, err := s.Count(ctx)
			if err != nil {
				return err
			}
			if n == 0 {
				if err := sel.explainEmpty(ctx, a.stderr, c, args); err != nil {
					return err
				}
			}
			fmt.Fprintln(a.stdout, n)
			return nil
		},
	}
	sel.addFlags(cmd)
	return cmd
}

// explainEmpty is called when count or ids found nobody (open has already
// refused events without any data): hours marked without hourly tracking
// are an error (noHourlyData); a period after now gets a note on w.
func (s *selection) explainEmpty(ctx context.Context, w io.Writer, c *bitmapist.Client, events []string) error {
	g, _ := bitmapist.ParseTimeGroup(s.group)       // checked by check
	at, _ := parseTime(s.at, c.Location(), c.Now()) // likewise
	if g == bitmapist.Hours {
		if err := noHourlyData(ctx, c, events, at, at); err != nil {
			return err
		}
	}
	if now := c.Now(); g.Start(at).After(g.Start(now)) {
		fmt.Fprintf(w, "bitmapist: note: --at %s is after now (%s): it has no data yet\n", g.Label(at), g.Label(now))
	}
	return nil
}

// probe probes the period of the selection (--group, --at; valid: set
// has checked them).
func (s *selection) probe(c *bitmapist.Client) probe {
	g, err := bitmapist.ParseTimeGroup(s.group)
	if err != nil {
		return nil
	}
	at, err := parseTime(s.at, c.Location(), c.Now())
	if err != nil {
		return nil
	}
	return periodProbe(c, g, at, at)
}

// errNoSuchEvent is wrapped when a command names an event without any data.
var errNoSuchEvent = errors.New("no such event")

// missingEvents returns an error wrapping errNoSuchEvent naming the events
// that have no data in any period under c's prefix, with the closest
// existing names (bitmapist.SuggestEventNames), or nil when every event has data.
// Every command that reads events calls it with all the events it names
// (count and ids in selection.open, the reports in reportCommand, cohort,
// --segment in parseSegmentFlag) before computing anything, so that a
// typo in any position is an error, not a silent 0. Names that
// cohort.CheckEventName refuses are skipped: the command refuses them
// with its own message. The keys p names for each event (the periods the
// command reads) are looked up first, in one pipeline of EXISTS: only
// when none of an event's is there are the event names listed (SCAN of
// the prefix, for "no data in any period" and the suggestions).
func missingEvents(ctx context.Context, c *bitmapist.Client, events []string, p probe) error {
	events, err := unproven(ctx, c, events, p)
	if err != nil || len(events) == 0 {
		return err
	}
	known, err := c.EventNames(ctx, "")
	if err != nil {
		return err
	}
	var msgs, seen []string
	for _, e := range events {
		if slices.Contains(known, e) || slices.Contains(seen, e) || cohort.CheckEventName(e) != nil {
			continue
		}
		seen = append(seen, e)
		m := fmt.Sprintf("%s has no data in any period", quoteClip(e))
		if sug := bitmapist.SuggestEventNames(e, known, 3); len(sug) > 0 {
			m += " (did you mean " + strings.Join(sug, ", ") + "?)"
		}
		msgs = append(msgs, m)
	}
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s; \"bitmapist events\" lists the %s with data", errNoSuchEvent, strings.Join(msgs, "; "), plural(len(known), "event"))
}

// idsCommand builds "ids": Set.IDs of a selection, optionally mapped back
// to strings through an id map.
func (a *app) idsCommand() *cobra.Command {
	var (
		sel     selection
		strs    bool
		idMap   string
		limit   int
		withNum bool
	)
	cmd := &cobra.Command{
		Use:   "ids EVENT [EVENT...]",
		Short: "List the ids of the users who did EVENT in one period, one per line",
		Long: `List the ids of the users who did EVENT in the period of --group that contains
--at, ascending, one per line. With --strings, print the string ids that
"import --string-ids" or MarkEventString mapped to them; an id that the id map
(--id-map) has no string for is printed as "#<id>" (e.g. "#17") and counted in
a warning on stderr, and when none of the ids has a string the command fails
(exit 1) naming the id map: most likely --id-map is wrong.`,
		Example: `  bitmapist ids --group months --at 2011-01 customer:purchased
  bitmapist ids --group days --at 2016-05-01 --strings newPlayer`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := sel.check(a, args); err != nil {
				return err
			}
			if limit < 0 {
				return usagef("--limit %d: want 0 (all) or a positive number of ids", limit)
			}
			if !strs {
				for _, name := range []string{"with-offsets", "id-map"} {
					if cmd.Flags().Changed(name) {
						return usagef("--%s works only with --strings", name)
					}
				}
			}
			c, s, done, err := sel.open(ctx, a, args)
			if err != nil {
				return err
			}
			defer done()
			ids, err := s.IDs(ctx)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				if err := sel.explainEmpty(ctx, a.stderr, c, args); err != nil {
					return err
				}
			}
			if limit > 0 && len(ids) > limit {
				ids = ids[:limit]
			}
			if !strs {
				for _, id := range ids {
					fmt.Fprintln(a.stdout, id)
				}
				return nil
			}
			names, err := c.IDMap(idMap).Strings(ctx, ids)
			if err != nil {
				return err
			}
			unmapped := 0
			for i, n := range names {
				if n == "" {
					// Strings gives "" for an offset without a string.
					names[i] = "#" + strconv.FormatUint(ids[i], 10)
					unmapped++
				}
			}
			if unmapped > 0 && unmapped == len(ids) {
				return fmt.Errorf("none of the %d ids has a string in id map %q (is --id-map right? without --strings the integer ids are printed)", len(ids), idMap)
			}
			if unmapped > 0 {
				fmt.Fprintf(a.stderr, "bitmapist: warning: %d of %d ids have no string in id map %q; printed as #<id>\n", unmapped, len(ids), idMap)
			}
			for i, n := range names {
				if withNum {
					fmt.Fprintf(a.stdout, "%d\t%s\n", ids[i], n)
				} else {
					fmt.Fprintln(a.stdout, n)
				}
			}
			return nil
		},
	}
	sel.addFlags(cmd)
	f := cmd.Flags()
	f.BoolVar(&strs, "strings", false, "print the string ids of the id map instead of the integer ids (\"#<id>\" for an id without a string)")
	f.StringVar(&idMap, "id-map", bitmapist.DefaultIDMap, "name of the string id map (with --strings)")
	f.BoolVar(&withNum, "with-offsets", false, "with --strings, print \"<id>\\t<string>\"")
	f.IntVar(&limit, "limit", 0, "print at most this many ids (0: all)")
	return cmd
}

// markCommand builds "mark": MarkEvent or UnmarkEvent of one user.
func (a *app) markCommand() *cobra.Command {
	var (
		at       string
		unmark   bool
		stringID bool
		idMap    string
		hourly   bool
		unique   bool
		future   bool
	)
	cmd := &cobra.Command{
		Use:   "mark EVENT USER_ID",
		Short: "Record that USER_ID did EVENT (now, or --at a given time)",
		Long: `Record that USER_ID did EVENT: set its bit in the event's month, ISO week and
day bitmaps (and hour and unique bitmaps with --hourly / --unique), like Python
bitmapist's mark_event. USER_ID is an integer 0..--max-id (268435455 by default,
at most 4294967295: each id is a bit offset, and bitmaps are id/8 bytes long),
or any non-empty string with --string-id (mapped to a dense integer through the
id map).`,
		Example: `  bitmapist mark user:logged_in 42
  bitmapist mark --at 2024-12-30T05:10:00Z song:played 42
  bitmapist mark --string-id user:logged_in alice@example.com
  bitmapist mark --unmark user:logged_in 42`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			event, user := args[0], args[1]
			if err := bitmapist.ValidateEventName(event); err != nil {
				return eventNameError(event, err)
			}
			var id uint64
			if stringID && user == "" {
				return usagef("user id \"\": a string id cannot be empty")
			}
			if !stringID {
				if cmd.Flags().Changed("id-map") {
					return usagef("--id-map works only with --string-id")
				}
				v, err := strconv.ParseUint(user, 10, 64)
				if maxID := min(a.maxID, bitmapist.MaxUserID); err != nil || v > maxID {
					return usagef("user id %s: want an integer 0..%d%s (or --string-id)", quoteClip(user), maxID, maxIDHint(maxID))
				}
				id = v
			}
			loc, err := a.location()
			if err != nil {
				return err
			}
			t, err := markTime(at, loc, time.Now(), future)
			if err != nil {
				return err
			}
			c, done, err := a.open(ctx)
			if err != nil {
				return err
			}
			defer done()
			if stringID {
				if id, err = c.IDMap(idMap).ID(ctx, user); err != nil {
					return err
				}
			}
			opts := []bitmapist.MarkOption{bitmapist.At(t), bitmapist.TrackHourly(hourly), bitmapist.TrackUnique(unique)}
			verb := "marked"
			if unmark {
				err, verb = c.UnmarkEvent(ctx, event, id, opts...), "unmarked"
			} else {
				err = c.MarkEvent(ctx, event, id, opts...)
			}
			if errors.Is(err, bitmapist.ErrInvalidTime) {
				return &usageError{err: fmt.Errorf("--at: %w", err)}
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s %s for user %d at %s\n", verb, event, id, t.In(loc).Format("2006-01-02 15:04:05 MST")) // in --tz, as the other commands print
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&at, "at", "now", "when it happened (RFC 3339, 2024-12-30 05:10, 2024-12-30, now)")
	f.BoolVar(&unmark, "unmark", false, "clear the bits instead of setting them (unmark_event)")
	f.BoolVar(&stringID, "string-id", false, "USER_ID is a string, mapped through the id map")
	f.StringVar(&idMap, "id-map", bitmapist.DefaultIDMap, "name of the string id map (with --string-id)")
	f.BoolVar(&hourly, "hourly", false, "also write the hour bitmap (TRACK_HOURLY)")
	f.BoolVar(&unique, "unique", false, "also write the unique bitmap <prefix><event>_u (TRACK_UNIQUE)")
	f.BoolVar(&future, "allow-future", false, "accept an --at more than a day after now")
	return cmd
}

// maxFuture is how far after now mark --at may be without --allow-future:
// a day covers clock skew and time zones; anything later is most likely a
// typo in the year.
const maxFuture = 24 * time.Hour

// markTime parses mark's --at value in loc and refuses, as a usage error,
// a time more than maxFuture after now unless allowFuture.
func markTime(at string, loc *time.Location, now time.Time, allowFuture bool) (time.Time, error) {
	t, err := parseTime(at, loc, now)
	if err != nil {
		return time.Time{}, usagef("--at: %v", err)
	}
	if !allowFuture && t.After(now.Add(maxFuture)) {
		return time.Time{}, usagef("--at %s is more than a day in the future (a typo?); --allow-future marks it anyway", t.Format(time.RFC3339))
	}
	return t, nil
}

// prefixHint writes a note to w when no event name starts with prefix
// (events, stats): that the argument is a prefix, not a glob, when it has
// glob characters, and the closest existing names.
func prefixHint(ctx context.Context, w io.Writer, c *bitmapist.Client, prefix string) error {
	known, err := c.EventNames(ctx, "")
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("no event name starts with %s", quoteClip(prefix))
	if strings.ContainsAny(prefix, "*?[]") {
		msg += fmt.Sprintf(" (the argument is a prefix, not a glob: try %s)", quoteClip(strings.TrimRight(strings.SplitN(prefix, "*", 2)[0], "?[]")))
	} else if sug := bitmapist.SuggestEventNames(prefix, known, 3); len(sug) > 0 {
		msg += " (did you mean " + strings.Join(sug, ", ") + "?)"
	}
	fmt.Fprintf(w, "bitmapist: note: %s; %s with data under this --prefix\n", msg, plural(len(known), "event"))
	return nil
}
