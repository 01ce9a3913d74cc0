package bitmapist

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidReport is wrapped by every error about a bad report request
// (Client.Trend): a bad event name, time group, range or segment. Such
// errors are *ReportError values, returned before any Redis work.
var ErrInvalidReport = errors.New("bitmapist: invalid report")

// ErrTooManyPeriods is wrapped (with ErrInvalidReport or
// cohort.ErrInvalidQuery) by the error about a range From..To of more
// periods than a report reads. The error names To (Field "To"), but the
// range as a whole is too long: callers may name both ends.
var ErrTooManyPeriods = errors.New("range has too many periods")

// ReportError reports which field of a report request (Go field name, for
// example "From") is wrong. It matches ErrInvalidReport with errors.Is, and
// also its cause (for example ErrInvalidEventName) when it has one.
type ReportError struct {
	Field string // the request field
	Msg   string // what is wrong with it
	Err   error  // the underlying error, or nil
}

// Error returns "bitmapist: invalid report: <Field>: <Msg>".
func (e *ReportError) Error() string {
	if e == nil {
		return ErrInvalidReport.Error()
	}
	return ErrInvalidReport.Error() + ": " + e.Field + ": " + e.Msg
}

// Unwrap returns ErrInvalidReport and the cause, if any.
func (e *ReportError) Unwrap() []error {
	if e == nil || e.Err == nil {
		return []error{ErrInvalidReport}
	}
	return []error{ErrInvalidReport, e.Err}
}

func reportErr(field, format string, args ...any) error {
	return &ReportError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// checkReadName is the rule for event names a report may read: looser than
// ValidateEventName (Python bitmapist accepts any name), the same as
// cohort.CheckEventName.
func checkReadName(field, event string) error {
	var why string
	switch {
	case event == "":
		why = "is empty"
	case len(event) > MaxEventNameLen:
		why = fmt.Sprintf("is %d bytes long, more than %d", len(event), MaxEventNameLen)
	case !utf8.ValidString(event):
		why = "is not valid UTF-8"
	case strings.HasPrefix(event, "bitop_"):
		why = "starts with bitop_, reserved for temporary keys"
	case strings.ContainsFunc(event, unicode.IsControl):
		why = "contains a control character"
	default:
		return nil
	}
	err := fmt.Errorf("%w: %s", ErrInvalidEventName, why)
	return &ReportError{Field: field, Msg: err.Error(), Err: err}
}

// CheckSegment returns nil when seg can be used as a report's segment (a
// nil seg is no segment), and otherwise a *ReportError with Field
// "Segment": seg cannot be evaluated (it holds a period of an invalid time
// group, whose error it wraps) or was built on another Client. It does not
// contact Redis; the reports of package cohort call it before their Redis
// work.
func (c *Client) CheckSegment(seg Set) error {
	c = c.orNone()
	if isNilSet(seg) {
		return nil
	}
	if err := seg.expr().firstErr(); err != nil {
		return &ReportError{Field: "Segment", Msg: err.Error(), Err: err}
	}
	if sc := seg.client(); sc != nil && sc != c {
		return reportErr("Segment", "is a set of another client")
	}
	return nil
}

// checkYears returns a *ReportError when t is outside the years 1..9999.
func checkYears(field string, g TimeGroup, t time.Time) error {
	if y := t.Year(); y < 1 {
		return reportErr(field, "the report would reach before year 1, outside the years 1..9999")
	} else if y > 9999 {
		return reportErr(field, "the report would reach after year 9999, outside the years 1..9999")
	}
	return nil
}

// wordBlock is the number of 64-bit words the reports compute at a time
// (32,768 users): small enough that one block of every bitmap stays in
// the CPU cache.
const wordBlock = 512

// ForWordBlocks walks bms in blocks of 512 64-bit words (32,768 user ids)
// and calls fn with each block: ws[k][j] is word j of the block of bms[k]
// (word j holds ids 64*(first+j) .. 64*(first+j)+63, bit 0 the lowest id,
// as Bitmap.ReadWords reads them); only ws[k][:n] is valid, and ws is
// reused between calls. fn must not modify the words: ws[k] may be bms[k]'s
// own bytes seen as words (see WordBlocks). With hasSeg, seg is ANDed into
// every block and the walk stops at seg's last word. The engagement reports
// (trends here, lifecycle, stickiness and funnels in package cohort) count
// with it. It reads memory only and returns nothing. It is WordBlocks.Walk
// on new buffers.
func ForWordBlocks(bms []Bitmap, seg Bitmap, hasSeg bool, fn func(ws [][]uint64, n int)) {
	new(WordBlocks).Walk(bms, seg, hasSeg, fn)
}

// WordBlocks holds the buffers of ForWordBlocks for reuse: Walk is
// ForWordBlocks without a new allocation once the buffers are large
// enough (about 4 KiB per bitmap). The zero value is ready for use; a
// WordBlocks must not be used by two goroutines at once.
//
// Without a segment, a block that a bitmap holds whole, at an address
// that is a multiple of 8 on a little-endian machine (every stripe the
// Reader reads), is not copied: ws[k] is then the bitmap's bytes seen as
// words (receiving and copying cost about the same per byte, so this
// saves a third to a half of a report's memory traffic). Other blocks,
// and every block with a segment, are copied into the buffers.
type WordBlocks struct {
	flat, sw []uint64
	ws       [][]uint64
}

// Walk is ForWordBlocks on wb's buffers.
func (wb *WordBlocks) Walk(bms []Bitmap, seg Bitmap, hasSeg bool, fn func(ws [][]uint64, n int)) {
	words := 0
	for _, b := range bms {
		words = max(words, b.Words())
	}
	if hasSeg {
		words = min(words, seg.Words())
	}
	if len(wb.flat) < len(bms)*wordBlock {
		wb.flat = make([]uint64, len(bms)*wordBlock)
		wb.sw = make([]uint64, wordBlock)
	}
	if cap(wb.ws) < len(bms) {
		wb.ws = make([][]uint64, len(bms))
	}
	ws, sw := wb.ws[:len(bms)], wb.sw
	for first := 0; first < words; first += wordBlock {
		n := min(wordBlock, words-first)
		if hasSeg {
			seg.ReadWords(sw[:n], first)
		}
		for k, b := range bms {
			if !hasSeg {
				if v := b.wordView(first, n); v != nil {
					ws[k] = v
					continue
				}
			}
			ws[k] = wb.flat[k*wordBlock : (k+1)*wordBlock]
			b.ReadWords(ws[k][:n], first)
			if hasSeg {
				andInto64(ws[k][:n], sw)
			}
		}
		fn(ws, n)
	}
}

// andInto64 sets dst &= src (src at least as long).
func andInto64(dst, src []uint64) {
	src = src[:len(dst)]
	for i := range dst {
		dst[i] &= src[i]
	}
}
