package bitmapist

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// rawConn is a connection of its own that MarkEvents writes RESP2 commands
// to directly, without a go-redis command object per SETBIT. It is dialled
// with the options of the client's *redis.Client (its Dialer, so TLS and
// custom dialers hold), authenticated and switched to the client's
// database, and closed when the call ends.
type rawConn struct {
	nc          net.Conn
	r           *bufio.Reader
	readTimeout time.Duration // per reply; 0 means none
	writeTimout time.Duration // per write; 0 means none
	// until is the deadline of the ctx of the current use (zero: none):
	// no write or reply wait is given a later one, so that a deadline met
	// between two of them is not undone by the next.
	until time.Time
}

// errRawUnsupported says a client's options need go-redis itself (a
// credentials provider or an OnConnect hook); MarkEvents then uses it.
var errRawUnsupported = errors.New("bitmapist: options need the go-redis path")

// dialRaw opens a rawConn with opt. Its errors are errors before anything
// was sent.
func dialRaw(ctx context.Context, opt *redis.Options) (*rawConn, error) {
	if opt.CredentialsProvider != nil || opt.CredentialsProviderContext != nil ||
		opt.StreamingCredentialsProvider != nil || opt.OnConnect != nil {
		return nil, errRawUnsupported
	}
	dial := opt.Dialer
	if dial == nil {
		dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := &net.Dialer{Timeout: opt.DialTimeout}
			if opt.TLSConfig != nil {
				return (&tls.Dialer{NetDialer: d, Config: opt.TLSConfig}).DialContext(ctx, network, addr)
			}
			return d.DialContext(ctx, network, addr)
		}
	}
	network := opt.Network
	if network == "" {
		network = "tcp"
	}
	nc, err := dial(ctx, network, opt.Addr)
	if err != nil {
		return nil, err
	}
	rc := &rawConn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10),
		readTimeout: max(opt.ReadTimeout, 0), writeTimout: max(opt.WriteTimeout, 0)}
	rc.until, _ = ctx.Deadline()
	if err := rc.handshake(opt); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%w: connection set-up: %w", errNotSent, err)
	}
	return rc, nil
}

// handshake authenticates and selects the database.
func (rc *rawConn) handshake(opt *redis.Options) error {
	var cmds [][]string
	if opt.Password != "" {
		if opt.Username != "" {
			cmds = append(cmds, []string{"AUTH", opt.Username, opt.Password})
		} else {
			cmds = append(cmds, []string{"AUTH", opt.Password})
		}
	}
	if opt.DB != 0 {
		cmds = append(cmds, []string{"SELECT", strconv.Itoa(opt.DB)})
	}
	if len(cmds) == 0 {
		return nil
	}
	var buf []byte
	for _, c := range cmds {
		buf = appendCommand(buf, c...)
	}
	if err := rc.write(buf); err != nil {
		return err
	}
	for range cmds {
		rc.startReply()
		line, err := rc.readLine()
		if err != nil {
			return err
		}
		if line[0] != '+' {
			return replyError(line)
		}
	}
	return nil
}

// write sends buf whole.
func (rc *rawConn) write(buf []byte) error {
	if t, ok := rc.deadline(rc.writeTimout); ok {
		_ = rc.nc.SetWriteDeadline(t)
	}
	_, err := rc.nc.Write(buf)
	return err
}

// startReply sets the deadline of the next reply.
func (rc *rawConn) startReply() {
	if t, ok := rc.deadline(rc.readTimeout); ok {
		_ = rc.nc.SetReadDeadline(t)
	}
}

// deadline returns the deadline of an operation that may take d (0: no
// limit of its own), at the latest rc.until; false when there is none.
func (rc *rawConn) deadline(d time.Duration) (time.Time, bool) {
	var t time.Time
	if d > 0 {
		t = time.Now().Add(d)
	}
	if !rc.until.IsZero() && (t.IsZero() || rc.until.Before(t)) {
		t = rc.until
	}
	return t, !t.IsZero()
}

// readLine reads one RESP line without its CRLF. The slice is valid until
// the next read. On an error it holds the bytes read before it, if any.
func (rc *rawConn) readLine() ([]byte, error) {
	line, err := rc.r.ReadSlice('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bitmapist: bad reply line %q", line)
	}
	return line[:len(line)-2], nil
}

// redisError is an error reply of Redis read by a rawConn. It satisfies
// go-redis's redis.Error, so callers test both paths alike.
type redisError string

func (e redisError) Error() string { return string(e) }

// RedisError marks e as a Redis reply.
func (redisError) RedisError() {}

func replyError(line []byte) error { return redisError(string(line[1:])) }

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(b []byte, args ...string) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, '\r', '\n')
	for _, a := range args {
		b = appendBulk(b, a)
	}
	return b
}

// appendBulk appends s as a RESP bulk string.
func appendBulk(b []byte, s string) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}
