package main

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/bitmapist-go/bitmapist/cohort"
	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// probe lists, for an event, keys whose existence proves that the event
// has data: the keys of the periods a command reads. missingEvents asks
// Redis whether they exist (one pipeline) before it lists the event
// names (a SCAN of the whole prefix, many round trips on a big keyspace),
// which it does only for an event none of whose keys is there.
type probe func(event string) []string

// maxProbePeriods bounds the periods a probe names per event.
const maxProbePeriods = 400

// periodProbe probes the keys of every period of g from from's to to's
// (at most the last maxProbePeriods of them).
func periodProbe(c *bitmapist.Client, g bitmapist.TimeGroup, from, to time.Time) probe {
	return func(event string) []string {
		if !g.Valid() || from.IsZero() || to.IsZero() {
			return nil
		}
		var keys []string
		first := g.Start(from.In(c.Location()))
		for t, n := g.Start(to.In(c.Location())), 0; !t.Before(first) && n < maxProbePeriods && t.Year() >= 1; t, n = g.Add(t, -1), n+1 {
			if bitmapist.InKeyYears(t) {
				keys = append(keys, c.Events(event, g, t).Keys()...)
			}
		}
		return keys
	}
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
// exists, asking Redis one EXISTS per key in one pipeline (split per node
// on a cluster); all the events for a nil probe.
func unproven(ctx context.Context, c *bitmapist.Client, events []string, p probe) ([]string, error) {
	if p == nil || len(events) == 0 {
		return events, nil
	}
	pipe := c.Redis().Pipeline()
	cmds := make([][]*redis.IntCmd, len(events))
	for i, e := range events {
		for _, k := range p(e) {
			cmds[i] = append(cmds[i], pipe.Exists(ctx, k))
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
		for _, cmd := range cmds[i] {
			found = found || cmd.Val() > 0
		}
		if !found {
			out = append(out, e)
		}
	}
	return out, nil
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
