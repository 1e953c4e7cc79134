# shellcheck shell=bash
# The CYPHONIC cloud (AS + NMS) in the wan namespace, and cyphonicd nodes
# in the sites, for the cyphonicd scenarios (sourced after ../lib.sh).
# Everything lives in $D (the scenario's scratch directory). The AS and
# the NMS listen on every wan address: site-a reaches them at $W4A,
# site-b at $W4B. Optional: CLOUD_AS_LISTEN (default 0.0.0.0:7443; [::]:7443
# takes both families), CLOUD_NMS_LISTEN6 (the NMS's IPv6 listen address),
# CLOUD_NMS_EXTRA (more sections of nms.conf, e.g. cloud_relay_conf's),
# CLOUD_NMS_LIFETIME and CLOUD_NMS_KEEPALIVE (6s, 2s: quick expiry tests),
# CLOUD_NMS_MAPPING (the NMS's mapping_listen) and NODE_NMS_MAPPING (a
# port: node_conf then sets mapping_address to the NMS address at that port).

CLOUD_KDF=(--kdf-iterations 2000)	# fast password hashes for the test

# metric NS PORT 'NAME{LABELS}': a value from /metrics (empty when absent)
metric() {
	nsx "$1" curl -sf "http://127.0.0.1:$2/metrics" | awk -v m="$3" '$1 == m { print $2 }'
}
metric_ge() { local v; v=$(metric "$@"); [ -n "$v" ] && [ "${v%.*}" -ge "$4" ]; }
alive() { kill -0 "$1" 2> /dev/null; }

# cloud_enrol NODE...: CA, the NMS's principal and NODEs (password NODE.pw);
# the domain is $CLOUD_DOMAIN (default cyph.test)
cloud_enrol() {
	local n
	cat > "$D/as.conf" <<-EOC
	[as]
	listen = ${CLOUD_AS_LISTEN:-0.0.0.0:7443}
	domain = ${CLOUD_DOMAIN:-cyph.test}
	# node passwords are hashed cheaply (CLOUD_KDF): so is the constant-cost
	# padding (default 600000 iterations, many seconds under TCG)
	password_check_cost = 2000
	[tls]
	cert = $D/as.crt
	key = $D/as.key
	names = IP:127.0.0.1,IP:$W4A,IP:$W4B
	[ca]
	cert = $D/ca.crt
	key = $D/ca.key
	crl = $D/crl.pem
	policy = $D/policy.conf
	[store]
	path = $D/as.db
	[vip]
	prefix4 = 10.77.0.0/16
	prefix6 = fd00:77::/64
	[http]
	listen = 127.0.0.1:9101
	EOC
	cyphonic-admin -c "$D/as.conf" init-ca &&
		cyphonic-admin -c "$D/as.conf" node add nms --password pw-nms "${CLOUD_KDF[@]}" ||
		return 1
	for n in "$@"; do
		echo "$n-secret" > "$D/$n.pw" && chmod 600 "$D/$n.pw" &&
			cyphonic-admin -c "$D/as.conf" node add "$n" --password-file "$D/$n.pw" \
				"${CLOUD_KDF[@]}" || return 1
	done
}

# cloud_as: start the AS (AS_PID) and wait for /healthz
cloud_as() {
	nsenter --net=/run/netns/$NS_W -- cyphonic-as -c "$D/as.conf" > "$D/as.log" 2>&1 &
	AS_PID=$!
	wait_until 60 nsx $NS_W curl -sf http://127.0.0.1:9101/healthz
}

# ca_http PORT: the [ca] and [http] sections of a cloud service's config
ca_http() {
	printf '[ca]\ncert = %s\ncrl = %s\n[http]\nlisten = 127.0.0.1:%s\n' "$D/ca.crt" "$D/crl.pem" "$1"
}

