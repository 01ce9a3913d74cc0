package bitmapist

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// WithRawReads turns the Reader's raw byte-range reads on or off (default
// on). With them on, on a single Redis (a *redis.Client whose backend is
// BackendRedis), the GETRANGE pipelines of Reader.ReadSpans and
// Reader.Stripes go over connections of the Reader's own (dialled with the
// *redis.Client's options, as MarkEvents' raw path) and their replies are
// read straight into reused buffers, without a go-redis command object and
// a new byte slice per reply: on this machine that halves the time to read
// 450 MB of bitmap and cuts the client CPU by two thirds
// (docs/benchmarks.md). The commands, their byte bounds and their order
// are the same either way; only go-redis hooks (tracing, metrics, tests
// recording commands) do not see them. Turn them off to have every read
// pass through go-redis. Clusters, bitmapist-server and clients whose
// options need go-redis (a credentials provider, an OnConnect hook)
// always use go-redis.
func WithRawReads(on bool) Option { return func(c *Client) { c.noRaw = !on } }

// rawPool keeps the Reader's idle raw connections (at most rawPoolSize).
type rawPool struct {
	mu   sync.Mutex
	idle []*rawConn
	off  bool // the options need go-redis: never dial again
}

const rawPoolSize = 4

// rawReads returns the *redis.Client's options when ReadSpans may read
// raw, nil otherwise.
func (r *Reader) rawReads() *redis.Options {
	if r.c.noRaw || r.c.cluster {
		return nil
	}
	rdb, ok := r.c.rdb.(*redis.Client)
	if !ok {
		return nil
	}
	r.raw.mu.Lock()
	off := r.raw.off
	r.raw.mu.Unlock()
	if off {
		return nil
	}
	return rdb.Options()
}

// getConn returns an idle raw connection (reused true) or dials one;
// errRawUnsupported when the options need go-redis.
func (r *Reader) getConn(ctx context.Context, opt *redis.Options) (rc *rawConn, reused bool, err error) {
	r.raw.mu.Lock()
	if n := len(r.raw.idle); n > 0 {
		rc := r.raw.idle[n-1]
		r.raw.idle = r.raw.idle[:n-1]
		r.raw.mu.Unlock()
		return rc, true, nil
	}
	r.raw.mu.Unlock()
	rc, err = r.dialConn(ctx, opt)
	return rc, false, err
}

// dialConn dials a raw connection for reads.
func (r *Reader) dialConn(ctx context.Context, opt *redis.Options) (*rawConn, error) {
	rc, err := dialRaw(ctx, opt)
	if err == nil && rc.r.Buffered() == 0 {
		// Bulk replies are read straight into the caller's buffers
		// (readBulk): a small buffer for the reply lines copies less.
		rc.r = bufio.NewReaderSize(rc.nc, 4<<10)
	}
	if errors.Is(err, errRawUnsupported) {
		r.raw.mu.Lock()
		r.raw.off = true
		r.raw.mu.Unlock()
	}
	return rc, err
}

// putConn keeps a healthy connection for the next read (or closes it when
// the pool is full).
func (r *Reader) putConn(rc *rawConn) {
	_ = rc.nc.SetDeadline(time.Time{})
	r.raw.mu.Lock()
	defer r.raw.mu.Unlock()
	if len(r.raw.idle) < rawPoolSize {
		r.raw.idle = append(r.raw.idle, rc)
		return
	}
	_ = rc.nc.Close()
}

// dropIdle closes every idle raw connection (after one was found closed
// by the server, the others most likely were too: a Redis restart).
func (r *Reader) dropIdle() {
	r.raw.mu.Lock()
	idle := r.raw.idle
	r.raw.idle = nil
	r.raw.mu.Unlock()
	for _, rc := range idle {
		_ = rc.nc.Close()
	}
}

// readPiecesRaw is readPieces on a raw connection: one pipeline of
// GETRANGEs, each reply read into dst at its span's place (place[span] is
// where span's byte Lo goes), got[span] counting the bytes of the span read
// so far from its Lo. A connection that failed is closed, never reused.
// A pooled connection the server had closed (a restart, a CLIENT KILL, an
// idle timeout), seen as a connection error before any reply byte, is
// replaced once by a fresh one and the batch sent again (reads are
// idempotent); timeouts are never retried.
func (r *Reader) readPiecesRaw(ctx context.Context, opt *redis.Options, spans []Span, batch []piece, dst []byte, place, got []int64) error {
	rc, reused, err := r.getConn(ctx, opt)
	if err != nil {
		return err
	}
	err = r.readPiecesOn(ctx, rc, spans, batch, dst, place, got)
	if !reused || !retryable(err) || ctx.Err() != nil {
		return err
	}
	r.dropIdle()
	if rc, err = r.dialConn(ctx, opt); err != nil {
		return err
	}
	return r.readPiecesOn(ctx, rc, spans, batch, dst, place, got)
}

