package main

import (
	"strconv"
	"strings"
	"time"
)

// detectRows is how many rows import looks at to choose the time format
// when --time-format is not given.
const detectRows = 100

// unixMsFrom is the smallest all-digit time read as Unix milliseconds by
// the detection: 10^11 seconds would be the year 5138, 10^11 ms is 1973.
const unixMsFrom = 100_000_000_000

// detectableFormats are the time formats import recognises by itself, in
// the order ties are broken: RFC 3339 with a zone, RFC 3339 without one,
// the same with a space for the T, minutes only, a date, Unix seconds and
// milliseconds. Fractional seconds are accepted after seconds.
var detectableFormats = []string{
	"rfc3339",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"unix",
	"unixms",
}

// formatMatches reports whether the time s is written in format (one of
// detectableFormats), a year outside 1..9999 that the format cannot read
// (10000-01-01, yearOutOfRange) included: such a row is rejected for its
// year, not for another format.
func formatMatches(format, s string) bool {
	switch format {
	case "rfc3339":
		parse := func(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
		_, err := parse(s)
		return err == nil || yearOutOfRange(s, parse) != nil
	case "unix", "unixms":
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return false
		}
		return (n >= unixMsFrom || n <= -unixMsFrom) == (format == "unixms")
	}
	parse := func(s string) (time.Time, error) { return time.Parse(format, s) }
	_, err := parse(s)
	return err == nil || yearOutOfRange(s, parse) != nil
}

// detectTimeFormat returns the format of detectableFormats that reads the
// most of samples (empty ones are left out), and how many it reads; ok is
// false when it reads none. Between formats that read as many, the one
// that reads the earliest sample wins (then the order of
// detectableFormats), so the first rows decide, never the last.
func detectTimeFormat(samples []string) (format string, n int, ok bool) {
	counts := make([]int, len(detectableFormats))
	for i, f := range detectableFormats {
		for _, s := range samples {
			if s = strings.TrimSpace(s); s != "" && formatMatches(f, s) {
				counts[i]++
			}
		}
		n = max(n, counts[i])
	}
	if n == 0 {
		return "", 0, false
	}
	for _, s := range samples {
		s = strings.TrimSpace(s)
		for i, f := range detectableFormats {
			if counts[i] == n && s != "" && formatMatches(f, s) {
				return f, n, true
			}
		}
	}
	return "", 0, false // not reached: some sample is read by a format with count n
}
