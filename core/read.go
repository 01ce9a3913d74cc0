package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
	"golang.org/x/sync/semaphore"
)

// ReadLimits bound the work of every read of a Client's Reader, so that no
// Redis call holds Redis for more than a few milliseconds and one process
// never has more than a bounded number of bytes on their way from Redis.
// Zero fields take the defaults of DefaultReadLimits. Sizes are in bytes.
type ReadLimits struct {
	// Slice is the largest byte range one GETRANGE reads (default 1 MiB:
	// about 0.1 ms of Redis time measured on redis-server 7.0, where one
	// GET of a 12.5 MB bitmap took 40-90 ms).
	Slice int64
	// Pipeline is the most bytes of bitmap one pipelined round trip
	// reads (default 1 MiB). Redis runs the commands of one pipeline
	// without serving other clients in between, so this bounds the time
	// a read holds Redis. Redis also keeps every reply of a pipeline in
	// memory before it sends the first: at 4 MiB its GETRANGE cost 8-10
	// times more CPU per byte than at 1 MiB (docs/benchmarks.md).
	Pipeline int64
	// Scan is the largest byte range one BITCOUNT or BITPOS scans inside
	// Redis (default 4 MiB, about 1 ms), and four of them at most go in
	// one pipeline.
	Scan int64
	// InFlight is the most bytes of bitmap all reads of the Client may
	// have requested and not yet received, across goroutines (default
	// 8 MiB). It bounds how long any one event-loop turn of Redis spends
	// on this process's reads, and the client memory that replies take.
	InFlight int64
	// Combine is the most source bytes a BITOP run by the Reader may
	// combine (default 512 KiB: BITOP AND of two 12.5 MB bitmaps took
	// 40-55 ms on redis-server 7.0). Above it the Reader combines in the
	// client from byte slices instead.
	Combine int64
}

// DefaultReadLimits are the limits of a Client made without
// WithReadLimits.
var DefaultReadLimits = ReadLimits{Slice: 1 << 20, Pipeline: 1 << 20, Scan: 4 << 20, InFlight: 8 << 20, Combine: 512 << 10}

func (l ReadLimits) withDefaults() ReadLimits {
	d := DefaultReadLimits
	pick := func(v, def int64) int64 {
		if v > 0 {
			return v
		}
		return def
	}
	l = ReadLimits{Slice: pick(l.Slice, d.Slice), Pipeline: pick(l.Pipeline, d.Pipeline),
		Scan: pick(l.Scan, d.Scan), InFlight: pick(l.InFlight, d.InFlight), Combine: pick(l.Combine, d.Combine)}
	l.Pipeline = max(l.Pipeline, l.Slice)
	l.InFlight = max(l.InFlight, l.Pipeline)
	return l
}

// WithReadLimits sets the bounds of the Client's reads (see ReadLimits);
// zero fields keep their defaults.
func WithReadLimits(l ReadLimits) Option { return func(c *Client) { c.limits = l.withDefaults() } }

// Reader is the one place where bitmaps are read from Redis: lengths and
// first set bits (STRLEN, BITPOS), byte slices (GETRANGE), counts
// (BITCOUNT) and small server-side combinations (BITOP), each in bounded
// steps (ReadLimits): every command touches a bounded number of bytes, every
// pipeline a bounded total, and all reads of one Client share one bound on
// bytes in flight. Cohort tables, set evaluation, counts and id listings
// all read through it. Get one with Client.Reader; it is safe for use by
// many goroutines at once. On a single Redis its GETRANGE pipelines go over
// up to a few connections of its own, read straight into reused buffers
// (WithRawReads; go-redis hooks do not see them). On bitmapist-server (BackendBitmapistServer),
// which has no STRLEN, BITPOS or GETRANGE, Lengths and ReadSpans read each
// key whole with GET, Extents start at byte 0 and Count is one BITCOUNT.
type Reader struct {
	c        *Client
	lim      ReadLimits
	inflight *semaphore.Weighted
	raw      rawPool
	bufs     bufPool
}

// Reader returns the client's Reader (the same one on every call, so the
// in-flight bound holds across all of the client's reads).
func (c *Client) Reader() *Reader {
	c = c.orNone()
	return c.reader
}

// Limits returns the read limits in force.
func (r *Reader) Limits() ReadLimits { return r.lim }

