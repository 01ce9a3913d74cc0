#!/usr/bin/env bash
# Build and start Doist's bitmapist-server (roaring bitmaps on disk, Redis
# protocol) for the tests, from the source in shared/tools/bitmapist-server
# (MIT; its Go modules come from the module proxy).
#
#   .ci/bitmapist-server.sh start    build it if needed, start it on
#                                    $BITMAPIST_SERVER_ADDR with a fresh
#                                    database, wait until it answers
#   .ci/bitmapist-server.sh stop     stop the server started by start
#   .ci/bitmapist-server.sh healthy  exit 0 if a bitmapist-server answers
#                                    on $BITMAPIST_SERVER_ADDR
#
# BITMAPIST_SERVER_ADDR  default 127.0.0.1:6459
# BITMAPIST_SERVER_SRC   the source; default ../shared/tools/bitmapist-server
#                        beside the repository, else /work/shared/...
# Binary, database, pid and log live in .ci/tmp/bitmapist-server (git-ignored).
set -euo pipefail

CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$CI_DIR/.." && pwd)"
DIR="$CI_DIR/tmp/bitmapist-server"
ADDR="${BITMAPIST_SERVER_ADDR:-127.0.0.1:6459}"
HOST="${ADDR%:*}"
PORT="${ADDR##*:}"

log() { echo "bitmapist-server: $*"; }
die() {
	echo "bitmapist-server: $*" >&2
	exit 1
}

src() {
	local d
	for d in "${BITMAPIST_SERVER_SRC:-}" "$REPO/../shared/tools/bitmapist-server" /work/shared/tools/bitmapist-server; do
		if [ -n "$d" ] && [ -f "$d/go.mod" ]; then
			echo "$d"
			return 0
		fi
	done
	die "source not found (set BITMAPIST_SERVER_SRC)"
}

healthy() {
	redis-cli -h "$HOST" -p "$PORT" info keys 2>/dev/null | grep -q '^keys_total:'
}

start() {
	mkdir -p "$DIR"
	local s
	s="$(src)"
	if [ ! -x "$DIR/bitmapist-server" ] || [ -n "$(find "$s" -name '*.go' -newer "$DIR/bitmapist-server" -print -quit)" ]; then
		log "building from $s"
		# The source may be read-only: build from it, write only the binary.
		(cd "$s" && go build -o "$DIR/bitmapist-server" .)
	fi
	stop
	rm -f "$DIR/test.db"
	log "starting on $ADDR"
	nohup "$DIR/bitmapist-server" -addr "$ADDR" -db "$DIR/test.db" >"$DIR/log" 2>&1 &
	echo $! >"$DIR/pid"
	local i
	for ((i = 0; i < 60; i++)); do
		if healthy; then
			log "up on $ADDR (pid $(cat "$DIR/pid"))"
			return 0
		fi
		sleep 0.5
	done
	cat "$DIR/log" >&2 || true
	die "did not answer on $ADDR within 30s"
}

stop() {
	local pid
	[ -f "$DIR/pid" ] || return 0
	pid="$(cat "$DIR/pid")"
	if [ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" = bitmapist-serve ] ||
		[ "$(ps -o comm= -p "$pid" 2>/dev/null || true)" = bitmapist-server ]; then
		kill "$pid" 2>/dev/null || true
		for _ in $(seq 20); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.25
		done
	fi
	rm -f "$DIR/pid"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
healthy) healthy ;;
*) die "usage: $0 start|stop|healthy" ;;
esac
