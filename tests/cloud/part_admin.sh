# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# cyphonic-admin: CA, enrolment, clear errors.
ADMIN=($CYPH_ADMIN)
KDF=(--kdf-iterations 2000)	# fast hashes for the test; the default is 600000

out=$("${ADMIN[@]}" init-ca 2>&1)
check "admin: init-ca creates the CA" test -s "$CYPH_CA" -a -s "$T/ca.key" -a -s "$CYPH_CRL"
check "admin: CA key mode 0600" test "$(stat -c %a "$T/ca.key")" = 600
out=$("${ADMIN[@]}" init-ca 2>&1)
if [ $? -ne 0 ] && grep -q "refusing to overwrite" <<< "$out"; then
	tap_ok "admin: init-ca refuses to overwrite"
else
	tap_fail "admin: init-ca refuses to overwrite" "$out"
fi

enrol() {	# enrol NAME CMD... : runs an admin command that must succeed
	local name=$1 out; shift
	if out=$("${ADMIN[@]}" "$@" 2>&1); then
		tap_ok "admin: $name"
	else
		tap_fail "admin: $name" "$out"
	fi
}
enrol "node add alice" node add alice --password alice-pw "${KDF[@]}"
enrol "node add bob" node add bob --password bob-pw "${KDF[@]}"
printf 'carol-pw\n' > "$T/carol.pw"
enrol "node add carol (--password-file)" node add carol --password-file "$T/carol.pw" "${KDF[@]}"
enrol "node add dave (IPv6 only)" node add dave --password dave-pw --ip-mode ipv6 "${KDF[@]}"
enrol "adapter add gw1" adapter add gw1 --password gw1-pw "${KDF[@]}"
enrol "general-node add cam1 (mac)" general-node add gw1 cam1 --mac 02:00:00:00:01:01 \
	--method mac --ip-mode ipv4
enrol "general-node add plc1 (basic)" general-node add gw1 plc1 --mac 02:00:00:00:01:02 \
	--method basic --ip-mode ipv6 --password plc1-pw "${KDF[@]}"
enrol "general-node add sensor1 (802.1X)" general-node add gw1 sensor1 \
	--mac 02:00:00:00:01:03 --method 8021x --ip-mode ipv4 --password sensor1-pw

admin_err() {	# admin_err NAME EXPECTED CMD...
	local name=$1 want=$2 out; shift 2
	out=$("${ADMIN[@]}" "$@" 2>&1)
	if [ $? -ne 0 ] && grep -qF -- "$want" <<< "$out"; then
		tap_ok "admin: $name"
	else
		tap_fail "admin: $name" "wanted '$want', got: $out"
	fi
}
admin_err "duplicate name rejected" "conflicts" node add alice --password x "${KDF[@]}"
admin_err "missing password named" "--password" node add eve
admin_err "bad MAC named" "--mac: '02:zz'" general-node add gw1 cam9 --mac 02:zz \
	--method mac --ip-mode ipv4
admin_err "bad method named" "--method: 'wpa'" general-node add gw1 cam9 \
	--mac 02:00:00:00:09:09 --method wpa --ip-mode ipv4
admin_err "general node under a non-adapter" "'alice' is a node, not an adapter" \
	general-node add alice cam9 --mac 02:00:00:00:09:09 --method mac --ip-mode ipv4
admin_err "invalid name" "must be a DNS label" node add Bad_Name --password x
admin_err "all-digit name refused (it would read as an id)" "not all digits" \
	node add 3 --password x "${KDF[@]}"
admin_err "all-digit general-node name refused" "not all digits" \
	general-node add gw1 42 --mac 02:00:00:00:09:09 --method mac --ip-mode ipv4
admin_err "broadcast MAC refused" "not unicast (broadcast)" \
	general-node add gw1 cam9 --mac ff:ff:ff:ff:ff:ff --method mac --ip-mode ipv4
admin_err "multicast MAC refused" "not unicast (multicast)" \
	general-node add gw1 cam9 --mac 01:00:5e:00:00:01 --method mac --ip-mode ipv4
admin_err "all-zero MAC refused" "not unicast (all-zero)" \
	general-node add gw1 cam9 --mac 00:00:00:00:00:00 --method mac --ip-mode ipv4
admin_err "plain number is ambiguous" "ambiguous: write id:N" revoke 1
admin_err "id: needs a number" "id: must be followed" node del id:x
admin_err "unknown command" "unknown command 'frobnicate'" frobnicate

list=$("${ADMIN[@]}" node list 2>&1)
check "admin: node list shows alice with VIPs" \
	grep -Eq "^1 +alice +node +10\.77\.0\.1 +fd00:77::1 +alice\.cyph\.test +active" <<< "$list"
list=$("${ADMIN[@]}" general-node list id:5 2>&1)
check "admin: id:N selects by id (general-node list id:5 is gw1's)" grep -q "cam1 " <<< "$list"
list=$("${ADMIN[@]}" general-node list name:gw1 2>&1)
check "admin: name:X selects by name" grep -q "cam1 " <<< "$list"
list=$("${ADMIN[@]}" general-node list gw1 2>&1)
check "admin: general-node list shows MAC, method, mode" \
	grep -Eq "cam1 +general +02:00:00:00:01:01 +mac +ipv4 +10\.77\.0\.[0-9]+ +- +cam1\.cyph\.test" <<< "$list"
vips=$("${ADMIN[@]}" node list | awk 'NR>1 {print $4; print $5}' | grep -v '^-$' | sort)
check "admin: no VIP handed out twice" test "$(uniq -d <<< "$vips")" = ""
