package web

import (
	"bufio"
	"net"
	"net/http"
)

// statusWriter records the status code a handler answers with. It keeps the
// optional interfaces working: Flush and Hijack are forwarded through
// http.ResponseController (which also follows Unwrap chains of writers
// wrapped further down), and Unwrap lets http.ResponseController reach the
// original writer for SetReadDeadline and the like.
type statusWriter struct {
	http.ResponseWriter
	code int // 0 until WriteHeader or Write
}

// status returns the status sent, 200 if the handler wrote nothing (as
// net/http does).
func (w *statusWriter) status() int {
	if w.code == 0 {
		return http.StatusOK
	}
	return w.code
}

// WriteHeader implements http.ResponseWriter. Informational 1xx headers do
// not fix the status.
func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write implements http.ResponseWriter.
func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Flush implements http.Flusher; it does nothing when the underlying
// writer cannot flush.
func (w *statusWriter) Flush() {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack implements http.Hijacker, returning http.ErrNotSupported (wrapped)
// when the underlying writer cannot hijack. A hijacked connection counts as
// status 101.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil && w.code == 0 {
		w.code = http.StatusSwitchingProtocols
	}
	return conn, rw, err
}

// Unwrap returns the wrapped writer, for http.ResponseController.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
