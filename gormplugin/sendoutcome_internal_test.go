package bitmapistplugin

import (
	"context"
	"errors"
	"fmt"
	"testing"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// TestSplitOutcome checks how every kind of send error divides a batch
// into written, failed and unknown marks: a *BatchError by its ranges
// (also when wrapped), any other unknown outcome whole, anything else
// failed whole.
func TestSplitOutcome(t *testing.T) {
	unknown := fmt.Errorf("%w: read timeout", bitmapist.ErrUnknownOutcome)
	notSent := errors.New("connection refused")
	partial := &bitmapist.BatchError{Total: 10, Failed: []bitmapist.FailedRange{
		{From: 2, To: 4, Err: notSent}, {From: 6, To: 10, Err: unknown}}}
	for _, c := range []struct {
		name                     string
		n                        int
		err                      error
		written, failed, unknown int
	}{
		{"nil", 3, nil, 3, 0, 0},
		{"not sent", 3, notSent, 0, 3, 0},
		{"unknown", 3, unknown, 0, 0, 3},
		{"wait ended", 3, fmt.Errorf("no answer: %w: %w", bitmapist.ErrUnknownOutcome, context.DeadlineExceeded), 0, 0, 3},
		{"deadline before send", 3, context.DeadlineExceeded, 0, 3, 0},
		{"batch", 10, partial, 4, 2, 4},
		{"wrapped batch", 10, fmt.Errorf("send: %w", partial), 4, 2, 4},
		{"batch of another size", 3, partial, 0, 0, 3},
	} {
		w, f, u := splitOutcome(c.n, c.err)
		if w != c.written || f != c.failed || u != c.unknown {
			t.Errorf("%s: splitOutcome = %d written, %d failed, %d unknown; want %d, %d, %d",
				c.name, w, f, u, c.written, c.failed, c.unknown)
		}
	}
}

// TestSendErrorMessage checks that a SendError says which marks may be
// recorded.
func TestSendErrorMessage(t *testing.T) {
	for _, c := range []struct {
		e    SendError
		want string
	}{
		{SendError{Marks: 2, Events: []string{"a"}, Err: errors.New("x")}, "bitmapistplugin: 2 marks ([a]) not recorded: x"},
		{SendError{Marks: 2, Unknown: 2, Events: []string{"a"}, Err: errors.New("x")}, "bitmapistplugin: 2 marks ([a]) of unknown outcome, may be recorded: x"},
		{SendError{Marks: 3, Unknown: 1, Events: []string{"a"}, Err: errors.New("x")}, "bitmapistplugin: 2 marks ([a]) not recorded, 1 more of unknown outcome: x"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}
