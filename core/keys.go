package bitmapist

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxEventNameLen is the longest event name accepted, in bytes.
const MaxEventNameLen = 200

// ValidateEventName returns nil for a usable event name, or an error
// wrapping ErrInvalidEventName. The rule: 1 to MaxEventNameLen bytes of
// valid UTF-8, with no whitespace, no control characters, none of the
// glob characters * ? [ ] \ that would break SCAN-based listing, and no
// '/' (bitmapist-server's SCAN '*' does not match '/', so such an event
// would vanish from its listings: the name is refused on every backend, so
// that data marked on Redis can move there), and it may not start with
// "bitop_" (Python bitmapist's temporary operation keys, which listing
// leaves out). "user:logged_in", "song_played" and "order.paid" are fine;
// "page/view" is not ("page:view" is). Names that Python bitmapist wrote
// with '/' can still be read, counted, listed (on bitmapist-server up to 8
// '/' deep) and deleted; only marking refuses them.
func ValidateEventName(event string) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: %q %s", ErrInvalidEventName, event, why)
	}
	switch {
	case event == "":
		return bad("is empty")
	case len(event) > MaxEventNameLen:
		return bad(fmt.Sprintf("is longer than %d bytes", MaxEventNameLen))
	case !utf8.ValidString(event):
		return bad("is not valid UTF-8")
	case strings.HasPrefix(event, "bitop_"):
		return bad("starts with bitop_, reserved for temporary keys")
	}
	for _, r := range event {
		switch {
		case unicode.IsSpace(r):
			return bad("contains whitespace")
		case unicode.IsControl(r) || !unicode.IsPrint(r):
			return bad("contains a control character")
		case strings.ContainsRune(`*?[]\`, r):
			return bad(`contains a glob character (* ? [ ] \)`)
		case r == '/':
			return bad(`contains '/', which bitmapist-server's key listing cannot match`)
		}
	}
	return nil
}

// keyBuf appends the key of event's period of group g containing t (which
// must already be in the client's location) to b. Years have no key.
func (c *Client) appendKey(b []byte, event string, g TimeGroup, t time.Time) []byte {
	b = append(b, c.prefix...)
	b = append(b, event...)
	b = append(b, '_')
	y, m, d := t.Date()
	switch g {
	case Weeks:
		iy, iw := t.ISOWeek()
		b = append(b, 'W')
		b = strconv.AppendInt(b, int64(iy), 10)
		b = append(b, '-')
		return strconv.AppendInt(b, int64(iw), 10)
	case Months:
		b = strconv.AppendInt(b, int64(y), 10)
		b = append(b, '-')
		return strconv.AppendInt(b, int64(m), 10)
	}
	b = strconv.AppendInt(b, int64(y), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(m), 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, int64(d), 10)
	if g == Hours {
		b = append(b, '-')
		b = strconv.AppendInt(b, int64(t.Hour()), 10)
	}
	return b
}

// Key returns the Redis key of event's bitmap for the hour, day, week or
// month (g) containing t, in bitmapist's format (see the package doc).
// t is first converted to the client's location. Years have no key of their
// own (a year is the OR of its months): Key returns "" for Years and for an
// invalid group.
func (c *Client) Key(event string, g TimeGroup, t time.Time) string {
	c = c.orNone()
	if g < Hours || g > Months {
		return ""
	}
	return string(c.appendKey(make([]byte, 0, len(c.prefix)+len(event)+16), event, g, t.In(c.loc)))
}

// UniqueKey returns the key of event's period-less unique bitmap,
// <prefix><event>_u.
func (c *Client) UniqueKey(event string) string {
	c = c.orNone()
	return c.prefix + event + "_u"
}

// isPeriodSuffix reports whether s is the part after the last "_" of a
// bitmapist key: "u", "W2025-1", "2024-12", "2024-12-30" or "2024-12-30-5".
func isPeriodSuffix(s string) bool {
	if s == "u" {
		return true
	}
	if strings.HasPrefix(s, "W") {
		return digitsGroups(s[1:]) == 2
	}
	n := digitsGroups(s)
	return n >= 2 && n <= 4
}

// digitsGroups returns how many non-empty runs of ASCII digits joined by
// single '-' make up s, or 0 if s is anything else.
func digitsGroups(s string) int {
	if s == "" {
		return 0
	}
	n, run := 0, 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch >= '0' && ch <= '9':
			run++
		case ch == '-' && run > 0:
			n, run = n+1, 0
		default:
			return 0
		}
	}
	if run == 0 {
		return 0
	}
	return n + 1
}

// splitKey splits a key (prefix already removed) into its event name and
// period suffix, or ok=false when it is not an event bitmap key.
func splitKey(rest string) (event, suffix string, ok bool) {
	i := strings.LastIndexByte(rest, '_')
	if i <= 0 {
		return "", "", false
	}
	event, suffix = rest[:i], rest[i+1:]
	if strings.HasPrefix(event, "bitop_") || !isPeriodSuffix(suffix) {
		return "", "", false
	}
	return event, suffix, true
}
