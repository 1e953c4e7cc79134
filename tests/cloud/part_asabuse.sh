# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# The AS under the attacks of issue 12, on loopback, against an AS of its
# own (own CA, store and port) with the default login budgets and
# connection limits and short deadlines: slow clients, one address
# opening a thousand connections, online password guessing, telling
# accounts apart by KDF timing, and an all-digit admin name. Attackers use
# 127.0.0.2 and up; the legitimate client 127.0.0.1. Bounded: ~30 s.
AB=$T/abuse
mkdir -p "$AB"
AB_PORT=$(free_port)
AB_HTTP=$(free_port)
AB_ADDR=127.0.0.1:$AB_PORT
COST=100000	# password_check_cost: a check is ~50 ms, cheap hashes are 1000
# The issue's bound for a legitimate login under attack is 1 s; on a
# loaded machine (or the sanitizer build) it is 3 times the login time
# measured before the attacks, when that is more.
LEGIT_MS=1000
cat > "$AB/as.conf" <<EOC
[as]
listen = $AB_ADDR
domain = abuse.test
handshake_timeout = 2s
request_timeout = 2s
idle_timeout = 5s
password_check_cost = $COST

[tls]
cert = $AB/tls.crt
key = $AB/tls.key

[ca]
cert = $AB/ca.crt
key = $AB/ca.key
crl = $AB/crl.pem

[store]
path = $AB/as.db

[vip]
prefix4 = 10.78.0.0/16

[log]
level = info

[http]
listen = 127.0.0.1:$AB_HTTP
EOC
ABADMIN=("$CYPH_BIN/cyphonic-admin" -c "$AB/as.conf")
ABCLI=("$CYPH_TOOLS/as-client" -a "$AB_ADDR" -n 127.0.0.1 -C "$AB/ca.crt")
TOOL=(python3 "$top/tests/tools/asabuse.py" --target "$AB_ADDR" --ca "$AB/ca.crt")

{
	"${ABADMIN[@]}" init-ca
	"${ABADMIN[@]}" node add alice --password alice-pw --kdf-iterations $COST
	"${ABADMIN[@]}" node add victim --password victim-pw --kdf-iterations $COST
	"${ABADMIN[@]}" node add victim2 --password victim2-pw --kdf-iterations $COST
	"${ABADMIN[@]}" node add cheap --password cheap-pw --kdf-iterations 1000
} > "$AB/admin.log" 2>&1
check "abuse: enrolment for the abuse AS" grep -q "added node cheap" "$AB/admin.log"

"$CYPH_BIN/cyphonic-as" -c "$AB/as.conf" > "$AB/as.log" 2>&1 &
AB_PID=$!
echo "$AB_PID" >> "$CYPH_PIDS_FILE"
check "abuse: AS starts" wait_http "$AB_HTTP" /healthz 200 10

# legit_ms: one login of alice from 127.0.0.1, prints its wall time in ms
# (or "fail: ...")
legit_ms() {
	local t0 out
	t0=$(date +%s%N)
	if out=$("${ABCLI[@]}" auth alice alice-pw 2>&1) && grep -q "^ok " <<< "$out"; then
		echo $(( ($(date +%s%N) - t0) / 1000000 ))
	else
		echo "fail: $out"
	fi
}
# fig KEY LINE: the value of KEY=... in a figures line
fig() { sed -n "s/.*\\b$1=\\([0-9.]*\\).*/\\1/p" <<< "$2"; }
lt() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -lt "$2" ]; }

base=$( (legit_ms; legit_ms; legit_ms) | sort -n | sed -n 2p)
check "abuse: baseline legit login (median of 3: $base ms)" lt "$base" 100000
lt "$base" 100000 && [ $((3 * base)) -gt $LEGIT_MS ] && LEGIT_MS=$((3 * base))
echo "# bound for legit logins under attack: $LEGIT_MS ms"

# 1. accounts with a cheaper KDF answer as slowly as unknown names (medians
# of 5, within a factor 3 of each other on a loaded machine; unpadded, the
# cheap account would answer about 100 times faster)
cheap=$("${TOOL[@]}" timing --src 127.0.0.50 --name cheap --tries 5)
ghost=$("${TOOL[@]}" timing --src 127.0.0.51 --name ghost --suffix --tries 5)
full=$("${TOOL[@]}" timing --src 127.0.0.52 --name victim2 --tries 3)
c=$(fig median_ms "$cheap"); g=$(fig median_ms "$ghost"); f=$(fig median_ms "$full")
echo "# timing: 1000-iteration account $c ms, unknown name $g ms, $COST-iteration account $f ms"
check "abuse: cheap-KDF account not faster than unknown names ($c vs $g ms)" \
	python3 -c "import sys; c,g=$c,$g; sys.exit(not (g/3 <= c <= 3*g and c > 10))"

# 2. slowloris and one address's thousand connections, while a legit
# client logs in from another address
"${TOOL[@]}" slowloris --src 127.0.0.2 --count 1000 --interval 0.5 --duration 6 \
	> "$AB/slow.out" 2>&1 &
SL=$!
echo "$SL" >> "$CYPH_PIDS_FILE"
"${TOOL[@]}" slowloris --src 127.0.0.3 --count 8 --interval 0.5 --duration 6 --raw \
	> "$AB/slowraw.out" 2>&1 &
