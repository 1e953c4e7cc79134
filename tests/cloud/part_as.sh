# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The running AS: authentication, adapters, general nodes, hostile input,
# revocation, expiry, SIGHUP reload, health and metrics.
CLI=("$CYPH_TOOLS/as-client" -a "$CYPH_AS_ADDR" -n 127.0.0.1 -C "$CYPH_CA")
ADMIN=($CYPH_ADMIN)

"$CYPH_BIN/cyphonic-as" -c "$CYPH_AS_CONF" > "$T/as.log" 2>&1 &
AS_PID=$!
echo "$AS_PID" >> "$CYPH_PIDS_FILE"
check "as: starts and answers /healthz" wait_http "$HTTP_PORT" /healthz 200 10
check "as: /readyz 200 when serving" wait_http "$HTTP_PORT" /readyz 200 2
check "as: generated its TLS certificate" test -s "$T/tls.crt" -a "$(stat -c %a "$T/tls.key")" = 600

# as NAME WANT_RC GREP ARGS...: runs as-client, checks exit status and output
as() {
	local name=$1 want=$2 pat=$3 out rc; shift 3
	out=$("${CLI[@]}" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" <<< "$out"; then
		tap_ok "as: $name"
	else
		tap_fail "as: $name" "rc=$rc (want $want): $out"
	fi
}

t0=$(date +%s)
as "alice authenticates" 0 "^ok id=1 role=node fqdn=alice\.cyph\.test vip4=10\.77\.0\.1 vip6=fd00:77::1" \
	-o "$T/alice.crt" -k "$T/alice.key" auth alice alice-pw
as "bad password refused (auth-failed)" 4 "auth-failed" auth alice wrong
as "unknown node refused with the same code" 4 "auth-failed" auth mallory whatever
as "general node cannot authenticate directly" 4 "auth-failed" auth cam1 x
as "IPv6-only node gets only an IPv6 VIP" 0 "vip4=- vip6=fd00:77::" auth dave dave-pw
as "password from --password-file works" 0 "^ok id=3 " auth carol carol-pw

v=$("$CYPH_TOOLS/as-client" verify "$T/alice.crt" "$CYPH_CA" "$CYPH_CRL")
check "cred: issued certificate verifies with cyph_cred_verify" \
	grep -Eq "^valid id=1 role=node fqdn=alice\.cyph\.test vip4=10\.77\.0\.1 vip6=fd00:77::1" <<< "$v"
na=$(sed -n 's/.*not_after=\([0-9]*\).*/\1/p' <<< "$v")
v=$("$CYPH_TOOLS/as-client" verify "$T/alice.crt" "$CYPH_CA" "$CYPH_CRL" $((na + 1)))
check "cred: certificate rejected after notAfter" grep -q "^invalid .*expired" <<< "$v"
check "cred: lifetime is the configured 10m" test $((na - t0)) -ge 600 -a $((na - t0)) -le 602

as "adapter lists its general nodes" 0 "^ok 3 general nodes" gn-list gw1 gw1-pw
out=$("${CLI[@]}" gn-list gw1 gw1-pw)
check "gn-list carries MAC, method, IP mode, FQDN, VIP" \
	grep -Eq "name=plc1 mac=02:00:00:00:01:02 method=basic ip=ipv6 fqdn=plc1\.cyph\.test vip=fd00:77::" <<< "$out"
as "plain node may not list general nodes (forbidden)" 7 "forbidden" gn-list alice alice-pw
as "MAC-admitted general node gets a certificate" 0 "^ok id=[0-9]+ role=general fqdn=cam1\.cyph\.test vip4=10\.77\.0\.[0-9]+ vip6=-" \
	-o "$T/cam1.crt" gn-auth gw1 gw1-pw 02:00:00:00:01:01 mac
v=$("$CYPH_TOOLS/as-client" verify "$T/cam1.crt" "$CYPH_CA" "$CYPH_CRL")
check "cred: general-node certificate verifies with role general" \
	grep -Eq "^valid id=[0-9]+ role=general fqdn=cam1\.cyph\.test" <<< "$v"
as "basic general node with good credentials" 0 "role=general fqdn=plc1" \
	gn-auth gw1 gw1-pw 02:00:00:00:01:02 basic plc1 plc1-pw
as "basic general node with a bad password" 4 "basic credentials rejected" \
	gn-auth gw1 gw1-pw 02:00:00:00:01:02 basic plc1 nope
as "802.1X general node with EAP success" 0 "fqdn=sensor1" \
	gn-auth gw1 gw1-pw 02:00:00:00:01:03 8021x 1
as "802.1X general node without EAP success" 4 "no EAP success" \
	gn-auth gw1 gw1-pw 02:00:00:00:01:03 8021x 0
as "method mismatch refused" 9 "method-mismatch" gn-auth gw1 gw1-pw 02:00:00:00:01:02 mac
as "unknown MAC refused" 8 "not-found" gn-auth gw1 gw1-pw 02:00:00:00:09:99 mac

# hostile frames: header = len(4) version type 0 0 reqid(4)
as "wrong protocol version answered" 2 "unsupported-version" raw 0000000809100000000000ff
as "unknown request type answered" 3 "unknown-type" raw 0000000801550000000000ff
as "general-node request before authenticating" 6 "not-authenticated" raw 000000080120000000000001
as "truncated attribute is malformed" 1 "malformed" raw 0000000c0110000000000001000100ff
as "oversized frame refused" 12 "too-large" raw 7fffffff01100000
as "undersized frame refused" 1 "malformed" raw 0000000201
check "as: still healthy after hostile input" wait_http "$HTTP_PORT" /healthz 200 2
out=$("${CLI[@]}" raw 000000080155000000000001000000080910000000000002 2 2>&1)
check "as: pipelined requests answered in order" \
	grep -Pzq "^error 3 unknown-type[^\n]*\nerror 2 unsupported-version" <<< "$out"
exec {g}<>"/dev/tcp/127.0.0.1/$AS_PORT"
printf 'GET / HTTP/1.0\r\n\r\n' >&"$g"
timeout 5 cat <&"$g" > /dev/null 2>&1
exec {g}<&-
check "as: plain-text (non-TLS) client closed and counted" \
	grep -Eq '^cyphonic_as_tls_handshake_failures_total [1-9]' <<< "$(http_get "$HTTP_PORT" /metrics)"
cpids=()
for i in $(seq 16); do
	"${CLI[@]}" auth carol carol-pw > "$T/conc.$i" 2>&1 &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
check "as: 16 concurrent authentications all succeed" \
	test "$(cat "$T"/conc.* | grep -c '^ok id=3 ')" -eq 16

# revocation
out=$("${ADMIN[@]}" revoke alice 2>&1)
check "revoke: by node name updates the CRL ($(tail -n1 <<< "$out"))" grep -Eq "^CRL .*: [1-9][0-9]* revoked certificate" <<< "$out"
v=$("$CYPH_TOOLS/as-client" verify "$T/alice.crt" "$CYPH_CA" "$CYPH_CRL")
check "revoke: revoked certificate rejected by cyph_cred_verify" grep -q "^invalid certificate revoked" <<< "$v"
as "revoke: revoked node refused by the AS" 5 "revoked" auth alice alice-pw
"${CLI[@]}" -o "$T/bob.crt" auth bob bob-pw > /dev/null
serial=$("$CYPH_TOOLS/as-client" verify "$T/bob.crt" "$CYPH_CA" | sed -n 's/.* serial=//p')
out=$("${ADMIN[@]}" revoke --serial "$serial" 2>&1)
v=$("$CYPH_TOOLS/as-client" verify "$T/bob.crt" "$CYPH_CA" "$CYPH_CRL")
check "revoke: by certificate serial" grep -q "^invalid certificate revoked" <<< "$v"
as "revoke: a serial revocation does not block the node" 0 "^ok id=2 " auth bob bob-pw
out=$("${ADMIN[@]}" revoke --serial 00ff 2>&1)
check "revoke: unknown serial is an error" grep -q "never issued" <<< "$out"

# SIGHUP: new lifetime, real expiry, TLS material re-read
sed -i 's/^cert_lifetime = .*/cert_lifetime = 2s/' "$CYPH_AS_CONF"
rm -f "$T/tls.crt" "$T/tls.key"
kill -HUP "$AS_PID"
check "reload: logged" wait_grep "$T/as.log" "reloaded configuration and certificates"
check "reload: missing TLS certificate re-issued" test -s "$T/tls.crt"
t0=$(date +%s)
as "reload: new lifetime applies" 0 "^ok id=3 " -o "$T/carol.crt" auth carol carol-pw
v=$("$CYPH_TOOLS/as-client" verify "$T/carol.crt" "$CYPH_CA" "$CYPH_CRL")
na=$(sed -n 's/.*not_after=\([0-9]*\).*/\1/p' <<< "$v")
# upper bound loose: a loaded machine may take seconds to answer
check "reload: certificate lives 2 s" test $((na - t0)) -ge 2 -a $((na - t0)) -le 30
for ((i = 0; i < 50 && $(date +%s) <= ${na:-0}; i++)); do sleep 0.2; done	# real time passes
v=$("$CYPH_TOOLS/as-client" verify "$T/carol.crt" "$CYPH_CA" "$CYPH_CRL")
check "expiry: a short-lived certificate expires" grep -q "^invalid .*expired" <<< "$v"
sed -i 's/^cert_lifetime = .*/cert_lifetime = 10m/' "$CYPH_AS_CONF"
cp "$CYPH_AS_CONF" "$T/as.conf.good"
echo "bogus line" >> "$CYPH_AS_CONF"
kill -HUP "$AS_PID"
check "reload: a broken config is refused and named" \
	wait_grep "$T/as.log" "reload failed, keeping the running configuration: $CYPH_AS_CONF:[0-9]*:"
as "reload: still serving on the old config" 0 "^ok id=2 " auth bob bob-pw
cp "$T/as.conf.good" "$CYPH_AS_CONF"
kill -HUP "$AS_PID"

# health and metrics
m=$(http_get "$HTTP_PORT" /metrics)
check "metrics: served in text format 0.0.4" grep -q "version=0.0.4" <<< "$m"
ok=$(sed -n 's/^cyphonic_as_requests_total{type="auth",result="ok"} //p' <<< "$m")
check "metrics: successful auths counted ($ok)" test "${ok:-0}" -ge 5
check "metrics: failures counted by result" \
	grep -Eq '^cyphonic_as_requests_total\{type="auth",result="auth-failed"\} [1-9]' <<< "$m"
check "metrics: malformed requests counted" \
	grep -Eq '^cyphonic_as_requests_total\{type="other",result="malformed"\} [1-9]' <<< "$m"
check "metrics: latency histogram" \
	grep -Eq '^cyphonic_as_request_duration_seconds_count\{type="auth"\} [1-9]' <<< "$m"
check "metrics: certificates issued" grep -Eq '^cyphonic_as_certificates_issued_total [1-9]' <<< "$m"
check "metrics: reloads and refused reloads" \
	grep -Eq '^cyphonic_as_reload_failures_total 1$' <<< "$m"
check "health: unknown path is 404" grep -q " 404 " <<< "$(http_get "$HTTP_PORT" /nope)"
