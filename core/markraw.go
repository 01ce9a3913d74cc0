package bitmapist

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawMinMarks is the smallest MarkEvents batch written on a connection of
// its own (rawConn); smaller ones go through go-redis, where dialling would
// cost more than it saves.
const rawMinMarks = 512

// rawChunkMarks is how many marks one MULTI/EXEC holds on the raw path:
// about 3,000 SETBITs, which Redis runs in 1-3 ms.
const rawChunkMarks = 1000

// rawInFlight is how many chunks may be sent and not yet answered.
const rawInFlight = 4

var (
	respMulti = []byte("*1\r\n$5\r\nMULTI\r\n")
	respExec  = []byte("*1\r\n$4\r\nEXEC\r\n")
)

// rawChunk is a chunk sent and awaiting its replies.
type rawChunk struct {
	from, to int // marks[from:to]
	cmds     int // commands between MULTI and EXEC
}

// markEventsRaw is MarkEvents on a single Redis, written on a rawConn: the
// chunks are streamed on one connection while a reader goroutine takes
// their replies, so Redis never waits for the client. It returns
// errRawUnsupported when opt needs go-redis.
func (c *Client) markEventsRaw(ctx context.Context, opt *redis.Options, marks []Mark, cfg markConfig) error {
	rc, err := dialRaw(ctx, opt)
	if errors.Is(err, errRawUnsupported) {
		return err
	}
	if err != nil {
		return batchError(len(marks), len(marks), []FailedRange{{From: 0, To: len(marks), Err: fmt.Errorf("bitmapist: mark events: %w", err)}})
	}
	defer rc.nc.Close()
	stop := context.AfterFunc(ctx, func() { _ = rc.nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	pending := make(chan rawChunk, rawInFlight)
	results := make(chan []FailedRange, 1)
	var broken atomic.Bool
	go func() { results <- rc.readChunks(ctx, pending, &broken) }()

	bitfield, err := rc.hasBitfield()
	if err != nil {
		return batchError(len(marks), len(marks), []FailedRange{{From: 0, To: len(marks), Err: fmt.Errorf("bitmapist: mark events: %w: %w", errNotSent, err)}})
	}
	enc := newRawEncoder(c, cfg, c.clock(), bitfield)
	buf := make([]byte, 0, 256<<10)
	sent := 0
	var writeFail []FailedRange
	for start := 0; start < len(marks) && !broken.Load(); start += rawChunkMarks {
		end := min(start+rawChunkMarks, len(marks))
		buf = append(buf[:0], respMulti...)
		var n int
		buf, n = enc.appendChunk(buf, marks[start:end])
		buf = append(buf, respExec...)
		if err := ctxDone(ctx); err != nil {
			writeFail = []FailedRange{{From: start, To: len(marks), Err: fmt.Errorf("bitmapist: mark events: %w", err)}}
			sent = len(marks)
			break
		}
		sent = end
		if err := rc.write(buf); err != nil {
			writeFail = []FailedRange{{From: start, To: end, Err: unknownErr(ctx, err)}}
			break
		}
		pending <- rawChunk{from: start, to: end, cmds: n}
	}
	close(pending)
	return batchError(len(marks), sent, append(<-results, writeFail...))
}

// unknownErr wraps err, met after a write was sent, with ErrUnknownOutcome
// (and the context's error when it was cancelled).
func unknownErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("bitmapist: mark events: %w: %w (%w)", ErrUnknownOutcome, cerr, err)
	}
	return fmt.Errorf("bitmapist: mark events: %w: %w", ErrUnknownOutcome, err)
}