SLR=$!
echo "$SLR" >> "$CYPH_PIDS_FILE"
wait_grep "$AB/slow.out" "^connected" 30
conns=$(http_get "$AB_HTTP" /metrics | sed -n 's/^cyphonic_as_connections //p')
ms=$(legit_ms)
check "abuse: legit login during slowloris from 1000 connections ($ms ms)" lt "$ms" $LEGIT_MS
wait "$SL" "$SLR"
s=$(tail -n1 "$AB/slow.out"); r=$(tail -n1 "$AB/slowraw.out")
echo "# slowloris (TLS, 1 byte / 0.5 s): $s; AS connections during: $conns"
echo "# slowloris (in the handshake): $r"
check "abuse: one address holds at most 32 connections ($(fig kept "$s") of $(fig opened "$s"))" \
	test "$(fig kept "$s")" -le 32 -a "$(fig refused "$s")" -ge 900
check "abuse: the AS holds at most 32 + 8 (+1 legit) attacker connections ($conns)" \
	test "${conns:-99}" -le 41
hm=$(fig held_max_ms "$s"); hr=$(fig held_max_ms "$r")
check "abuse: trickled request closed at its 2 s deadline (held max $hm ms)" \
	test "$(fig still_open "$s")" = 0 -a "${hm:-0}" -ge 1000 -a "${hm:-99999}" -le 4000
check "abuse: trickled handshake closed at its 2 s deadline (held max $hr ms)" \
	test "$(fig still_open "$r")" = 0 -a "${hr:-0}" -ge 1000 -a "${hr:-99999}" -le 4000
m=$(http_get "$AB_HTTP" /metrics)
check "abuse: per-address refusals counted" \
	grep -Eq '^cyphonic_as_connections_rejected_per_address_total [1-9]' <<< "$m"
check "abuse: request deadline closes counted" \
	grep -Eq '^cyphonic_as_deadline_closed_total\{phase="request"\} [1-9]' <<< "$m"

# 3. online guessing: 16 connections from one address, then 16 addresses
# with one connection each, on one account, each connection guessing
# every 10 ms (up to 1600 guesses/s, as in the issue); legit logins
# meanwhile
# guess_round LABEL NAME SRCS: 16 guessing connections from SRCS on NAME
# for GUESS_S s, three legit logins meanwhile; checks both, leaves the figures
# line in $gfig
# ABUSE_GUESS_SECONDS (default 6) lengthens the rounds: make bench-abuse
# runs them for 60 s, the issue's "10 tries a minute" measured as such.
GUESS_S=${ABUSE_GUESS_SECONDS:-6}
guess_round() {
	local label=$1 name=$2 srcs=$3 pid all=() ms med
	"${TOOL[@]}" guess --srcs "$srcs" --conns 16 --name "$name" --duration "$GUESS_S" \
		> "$AB/guess-$name.out" 2>&1 &
	pid=$!
	echo "$pid" >> "$CYPH_PIDS_FILE"
	sleep 1
	for _ in 1 2 3; do
		ms=$(legit_ms)
		all+=("$ms")
		sleep 0.5
	done
	# all three must succeed; the median is held to the bound (one
	# scheduling hiccup of a shared machine is not the AS's doing)
	med=$(printf '%s\n' "${all[@]}" | sort -n | sed -n 2p)
	check "abuse: legit logins during guessing from $label (${all[*]} ms)" \
		bash -c "for m in ${all[*]@Q}; do [[ \$m =~ ^[0-9]+\$ ]] || exit 1; done; [ $med -lt $LEGIT_MS ]"
	wait "$pid"
	gfig=$(tail -n1 "$AB/guess-$name.out")
	echo "# guessing $name from $label: $gfig"
	# 5 free failures, then one try after 1, 2, 4 s...: <= 10 a minute
	check "abuse: guessing from $label rate-limited ($(fig checked "$gfig") checks in $GUESS_S s)" \
		test "$(fig checked "$gfig")" -le 10 -a "$(fig rate_limited "$gfig")" -ge 10
}
guess_round "one address" victim 127.0.0.4
srcs=$(for i in $(seq 10 25); do printf '127.0.0.%d,' "$i"; done)
guess_round "16 addresses" victim2 "${srcs%,}"
check "abuse: failure logs carry the client address" \
	grep -Eq "auth victim from 127\.0\.0\.4:[0-9]+: failed" "$AB/as.log"
check "abuse: backoff logged with the address" grep -q "failures from 127.0.0.4" "$AB/as.log"
m=$(http_get "$AB_HTTP" /metrics)
check "abuse: rate limiting counted by account and by address" \
	bash -c "grep -Eq '^cyphonic_as_rate_limited_total\{reason=\"account\"\} [1-9]' <<< '$m' &&
		 grep -Eq '^cyphonic_as_rate_limited_total\{reason=\"address\"\} [1-9]' <<< '$m'"

# 4. an all-digit name would read as an id: refused, and ids are explicit
out=$("${ABADMIN[@]}" node add 3 --password x --kdf-iterations 1000 2>&1)
check "abuse: all-digit admin name refused" grep -q "not all digits" <<< "$out"
out=$("${ABADMIN[@]}" revoke 3 2>&1)
check "abuse: plain number refused as ambiguous" grep -q "ambiguous: write id:N" <<< "$out"
check "abuse: ... and node id 3 was not revoked" \
	grep -Eq "^3 +victim2 .* active" <<< "$("${ABADMIN[@]}" node list)"

kill -TERM "$AB_PID"
wait_exit "$AB_PID" 15
check "abuse: AS drains and exits 0 after the attacks ($WAIT_RC)" test "$WAIT_RC" = 0
if grep -Eq "Sanitizer|runtime error:" "$AB/as.log"; then
	tap_fail "abuse: no sanitizer reports in the abuse AS log"
	grep -E -A5 "Sanitizer|runtime error:" "$AB/as.log" | head -n 20 | sed 's/^/#   /'
else
	tap_ok "abuse: no sanitizer reports in the abuse AS log"
fi
