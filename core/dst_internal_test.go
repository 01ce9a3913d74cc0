package bitmapist

import (
	"fmt"
	"testing"
	"time"

	"github.com/bitmapist-go/bitmapist/internal/testutil"
)

// wallKeys is a brute-force list of the period keys of one group that
// the instants of a span have, in the order they first occur, with the
// first instant of each (scanned every step).
type wallKeys struct {
	keys  []string
	first []time.Time
	index map[string]int
}

// scanKeys scans [from, to) every step and records every key of group g
// (Hours or Days) in loc, as the key's wall-clock fields.
func scanKeys(loc *time.Location, g TimeGroup, from, to time.Time, step time.Duration) *wallKeys {
	w := &wallKeys{index: map[string]int{}}
	for t := from; t.Before(to); t = t.Add(step) {
		k := wallKey(g, t.In(loc))
		if _, ok := w.index[k]; !ok {
			w.index[k] = len(w.keys)
			w.keys = append(w.keys, k)
			w.first = append(w.first, t.In(loc))
		}
	}
	return w
}

// wallKey is the suffix of t's key of group g (Hours or Days): the wall
// clock's fields, as Python bitmapist's strftime gives them.
func wallKey(g TimeGroup, t time.Time) string {
	if g == Days {
		return fmt.Sprintf("%d-%d-%d", t.Year(), t.Month(), t.Day())
	}
	return fmt.Sprintf("%d-%d-%d-%d", t.Year(), t.Month(), t.Day(), t.Hour())
}

func loadZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

// TestHourPeriodsAroundClockChanges checks every instant of 18 hours
// around each change against the brute-force key list: the period of an
// instant is its key's (one period per key, a repeated hour included),
// starts at the key's first instant, ends at the next key's, and Add,
// Next, Prev, Periods' parsing and Retention.Deadline step key by key.
func TestHourPeriodsAroundClockChanges(t *testing.T) {
	keep := Retention{Hours: 48 * time.Hour}
	for _, zc := range testutil.DSTChanges {
		t.Run(zc.Name, func(t *testing.T) {
			loc := loadZone(t, zc.Zone)
			mid, _ := time.Parse(time.RFC3339, zc.At)
			c := New(nil, WithLocation(loc), WithPrefix("p_"))
			w := scanKeys(loc, Hours, mid.Add(-9*time.Hour), mid.Add(9*time.Hour), time.Minute)
			for i := range w.keys {
				checkHourKey(t, c, w, i, keep)
			}
			for t0 := mid.Add(-8 * time.Hour); t0.Before(mid.Add(8 * time.Hour)); t0 = t0.Add(time.Minute) {
				i := w.index[wallKey(Hours, t0.In(loc))]
				p := c.Hour("e", t0)
				if p.Key() != c.Key("e", Hours, t0) || !p.Start().Equal(w.first[i]) || !p.Contains(t0) {
					t.Fatalf("%v: period %s from %v, want key %s from %v", t0, p.Key(), p.Start(), w.keys[i], w.first[i])
				}
			}
			last := len(w.keys) - 2 // keys 0 and len-1 may be cut by the scan
			if got := Hours.Add(w.first[1], last-1); !got.Equal(w.first[last]) {
				t.Errorf("Add(%v, %d) = %v, want %v", w.first[1], last-1, got, w.first[last])
			}
			if got := Hours.Add(w.first[last], 1-last); !got.Equal(w.first[1]) {
				t.Errorf("Add(%v, %d) = %v, want %v", w.first[last], 1-last, got, w.first[1])
			}
		})
	}
}

