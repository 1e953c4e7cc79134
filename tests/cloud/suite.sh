#!/bin/bash
# SPDX-License-Identifier: MIT
# Cloud integration suite: the real cyphonic-as on loopback with its own
# config, CA and SQLite store in a temp dir, driven through the library
# client (tests/tools/as-client) and cyphonic-admin. Then every
# tests/cloud/t_*.sh (NMS/TRS steps) runs against the same AS and its TAP
# is merged here. Finally the AS is drained with SIGTERM.
#
# CLOUD_PARTS="admin as asabuse" runs only those parts (names of
# part_*.sh, "t" for the t_*.sh steps); the default is all of them. Parts
# build on earlier ones (as needs admin's enrolments, drain needs as), so
# pick a prefix plus what you need; asabuse stands alone.
set -u
CLOUD_PARTS=${CLOUD_PARTS:-config admin as secrets pg asabuse t drain}
want_part() { [[ " $CLOUD_PARTS " == *" $1 "* ]]; }
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/lib.sh"
echo "TAP version 13"

# count failures (tap.sh only prints them)
FAILS=0
eval "orig_$(declare -f tap_fail)"
tap_fail() { FAILS=$((FAILS + 1)); orig_tap_fail "$@"; }

# CYPH_SAN=1 runs the daemons built with ASan/UBSan/LSan (build/san)
out=$top/build
san=0
if [ "${CYPH_SAN:-0}" = 1 ]; then out=$top/build/san; san=1; fi
# only what this suite runs: other programs may be mid-change
if ! make -s -C "$top/user" SAN=$san "$out/bin/cyphonic-as" "$out/bin/cyphonic-admin" \
	"$out/tools/as-client" > "$top/build/cloud-build.log" 2>&1; then
	tap_fail "cloud: build" "see build/cloud-build.log"
	tail -n 30 "$top/build/cloud-build.log" | sed 's/^/# /'
	tap_plan
	exit 1
fi

export CYPH_BIN=$out/bin CYPH_TOOLS=$out/tools
CYPH_TMP=$(mktemp -d /tmp/cyph-cloud.XXXXXX)
export CYPH_TMP CYPH_PIDS_FILE=$CYPH_TMP/pids
: > "$CYPH_PIDS_FILE"

cleanup() {
	local p
	while read -r p; do
		kill -KILL "$p" 2>/dev/null
	done < "$CYPH_PIDS_FILE"
	if [ -n "${CYPH_KEEP:-}" ]; then echo "# kept $CYPH_TMP" >&2; else rm -rf "$CYPH_TMP"; fi
}
trap cleanup EXIT

T=$CYPH_TMP
AS_PORT=$(free_port)
HTTP_PORT=$(free_port)
export CYPH_AS_ADDR=127.0.0.1:$AS_PORT CYPH_AS_HTTP=$HTTP_PORT CYPH_DOMAIN=cyph.test
export CYPH_AS_CONF=$T/as.conf CYPH_CA=$T/ca.crt CYPH_CRL=$T/crl.pem
export CYPH_ADMIN="$CYPH_BIN/cyphonic-admin -c $CYPH_AS_CONF"

write_conf() {	# write_conf FILE CERT_LIFETIME
	cat > "$1" <<EOC
# cyphonic-as test configuration
[as]
listen = $CYPH_AS_ADDR
domain = $CYPH_DOMAIN
workers = 2
grace_period = 60s
idle_timeout = 20s
# cheap password checks and no lockout: the parts log in often, and
# part_asabuse tests the defaults' budgets on an AS of its own
password_check_cost = 2000
login_free_failures = 1000

[tls]
cert = $T/tls.crt
key = $T/tls.key

[ca]
cert = $CYPH_CA
key = $T/ca.key
crl = $CYPH_CRL
cert_lifetime = $2

[store]
path = $T/as.db

[vip]
prefix4 = 10.77.0.0/16
prefix6 = fd00:77::/64

[log]
level = debug

[http]
listen = 127.0.0.1:$HTTP_PORT
EOC
}
write_conf "$CYPH_AS_CONF" 10m

for part in config admin as secrets pg asabuse; do
	want_part "$part" && . "$top/tests/cloud/part_$part.sh"
done

# NMS/TRS and other steps, added by their owners as t_*.sh
for t in "$top"/tests/cloud/t_*.sh; do
	[ -e "$t" ] && want_part t || continue
	tap_run "$(basename "$t" .sh)" bash "$t" || FAILS=$((FAILS + 1))
done

want_part drain && . "$top/tests/cloud/part_drain.sh"

tap_plan
[ "$FAILS" -eq 0 ]
