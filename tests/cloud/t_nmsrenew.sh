#!/bin/bash
# SPDX-License-Identifier: MIT
# The NMS renews its own certificate (issue 12): with certificates that
# live 12 s, it logs in to the AS as its service principal at two thirds
# of the remaining life, keeps answering and stays ready across every
# swap, and nodes keep registering after the first certificate expired
# (they check the NMS certificate in each REGISTER_ACK). Then: a start
# with an expired certificate renews before it becomes ready, and a
# renewal that keeps failing (wrong password) is retried with backoff,
# makes the NMS unready at expiry and ready again once a try works.
# Prints TAP; exits non-zero when a check failed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib/tap.sh"
. "$top/tests/cloud/nodelib.sh"
t_begin t_nmsrenew bin/cyphonic-as bin/cyphonic-admin bin/cyphonic-nms tools/cyph_node

echo "TAP version 13"
AS_CERT_LIFETIME=12s as_setup nms alice
read -r NMS NMSH < <(free_ports 2)
printf 'pw-nms\n' > "$D/nms.pw"
chmod 600 "$D/nms.pw"
{ nms_conf_base $NMS $NMSH; cat <<CONF; } > "$D/nms.conf"
[renew]
as = 127.0.0.1:$AS
name = nms
password_file = $D/nms.pw
CONF

renewals() { metric $NMSH "cyphonic_nms_identity_renewals_total{result=\"$1\"}"; }
renewals_ge() { test "$(renewals "$1")" -ge "$2"; }	# evaluated at each retry
not_after() { date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s; }
ready_code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NMSH/readyz"; }
ready_is() { test "$(ready_code)" = "$1"; }
start_nms() {
	$B/cyphonic-nms -c "$D/nms.conf" >> "$D/nms.log" 2>&1 & NMS_PID=$!; pids+=($NMS_PID)
}
key_matches_cert() {
	test "$(openssl pkey -in "$D/nms.key" -pubout)" = \
		"$(openssl x509 -in "$D/nms.crt" -noout -pubkey)"
}

check "NMS credential from the AS (12 s)" node nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol
cp "$D/nms.crt" "$D/first.crt"
cp "$D/nms.key" "$D/first.key"
first_end=$(not_after "$D/first.crt")
start_nms
check "NMS up" wait_port $NMSH

# Readiness sampled every 0.2 s, and alice registering again and again,
# until a third renewal: the first certificate has then long expired.
(while [ ! -e "$D/stop" ]; do ready_code; echo; sleep 0.2; done > "$D/ready.log") & READY_PID=$!
(while [ ! -e "$D/stop" ]; do
	if node alice --nms 127.0.0.1:$NMS register > /dev/null 2>&1; then echo ok; else echo failed; fi
done > "$D/reg.log") & REG_PID=$!
pids+=($READY_PID $REG_PID)
check "three renewals" retry 60 renewals_ge ok 3
touch "$D/stop"
wait $READY_PID $REG_PID
check "the first certificate has expired by now" test "$(date +%s)" -gt "$first_end"
check "no renewal failed" test "$(renewals failed)" -eq 0
n_ready=$(grep -c '^200$' "$D/ready.log")
n_other=$(grep -vc '^200$\|^$' "$D/ready.log")
echo "# readiness: $n_ready answers 200, $n_other others; registrations: $(grep -c ok "$D/reg.log") ok, $(grep -c failed "$D/reg.log") failed"
check "ready throughout ($n_ready samples)" test "$n_ready" -gt 20 -a "$n_other" -eq 0
check "registrations went on" test "$(grep -c '^ok$' "$D/reg.log")" -ge 3
check "no registration failed" test "$(grep -c '^failed$' "$D/reg.log")" -eq 0
check "a node registers after the first certificate expired" \
	node alice --nms 127.0.0.1:$NMS register
check "time to expiry exported and positive" \
	test "$(metric $NMSH cyphonic_nms_identity_expiry_seconds)" -gt 0
check "the renewed pair was written over [identity]" \
	bash -c "! cmp -s '$D/nms.crt' '$D/first.crt' && ! cmp -s '$D/nms.key' '$D/first.key'"
check "the written key matches the written certificate" key_matches_cert
check "the written certificate outlives the first" test "$(not_after "$D/nms.crt")" -gt "$first_end"

# A start with the expired first pair: renewed before ready.
kill -TERM $NMS_PID; wait $NMS_PID
cp "$D/first.crt" "$D/nms.crt"
cp "$D/first.key" "$D/nms.key"
: > "$D/nms.log"
start_nms
check "NMS with an expired certificate renews at start and comes up" wait_port $NMSH
check "it logged why" grep -q 'expired.*renewing at the AS' "$D/nms.log"
check "ready after renewing at start" retry 10 ready_is 200
check "a node registers with it" node alice --nms 127.0.0.1:$NMS register

# A renewal that keeps failing: retried, unready at expiry, then cured.
printf 'wrong\n' > "$D/nms.pw"
check "a failed renewal is counted" retry 30 renewals_ge failed 1
check "... and logged with its next try" grep -q 'renewing the NMS certificate failed (next try in' "$D/nms.log"
check "unready once the certificate expired" retry 30 ready_is 503
check "expiry exported as negative" test "$(metric $NMSH cyphonic_nms_identity_expiry_seconds)" -le 0
ok_before=$(renewals ok)
printf 'pw-nms\n' > "$D/nms.pw"
check "a later try renews" retry 60 renewals_ge ok $((ok_before + 1))
check "ready again" retry 10 ready_is 200
check "a node registers again" node alice --nms 127.0.0.1:$NMS register
check "failed tries were retried with a growing backoff" \
	test "$(grep -c 'renewing the NMS certificate failed' "$D/nms.log")" -ge 2

# The config needs the whole [renew] set.
sed '/^password_file/d' "$D/nms.conf" > "$D/bad.conf"
check "[renew] as without password_file is refused" \
	bash -c "! $B/cyphonic-nms -c '$D/bad.conf' > '$D/bad.log' 2>&1 && grep -q 'renew' '$D/bad.log'"

kill -TERM $NMS_PID
check "NMS exits 0 on SIGTERM" wait $NMS_PID
tap_plan
exit $failed
