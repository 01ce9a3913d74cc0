package cohort

import (
	"context"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// MaxProbePeriods bounds the periods PeriodKeys names: the latest 400.
const MaxProbePeriods = 400

// PeriodKeys returns the keys of event in every period of g from the one
// holding from to the one holding to (both in c's zone), latest first, at
// most the last MaxProbePeriods periods, leaving out periods outside the
// key years (bitmapist.InKeyYears). It returns nil for an invalid g or a
// zero from or to. It does not contact Redis: it names keys whose
// existence proves that the event has data in the range (UnprovenEvents).
func PeriodKeys(c *bitmapist.Client, event string, g bitmapist.TimeGroup, from, to time.Time) []string {
	if !g.Valid() || from.IsZero() || to.IsZero() {
		return nil
	}
	var keys []string
	first := g.Start(from.In(c.Location()))
	for t, n := g.Start(to.In(c.Location())), 0; !t.Before(first) && n < MaxProbePeriods && t.Year() >= 1; t, n = g.Add(t, -1), n+1 {
		if bitmapist.InKeyYears(t) {
			keys = append(keys, c.Events(event, g, t).Keys()...)
		}
	}
	return keys
}

// UnprovenEvents returns, in order, the events none of whose keys (keys
// of each event, e.g. PeriodKeys) exists, asking Redis one EXISTS per key
// in one pipeline (go-redis splits it per node on a cluster): the check
// the command and the dashboard run before they list event names (a SCAN
// of the whole prefix), which they do only for the events returned. A nil
// keys proves nothing: every event is returned. Errors: Redis's, as
// go-redis returns them.
func UnprovenEvents(ctx context.Context, c *bitmapist.Client, events []string, keys func(event string) []string) ([]string, error) {
	if keys == nil || len(events) == 0 {
		return events, nil
	}
	pipe := c.Redis().Pipeline()
	counts := make([][]func() int64, len(events))
	for i, e := range events {
		for _, k := range keys(e) {
			counts[i] = append(counts[i], pipe.Exists(ctx, k).Val)
		}
	}
	if pipe.Len() > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, err
		}
	}
	var out []string
	for i, e := range events {
		found := false
		for _, n := range counts[i] {
			found = found || n() > 0
		}
		if !found {
			out = append(out, e)
		}
	}
	return out, nil
}