// checkHourKey checks key i of w with every stepping function (not the
// first or last key, which the scan may have cut).
func checkHourKey(t *testing.T, c *Client, w *wallKeys, i int, keep Retention) {
	t.Helper()
	if i == 0 || i == len(w.keys)-1 {
		return
	}
	s := w.first[i]
	p := c.Hour("e", s)
	if got, want := p.Key(), "p_e_"+w.keys[i]; got != want {
		t.Fatalf("Hour(%v).Key() = %s, want %s", s, got, want)
	}
	if !p.End().Equal(w.first[i+1]) {
		t.Errorf("%s: End %v, want %v (the next key's first instant)", w.keys[i], p.End(), w.first[i+1])
	}
	if got := p.Next().Key(); got != "p_e_"+w.keys[i+1] {
		t.Errorf("%s: Next %s, want %s", w.keys[i], got, w.keys[i+1])
	}
	if got := p.Prev().Key(); got != "p_e_"+w.keys[i-1] {
		t.Errorf("%s: Prev %s, want %s", w.keys[i], got, w.keys[i-1])
	}
	for n := 1 - i; n < len(w.keys)-1-i; n++ {
		if got := Hours.Add(s, n); !got.Equal(w.first[i+n]) {
			t.Errorf("Hours.Add(%s, %d) = %v, want %v (key %s)", w.keys[i], n, got, w.first[i+n], w.keys[i+n])
		}
	}
	g, start, ok := parseSuffix(w.keys[i], c.loc)
	if !ok || g != Hours || !start.Equal(s) {
		t.Errorf("parseSuffix(%s) = %v %v %v, want hours %v", w.keys[i], g, start, ok, s)
	}
	if start, g, ok := c.parseSuffix(w.keys[i]); !ok || g != Hours || !start.Equal(s) {
		t.Errorf("Client.parseSuffix(%s) = %v %v %v, want hours %v", w.keys[i], start, g, ok, s)
	}
	// A mark anywhere in the hour (both halves of a repeated one) expires
	// Keep after the key's period ends.
	for _, at := range []time.Time{s, w.first[i+1].Add(-time.Minute)} {
		if d, _ := keep.Deadline(Hours, at); !d.Equal(w.first[i+1].Add(keep.Hours)) {
			t.Errorf("%s: Deadline(%v) = %v, want %v", w.keys[i], at, d, w.first[i+1].Add(keep.Hours))
		}
	}
}

// TestDayPeriodsAroundMissingMidnights checks days in zones whose clocks
// skipped midnight (America/Sao_Paulo, 2018-11-04 began at 01:00) or a
// whole day (Pacific/Apia skipped 2011-12-30): each day key once, starting
// at its first instant, none for the missing day.
func TestDayPeriodsAroundMissingMidnights(t *testing.T) {
	for _, zc := range testutil.DayChanges {
		t.Run(zc.Name, func(t *testing.T) {
			loc := loadZone(t, zc.Zone)
			mid, _ := time.Parse(time.RFC3339, zc.At)
			c := New(nil, WithLocation(loc), WithPrefix("p_"))
			w := scanKeys(loc, Days, mid.Add(-96*time.Hour), mid.Add(96*time.Hour), 15*time.Minute)
			for i := 1; i < len(w.keys)-1; i++ {
				p := c.Day("e", w.first[i].Add(3*time.Hour))
				if p.Key() != "p_e_"+w.keys[i] || !p.Start().Equal(w.first[i]) || !p.End().Equal(w.first[i+1]) {
					t.Errorf("day %s: period %s [%v, %v), want [%v, %v)", w.keys[i], p.Key(), p.Start(), p.End(), w.first[i], w.first[i+1])
				}
				for n := 1 - i; n < len(w.keys)-1-i; n++ {
					if got := Days.Add(w.first[i], n); !got.Equal(w.first[i+n]) {
						t.Errorf("Days.Add(%s, %d) = %v, want %v", w.keys[i], n, got, w.first[i+n])
					}
				}
				if start, _, ok := c.parseSuffix(w.keys[i]); !ok || !start.Equal(w.first[i]) {
					t.Errorf("parseSuffix(%s) = %v %v, want %v", w.keys[i], start, ok, w.first[i])
				}
			}
		})
	}
}