func newReader(c *Client) *Reader {
	return &Reader{c: c, lim: c.limits, inflight: semaphore.NewWeighted(c.limits.InFlight)}
}

// acquire waits until n more bytes may be in flight (n is capped to the
// bound) and returns the function that releases them.
func (r *Reader) acquire(ctx context.Context, n int64) (func(), error) {
	n = min(max(n, 1), r.lim.InFlight)
	if err := r.inflight.Acquire(ctx, n); err != nil {
		return nil, err
	}
	return func() { r.inflight.Release(n) }, nil
}

// Extent says where a bitmap holds set bits: Len is its length in bytes
// (0 for a missing key) and First the byte offset of its first set bit,
// -1 when it has none.
type Extent struct {
	Len   int64
	First int64
}

// Empty reports whether the bitmap has no set bit.
func (e Extent) Empty() bool { return e.First < 0 }

// Lengths returns the length in bytes of each key (STRLEN; 0 for a missing
// key), in pipelines of at most 1,000 commands.
func (r *Reader) Lengths(ctx context.Context, keys []string) ([]int64, error) {
	if err := r.c.ready(); err != nil {
		return nil, err
	}
	if server, err := r.c.onServer(ctx); err != nil || server {
		if err != nil {
			return nil, err
		}
		return r.wholeLengths(ctx, keys)
	}
	out := make([]int64, len(keys))
	for lo := 0; lo < len(keys); lo += 1000 {
		hi := min(lo+1000, len(keys))
		p := r.c.rdb.Pipeline()
		cmds := make([]*redis.IntCmd, hi-lo)
		for i, k := range keys[lo:hi] {
			cmds[i] = p.StrLen(ctx, k)
		}
		if _, err := p.Exec(ctx); err != nil {
			if kt := firstKeyTypeErr(keys[lo:hi], cmds); kt != nil {
				return nil, kt
			}
			return nil, fmt.Errorf("bitmapist: length of %d bitmaps: %w", hi-lo, err)
		}
		for i, cmd := range cmds {
			out[lo+i] = cmd.Val()
		}
	}
	return out, nil
}

