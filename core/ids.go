package bitmapist

import (
	"context"
	"fmt"
)

// idBatch is the most ids EachID hands to its function at once.
const idBatch = 1 << 16

// EachID calls fn with the ids of s in ascending order, in batches of at
// most 65,536 ids, reading s stripe by stripe through the client's Reader:
// client memory stays bounded (a few MiB) whatever the size of the bitmaps
// or the number of ids, unlike Set.IDs, which returns them all. The batch
// is reused between calls: copy what you keep. An error from fn stops the
// listing and is returned as it is; otherwise errors are those of
// Set.IDs. A nil s lists nothing.
func EachID(ctx context.Context, s Set, fn func(ids []uint64) error) error {
	if isNilSet(s) {
		return nil
	}
	if err := s.expr().firstErr(); err != nil {
		return err
	}
	c := s.client()
	if c == nil {
		return ErrNoRedis
	}
	return c.eachID(ctx, s.expr(), fn)
}

func (c *Client) eachID(ctx context.Context, e *expr, fn func([]uint64) error) error {
	if err := e.firstErr(); err != nil {
		return err
	}
	switch {
	case e.op == opEmpty:
		return nil
	case c.ready() != nil:
		return ErrNoRedis
	}
	if _, err := c.checkSetOnServer(ctx, e); err != nil {
		return err
	}
	if e.op == opKey {
		return c.streamKeyIDs(ctx, e.key, fn)
	}
	buf := make([]uint64, 0, idBatch)
	return c.evalStripes(ctx, e, 1, func(off int64, b Bitmap) error {
		var err error
		buf, err = emitIDs(buf, b, off, fn)
		return err
	})
}

// emitIDs hands the ids of chunk (whose byte 0 is byte off of the bitmap)
// to fn in batches of at most idBatch, using buf as the batch.
func emitIDs(buf []uint64, chunk Bitmap, off int64, fn func([]uint64) error) ([]uint64, error) {
	const step = idBatch / 8 // bytes that hold at most idBatch ids
	for lo := 0; lo < len(chunk); lo += step {
		part := chunk[lo:min(lo+step, len(chunk))]
		buf = appendIDs(buf[:0], part, uint64(off+int64(lo))*8)
		if len(buf) == 0 {
			continue
		}
		if err := fn(buf); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// streamKeyIDs lists the ids of one key without loading the whole string:
// a bounded BITPOS finds the next set bit (Redis skips the zero bytes, none
// of them cross the network), then one GETRANGE reads up to
// ReadLimits.Slice bytes from there. A 90 MB bitmap holding one id near
// 739,000,000 costs one slice of client memory, not 90 MB.
//
// On bitmapist-server, which has neither BITPOS nor GETRANGE, the key is
// read with one whole GET (its GET ends at the highest set bit).
func (c *Client) streamKeyIDs(ctx context.Context, key string, fn func([]uint64) error) error {
	r := c.reader
	server, err := c.onServer(ctx)
	if err != nil {
		return err
	}
	if server {
		bufs, err := r.wholeGet(ctx, []string{key})
		if err != nil {
			return c.wrapRead("ids", err)
		}
		_, err = emitIDs(make([]uint64, 0, idBatch), bufs[0], 0, fn)
		return err
	}
	ext, err := r.Extents(ctx, []string{key})
	if err != nil {
		return c.wrapRead("ids", err)
	}
	buf := make([]uint64, 0, idBatch)
	n, from := ext[0].Len, ext[0].First
	for from >= 0 && from < n {
		bufs, err := r.ReadSpans(ctx, []Span{{Key: key, Lo: from, Hi: min(from+r.lim.Slice, n)}})
		if err != nil {
			return c.wrapRead("ids", err)
		}
		if buf, err = emitIDs(buf, bufs[0], from, fn); err != nil {
			return err
		}
		if from, err = r.nextSet(ctx, key, from+r.lim.Slice, n); err != nil {
			return c.wrapRead("ids", err)
		}
	}
	return nil
}

// nextSet returns the byte offset of key's first set bit at or after byte
// from (key is n bytes long), or -1, scanning at most ReadLimits.Scan bytes
// per BITPOS.
func (r *Reader) nextSet(ctx context.Context, key string, from, n int64) (int64, error) {
	for ; from < n; from += r.lim.Scan {
		pos, err := r.c.rdb.BitPos(ctx, key, 1, from, min(from+r.lim.Scan, n)-1).Result()
		if err != nil {
			return 0, fmt.Errorf("bitmapist: locate %q: %w", key, err)
		}
		if pos >= 0 {
			return pos / 8, nil
		}
	}
	return -1, nil
}

// wholeSpans returns one Span per key covering its whole length (one
// STRLEN each, pipelined) and each key's index in spans.
func (c *Client) wholeSpans(ctx context.Context, keys []string) ([]Span, map[string]int, error) {
	lens, err := c.reader.Lengths(ctx, keys)
	if err != nil {
		return nil, nil, err
	}
	spans := make([]Span, len(keys))
	idx := make(map[string]int, len(keys))
	for i, k := range keys {
		spans[i] = Span{Key: k, Hi: lens[i]}
		idx[k] = i
	}
	return spans, idx, nil
}

// evalStripes computes e stripe by stripe (Reader.Stripes over every key's
// whole length, workers at once; 0 means the default) and calls fn with
// each stripe's result, whose byte 0 is byte off of the result.
func (c *Client) evalStripes(ctx context.Context, e *expr, workers int, fn func(off int64, b Bitmap) error) error {
	spans, idx, err := c.wholeSpans(ctx, e.keys(map[string]bool{}, nil))
	if err != nil {
		return err
	}
	return c.reader.Stripes(ctx, spans, StripeOptions{Workers: workers}, func(off, _ int64, bufs []Bitmap) error {
		return fn(off, evalExpr(e, func(k string) Bitmap { return bufs[idx[k]] }))
	})
}
