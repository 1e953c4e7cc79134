# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Configuration validation: --check, errors naming file:line:field.
AS=$CYPH_BIN/cyphonic-as

check "config: --check accepts the test config" \
	"$AS" -c "$CYPH_AS_CONF" --check

bad_conf() {	# bad_conf NAME EXPECTED-MESSAGE SED-EXPRESSION [--set ...]
	local name=$1 want=$2 expr=$3; shift 3
	local f=$T/bad.conf out
	sed "$expr" "$CYPH_AS_CONF" > "$f"
	out=$("$AS" -c "$f" "$@" --check 2>&1)
	local rc=$?
	if [ "$rc" -ne 0 ] && grep -qF -- "$want" <<< "$out"; then
		tap_ok "config: $name"
	else
		tap_fail "config: $name" "rc=$rc, wanted '$want', got: $out"
	fi
}
line_of() { grep -n "^$1" "$CYPH_AS_CONF" | head -n1 | cut -d: -f1; }

L=$(line_of "workers")
bad_conf "unknown key names file:line:field" "$T/bad.conf:$L: [as] wrkers: unknown key" \
	's/^workers/wrkers/'
bad_conf "bad value names file:line:field" "$T/bad.conf:$L: [as] workers: 'two' is not an integer" \
	's/^workers = 2/workers = two/'
bad_conf "out-of-range value" "$T/bad.conf:$L: [as] workers: 0 out of range" \
	's/^workers = 2/workers = 0/'
L=$(line_of "prefix4")
bad_conf "bad prefix" "$T/bad.conf:$L: [vip] prefix4: '10.77.0.0/40'" \
	's|^prefix4 = .*|prefix4 = 10.77.0.0/40|'
bad_conf "missing required field (line 0)" "$T/bad.conf:0: [as] domain: required but not set" \
	'/^domain/d'
bad_conf "unknown section" "unknown section [bogus]" 's/^\[log\]/[bogus]/'
bad_conf "bad --set override" "--set as.workers: 'x' is not an integer" '' --set as.workers=x
bad_conf "unknown --set key" "--set as.nokey: unknown key" '' --set as.nokey=1
out=$("$AS" -c "$T/nonexistent.conf" --check 2>&1)
if [ $? -ne 0 ] && grep -qF "$T/nonexistent.conf:0: cannot open" <<< "$out"; then
	tap_ok "config: missing file named"
else
	tap_fail "config: missing file named" "$out"
fi
out=$("$AS" -c "$CYPH_AS_CONF" --set as.domain=cyph.other --check 2>&1)
check "config: --set overrides a valid setting" test $? -eq 0
out=$("$AS" -c "$CYPH_AS_CONF" --bogus 2>&1)
check "config: unknown flag is a usage error (exit 2)" test $? -eq 2

# the shipped examples must stay valid
check "config: deploy/config/as.conf passes --check" \
	"$AS" -c "$top/deploy/config/as.conf" --check
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' > "$T/relay.key"
for svc in nms trs; do
	if [ -x "$CYPH_BIN/cyphonic-$svc" ]; then
		check "config: deploy/config/$svc.conf passes --check" "$CYPH_BIN/cyphonic-$svc" \
			-c "$top/deploy/config/$svc.conf" --set relay.key_file="$T/relay.key" --check
	fi
done