// Extents returns where each key holds set bits: its length (STRLEN), then
// its first set bit, found by BITPOS over byte ranges of at most
// ReadLimits.Scan bytes (ranges that hold no set bit are skipped in Redis,
// none of their bytes are sent).
func (r *Reader) Extents(ctx context.Context, keys []string) ([]Extent, error) {
	if server, err := r.c.onServer(ctx); err != nil || server {
		if err != nil {
			return nil, err
		}
		return r.wholeExtents(ctx, keys)
	}
	lens, err := r.Lengths(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Extent, len(keys))
	sc := &bitposScan{next: make([]int64, len(keys)), step: make([]int64, len(keys))}
	for i, n := range lens {
		out[i] = Extent{Len: n, First: -1}
		if n > 0 {
			sc.todo = append(sc.todo, i)
			sc.step[i] = min(firstScan, r.lim.Scan)
		}
	}
	for len(sc.todo) > 0 {
		if err := r.bitposStep(ctx, keys, sc, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// firstScan is how many bytes the first BITPOS of a key scans; each
// further one scans 8 times more, up to ReadLimits.Scan. Bitmaps of active
// users have a set bit in their first bytes, so one round trip finds
// nearly all.
const firstScan = 16 << 10

// bitposScan is the state of Extents: the keys still to scan, and for
// each key the next byte to scan and how many bytes its next BITPOS scans.
type bitposScan struct {
	todo       []int
	next, step []int64
}

// bitposStep runs one pipeline of BITPOS over the next range of keys of
// sc.todo (at most 1,000 commands and 4 × ReadLimits.Scan bytes
// scanned) and keeps in sc.todo the keys still to scan.
func (r *Reader) bitposStep(ctx context.Context, keys []string, sc *bitposScan, out []Extent) error {
	budget := 4 * r.lim.Scan
	n := 0
	for n < len(sc.todo) && n < 1000 && (n == 0 || budget >= sc.step[sc.todo[n]]) {
		budget -= sc.step[sc.todo[n]]
		n++
	}
	batch := sc.todo[:n]
	p := r.c.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(batch))
	for j, i := range batch {
		end := min(sc.next[i]+sc.step[i], out[i].Len) - 1
		cmds[j] = p.BitPos(ctx, keys[i], 1, sc.next[i], end)
	}
	if _, err := p.Exec(ctx); err != nil {
		for j, i := range batch {
			if kt := WrongType(keys[i], cmds[j].Err()); kt != nil {
				return kt
			}
		}
		return fmt.Errorf("bitmapist: locate %d bitmaps: %w", len(batch), err)
	}
	var again []int
	for j, i := range batch {
		if pos := cmds[j].Val(); pos >= 0 {
			out[i].First = pos / 8
			continue
		}
		sc.next[i] += sc.step[i]
		sc.step[i] = min(8*sc.step[i], r.lim.Scan)
		if sc.next[i] < out[i].Len {
			again = append(again, i)
		}
	}
	sc.todo = append(again, sc.todo[n:]...)
	return nil
}

// Span is a byte range of one key: bytes Lo up to (not including) Hi.
type Span struct {
	Key    string
	Lo, Hi int64
}

// Len returns the number of bytes of s (0 when Hi <= Lo).
func (s Span) Len() int64 { return max(0, s.Hi-s.Lo) }

// ReadSpans reads the bytes of every span (GETRANGE, at most
// ReadLimits.Slice bytes a command, ReadLimits.Pipeline bytes a round trip,
// waiting for the in-flight bound) and returns them: out[i] holds span i's
// bytes from its Lo, shorter than the span when the key ends first (the
// rest reads as zeros), nil for a missing key or an empty span.
func (r *Reader) ReadSpans(ctx context.Context, spans []Span) ([]Bitmap, error) {
	out, _, err := r.readSpans(ctx, spans, nil)
	return out, err
}

// readSpans is ReadSpans reading into buf (grown when too short; the
// bitmaps returned alias it): each span's bytes lie in one region of it.
// It returns the buffer for the next call.
func (r *Reader) readSpans(ctx context.Context, spans []Span, buf []byte) ([]Bitmap, []byte, error) {
	if err := r.c.ready(); err != nil {
		return nil, buf, err
	}
	if server, err := r.c.onServer(ctx); err != nil || server {
		if err != nil {
			return nil, buf, err
		}
		out, err := r.wholeSpans(ctx, spans)
		return out, buf, err
	}
	rd := &spanRead{spans: spans, out: make([]Bitmap, len(spans)), opt: r.rawReads()}
	if rd.opt != nil {
		rd.place, rd.got = make([]int64, len(spans)), make([]int64, len(spans))
		var total int64
		for i, s := range spans {
			rd.place[i] = total
			// Every span's bytes start at a multiple of 64 of the
			// buffer: 64-bit words and cache lines line up, and the
			// reports count them in place (WordBlocks).
			total += (s.Len() + 63) &^ 63
		}
		if int64(cap(buf)) < total {
			buf = make([]byte, total)
		}
		rd.dst = buf[:total]
	}
	var batch []piece
	var bytes int64
	for i, s := range spans {
		for lo := s.Lo; lo < s.Hi; lo += r.lim.Slice {
			pc := piece{span: i, lo: lo, hi: min(lo+r.lim.Slice, s.Hi)}
			if bytes+pc.hi-pc.lo > r.lim.Pipeline && len(batch) > 0 {
				if err := r.readPieces(ctx, rd, batch); err != nil {
					return nil, buf, err
				}
				batch, bytes = batch[:0], 0
			}
			batch = append(batch, pc)
			bytes += pc.hi - pc.lo
		}
	}
	if err := r.readPieces(ctx, rd, batch); err != nil {
		return nil, buf, err
	}
	if rd.opt != nil {
		for i, n := range rd.got {
			if n > 0 {
				rd.out[i] = Bitmap(rd.dst[rd.place[i] : rd.place[i]+n : rd.place[i]+n])
			}
		}
	}
	return rd.out, buf, nil
}

// spanRead is the state of one readSpans: with opt (raw reads), span i's
// bytes go to dst[place[i]:], got[i] of them read so far; without, out[i]
// collects go-redis's replies.
type spanRead struct {
	spans      []Span
	out        []Bitmap
	opt        *redis.Options
	dst        []byte
	place, got []int64
}

// piece is one GETRANGE of a span: bytes lo..hi-1 of spans[span].Key.
type piece struct {
	span   int
	lo, hi int64
}

// readPieces sends one pipeline of GETRANGEs (raw or through go-redis)
// and puts each piece in its span's output (pieces of a span come in
// order).
func (r *Reader) readPieces(ctx context.Context, rd *spanRead, batch []piece) error {
	if len(batch) == 0 {
		return nil
	}
	var bytes int64
	for _, pc := range batch {
		bytes += pc.hi - pc.lo
	}
	release, err := r.acquire(ctx, bytes)
	if err != nil {
		return err
	}
	defer release()
	if rd.opt != nil {
		err := r.readPiecesRaw(ctx, rd.opt, rd.spans, batch, rd.dst, rd.place, rd.got)
		if !errors.Is(err, errRawUnsupported) {
			return err
		}
		rd.opt = nil // the options need go-redis: this and later pieces go through it
		for i, n := range rd.got {
			if n > 0 {
				rd.out[i] = Bitmap(slices.Clone(rd.dst[rd.place[i] : rd.place[i]+n]))
			}
		}
	}
	spans := rd.spans
	p := r.c.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(batch))
	for j, pc := range batch {
		cmds[j] = p.GetRange(ctx, spans[pc.span].Key, pc.lo, pc.hi-1)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		for j, pc := range batch {
			if kt := WrongType(spans[pc.span].Key, cmds[j].Err()); kt != nil {
				return kt
			}
		}
		return fmt.Errorf("bitmapist: read %d byte ranges: %w", len(batch), err)
	}
	for j, pc := range batch {
		b, err := cmds[j].Bytes()
		if kt := WrongType(spans[pc.span].Key, err); kt != nil {
			return kt
		}
		if err != nil && !errors.Is(err, redis.Nil) {
			return fmt.Errorf("bitmapist: read %q: %w", spans[pc.span].Key, err)
		}
		rd.out[pc.span] = joinPiece(rd.out[pc.span], spans[pc.span].Lo, pc.lo, b)
	}
	return nil
}

// joinPiece appends b, the bytes of a key from offset lo, to cur, the bytes
// read so far from offset from. A piece after a short one (the key ended)
// is empty and changes nothing.
func joinPiece(cur Bitmap, from, lo int64, b []byte) Bitmap {
	if len(b) == 0 {
		return cur
	}
	if cur == nil && lo == from {
		return b
	}
	if int64(len(cur)) < lo-from { // cannot happen: a short piece ends the key
		cur = append(cur, make([]byte, lo-from-int64(len(cur)))...)
	}
	return append(cur, b...)
}

// Count returns the number of set bits of key (BITCOUNT), counted over byte
// ranges of at most ReadLimits.Scan bytes, four to a pipeline.
func (r *Reader) Count(ctx context.Context, key string) (int64, error) {
	if server, err := r.c.onServer(ctx); err != nil || server {
		if err != nil {
			return 0, err
		}
		n, err := r.c.rdb.BitCount(ctx, key, nil).Result() // a roaring cardinality there
		if kt := WrongType(key, err); kt != nil {
			return 0, kt
		}
		return n, err
	}
	lens, err := r.Lengths(ctx, []string{key})
	if err != nil {
		return 0, err
	}
	var total int64
	for lo := int64(0); lo < lens[0]; {
		p := r.c.rdb.Pipeline()
		var cmds []*redis.IntCmd
		for j := 0; j < 4 && lo < lens[0]; j++ {
			cmds = append(cmds, p.BitCount(ctx, key, &redis.BitCount{Start: lo, End: min(lo+r.lim.Scan, lens[0]) - 1}))
			lo += r.lim.Scan
		}
		if _, err := p.Exec(ctx); err != nil {
			if kt := WrongType(key, err); kt != nil {
				return 0, kt
			}
			return 0, fmt.Errorf("bitmapist: count %q: %w", key, err)
		}
		for _, cmd := range cmds {
			total += cmd.Val()
		}
	}
	return total, nil
}

// ErrCombineTooBig is returned by Reader.BitOp when its sources hold more
// bytes than ReadLimits.Combine (or the client is on a cluster, where
// sources may live in different slots): combine them in the client from
// byte slices instead.
var ErrCombineTooBig = errors.New("bitmapist: BITOP sources exceed the combine bound")

// CanCombine reports whether one BITOP over sources of these lengths
// (bytes, as Lengths returns them) stays within ReadLimits.Combine on a
// single Redis.
func (r *Reader) CanCombine(lens ...int64) bool {
	var n int64
	for _, l := range lens {
		n += l
	}
	return n <= r.lim.Combine && !r.c.cluster
}

// BitOp runs one bounded server-side combination: dst = op(keys...) (op
// "AND", "OR", anything else XOR), with dst expiring after the client's temporary
// TTL (WithTempTTL), in one MULTI/EXEC. lens are the sources' lengths in
// bytes (Lengths); when CanCombine(lens...) is false it returns
// ErrCombineTooBig without touching Redis. dst should be a temporary key
// (TempKey); the caller deletes it after use.
func (r *Reader) BitOp(ctx context.Context, op, dst string, keys []string, lens []int64) error {
	if err := r.c.ready(); err != nil {
		return err
	}
	if !r.CanCombine(lens...) {
		return ErrCombineTooBig
	}
	_, err := r.c.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		switch op {
		case "AND":
			p.BitOpAnd(ctx, dst, keys...)
		case "OR":
			p.BitOpOr(ctx, dst, keys...)
		default:
			p.BitOpXor(ctx, dst, keys...)
		}
		p.Expire(ctx, dst, r.c.tmpTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("bitmapist: BITOP %s of %d bitmaps: %w", op, len(keys), err)
	}
	return nil
}

// TempKey returns a new temporary key name for a BITOP result,
// <prefix>bitop_<op>_<random>: the shape event listings (here and in Python
// bitmapist) leave out.
func (r *Reader) TempKey(op string) string {
	return r.c.prefix + "bitop_" + op + "_" + strconv.FormatUint(rand.Uint64(), 36)
}

// wholeGet reads keys whole with one pipelined GET (bitmapist-server, which
// has no STRLEN, BITPOS or GETRANGE; its GET ends at the highest set bit).
func (r *Reader) wholeGet(ctx context.Context, keys []string) ([]Bitmap, error) {
	p := r.c.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(keys))
	for i, k := range keys {
		cmds[i] = p.Get(ctx, k)
	}
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		if kt := firstKeyTypeErr(keys, cmds); kt != nil {
			return nil, kt
		}
		return nil, fmt.Errorf("bitmapist: read %d bitmaps: %w", len(keys), err)
	}
	out := make([]Bitmap, len(keys))
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("bitmapist: read %q: %w", keys[i], err)
		}
		out[i] = b
	}
	return out, nil
}

