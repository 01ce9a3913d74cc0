package bitmapist

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"testing"
)

// TestRetryableRule: only a connection closed by the server (EOF, reset,
// broken pipe) before any reply byte is retried; never a timeout (a live
// but slow server), a Redis error reply, or a failure mid-reply.
func TestRetryableRule(t *testing.T) {
	timeout := &os.SyscallError{Syscall: "read", Err: os.ErrDeadlineExceeded}
	cases := []struct {
		err  error
		want bool
	}{
		{beforeReplyError{io.EOF}, true},
		{fmt.Errorf("read 3 byte ranges: %w", beforeReplyError{io.EOF}), true},
		{beforeReplyError{&os.SyscallError{Syscall: "write", Err: syscall.EPIPE}}, true},
		{beforeReplyError{&os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}, true},
		{beforeReplyError{os.ErrDeadlineExceeded}, false},
		{beforeReplyError{timeout}, false},
		{io.EOF, false}, // after a reply byte: the replies may be half read
		{io.ErrUnexpectedEOF, false},
		{beforeReplyError{redisError("LOADING Redis is loading")}, false},
		{beforeReplyError{errors.New("bad reply line")}, false},
		{nil, false},
	}
	for _, c := range cases {
		if got := retryable(c.err); got != c.want {
			t.Errorf("retryable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
