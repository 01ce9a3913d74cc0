package main

import (
	"context"
	"time"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// probe lists, for an event, keys whose existence proves that the event
// has data: the keys of the periods a command reads. missingEvents asks
// Redis whether they exist (one pipeline) before it lists the event
// names (a SCAN of the whole prefix, many round trips on a big keyspace),
// which it does only for an event none of whose keys is there.
type probe func(event string) []string

// periodProbe probes the keys of every period of g from from's to to's
// (cohort.PeriodKeys: at most the last cohort.MaxProbePeriods of them).
func periodProbe(c *bitmapist.Client, g bitmapist.TimeGroup, from, to time.Time) probe {
	return func(event string) []string { return cohort.PeriodKeys(c, event, g, from, to) }
}

// segmentProbe probes the keys the --segment specs name for their event:
// the unique bitmap of EVENT, the period's keys of EVENT@LABEL, negated
// (!EVENT) or not (cohort.ParseSegmentSpec).
func segmentProbe(c *bitmapist.Client, specs []string) probe {
	keys := map[string][]string{}
	for _, text := range specs {
		if s, err := cohort.ParseSegmentSpec(c, text); err == nil {
			keys[s.Event] = append(keys[s.Event], s.Set.Keys()...)
		}
	}
	return func(event string) []string { return keys[event] }
}

// unproven returns the events (in order) none of whose probe keys
// exists (cohort.UnprovenEvents: one EXISTS pipeline); all the events for
// a nil probe.
func unproven(ctx context.Context, c *bitmapist.Client, events []string, p probe) ([]string, error) {
	return cohort.UnprovenEvents(ctx, c, events, p)
}

// cohortProbe probes the periods of q's table: Rows+Cols periods from
// Start, or ending at Now (the client's clock without either).
func cohortProbe(c *bitmapist.Client, q cohort.Query) probe {
	n := max(q.Rows, 1) + max(q.Cols, 1)
	if !q.Start.IsZero() {
		return periodProbe(c, q.TimeGroup, q.Start, q.TimeGroup.Add(q.Start, n))
	}
	now := q.Now
	if now.IsZero() {
		now = c.Now()
	}
	return periodProbe(c, q.TimeGroup, q.TimeGroup.Add(now, -n), now)
}
