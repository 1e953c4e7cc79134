# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Files holding secrets are private whatever the umask. Under umask 022
# and 000: cyphonic-admin (init-ca, node add) and a first start of
# cyphonic-as in an empty directory (it creates the CA, its TLS key and the
# registry) must leave the keys and the SQLite database with its -wal and
# -shm files at mode 0600; certificates and the CRL stay 0644 (public, the
# NMS and TRS read them).

# secret_conf DIR PORT: an AS configuration keeping everything in DIR
secret_conf() {
	cat > "$1/as.conf" <<EOC
[as]
listen = 127.0.0.1:$2
domain = $CYPH_DOMAIN
[tls]
cert = $1/tls.crt
key = $1/tls.key
[ca]
cert = $1/ca.crt
key = $1/ca.key
crl = $1/crl.pem
[store]
path = $1/as.db
[vip]
prefix4 = 10.78.0.0/16
[http]
enabled = false
EOC
}

# modes_are WHAT MODE FILE...: one check that every FILE has MODE
modes_are() {
	local what=$1 want=$2 f got bad=""
	shift 2
	for f in "$@"; do
		got=$(stat -c %a "$f" 2> /dev/null || echo missing)
		[ "$got" = "$want" ] || bad="$bad ${f##*/}=$got"
	done
	if [ -z "$bad" ]; then
		tap_ok "$what: $want"
	else
		tap_fail "$what: $want" "got:$bad"
	fi
}

for m in 022 000; do
	# cyphonic-admin creates the CA and the registry
	d=$T/umask$m-admin
	mkdir -p "$d"
	secret_conf "$d" "$(free_port)"
	out=$( (umask "$m" && "$CYPH_BIN/cyphonic-admin" -c "$d/as.conf" init-ca &&
		"$CYPH_BIN/cyphonic-admin" -c "$d/as.conf" node add erin --password erin-pw \
			--kdf-iterations 1000) 2>&1) || tap_fail "secrets: umask $m: admin init-ca, node add" "$out"
	modes_are "secrets: umask $m: admin's CA key and database" 600 "$d/ca.key" "$d/as.db"
	modes_are "secrets: umask $m: admin's CA certificate and CRL" 644 "$d/ca.crt" "$d/crl.pem"

	# the AS creates the CA, its TLS key and the registry on first start
	d=$T/umask$m-as
	mkdir -p "$d"
	port=$(free_port)
	secret_conf "$d" "$port"
	pid=$(cyph_spawn "$d/as.log" bash -c "umask $m && exec '$CYPH_BIN/cyphonic-as' -c '$d/as.conf'")
	if wait_grep "$d/as.log" "listening on"; then
		# WAL mode: -wal and -shm exist while the database is open
		modes_are "secrets: umask $m: AS-created keys, database, -wal, -shm" 600 \
			"$d/ca.key" "$d/tls.key" "$d/as.db" "$d/as.db-wal" "$d/as.db-shm"
		modes_are "secrets: umask $m: AS-created certificates and CRL" 644 \
			"$d/ca.crt" "$d/tls.crt" "$d/crl.pem"
	else
		tap_fail "secrets: umask $m: cyphonic-as starts in an empty directory" \
			"$(tail -n 5 "$d/as.log")"
	fi
	kill -TERM "$pid" 2> /dev/null
	wait_exit "$pid" 20
done