# cloud_nms: the NMS's credential from the AS, then the NMS (NMS_PID)
cloud_nms() {
	cat > "$D/nms.conf" <<-EOC
	[nms]
	listen = 0.0.0.0:7100
	${CLOUD_NMS_LISTEN6:+listen6 = $CLOUD_NMS_LISTEN6}
	lifetime = ${CLOUD_NMS_LIFETIME:-6s}
	keepalive = ${CLOUD_NMS_KEEPALIVE:-2s}
	[identity]
	key = $D/nms.key
	cert = $D/nms.crt
	$(ca_http 9102)
	${CLOUD_NMS_EXTRA:-}
	${CLOUD_NMS_MAPPING:+[nms]}
	${CLOUD_NMS_MAPPING:+mapping_listen = $CLOUD_NMS_MAPPING}
	EOC
	nsx $NS_W cyph_node --as 127.0.0.1:7443 --as-ca "$D/ca.crt" --name nms \
		--password pw-nms --save-cert "$D/nms.crt" --save-key "$D/nms.key" enrol \
		> /dev/null || return 1
	nsenter --net=/run/netns/$NS_W -- cyphonic-nms -c "$D/nms.conf" > "$D/nms.log" 2>&1 &
	NMS_PID=$!
	wait_until 60 nsx $NS_W curl -sf http://127.0.0.1:9102/healthz
}

# cloud_relay_conf ENDPOINT4 ENDPOINT6: writes the relay key the NMS and the
# TRS share, and prints the NMS's [relay] section (use as CLOUD_NMS_EXTRA)
cloud_relay_conf() {
	[ -s "$D/relay.key" ] || { openssl rand -hex 32 > "$D/relay.key" && chmod 600 "$D/relay.key"; } ||
		return 1
	printf '[relay]\nendpoint4 = %s\nendpoint6 = %s\nkey_file = %s\n' "$1" "$2" "$D/relay.key"
}

# cloud_trs [IDLE]: the TRS on both families, port 7200 (TRS_PID), its
# sessions removed after IDLE (default 60s) without traffic or bind
cloud_trs() {
	cat > "$D/trs.conf" <<-EOC
	[trs]
	listen = 0.0.0.0:7200
	listen6 = [::]:7200
	threads = 1
	idle_timeout = ${1:-60s}
	[relay]
	key_file = $D/relay.key
	$(ca_http 9103)
	EOC
	nsenter --net=/run/netns/$NS_W -- cyphonic-trs -c "$D/trs.conf" > "$D/trs.log" 2>&1 &
	TRS_PID=$!
	wait_until 60 nsx $NS_W curl -sf http://127.0.0.1:9103/healthz
}

# node_conf FILE NODE CLOUD_ADDR [extra lines]: a cyphonicd configuration
node_conf() {
	cat > "$1" <<-EOC
	# cyphonicd for $2
	[as]
	address = $3:7443
	ca = $D/ca.crt
	name = $2
	password_file = $D/$2.pw
	[nms]
	address = $3:7100
	[node]
	device = cyph0
	port = 7300
	state_dir = $D/$2-state
	[log]
	level = ${NODE_LOG_LEVEL:-info}
	[http]
	listen = 127.0.0.1:9104
	${4:-}
	${NODE_NMS_MAPPING:+[nms]}
	${NODE_NMS_MAPPING:+mapping_address = $3:$NODE_NMS_MAPPING}
	EOC
}

# node_start NS NODE: cyphonicd in NS with $D/NODE.conf, log $D/NODE.log;
# prints nothing, sets NODE_PID (a direct child: signals reach cyphonicd)
node_start() {
	nsenter --net="/run/netns/$1" -- cyphonicd -c "$D/$2.conf" > "$D/$2.log" 2>&1 &
	NODE_PID=$!
}

# nodes_up [EXTRA]: alice in site-a and bob in site-b, each with its
# node_conf (reaching the cloud at $W4A / $W4B) plus EXTRA lines, started;
# sets A_PID and B_PID
nodes_up() {
	node_conf "$D/alice.conf" alice $W4A "${1:-}"
	node_conf "$D/bob.conf" bob $W4B "${1:-}"
	node_start $NS_A alice
	A_PID=$NODE_PID
	node_start $NS_B bob
	B_PID=$NODE_PID
}

# node_stop PID: SIGTERM, wait up to 20 s; NODE_RC = exit status or "timeout"
node_stop() {
	local i st
	NODE_RC=
	kill -TERM "$1"
	for i in $(seq 200); do
		alive "$1" || break
		sleep 0.1
	done
	if alive "$1"; then NODE_RC=timeout; kill -9 "$1"; fi
	wait "$1"
	st=$?
	[ "$NODE_RC" = timeout ] || NODE_RC=$st
}
