package bitmapist

import (
	"context"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
)

// StripeOptions say how Reader.Stripes splits its work.
type StripeOptions struct {
	// Workers is the number of stripes read and handled at once (default
	// 2). With 1, stripes are handled one after the other in ascending
	// byte order.
	Workers int
	// Memory is the most bytes of bitmap all workers hold at once
	// (default 32 MiB): a stripe is Memory / (Workers × spans) bytes long,
	// at least 4 KiB and at most ReadLimits.Slice. It is the bound on the
	// client memory of a read, whatever the size of the bitmaps.
	Memory int64
	// Concurrent lets Client.StripeSets call its fn from up to Workers
	// goroutines at once (fn must then be safe for that), so that the
	// stripes are counted on as many cores as they are read; without it
	// StripeSets' calls never overlap. Reader.Stripes ignores it: its fn
	// is always called concurrently.
	Concurrent bool
	// SegmentNot makes Client.StripeSets evaluate every set as a report's
	// segment (EvalSegment): Not(a) is every id of the stripe's bytes that
	// is not in a, instead of Redis's flip of a's own bytes. The reports
	// (Trend, and those of package cohort) set it. Reader.Stripes ignores
	// it.
	SegmentNot bool
}

// DefaultStripeMemory is StripeOptions.Memory's default, in bytes.
const DefaultStripeMemory = 32 << 20

const minStripe = 4 << 10

// stripeLen returns the length in bytes of one stripe for k spans.
func (o StripeOptions) stripeLen(k int, slice int64) int64 {
	mem := o.Memory
	if mem <= 0 {
		mem = DefaultStripeMemory
	}
	n := mem / int64(max(1, o.workers())*max(1, k))
	n = max(minStripe, min(n, slice))
	return n &^ 63 // a multiple of 64 bytes: whole 64-bit words
}

func (o StripeOptions) workers() int {
	if o.Workers <= 0 {
		return 2
	}
	return o.Workers
}

// StripeFunc handles one stripe: bytes off up to off+n of every span given
// to Stripes. bufs[i] is span i's part of the stripe, starting at byte off
// of its key (bytes of the stripe before the span's Lo read as zeros); it
// is shorter than n when the span or the key ends first, nil when the span
// has no byte in the stripe. bufs and their bytes are valid only during
// the call and must not be modified.
type StripeFunc func(off, n int64, bufs []Bitmap) error

// Stripes reads the spans stripe by stripe, each stripe a byte range
// [off, off+n) of every span at once (see StripeOptions for n), and calls
// fn for each stripe in which some span has bytes. Reads go through
// ReadSpans (bounded commands and pipelines). Client memory is bounded by
// StripeOptions.Memory plus the in-flight bound, independent of the
// bitmaps' sizes; on bitmapist-server, which has no GETRANGE, every key is
// read whole once instead (one GET each) and the stripes cut from memory. fn is called from Workers goroutines at once; the first
// error (fn's, Redis's or ctx's) stops the work and is returned.
func (r *Reader) Stripes(ctx context.Context, spans []Span, o StripeOptions, fn StripeFunc) error {
	if err := r.c.ready(); err != nil {
		return err
	}
	lo, hi := int64(-1), int64(0)
	for _, s := range spans {
		if s.Len() > 0 {
			if lo < 0 || s.Lo < lo {
				lo = s.Lo
			}
			hi = max(hi, s.Hi)
		}
	}
	if lo < 0 {
		return nil
	}
	lo &^= 63
	n := o.stripeLen(len(spans), r.lim.Slice)
	// Small bitmaps: at least two stripes per worker, so that one
	// worker's stripe is read while another's is counted.
	n = max(minStripe, min(n, ((hi-lo)/int64(2*o.workers())+63)&^63))
	count := (hi - lo + n - 1) / n
	var read readFunc = r.readSpans
	server, err := r.c.onServer(ctx)
	if err != nil {
		return err
	}
	if server {
		// No GETRANGE there: every key is read whole once (one GET each),
		// and the stripes are cut from memory; the memory bound does not
		// hold on bitmapist-server.
		whole, err := r.wholeSpans(ctx, spans)
		if err != nil {
			return err
		}
		read = func(_ context.Context, parts []Span, buf []byte) ([]Bitmap, []byte, error) {
			return cutSpans(spans, whole, parts), buf, nil
		}
	}
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	for range min(int64(o.workers()), count) {
		g.Go(func() error {
			buf := r.bufs.get() // this worker's read buffer, reused stripe after stripe
			defer func() { r.bufs.put(buf) }()
			for s := next.Add(1) - 1; s < count; s = next.Add(1) - 1 {
				if err := gctx.Err(); err != nil {
					return err
				}
				off := lo + s*n
				var err error
				if buf, err = r.stripe(gctx, spans, off, n, buf, read, fn); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return g.Wait()
}

// bufPool keeps the stripe read buffers of finished Stripes calls for the
// next ones (at most DefaultStripeMemory bytes of them), so that a report
// does not allocate, and the runtime zero, its buffers every time.
type bufPool struct {
	mu    sync.Mutex
	free  [][]byte
	bytes int
}

func (p *bufPool) get() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.free)
	if n == 0 {
		return nil
	}
	b := p.free[n-1]
	p.free, p.bytes = p.free[:n-1], p.bytes-cap(b)
	return b
}

func (p *bufPool) put(b []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if b == nil || p.bytes+cap(b) > DefaultStripeMemory {
		return
	}
	p.free, p.bytes = append(p.free, b), p.bytes+cap(b)
}

// readFunc reads parts into buf (see readSpans) and returns the buffer.
type readFunc func(ctx context.Context, parts []Span, buf []byte) ([]Bitmap, []byte, error)

// stripe reads and handles the stripe [off, off+n), reading into buf, and
// returns the buffer for the next stripe.
func (r *Reader) stripe(ctx context.Context, spans []Span, off, n int64, buf []byte, read readFunc, fn StripeFunc) ([]byte, error) {
	parts := make([]Span, len(spans))
	any := false
	for i, s := range spans {
		parts[i] = Span{Key: s.Key, Lo: max(s.Lo, off), Hi: min(s.Hi, off+n)}
		any = any || parts[i].Len() > 0
	}
	if !any {
		return buf, nil
	}
	bufs, buf, err := read(ctx, parts, buf)
	if err != nil {
		return buf, err
	}
	for i, b := range bufs {
		if gap := parts[i].Lo - off; len(b) > 0 && gap > 0 {
			full := make(Bitmap, gap+int64(len(b)))
			copy(full[gap:], b)
			bufs[i] = full
		}
	}
	return buf, fn(off, n, bufs)
}
