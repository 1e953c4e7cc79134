# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Helpers for the cloud integration scripts (sourced by suite.sh and by
# every tests/cloud/t_*.sh). The environment suite.sh exports:
#
#   CYPH_BIN        build/bin (cyphonic-as, cyphonic-admin, ...)
#   CYPH_TOOLS      build/tools (as-client, ...)
#   CYPH_TMP        scratch directory, removed at the end
#   CYPH_AS_CONF    the running AS's config;  CYPH_AS_ADDR  its host:port
#   CYPH_AS_HTTP    its health/metrics port
#   CYPH_CA CYPH_CRL  CA certificate and CRL paths
#   CYPH_ADMIN      "cyphonic-admin -c $CYPH_AS_CONF"
#   CYPH_DOMAIN     the CYPHONIC domain
#
# Daemons a script starts must be registered with cyph_spawn so they are
# killed even when the script fails.

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# http_get PORT PATH -> prints the whole HTTP answer (bash /dev/tcp, no curl)
http_get() {
	local fd
	exec {fd}<>"/dev/tcp/127.0.0.1/$1" 2>/dev/null || return 1
	printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&"$fd"
	timeout 5 cat <&"$fd"
	exec {fd}<&-
}

# wait_http PORT PATH STATUS [SECONDS]
wait_http() {
	local i
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		http_get "$1" "$2" 2>/dev/null | head -n1 | grep -q " $3 " && return 0
		sleep 0.1
	done
	return 1
}

# wait_grep FILE REGEX [SECONDS]: until a line of FILE matches (default 20 s).
# The machine may be loaded: wait for the event, never a fixed time.
wait_grep() {
	local i
	for ((i = 0; i < ${3:-20} * 10; i++)); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

CYPH_PIDS_FILE=${CYPH_PIDS_FILE:-}

# cyph_spawn LOG CMD...: start CMD in the background, print its pid
cyph_spawn() {
	local log=$1; shift
	"$@" > "$log" 2>&1 &
	local pid=$!
	[ -n "$CYPH_PIDS_FILE" ] && echo "$pid" >> "$CYPH_PIDS_FILE"
	echo "$pid"
}

# wait_exit PID SECONDS: waits for PID (a child of this shell) to end and
# sets WAIT_RC to its exit status, or to "timeout". Not for $(...): a
# subshell cannot wait for its parent's children.
wait_exit() {
	local pid=$1 i
	WAIT_RC=timeout
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid" 2>/dev/null
			WAIT_RC=$?
			return 0
		fi
		sleep 0.05
	done
}

# check NAME CMD...: ok when CMD succeeds
check() {
	local name=$1; shift
	if "$@" > /dev/null 2>&1; then tap_ok "$name"; else tap_fail "$name"; fi
}
