package main

import (
	"errors"
	"fmt"
	"strings"

	bitmapist "github.com/bitmapist-go/bitmapist/core"
)

// importWriteError is the failure of writing one batch of an import, told
// in the file's line numbers (1-based, the header is line 1, as in the
// rejected rows and the --rejects file), never in positions inside the
// batch. It unwraps to the library's error (a *bitmapist.BatchError, an
// id map error, ...), so errors.Is(err, bitmapist.ErrUnknownOutcome) still
// holds.
type importWriteError struct {
	msg string
	err error
}

// Error returns the message naming file lines.
func (e *importWriteError) Error() string { return e.msg }

// Unwrap returns the library's error.
func (e *importWriteError) Unwrap() error { return e.err }

// lineSpan returns "line N" or "lines N-M": the file lines of rows[from:to],
// from the first row's line to the last row's end.
func lineSpan(rows []pendingRow, from, to int) string {
	first, last := rows[from].line, rows[to-1].end
	if last > first {
		return fmt.Sprintf("lines %d-%d", first, last)
	}
	return fmt.Sprintf("line %d", first)
}

// maxSpans is how many failed runs a write error names.
const maxSpans = 3

// writeError wraps err, the failure of doing what ("marking", "mapping the
// string ids of") to the batch rows, in an *importWriteError whose message
// names the batch and its failed runs by file line: a BatchError's
// positions and a MarkError's index are translated to lines.
func writeError(what string, rows []pendingRow, err error) error {
	msg := fmt.Sprintf("%s the rows of %s (%s)", what, lineSpan(rows, 0, len(rows)), plural(len(rows), "row"))
	var be *bitmapist.BatchError
	var me *bitmapist.MarkError
	switch {
	case errors.As(err, &be) && be.Total == len(rows) && len(be.Failed) > 0:
		msg += ": " + failedSpans(rows, be) + ": " + be.Failed[0].Err.Error()
	case errors.As(err, &me) && me.Index >= 0 && me.Index < len(rows):
		msg += fmt.Sprintf(": the row of %s: %v", lineSpan(rows, me.Index, me.Index+1), me.Err)
	default:
		msg += ": " + err.Error()
	}
	return &importWriteError{msg: msg, err: err}
}

// failedSpans returns "N not marked: lines A-B may have been written,
// lines C-D not written" for the failed ranges of be over rows, adjacent
// ranges of the same outcome joined.
func failedSpans(rows []pendingRow, be *bitmapist.BatchError) string {
	type span struct {
		from, to int
		unknown  bool
	}
	var spans []span
	n := 0
	for _, f := range be.Failed {
		n += f.To - f.From
		if k := len(spans) - 1; k >= 0 && spans[k].to == f.From && spans[k].unknown == f.Unknown() {
			spans[k].to = f.To
			continue
		}
		spans = append(spans, span{f.From, f.To, f.Unknown()})
	}
	parts := make([]string, 0, maxSpans+1)
	for i, s := range spans {
		if i == maxSpans {
			parts = append(parts, fmt.Sprintf("and %d more runs", len(spans)-maxSpans))
			break
		}
		outcome := "not written"
		if s.unknown {
			outcome = "may have been written"
		}
		parts = append(parts, lineSpan(rows, s.from, s.to)+" "+outcome)
	}
	return fmt.Sprintf("%d not marked: %s", n, strings.Join(parts, ", "))
}