// readPiecesOn runs one batch on rc, putting rc back in the pool when it
// is still usable and closing it otherwise.
func (r *Reader) readPiecesOn(ctx context.Context, rc *rawConn, spans []Span, batch []piece, dst []byte, place, got []int64) error {
	rc.until, _ = ctx.Deadline()
	stop := context.AfterFunc(ctx, func() { _ = rc.nc.SetDeadline(time.Unix(1, 0)) })
	err := rc.getRanges(spans, batch, dst, place, got)
	if !stop() || err != nil {
		_ = rc.nc.Close()
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if kt := (*KeyTypeError)(nil); errors.As(err, &kt) {
			return kt
		}
		return fmt.Errorf("bitmapist: read %d byte ranges: %w", len(batch), err)
	}
	r.putConn(rc)
	return nil
}

// getRanges writes the batch's GETRANGEs and reads their replies. A Redis
// error reply (a key of another type) is returned after every reply was
// read, so the connection stays usable only when err is nil.
func (rc *rawConn) getRanges(spans []Span, batch []piece, dst []byte, place, got []int64) error {
	var buf []byte
	for _, pc := range batch {
		buf = append(buf, "*4\r\n$8\r\nGETRANGE\r\n"...)
		buf = appendBulk(buf, spans[pc.span].Key)
		buf = appendBulkInt(buf, pc.lo)
		buf = appendBulkInt(buf, pc.hi-1)
	}
	if err := rc.write(buf); err != nil {
		return beforeReplyError{err}
	}
	var replyErr error
	for i, pc := range batch {
		rc.startReply()
		line, err := rc.readLine()
		if err != nil {
			if i == 0 && len(line) == 0 {
				return beforeReplyError{err}
			}
			return err
		}
		if line[0] == '-' {
			err := replyError(line)
			if kt := WrongType(spans[pc.span].Key, err); kt != nil {
				replyErr = orErr(replyErr, kt)
				continue
			}
			replyErr = orErr(replyErr, fmt.Errorf("read %q: %w", spans[pc.span].Key, err))
			continue
		}
		if line[0] != '$' {
			return fmt.Errorf("bitmapist: unexpected GETRANGE reply %q", line)
		}
		n, err := strconv.ParseInt(string(line[1:]), 10, 64)
		if err != nil || n > pc.hi-pc.lo {
			return fmt.Errorf("bitmapist: bad GETRANGE reply %q", line)
		}
		if n < 0 { // a nil bulk: nothing
			continue
		}
		at := place[pc.span] + pc.lo - spans[pc.span].Lo
		if err := rc.readBulk(dst[at : at+n]); err != nil {
			return err
		}
		if _, err := rc.r.Discard(2); err != nil { // CRLF
			return err
		}
		if off := pc.lo - spans[pc.span].Lo; n > 0 {
			if off > got[pc.span] { // the key grew since an earlier, short piece
				clear(dst[place[pc.span]+got[pc.span] : place[pc.span]+off])
			}
			got[pc.span] = max(got[pc.span], off+n)
		}
	}
	return replyErr
}

// readBulk reads len(dst) bytes of a bulk reply into dst: what the
// buffered reader holds, then the rest straight from the connection, so
// that large replies are not copied twice (small rests go through the
// buffer, with the replies that follow).
func (rc *rawConn) readBulk(dst []byte) error {
	k, _ := rc.r.Read(dst[:min(rc.r.Buffered(), len(dst))])
	var err error
	switch rest := dst[k:]; {
	case len(rest) == 0:
	case len(rest) < 16<<10: // small: through the buffer, with what follows
		_, err = io.ReadFull(rc.r, rest)
	default:
		_, err = io.ReadFull(rc.nc, rest)
	}
	return err
}

// beforeReplyError is a connection error met before any byte of the
// batch's replies was read: the batch may be sent again.
type beforeReplyError struct{ err error }

func (e beforeReplyError) Error() string { return e.err.Error() }
func (e beforeReplyError) Unwrap() error { return e.err }

// retryable reports whether err says the server had closed the
// connection before answering (EOF, reset, broken pipe) before any reply
// byte: not a timeout, which a live but slow server gives.
func retryable(err error) bool {
	var br beforeReplyError
	if !errors.As(err, &br) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, net.ErrClosed)
}

// orErr returns the first non-nil error.
func orErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// appendBulkInt appends n as a RESP bulk string.
func appendBulkInt(b []byte, n int64) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], n, 10)
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}