// readChunks reads the replies of every chunk of pending and returns the
// failed ones. After a read fails, every later chunk is of unknown outcome
// too; broken tells the writer to send no more.
func (rc *rawConn) readChunks(ctx context.Context, pending <-chan rawChunk, broken *atomic.Bool) []FailedRange {
	var (
		failed []FailedRange
		ioErr  error
	)
	for ch := range pending {
		if ioErr == nil {
			var replyErr error
			replyErr, ioErr = rc.readTx(ch.cmds)
			if ioErr != nil {
				ioErr = unknownErr(ctx, ioErr)
			} else if replyErr != nil {
				failed = append(failed, FailedRange{From: ch.from, To: ch.to, Err: replyErr})
				broken.Store(true)
				continue
			}
		}
		if ioErr != nil {
			broken.Store(true)
			failed = append(failed, FailedRange{From: ch.from, To: ch.to, Err: ioErr})
		}
	}
	return failed
}

// readTx reads the replies of one MULTI, n queued commands and EXEC.
// replyErr is Redis refusing the chunk (nothing written) or, wrapping
// ErrUnknownOutcome, running only part of it; ioErr is a failed read.
func (rc *rawConn) readTx(n int) (replyErr, ioErr error) {
	rc.startReply()
	line, err := rc.readLine()
	if err != nil {
		return nil, err
	}
	var multiErr, queueErr error
	if line[0] == '-' {
		multiErr = replyError(line)
	}
	refused := 0
	for range n {
		line, err := rc.readLine()
		if err != nil {
			return nil, err
		}
		if line[0] == '-' {
			refused++
			if queueErr == nil {
				queueErr = replyError(line)
			}
		}
	}
	line, err = rc.readLine()
	if err != nil {
		return nil, err
	}
	switch {
	case multiErr != nil && refused < n:
		// Without MULTI the commands ran one by one, some of them.
		return fmt.Errorf("bitmapist: mark events: %w: MULTI failed (%w)", ErrUnknownOutcome, multiErr), nil
	case line[0] == '-':
		cause := queueErr
		if cause == nil {
			cause = replyError(line)
		}
		return fmt.Errorf("bitmapist: mark events: refused by Redis: %w", cause), nil
	case line[0] != '*':
		return nil, fmt.Errorf("bitmapist: unexpected EXEC reply %q", line)
	case len(line) == 3 && line[1] == '-':
		return fmt.Errorf("bitmapist: mark events: transaction discarded"), nil
	}
	execErr, err := rc.readArrayBody(line)
	if err != nil {
		return nil, err
	}
	if execErr != nil {
		return fmt.Errorf("bitmapist: mark events: %w: part of the chunk failed (%w)", ErrUnknownOutcome, execErr), nil
	}
	return nil, nil
}

// readArrayBody reads the elements of the array whose header is line
// (integers, statuses, errors and arrays of them: the replies of SETBIT,
// BITFIELD and EXPIRE) and returns the first error reply among them.
func (rc *rawConn) readArrayBody(line []byte) (error, error) {
	n := 0
	for _, d := range line[1:] {
		if d < '0' || d > '9' {
			return nil, fmt.Errorf("bitmapist: bad array header %q", line)
		}
		n = n*10 + int(d-'0')
	}
	var first error
	for range n {
		l, err := rc.r.ReadSlice('\n')
		if err != nil {
			return nil, err
		}
		var e error
		switch l[0] {
		case ':', '+':
		case '-':
			e = replyError(l[:len(l)-2])
		case '*':
			if e, err = rc.readArrayBody(l[:len(l)-2]); err != nil {
				return nil, err
			}
		default:
			return nil, fmt.Errorf("bitmapist: unexpected reply %q in EXEC", l)
		}
		if first == nil {
			first = e
		}
	}
	return first, nil
}

// hasBitfield asks whether the server knows BITFIELD (Redis does since
// 3.2; miniredis and bitmapist-server do not), reading a bit of a key
// that need not exist: nothing is written.
func (rc *rawConn) hasBitfield() (bool, error) {
	if err := rc.write(appendCommand(nil, "BITFIELD", "bitmapist:probe", "GET", "u1", "0")); err != nil {
		return false, err
	}
	rc.startReply()
	line, err := rc.readLine()
	if err != nil {
		return false, err
	}
	switch line[0] {
	case '-':
		return false, nil
	case '*':
		e, err := rc.readArrayBody(line)
		return e == nil, err
	}
	return false, nil // some other server: use SETBIT
}