// wholeExtents is Extents on bitmapist-server: from each key's whole GET.
func (r *Reader) wholeExtents(ctx context.Context, keys []string) ([]Extent, error) {
	bufs, err := r.wholeGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Extent, len(keys))
	for i, b := range bufs {
		out[i] = Extent{Len: int64(len(b)), First: int64(slices.IndexFunc(b, func(x byte) bool { return x != 0 }))}
	}
	return out, nil
}

// cutSpans returns parts[i] (a sub-range of spans[i]) cut from whole[i],
// the bytes of spans[i] from its Lo, as ReadSpans would return it.
func cutSpans(spans []Span, whole []Bitmap, parts []Span) []Bitmap {
	out := make([]Bitmap, len(parts))
	for i, p := range parts {
		b := whole[i]
		lo, hi := p.Lo-spans[i].Lo, min(p.Hi-spans[i].Lo, int64(len(b)))
		if p.Len() > 0 && lo < hi {
			out[i] = b[lo:hi]
		}
	}
	return out
}

// wholeLengths is Lengths on bitmapist-server: the length of each key's GET.
func (r *Reader) wholeLengths(ctx context.Context, keys []string) ([]int64, error) {
	bufs, err := r.wholeGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]int64, len(keys))
	for i, b := range bufs {
		out[i] = int64(len(b))
	}
	return out, nil
}

// wholeSpans is ReadSpans on bitmapist-server: each span cut from its key's
// whole GET.
func (r *Reader) wholeSpans(ctx context.Context, spans []Span) ([]Bitmap, error) {
	keys := make([]string, len(spans))
	for i, s := range spans {
		keys[i] = s.Key
	}
	bufs, err := r.wholeGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	out := make([]Bitmap, len(spans))
	for i, s := range spans {
		if b := bufs[i]; s.Len() > 0 && s.Lo < int64(len(b)) {
			out[i] = b[s.Lo:min(s.Hi, int64(len(b)))]
		}
	}
	return out, nil
}
