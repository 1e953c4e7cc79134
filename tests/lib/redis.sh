# shellcheck shell=bash
# A throw-away Redis server for the tests: Debian's redis-server, started
# for real (never mocked), in its own temporary directory, with nothing
# persisted. By default it listens only on a Unix socket in that
# directory (port 0), so nothing outside the test reaches it and parallel
# runs never collide; `redis_start tcp` adds a loopback port.
#
#	. tests/lib/redis.sh
#	redis_start || fail		# exports CYPH_TEST_REDIS, REDIS_DIR
#	... "[store] redis = $CYPH_TEST_REDIS" ...
#	redis_cli INFO memory		# redis-cli against it
#	redis_stop			# stops it and deletes everything
#
# CYPH_TEST_REDIS is the address in the form the daemons' [store] redis
# key takes: the socket path, or 127.0.0.1:PORT with `tcp`.

redis_start() {
	local i
	command -v redis-server > /dev/null || {
		echo "redis_start: no redis-server (apt-get install redis-server)" >&2
		return 1
	}
	REDIS_DIR=$(mktemp -d /tmp/cyph-redis.XXXXXX) || return 1
	REDIS_PORT=0
	if [ "${1:-}" = tcp ]; then
		REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	fi
	cat > "$REDIS_DIR/redis.conf" <<CONF
port $REDIS_PORT
bind 127.0.0.1
unixsocket $REDIS_DIR/redis.sock
unixsocketperm 700
dir $REDIS_DIR
save ""
appendonly no
daemonize no
logfile $REDIS_DIR/redis.log
CONF
	redis-server "$REDIS_DIR/redis.conf" > /dev/null 2>&1 &
	REDIS_PID=$!
	for ((i = 0; i < 200; i++)); do
		if [ -S "$REDIS_DIR/redis.sock" ] &&
		   redis-cli -s "$REDIS_DIR/redis.sock" PING 2> /dev/null | grep -q PONG; then
			export REDIS_DIR REDIS_PID REDIS_PORT
			if [ "$REDIS_PORT" != 0 ]; then
				export CYPH_TEST_REDIS=127.0.0.1:$REDIS_PORT
			else
				export CYPH_TEST_REDIS=$REDIS_DIR/redis.sock
			fi
			return 0
		fi
		kill -0 "$REDIS_PID" 2> /dev/null || break
		sleep 0.05
	done
	echo "redis_start: the server did not start:" >&2
	tail -n 20 "$REDIS_DIR/redis.log" >&2
	return 1
}

redis_cli() {
	redis-cli -s "$REDIS_DIR/redis.sock" "$@"
}

# Kills the server (as a crash would: nothing is saved) and starts it again
# on the same socket and port, empty.
redis_restart() {
	kill -KILL "$REDIS_PID" 2> /dev/null
	wait "$REDIS_PID" 2> /dev/null
	rm -f "$REDIS_DIR/redis.sock"
	redis-server "$REDIS_DIR/redis.conf" > /dev/null 2>&1 &
	REDIS_PID=$!
	local i
	for ((i = 0; i < 200; i++)); do
		redis_cli PING 2> /dev/null | grep -q PONG && return 0
		sleep 0.05
	done
	return 1
}

redis_stop() {
	[ -n "${REDIS_DIR:-}" ] && [ -d "$REDIS_DIR" ] || return 0
	kill -TERM "$REDIS_PID" 2> /dev/null
	wait "$REDIS_PID" 2> /dev/null
	rm -rf "$REDIS_DIR"
	unset REDIS_DIR REDIS_PID CYPH_TEST_REDIS
}
