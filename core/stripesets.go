package bitmapist

import (
	"context"
	"sync"
)

// StripeSets reads the bitmaps of sets through the client's Reader, stripe
// by stripe (Reader.Stripes over every key's whole length: bounded GETRANGE
// pipelines, client memory bounded by o.Memory), and calls fn with each
// stripe: bms[i] is set i evaluated in memory on the stripe's bytes (as
// Snapshot.Bitmap would on whole bitmaps), its byte 0 being byte off of the
// set's bitmap (with o.SegmentNot, a Not is taken within the stripe's
// bytes, see EvalSegment); off is a multiple of 64 bytes, so 64-bit words line up
// across stripes. A nil set reads as empty. Calls to fn never overlap (the
// next stripe is read while fn runs) unless o.Concurrent is set, and bms
// is valid only during the call and must not be modified. The reports (Trend, and those of package
// cohort) count through it; it writes nothing, and it works on a Redis
// Cluster (every command names one key).
//
// Errors: a set that cannot be evaluated (an invalid time group) returns
// its error before any Redis work; ErrNoRedis; Redis's errors, wrapped;
// fn's first error.
func (c *Client) StripeSets(ctx context.Context, sets []Set, o StripeOptions, fn func(off int64, bms []Bitmap) error) error {
	c = c.orNone()
	seen := map[string]bool{}
	var keys []string
	exprs := make([]*expr, len(sets))
	for i, s := range sets {
		if s == nil {
			exprs[i] = &expr{op: opEmpty}
			continue
		}
		if err := s.expr().firstErr(); err != nil {
			return err
		}
		exprs[i] = s.expr()
		keys = exprs[i].keys(seen, keys)
	}
	if err := c.ready(); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	spans, idx, err := c.wholeSpans(ctx, keys)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	return c.reader.Stripes(ctx, spans, o, func(off, n int64, bufs []Bitmap) error {
		get := func(k string) Bitmap { return bufs[idx[k]] }
		width := -1 // Redis's Not
		if o.SegmentNot {
			width = int(n)
		}
		bms := make([]Bitmap, len(exprs))
		for i, e := range exprs {
			bms[i] = evalIn(e, get, width)
		}
		if !o.Concurrent {
			mu.Lock()
			defer mu.Unlock()
		}
		return fn(off, bms)
	})
}
