package main

import (
	"fmt"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// yearOutOfRange returns an error wrapping bitmapist.ErrInvalidTime when s,
// which parse refused, is a time parse would read but for a year Go's
// layouts cannot hold: five digits or more (10000-01-01) or a sign
// (-0044-03-15). The message names the year and the supported range:
// `"10000-01-01": year 10000 is outside 1..9999, the supported range`.
// It returns nil when s is wrong in another way.
//
// The year is found by trying each such run of digits of s: it is the
// year when s with 2000 and with 2001 in its place parses to those years.
func yearOutOfRange(s string, parse func(string) (time.Time, error)) error {
	for i := 0; i < len(s); {
		if !isDigit(s[i]) {
			i++
			continue
		}
		start, end := i, i
		for end < len(s) && isDigit(s[end]) {
			end++
		}
		i = end
		if start > 0 && (s[start-1] == '-' || s[start-1] == '+') && (start == 1 || !isDigit(s[start-2])) {
			start-- // a signed year: -0044
		} else if end-start < 5 {
			continue
		}
		if isYearField(s[:start], s[end:], parse) {
			return &wrapped{err: bitmapist.ErrInvalidTime, msg: fmt.Sprintf("%s: year %s is outside 1..9999, the supported range", quoteClip(s), clip(s[start:end]))}
		}
	}
	return nil
}

// isYearField reports whether parse reads before+YEAR+after as a time of
// that year, for the years 2000 and 2001.
func isYearField(before, after string, parse func(string) (time.Time, error)) bool {
	for _, y := range []int{2000, 2001} {
		t, err := parse(fmt.Sprintf("%s%d%s", before, y, after))
		if err != nil || t.Year() != y {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
