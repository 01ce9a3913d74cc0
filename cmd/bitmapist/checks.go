package main

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// maxEcho is how many characters of a bad value an error message or a
// rejected-row report repeats; the rest is cut and replaced by "…".
const maxEcho = 60

// clip returns s cut to maxEcho characters, with "…" appended when it was
// cut, so that a huge bad value is not echoed whole.
func clip(s string) string {
	n := 0
	for i := range s {
		if n == maxEcho {
			return s[:i] + "…"
		}
		n++
	}
	return s
}

// quoteClip returns clip(s) quoted as by %q.
func quoteClip(s string) string {
	if c := clip(s); c != s {
		return strconv.Quote(strings.TrimSuffix(c, "…")) + "…"
	}
	return strconv.Quote(s)
}

// echoClip returns clip(s), or quoteClip(s) when s holds a character that
// is not printable (control characters, invalid UTF-8: a binary file's
// header), so that nothing raw reaches the terminal.
func echoClip(s string) string {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) {
		return quoteClip(s)
	}
	return clip(s)
}

// eventNameError returns err (from bitmapist.ValidateEventName(event))
// with the event name shortened by quoteClip, as a *usageError.
func eventNameError(event string, err error) error {
	return &usageError{err: fmt.Errorf("%w: %s", bitmapist.ErrInvalidEventName, eventNameWhy(event, err))}
}

// eventNameWhy returns the message of err (from
// bitmapist.ValidateEventName(event)) without the sentinel's text, the name
// shortened: `"bad event" contains whitespace`.
func eventNameWhy(event string, err error) string {
	msg := strings.TrimPrefix(err.Error(), bitmapist.ErrInvalidEventName.Error()+": ")
	if q := strconv.Quote(event); strings.HasPrefix(msg, q) {
		msg = quoteClip(event) + strings.TrimPrefix(msg, q)
	}
	return msg
}

// checkYear returns an error wrapping bitmapist.ErrInvalidTime when the
// year of t in loc is outside 1..9999: Python's datetime cannot hold it, and
// the keys it would give (such as "ev_W-1-52") are ones that listing and
// deleting do not recognise. The zero time (0001-01-01 00:00:00 UTC) is
// refused too: bitmapist.At and bitmapist.Mark read Go's zero time as
// "now", so the message says it is reserved and to give a label of its
// period (parseTime takes a label from the nanosecond after that instant:
// cohort.NonZeroStart) or a later time.
func checkYear(t time.Time, loc *time.Location) error {
	if y := t.In(loc).Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: year %d is outside 1..9999, the supported range", bitmapist.ErrInvalidTime, y)
	}
	if t.IsZero() {
		return fmt.Errorf("%w: 0001-01-01 00:00:00 UTC cannot be used (the library reserves that instant); give a label for its period (0001-01-01, 0001-01, 0001), which is taken from the next nanosecond, or a later time", bitmapist.ErrInvalidTime)
	}
	return nil
}

// errBadPrefix is wrapped by the errors of checkPrefix.
var errBadPrefix = errors.New("bad key prefix")

// checkPrefix returns an error wrapping errBadPrefix unless p can be a key
// prefix: not empty (an empty prefix makes "delete --all" delete every key
// of the database, other applications' too), and without whitespace,
// control characters or the glob characters * ? [ ] \ that would make the
// SCAN patterns built from it match other keys.
func checkPrefix(p string) error {
	if p == "" {
		return fmt.Errorf("%w: it is empty (delete --all would delete every key of the database)", errBadPrefix)
	}
	if !utf8.ValidString(p) {
		return fmt.Errorf("%w %s: not valid UTF-8", errBadPrefix, quoteClip(p))
	}
	for _, r := range p {
		switch {
		case unicode.IsSpace(r):
			return fmt.Errorf("%w %s: it contains whitespace", errBadPrefix, quoteClip(p))
		case unicode.IsControl(r) || !unicode.IsPrint(r):
			return fmt.Errorf("%w %s: it contains a control character", errBadPrefix, quoteClip(p))
		case strings.ContainsRune(`*?[]\`, r):
			return fmt.Errorf(`%w %s: it contains a glob character (* ? [ ] \)`, errBadPrefix, quoteClip(p))
		}
	}
	return nil
}

// checkGlobalFlags is the root command's PersistentPreRunE: it refuses,
// before any subcommand runs, a string flag given an empty value (which
// would otherwise silently mean the default, or nothing) and a bad
// --prefix or --tz.
func (a *app) checkGlobalFlags(cmd *cobra.Command, _ []string) error {
	if err := checkPrefix(a.prefix); err != nil {
		if !cmd.Flags().Changed("prefix") {
			return usagef("$%s: %v", envPrefix, err)
		}
		return usagef("--prefix: %v", err)
	}
	if a.maxID > bitmapist.MaxUserID {
		return usagef("--max-id %d: want at most %d (Redis bit offsets end at 2^32-1)", a.maxID, uint64(bitmapist.MaxUserID))
	}
	var err error
	cmd.Flags().Visit(func(f *pflag.Flag) {
		if err == nil && f.Value.Type() == "string" && f.Value.String() == "" {
			err = usagef("--%s: empty value", f.Name)
		}
	})
	if err != nil {
		return err
	}
	_, err = a.location()
	return err
}

// negativeArg matches the error pflag gives for an argument like "-1",
// which it takes for a bundle of one-letter flags.
var negativeArg = regexp.MustCompile(`^unknown shorthand flag: '.' in (-[0-9.]\S*)$`)

// flagError is the root command's FlagErrorFunc: every flag error is a
// *usageError, and a negative number taken for a flag says so (a user id
// or any other argument cannot be negative; "--" passes it anyway).
func flagError(cmd *cobra.Command, err error) error {
	m := negativeArg.FindStringSubmatch(err.Error())
	if m == nil {
		return &usageError{err: err}
	}
	if cmd.Name() == "mark" {
		return usagef("user id %q: want an integer 0..%s (a string id starting with \"-\" goes after \"--\": bitmapist mark --string-id EVENT -- %s)",
			m[1], flagValue(cmd, "max-id", fmt.Sprint(defaultMaxID)), m[1])
	}
	return usagef("%q is not a flag, and no argument of %q is a negative number (to pass it anyway, put it after \"--\")", m[1], cmd.CommandPath())
}

// flagValue returns the value of cmd's flag name (local or inherited) as
// text, or def when cmd has no such flag.
func flagValue(cmd *cobra.Command, name, def string) string {
	if f := cmd.Flag(name); f != nil {
		return f.Value.String()
	}
	return def
}
