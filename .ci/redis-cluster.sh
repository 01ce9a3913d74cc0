#!/usr/bin/env bash
# Start or stop a throw-away 3-master Redis Cluster on 127.0.0.1:7101-7103
# (cluster bus ports 17101-17103) for the tests.
#
#   .ci/redis-cluster.sh start   stop any server on those ports, start fresh,
#                                create the cluster, wait for cluster_state:ok
#   .ci/redis-cluster.sh stop    stop the servers
#   .ci/redis-cluster.sh healthy exit 0 if all three nodes report
#                                cluster_state:ok (a running cluster is
#                                shared: tests isolate themselves by prefix)
#
# Data, pid, log and nodes-*.conf files live in $REDIS_CLUSTER_DIR
# (default .ci/tmp/redis-cluster, git-ignored); nothing is persisted.
set -euo pipefail

PORTS=(7101 7102 7103)
HOST=127.0.0.1
CI_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DIR="${REDIS_CLUSTER_DIR:-$CI_DIR/tmp/redis-cluster}"

log() { echo "redis-cluster: $*"; }

running() { # pid -> success if it is a live (not zombie) redis-server;
	# checking the name guards against a stale pid file whose pid was reused.
	local stat comm
	stat="$(ps -o stat= -p "$1" 2>/dev/null || true)"
	comm="$(ps -o comm= -p "$1" 2>/dev/null || true)"
	[ -n "$stat" ] && [ "${stat#Z}" = "$stat" ] && [ "$comm" = redis-server ]
}

alive() { # port -> success if a server answers PING
	[ "$(redis-cli -h "$HOST" -p "$1" ping 2>/dev/null || true)" = PONG ]
}

stop_port() {
	local port=$1 pidfile="$DIR/redis-$1.pid" pid=""
	[ -f "$pidfile" ] && pid="$(cat "$pidfile" 2>/dev/null || true)"
	if alive "$port"; then
		# Ask whichever server holds the port (ours or left over from an
		# earlier run) to exit without saving.
		redis-cli -h "$HOST" -p "$port" shutdown nosave >/dev/null 2>&1 || true
	fi
	if [ -n "$pid" ] && running "$pid"; then
		kill "$pid" 2>/dev/null || true
	fi
	local i
	for i in $(seq 1 50); do # up to 5 s
		if ! alive "$port" && { [ -z "$pid" ] || ! running "$pid"; }; then
			rm -f "$pidfile"
			return 0
		fi
		sleep 0.1
	done
	if [ -n "$pid" ] && running "$pid"; then
		log "port $port: pid $pid ignored SIGTERM, sending SIGKILL"
		kill -9 "$pid" 2>/dev/null || true
		sleep 0.2
	fi
	if alive "$port"; then
		log "port $port: a server still answers and could not be stopped" >&2
		return 1
	fi
	rm -f "$pidfile"
}

stop() {
	local port
	for port in "${PORTS[@]}"; do
		stop_port "$port"
	done
	log "stopped ${PORTS[*]}"
}

start() {
	stop
	rm -rf "$DIR"
	mkdir -p "$DIR"
	local port i
	for port in "${PORTS[@]}"; do
		redis-server --bind "$HOST" --port "$port" \
			--cluster-enabled yes --cluster-config-file "nodes-$port.conf" \
			--cluster-node-timeout 5000 \
			--save '' --appendonly no \
			--dir "$DIR" --pidfile "$DIR/redis-$port.pid" --logfile "$DIR/redis-$port.log" \
			--daemonize yes
	done
	for port in "${PORTS[@]}"; do
		for i in $(seq 1 100); do # up to 10 s
			alive "$port" && break
			sleep 0.1
		done
		if ! alive "$port"; then
			log "server on port $port did not start; log:" >&2
			tail -n 20 "$DIR/redis-$port.log" >&2 || true
			return 1
		fi
	done

	local addrs=()
	for port in "${PORTS[@]}"; do addrs+=("$HOST:$port"); done
	redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1 || {
		log "redis-cli --cluster create failed:" >&2
		cat "$DIR/create.log" >&2
		return 1
	}

	# Every node must see the whole cluster as ok before a client connects.
	for port in "${PORTS[@]}"; do
		for i in $(seq 1 300); do # up to 30 s
			if redis-cli -h "$HOST" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
				break
			fi
			sleep 0.1
		done
		if ! redis-cli -h "$HOST" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok'; then
			log "node $port never reached cluster_state:ok:" >&2
			redis-cli -h "$HOST" -p "$port" cluster info >&2 || true
			return 1
		fi
	done
	log "cluster ok on ${addrs[*]} (dir $DIR)"
}

healthy() { # success if every node answers and reports cluster_state:ok
	local port
	for port in "${PORTS[@]}"; do
		redis-cli -h "$HOST" -p "$port" cluster info 2>/dev/null | grep -q '^cluster_state:ok' || return 1
	done
}

case "${1:-}" in
start) start ;;
healthy) healthy ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop|healthy" >&2
	exit 2
	;;
esac
