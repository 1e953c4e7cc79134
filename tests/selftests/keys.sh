#!/bin/bash
# The key lifecycle the daemon relies on (docs/kernel.md, "Key lifecycle"):
# a key the tunnel has already used, in either slot or direction, and a TX
# key equal to the RX key are refused with an extended-ack message and
# change nothing; the receiver's automatic promotion of the next key is
# announced (key-promoted event), after which a swap onto the retired key
# is refused on either side.
. "$(dirname "$0")/lib.sh"
need ip cyphctl jq ping
t_begin
trap 'topo_down; rm -f "$err" "$mon"' EXIT
err=$(mktemp) mon=$(mktemp)

# rejects NAME WORD CMD...: CMD fails and its stderr (the extack) has WORD
rejects() {
	local name=$1 word=$2
	shift 2
	if "$@" > /dev/null 2> "$err"; then
		t_fail "$name" "command succeeded: $*"
	elif ! grep -qF -- "$word" "$err"; then
		t_fail "$name" "message does not say '$word':" "$(cat "$err")"
	else
		t_ok "$name"
		diag "  $(grep -v warning "$err" | head -n 1)"
	fi
}
# next NS INDEX ID TX RX: install a next key
next() { nsx "$1" cyphctl tunnel set cyph0 index "$2" slot next key-id "$3" tx-key "$4" rx-key "$5"; }

setup 4 || t_abort "setup failed"
t_check "tunnel works" ina ping -c 2 -i 0.2 -W 5 $VB4
NEW=$(cyphctl genkey)
rejects "the primary key installed over itself is refused (extack)" "already used" \
	ina cyphctl tunnel set cyph0 index $IDX_A slot primary key-id 0 tx-key "$KEY_AB" rx-key "$KEY_BA"
rejects "the primary key as next key is refused (extack)" "already used" \
	next $NS_A $IDX_A 1 "$KEY_AB" "$NEW"
rejects "our RX key (the peer's TX key) as TX key is refused (extack)" "already used" \
	next $NS_A $IDX_A 1 "$KEY_BA" "$NEW"
rejects "a TX key equal to the RX key is refused (extack)" "TX key equals the RX key" \
	next $NS_A $IDX_A 1 "$NEW" "$NEW"
t_check "nothing was installed: one key slot on A" test "$(nkeys $NS_A)" = 1
t_check "the tunnel still works" ina ping -c 2 -i 0.2 -W 5 $VB4

# Rekey with the swap on A only: B promotes by itself and says so.
AB1=$(cyphctl genkey) BA1=$(cyphctl genkey)
both_next() { next $NS_A $IDX_A 1 "$AB1" "$BA1" && next $NS_B $IDX_B 1 "$BA1" "$AB1"; }
t_check "next key (id 1) on both sides" both_next
inb cyphctl monitor --json > "$mon" &
mon_pid=$!
sleep 1
t_check "swap on A" ina cyphctl tunnel swap cyph0 index $IDX_A
t_check "traffic under the new key" ina ping -c 3 -i 0.2 -W 5 $VB4
t_check "B promoted key id 1 by itself" test "$(primary_key_id $NS_B)" = 1
sleep 0.5
kill $mon_pid 2> /dev/null
wait $mon_pid 2> /dev/null
t_check "B announced the promotion (key_promoted, index $IDX_B, key id 1)" \
	jq -se "map(select(.event == \"key_promoted\" and .index == $IDX_B and .key_id == 1)) | length == 1" "$mon"
[ -s "$mon" ] && diag "  $(head -n 1 "$mon")"
rejects "B's swap after the promotion is refused: next key retired (extack)" "retired" \
	inb cyphctl tunnel swap cyph0 index $IDX_B
rejects "A's second swap (old key back in use) is refused (extack)" "retired" \
	ina cyphctl tunnel swap cyph0 index $IDX_A
t_check "A still sends under key 1" test "$(primary_key_id $NS_A)" = 1
t_check "A shows its old key as retired" bash -c "nsenter --net=/run/netns/$NS_A cyphctl show cyph0 --json | grep -q retired_ms"
rejects "the retired key installed again as next is refused (extack)" "already used" \
	next $NS_A $IDX_A 0 "$KEY_AB" "$KEY_BA"
AB2=$(cyphctl genkey) BA2=$(cyphctl genkey)
t_check "a fresh next key replaces the retired one" next $NS_A $IDX_A 2 "$AB2" "$BA2"
t_check "and can be swapped in" ina cyphctl tunnel swap cyph0 index $IDX_A
t_end
