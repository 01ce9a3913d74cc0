package cohort

import (
	"context"
	"errors"
	"sync"
	"time"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// MaxReportPeriods is the largest number of periods (From..To) of a
// lifecycle, a stickiness report or a funnel's entry range, checked before
// any Redis work.
const MaxReportPeriods = 400

// reportRange checks a report's event, group and From..To before any Redis
// work (the range with bitmapist.Client.ReportRange, the check every
// report shares) and returns the start of the first period and the number
// of periods.
func reportRange(c *bitmapist.Client, event string, g bitmapist.TimeGroup, from, to time.Time, seg bitmapist.Set) (time.Time, int, error) {
	if c == nil {
		return time.Time{}, 0, ErrNilClient
	}
	if err := CheckEventName(event); err != nil {
		return time.Time{}, 0, &QueryError{Field: "Event", Msg: err.Error(), Err: err}
	}
	if !g.Valid() {
		return time.Time{}, 0, &QueryError{Field: "TimeGroup", Msg: "not a time group", Err: bitmapist.ErrInvalidTimeGroup}
	}
	start, n, err := c.ReportRange(g, from, to, MaxReportPeriods)
	if err != nil {
		return time.Time{}, 0, asQueryError(err)
	}
	from = start
	if err := checkSegment(c, seg); err != nil {
		return time.Time{}, 0, err
	}
	return from, n, nil
}

// checkSegment returns a *QueryError with Field "Segment" when seg cannot
// be a segment of c's reports (bitmapist.Client.CheckSegment), nil for a
// nil seg. It does not contact Redis.
func checkSegment(c *bitmapist.Client, seg bitmapist.Set) error {
	if err := c.CheckSegment(seg); err != nil {
		var re *bitmapist.ReportError
		if errors.As(err, &re) {
			return &QueryError{Field: "Segment", Msg: re.Msg, Err: err}
		}
		return &QueryError{Field: "Segment", Msg: err.Error(), Err: err}
	}
	return nil
}

// asQueryError returns core's *bitmapist.ReportError as a *QueryError of
// the same field and message, wrapping it (so ErrTooManyPeriods and the
// rest still match); other errors unchanged.
func asQueryError(err error) error {
	var re *bitmapist.ReportError
	if errors.As(err, &re) {
		return &QueryError{Field: re.Field, Msg: re.Msg, Err: err}
	}
	return err
}

// scanSets reads every bitmap of sets and of seg through the client's
// Reader, stripe by stripe (bitmapist.Client.StripeSets: bounded GETRANGE
// pipelines, split per node on a cluster, nothing written, client memory
// bounded), and calls add with each stripe's words (bitmapist.WordBlocks,
// seg ANDed into every set) and an accumulator made by newAcc. Stripes are
// counted concurrently, each goroutine into an accumulator of its own
// (never two calls on one at once); it returns every accumulator, for the
// caller to sum (the reports' counts add up over users).
func scanSets[A any](ctx context.Context, c *bitmapist.Client, sets []bitmapist.Set, seg bitmapist.Set,
	newAcc func() A, add func(acc A, ws [][]uint64, n int)) ([]A, error) {
	if err := c.Ready(); err != nil {
		return nil, err
	}
	type worker struct {
		wb  bitmapist.WordBlocks
		acc A
	}
	var mu sync.Mutex
	var free, made []*worker
	m := len(sets)
	all := append(append(make([]bitmapist.Set, 0, m+1), sets...), seg)
	err := c.StripeSets(ctx, all, bitmapist.StripeOptions{Concurrent: true, SegmentNot: true}, func(_ int64, bms []bitmapist.Bitmap) error {
		mu.Lock()
		if len(free) == 0 {
			w := &worker{acc: newAcc()}
			free, made = append(free, w), append(made, w)
		}
		w := free[len(free)-1]
		free = free[:len(free)-1]
		mu.Unlock()
		w.wb.Walk(bms[:m], bms[m], seg != nil, func(ws [][]uint64, n int) { add(w.acc, ws, n) })
		mu.Lock()
		free = append(free, w)
		mu.Unlock()
		return nil
	})
	if err != nil {
		return nil, err
	}
	accs := make([]A, len(made))
	for i, w := range made {
		accs[i] = w.acc
	}
	return accs, nil
}
