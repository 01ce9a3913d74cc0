package testutil

import (
	"bufio"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
)

// HangingRedis starts a fake Redis on a loopback port that answers the
// connection handshake (HELLO is refused, so clients fall back to RESP2;
// PING, AUTH, SELECT, CLIENT and INFO get plain answers) and stops
// answering, for good, at the first command named hangOn (for example
// "MULTI" or "SETBIT"), while still reading what is sent. It models a Redis
// that received a write and stalls before replying. It returns the
// host:port; the server stops when t ends.
func HangingRedis(t testing.TB, hangOn string) string {
	t.Helper()
	hangOn = strings.ToUpper(hangOn)
	addr, _ := loopbackServer(t, func(c net.Conn) { serveHanging(c, hangOn) })
	return addr
}

// serveHanging answers one connection of HangingRedis.
func serveHanging(c net.Conn, hangOn string) {
	r := bufio.NewReader(c)
	hung := false
	for {
		args, err := readCommand(r)
		if err != nil {
			return
		}
		name := strings.ToUpper(args[0])
		if hung || name == hangOn {
			hung = true
			continue
		}
		var reply string
		switch name {
		case "HELLO":
			reply = "-ERR unknown command 'HELLO'\r\n"
		case "PING":
			reply = "+PONG\r\n"
		case "INFO":
			body := "# Cluster\r\ncluster_enabled:0\r\n"
			reply = "$" + strconv.Itoa(len(body)) + "\r\n" + body + "\r\n"
		case "SETBIT":
			reply = ":0\r\n"
		case "BITFIELD":
			reply = "*1\r\n:0\r\n"
		default:
			reply = "+OK\r\n"
		}
		if _, err := io.WriteString(c, reply); err != nil {
			return
		}
	}
}

// readCommand reads one RESP array of bulk strings.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || n < 1 {
		return nil, io.ErrUnexpectedEOF
	}
	args := make([]string, n)
	for i := range args {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if err != nil || size < 0 {
			return nil, io.ErrUnexpectedEOF
		}
		buf := make([]byte, size+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		args[i] = string(buf[:size])
	}
	return args, nil
}
