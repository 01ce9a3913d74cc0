package cohort

import (
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// Chain returns the set of users who did base combined with the events of
// steps, every event taken in the period of group g containing t: the Go
// form of flask-bitmapist's chain_events. An Or binds only to the event
// just before it and runs of Or merge, so "base and B or C and D" is
// base AND (B OR C) AND D and "base or B and C" is (base OR B) AND C.
// The result is a description (bitmapist.Set); it reads Redis only when
// asked (Count, IDs, or Client.Fetch).
//
// Two deliberate differences from flask-bitmapist (docs/python.md lists
// them all): steps is never modified (Python deletes the Or steps from the
// caller's list, so in get_cohort every cell after the first loses its Or
// events); and the chain is evaluated whole even when base has no marks
// in the period: Python's chain_events then returns "nothing" and
// get_cohort shows 0, ignoring base's Or events, while here
// "purchase or login" counts the users who logged in although nobody
// purchased (see ExampleChain_returnEventWithoutMarks).
//
// It returns ErrNilClient for a nil c, and an error wrapping
// ErrInvalidQuery for a bad event name (CheckEventName), an invalid
// operator, more than MaxAdditional steps or an invalid time group.
func Chain(c *bitmapist.Client, base string, steps []Step, g bitmapist.TimeGroup, t time.Time) (bitmapist.Set, error) {
	if c == nil {
		return nil, ErrNilClient
	}
	q := Query{Primary: base, Secondary: base, Additional: steps, TimeGroup: g, Rows: 1, Cols: 1}
	if err := q.validate(); err != nil {
		return nil, err
	}
	return chainSet(func(event string) bitmapist.Set { return c.Events(event, g, t) }, base, steps), nil
}

// chainSet builds the chain expression with period(event) giving each
// event's set: the AND of chainGroups, each the OR of its events.
func chainSet(period func(event string) bitmapist.Set, base string, steps []Step) bitmapist.Set {
	groups := chainGroups(base, steps)
	ands := make([]bitmapist.Set, len(groups))
	for i, grp := range groups {
		ors := make([]bitmapist.Set, len(grp))
		for j, e := range grp {
			ors[j] = period(e)
		}
		ands[i] = bitmapist.Or(ors...)
	}
	return bitmapist.And(ands...)
}

// chainGroups splits base and steps into the groups whose AND is the
// chain: each group is an event and the Or steps right after it.
func chainGroups(base string, steps []Step) [][]string {
	groups := [][]string{{base}}
	for _, s := range steps {
		if s.Op == Or {
			last := len(groups) - 1
			groups[last] = append(groups[last], s.Event)
		} else { // And (validate rejects any other value first)
			groups = append(groups, []string{s.Event})
		}
	}
	return groups
}
