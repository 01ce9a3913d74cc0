package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
)

// csvRecord is one record of a CSV input and the physical lines it covers.
type csvRecord struct {
	fields []string // the fields; nil when err is set
	line   int      // first physical line of the record (1-based)
	end    int      // last physical line of the record (== line for one line)
	err    error    // why the line(s) could not be read as a record
	raw    string   // with err: the text of the record's line(s), without the last line break
}

// csvLines reads records with encoding/csv and accounts for every physical
// line of the input: each line belongs to exactly one record, is blank
// (encoding/csv skips those) or comes after the last record. When a quote
// is left open, encoding/csv swallows the following lines into one failed
// record; csvLines then reports the line with the quote as failed and reads
// the swallowed lines again as records of their own, so that one stray
// quote loses one row, not the rest of the file.
type csvLines struct {
	cr    *csv.Reader
	tap   *tapReader
	base  int   // added to the line numbers of cr (a re-read starts after its first line)
	lines int   // physical lines consumed so far, counted from the start of tap
	off   int64 // input offset (in tap) up to which lines were counted
	comma rune
	sub   *csvLines // re-reading lines a broken quote swallowed; drained first
	Blank int       // blank lines skipped so far (this reader and its re-reads)
	atEOF bool      // Next has returned io.EOF
}

// newCSVLines reads r (which must not be read by anyone else) with the
// delimiter comma (0: ',').
func newCSVLines(r io.Reader, comma rune) *csvLines {
	tap := &tapReader{r: r}
	cr := csv.NewReader(tap)
	cr.FieldsPerRecord = -1
	if comma != 0 {
		cr.Comma = comma
	}
	return &csvLines{cr: cr, tap: tap, comma: comma}
}

// Next returns the next record, or io.EOF after the last one. Any other
// error is a read error of the input itself.
func (l *csvLines) Next() (csvRecord, error) {
	if l.sub != nil {
		rec, err := l.sub.Next()
		if err == nil {
			return rec, nil
		}
		l.Blank += l.sub.Blank
		l.sub = nil
		if err != io.EOF {
			return rec, err
		}
	}
	fields, err := l.cr.Read()
	if err == io.EOF {
		// What is left are blank lines.
		l.Blank += countLines(l.tap.bytes(l.off, l.cr.InputOffset()))
		l.off = l.cr.InputOffset()
		l.atEOF = true
		return csvRecord{}, io.EOF
	}
	var pe *csv.ParseError
	if err != nil && !errors.As(err, &pe) {
		return csvRecord{}, err
	}
	startLine := 0
	if pe != nil {
		startLine = pe.StartLine
	} else {
		startLine, _ = l.cr.FieldPos(0)
	}
	chunk := l.tap.bytes(l.off, l.cr.InputOffset())
	first := l.lines + 1 // first line of chunk
	l.lines += countLines(chunk)
	l.off = l.cr.InputOffset()
	l.Blank += startLine - first
	rec := csvRecord{fields: fields, line: l.base + startLine, end: l.base + l.lines}
	if pe == nil {
		l.tap.drop(l.off)
		return rec, nil
	}
	rec.fields = nil
	rec.err = pe.Err
	rec.raw = clipRow(string(bytes.TrimRight(skipLines(chunk, startLine-first), "\r\n")))
	if l.base+pe.StartLine < rec.end {
		// Re-read the swallowed lines: everything after the record's first line.
		skip := startLine - first
		i, j := 0, 0 // chunk[j:i] is the record's first line
		for ; skip >= 0; skip-- {
			j = i
			i += bytes.IndexByte(chunk[i:], '\n') + 1
		}
		rest := bytes.Clone(chunk[i:])
		rec.end = rec.line
		rec.raw = clipRow(string(bytes.TrimRight(chunk[j:i], "\r\n")))
		rec.err = fmt.Errorf("%w: a quoted field opened on this line is never closed properly (it ran to line %d); %s",
			pe.Err, l.base+l.lines, linesAgain(rec.line+1, l.base+l.lines))
		l.sub = newCSVLines(bytes.NewReader(rest), l.comma)
		l.sub.base = rec.line
	}
	l.tap.drop(l.off)
	return rec, nil
}

// countLines returns the number of physical lines in b: its newlines, plus
// one for a last line without a newline.
func countLines(b []byte) int {
	n := bytes.Count(b, []byte{'\n'})
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// tapReader keeps the bytes read through it from offset base on, so that
// the lines of a failed record can be read again.
type tapReader struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

// Read reads from the wrapped reader and keeps what it read.
func (t *tapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.buf = append(t.buf, p[:n]...)
	return n, err
}

// bytes returns the input between the offsets from and to (from >= base).
func (t *tapReader) bytes(from, to int64) []byte {
	return t.buf[from-t.base : to-t.base]
}

// drop forgets the input before offset off.
func (t *tapReader) drop(off int64) {
	n := int(off - t.base)
	if n < 64<<10 {
		return
	}
	t.buf = t.buf[:copy(t.buf, t.buf[n:])]
	t.base = off
}

// skipLines returns b without its first n lines.
func skipLines(b []byte, n int) []byte {
	for ; n > 0; n-- {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return nil
		}
		b = b[i+1:]
	}
	return b
}

// restLines reads the rest of the input and returns how many physical
// lines there are after the ones consumed so far (l.lines), without
// keeping them; the reader is not usable afterwards. It is for an import
// that stopped, to say how many lines it did not read.
func (l *csvLines) restLines() (int, error) {
	if l.atEOF {
		return 0, nil
	}
	tail := l.tap.buf[l.off-l.tap.base:] // read by encoding/csv's buffer, not yet consumed
	n := bytes.Count(tail, []byte{'\n'})
	lastByte := byte('\n')
	if len(tail) > 0 {
		lastByte = tail[len(tail)-1]
	}
	buf := make([]byte, 64<<10)
	for {
		k, err := l.tap.r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if k > 0 {
			lastByte = buf[k-1]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if lastByte != '\n' {
		n++ // a last line without a newline
	}
	return n, nil
}

// linesAgain says that the lines from..to, which an open quote
// swallowed, are read again: "line N is read again on its own" or "lines
// N-M are read again on their own".
func linesAgain(from, to int) string {
	if from == to {
		return fmt.Sprintf("line %d is read again on its own", from)
	}
	return fmt.Sprintf("lines %d-%d are read again on their own", from, to)
}
