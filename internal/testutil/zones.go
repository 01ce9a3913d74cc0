package testutil

import (
	"testing"
	"time"
)

// ZoneChange is a time zone and an instant near one of its clock changes
// (any instant for a zone without DST), for tests that check periods,
// keys and reports around the change.
type ZoneChange struct {
	Name string // subtest name: "paris-back"
	Zone string // IANA name: "Europe/Paris"
	At   string // RFC 3339 instant of the change (UTC)
}

// DSTChanges has clock changes in both directions: Europe/Paris and
// America/New_York by an hour, Australia/Lord_Howe by 30 minutes, and two
// zones without any (Asia/Tokyo, UTC).
var DSTChanges = []ZoneChange{
	{"paris-back", "Europe/Paris", "2024-10-27T01:00:00Z"},
	{"paris-forward", "Europe/Paris", "2025-03-30T01:00:00Z"},
	{"newyork-back", "America/New_York", "2024-11-03T06:00:00Z"},
	{"newyork-forward", "America/New_York", "2024-03-10T07:00:00Z"},
	{"lordhowe-back", "Australia/Lord_Howe", "2024-04-06T15:00:00Z"},
	{"lordhowe-forward", "Australia/Lord_Howe", "2024-10-05T15:30:00Z"},
	{"tokyo", "Asia/Tokyo", "2024-10-27T01:00:00Z"},
	{"utc", "UTC", "2024-10-27T01:00:00Z"},
}

// DayChanges are changes that move a day's start or skip a day:
// America/Sao_Paulo's clocks skipped midnight (2018-11-04 began at
// 01:00), Pacific/Apia skipped 2011-12-30, and two changes within a day.
var DayChanges = []ZoneChange{
	{"saopaulo", "America/Sao_Paulo", "2018-11-04T03:00:00Z"},
	{"apia", "Pacific/Apia", "2011-12-30T10:00:00Z"},
	{"paris-back", "Europe/Paris", "2024-10-27T01:00:00Z"},
	{"lordhowe-forward", "Australia/Lord_Howe", "2024-10-05T15:30:00Z"},
}

// GapZone is a zone and the years in which its clocks skip wall-clock
// times worth testing, for brute-force tests of times typed without a
// zone.
type GapZone struct {
	Zone  string
	Years []int
}

// Location loads gz's zone from the system's zone database, failing t
// (t.Fatal) when it is missing.
func (gz GapZone) Location(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(gz.Zone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// GapZones are zones whose clocks skip: America/Sao_Paulo (its spring
// change skipped midnight, so 2018-11-04 began at 01:00), Europe/Berlin
// and America/New_York (an hour at 02:00), Pacific/Apia (the whole day
// 2011-12-30, and DST by an hour in other years) and Australia/Lord_Howe
// (30 minutes, 02:00..02:30).
var GapZones = []GapZone{
	{"America/Sao_Paulo", []int{2016, 2018}},
	{"Europe/Berlin", []int{2024}},
	{"America/New_York", []int{2024}},
	{"Pacific/Apia", []int{2011, 2015}},
	{"Australia/Lord_Howe", []int{2024}},
}

// WallScan is the brute-force truth of a zone's wall clock over a year,
// found instant by instant every 15 minutes (every clock change falls on
// a quarter hour). Wall readings are their fields in UTC.
type WallScan struct {
	First   map[time.Time]time.Time // a wall reading that occurs -> its first instant (in the zone)
	Hour    map[time.Time]time.Time // a wall-clock hour that occurs -> its first instant
	Day     map[time.Time]time.Time // a wall-clock day that occurs -> its first instant
	Skipped []time.Time             // the year's quarter-hour readings that never occur, in order
}

// ScanWall scans loc's clock over year (and two days either side).
func ScanWall(loc *time.Location, year int) WallScan {
	w := WallScan{First: map[time.Time]time.Time{}, Hour: map[time.Time]time.Time{}, Day: map[time.Time]time.Time{}}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Add(-48 * time.Hour)
	to := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC).Add(48 * time.Hour)
	for t := from; t.Before(to); t = t.Add(15 * time.Minute) {
		l := t.In(loc)
		f := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
		for m, k := range map[*map[time.Time]time.Time]time.Time{&w.First: f, &w.Hour: f.Truncate(time.Hour), &w.Day: f.Truncate(24 * time.Hour)} {
			if _, ok := (*m)[k]; !ok {
				(*m)[k] = l
			}
		}
	}
	end := time.Date(year+1, 1, 1, 0, 0, 0, 0, time.UTC)
	for f := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); f.Before(end); f = f.Add(15 * time.Minute) {
		if _, ok := w.First[f]; !ok {
			w.Skipped = append(w.Skipped, f)
		}
	}
	return w
}
