package bitmapist

import "time"

// Wall-clock arithmetic behind TimeGroup.Start and TimeGroup.Add.
//
// A period's key names wall-clock fields (Python bitmapist's
// strftime of the local time), so a period is the set of instants whose
// wall clock has one key: an hour that a zone repeats when it turns its
// clocks back is ONE key and one period (it starts at the hour's first
// instant and lasts both real hours), and an hour it skips has no key and
// no period. The functions below work on "wall seconds": a wall clock
// read as if it were UTC, seconds since 1970-01-01T00:00.

const (
	hourSecs = 3600
	daySecs  = 86400
	// wallSlack bounds |UTC offset| of any zone, with room to spare
	// (real offsets stay within -12h .. +15h).
	wallSlack = 30 * hourSecs
	// maxZoneSteps bounds the zone intervals a search walks through.
	maxZoneSteps = 64
)

// wallSecs returns t's wall clock in its location, in wall seconds.
func wallSecs(t time.Time) int64 {
	_, off := t.Zone()
	return t.Unix() + int64(off)
}

// floorDiv is a / b rounded towards minus infinity (b > 0).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// firstAt returns the earliest instant (in loc) whose wall clock reads w
// (wall seconds) or later. For a wall time that occurs twice (clocks
// turned back) it is the first occurrence; for one that never occurs
// (clocks turned forward over it) it is the instant of the change.
func firstAt(loc *time.Location, w int64) time.Time {
	u := w - wallSlack // wall clock certainly before w
	for range maxZoneSteps {
		t := time.Unix(u, 0).In(loc)
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		c := max(u, w-int64(off)) // earliest instant of this interval with wall >= w
		if end.IsZero() || c < end.Unix() {
			return time.Unix(c, 0).In(loc)
		}
		u = end.Unix()
	}
	return time.Unix(w, 0).In(time.UTC).In(loc) // unreachable for real zones
}

// keyStart returns the first instant of the wall-clock unit k (k × unit
// wall seconds): its period's start when the unit exists.
func keyStart(loc *time.Location, unit, k int64) time.Time { return firstAt(loc, k*unit) }

// keyExists reports whether some instant's wall clock falls in unit k.
func keyExists(loc *time.Location, unit, k int64) bool {
	return floorDiv(wallSecs(keyStart(loc, unit, k)), unit) == k
}

// stepKeys returns the unit index n existing units after k (before it for
// a negative n), skipping units no instant has (hours, or a whole day,
// that a zone jumped over). Each existing unit counts once, however many
// real hours it lasts.
func stepKeys(loc *time.Location, unit, k int64, n int) int64 {
	for n != 0 {
		next := k + int64(n)
		var m int
		if n > 0 {
			m = missingKeys(loc, unit, k+1, next)
		} else {
			m = -missingKeys(loc, unit, next, k-1)
		}
		k, n = next, m
	}
	return k
}

// missingKeys counts the units a..b (inclusive) that no instant has. Only
// a forward change of the clocks can skip a unit, so it walks the zone's
// changes around a..b and checks the units each one jumps over.
func missingKeys(loc *time.Location, unit, a, b int64) int {
	lo, hi := a*unit, (b+1)*unit // wall range [lo, hi)
	u := lo - wallSlack
	n, last := 0, a-1
	for u < hi+wallSlack {
		t := time.Unix(u, 0).In(loc)
		_, end := t.ZoneBounds()
		if end.IsZero() {
			break
		}
		_, before := t.Zone()
		_, after := end.Zone()
		e := end.Unix()
		if after > before { // wall clock jumps over [e+before, e+after)
			first := max(floorDiv(e+int64(before)+unit-1, unit), a, last+1)
			for k := first; (k+1)*unit <= e+int64(after) && k <= b; k++ {
				if !keyExists(loc, unit, k) {
					n, last = n+1, k
				}
			}
		}
		u = e
	}
	return n
}

// wallDate returns the first instant of the wall-clock day y-m-d (fields
// normalized as by time.Date) in loc.
func wallDate(loc *time.Location, y int, m time.Month, d int) time.Time {
	return firstAt(loc, time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix())
}

// wallStart returns the first instant of the wall-clock period of group g
// (Hours, Days or Months) that starts at hour h of y-m-d in loc, and
// whether that period exists there: false for fields out of range (hour
// 24, February 30th) and for an hour or day the clocks skip.
func wallStart(loc *time.Location, g TimeGroup, y int, m time.Month, d, h int) (time.Time, bool) {
	n := time.Date(y, m, d, h, 0, 0, 0, time.UTC)
	if n.Day() != d || n.Hour() != h || n.Month() != m {
		return time.Time{}, false
	}
	unit := int64(hourSecs)
	if g != Hours {
		unit = daySecs
	}
	k := floorDiv(n.Unix(), unit)
	return keyStart(loc, unit, k), keyExists(loc, unit, k)
}
