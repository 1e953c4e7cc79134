# shellcheck shell=bash
# The AS registry on PostgreSQL: a real server (tests/lib/pg.sh, Unix
# socket in a temp dir only), enrolment through cyphonic-admin, and two
# cyphonic-as replicas on the one database, each answering for nodes the
# other (or the admin) registered; concurrent enrolment never hands out a
# VIP twice; a replica survives a server restart; a password in the
# connection string never reaches a log.
. "$top/tests/lib/pg.sh"
ADMIN_PG=("$CYPH_BIN/cyphonic-admin" -c "$T/as-pg1.conf")
KDF=(--kdf-iterations 2000)

# pg_conf FILE LISTEN HTTP_PORT STORE_LINE: the suite's config on another
# port, with [store] replaced
pg_conf() {
	local save_addr=$CYPH_AS_ADDR save_http=$HTTP_PORT
	CYPH_AS_ADDR=$2 HTTP_PORT=$3
	write_conf "$1" 10m
	CYPH_AS_ADDR=$save_addr HTTP_PORT=$save_http
	sed -i "s|^path = .*|$4|" "$1"
}

# pg_as NAME WANT_RC GREP ADDR ARGS...: as-client against one replica
pg_as() {
	local name=$1 want=$2 pat=$3 addr=$4 out rc; shift 4
	out=$("$CYPH_TOOLS/as-client" -a "$addr" -n 127.0.0.1 -C "$CYPH_CA" "$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ] && grep -Eq -- "$pat" <<< "$out"; then
		tap_ok "pg: $name"
	else
		tap_fail "pg: $name" "rc=$rc (want $want): $out"
	fi
}

pg_part() {
	local p1 p2 h1 h2 pid1 pid2 pids=() i out vips n
	if ! pg_start 2> "$T/pg-start.log"; then
		tap_fail "pg: PostgreSQL server started" "$(tail -n 5 "$T/pg-start.log")"
		return
	fi
	trap 'pg_stop; cleanup' EXIT
	tap_ok "pg: PostgreSQL server started ($PG_BIN, socket in $PG_DIR)"
	pg_createdb as_reg > /dev/null || tap_fail "pg: database created"
	p1=127.0.0.1:$(free_port) p2=127.0.0.1:$(free_port) h1=$(free_port) h2=$(free_port)
	pg_conf "$T/as-pg1.conf" "$p1" "$h1" "postgres = $CYPH_TEST_PG dbname=as_reg"
	# the URI form for the second replica: same database
	pg_conf "$T/as-pg2.conf" "$p2" "$h2" \
		"postgres = postgresql://cyphonic@/as_reg?host=$PG_DIR"
	check "pg: --check accepts [store] postgres" \
		"$CYPH_BIN/cyphonic-as" -c "$T/as-pg1.conf" --check

	out=$("${ADMIN_PG[@]}" node add pgnode --password pg-pw "${KDF[@]}" 2>&1) &&
	out=$("${ADMIN_PG[@]}" adapter add pggw --password pggw-pw "${KDF[@]}" 2>&1) &&
	out=$("${ADMIN_PG[@]}" general-node add pggw pgcam --mac 02:00:00:00:07:01 \
		--method mac --ip-mode ipv4 2>&1)
	check "pg: cyphonic-admin enrols into PostgreSQL ($out)" test $? -eq 0
	out=$("${ADMIN_PG[@]}" node add pgnode --password x "${KDF[@]}" 2>&1)
	check "pg: duplicate name refused as with SQLite" grep -q "conflicts" <<< "$out"

	# children of this shell (not $(cyph_spawn)), so wait_exit sees their status
	"$CYPH_BIN/cyphonic-as" -c "$T/as-pg1.conf" > "$T/as-pg1.log" 2>&1 &
	pid1=$!
	"$CYPH_BIN/cyphonic-as" -c "$T/as-pg2.conf" > "$T/as-pg2.log" 2>&1 &
	pid2=$!
	echo "$pid1" >> "$CYPH_PIDS_FILE"
	echo "$pid2" >> "$CYPH_PIDS_FILE"
	check "pg: replica 1 serving" wait_http "$h1" /readyz 200 20
	check "pg: replica 2 serving" wait_http "$h2" /readyz 200 20
	pg_as "replica 1 authenticates a node" 0 \
		"^ok id=1 role=node fqdn=pgnode\.cyph\.test vip4=10\.77\.0\.1 vip6=fd00:77::1" \
		"$p1" auth pgnode pg-pw
	pg_as "replica 2 authenticates the same node: same id and VIPs" 0 \
		"^ok id=1 role=node fqdn=pgnode\.cyph\.test vip4=10\.77\.0\.1 vip6=fd00:77::1" \
		"$p2" -o "$T/pgnode.crt" -k "$T/pgnode.key" auth pgnode pg-pw
	v=$("$CYPH_TOOLS/as-client" verify "$T/pgnode.crt" "$CYPH_CA" "$CYPH_CRL")
	check "pg: the certificate replica 2 issued verifies" grep -q "^valid id=1 " <<< "$v"
	pg_as "replica 2 admits a MAC general node behind the adapter" 0 \
		"^ok id=[0-9]+ role=general fqdn=pgcam\.cyph\.test vip4=10\.77\.0\.[0-9]+" \
		"$p2" gn-auth pggw pggw-pw 02:00:00:00:07:01 mac
	pg_as "replica 1 lists the adapter's general nodes" 0 "^ok 1 general nodes" \
		"$p1" gn-list pggw pggw-pw
	pg_as "bad password refused" 4 "auth-failed" "$p1" auth pgnode wrong

	# enrolment while both run: no restart, either replica answers
	"${ADMIN_PG[@]}" node add late --password late-pw "${KDF[@]}" > /dev/null 2>&1
	pg_as "a node enrolled after start-up authenticates on replica 2" 0 "fqdn=late\." \
		"$p2" auth late late-pw

	# two writers at once (as two admins, or replicas, would): VIPs unique
	for w in a b; do
		(for i in $(seq 10); do
			"${ADMIN_PG[@]}" node add "c$w$i" --password x "${KDF[@]}" > /dev/null 2>&1 ||
				echo "c$w$i failed"
		done) > "$T/pg-race.$w" 2>&1 &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	check "pg: 2 concurrent writers x 10 enrolments, none failed" \
		test ! -s "$T/pg-race.a" -a ! -s "$T/pg-race.b"
	vips=$("${ADMIN_PG[@]}" node list | awk 'NR>1 {print $4; print $5}' | grep -v '^-$' | sort)
	n=$(wc -l <<< "$vips")
	check "pg: no VIP handed out twice ($n VIPs)" \
		test "$(uniq -d <<< "$vips")" = "" -a "$n" -ge 44

	# revocation through the shared store: the other replica refuses at once
	out=$("${ADMIN_PG[@]}" revoke pgnode 2>&1)
	check "pg: revoke writes the CRL from PostgreSQL" grep -Eq "^CRL .*: [1-9]" <<< "$out"
	pg_as "replica 2 refuses the revoked node" 5 "revoked" "$p2" auth pgnode pg-pw

	# the server restarts (failover, upgrade): replicas reconnect
	pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 restart \
		> "$T/pg-restart.log" 2>&1
	pg_as "replica 1 answers after a PostgreSQL restart" 0 "fqdn=late\." "$p1" auth late late-pw

	# a password in the connection string never reaches a log
	pg_conf "$T/as-pg3.conf" "127.0.0.1:$(free_port)" "$(free_port)" \
		"postgres = host=$PG_DIR dbname=no_such_db password=s3cret-Pw"
	"$CYPH_BIN/cyphonic-as" -c "$T/as-pg3.conf" > "$T/as-pg3.log" 2>&1
	check "pg: unreachable database: start-up fails naming it" grep -q "dbname=no_such_db" "$T/as-pg3.log"
	check "pg: ... and the password is not logged" not_in "$T/as-pg3.log" "s3cret-Pw"
	out=$("$CYPH_BIN/cyphonic-admin" -c "$T/as-pg3.conf" node list 2>&1)
	check "pg: cyphonic-admin: same, password not shown" \
		eval '! grep -q s3cret-Pw <<< "$out" && grep -q no_such_db <<< "$out"'

	for i in "$pid1" "$pid2"; do kill -TERM "$i"; done
	wait_exit "$pid1" 30
	check "pg: replica 1 drains and exits 0 ($WAIT_RC)" test "$WAIT_RC" = 0
	wait_exit "$pid2" 30
	check "pg: replica 2 drains and exits 0 ($WAIT_RC)" test "$WAIT_RC" = 0
	check "pg: no replica logged a store error" not_in_logs "store postgres"
	pg_stop
	trap cleanup EXIT
}
not_in() { ! grep -q -- "$2" "$1"; }
not_in_logs() { ! grep -q -- "$1" "$T/as-pg1.log" "$T/as-pg2.log"; }
pg_part
