#!/bin/bash
# SPDX-License-Identifier: MIT
# Checks cyphctl's bash completion (user/cyphctl/completion.bash, or $1):
# sources it in this shell and calls its function the way bash's
# programmable completion does (COMP_WORDS, COMP_CWORD), with `ip`
# replaced by a function that reports two cyphonic devices. TAP output.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=../lib/tap.sh
. "$top/tests/lib/tap.sh"
comp=${1:-$top/user/cyphctl/completion.bash}
fails=0

# shellcheck source=../../user/cyphctl/completion.bash
if ! . "$comp"; then
	tap_fail "completion.bash sources without error"
	tap_plan
	exit 1
fi
if [[ $(complete -p cyphctl 2> /dev/null) == *"-F _cyphctl"* ]]; then
	tap_ok "completion.bash registers _cyphctl for cyphctl"
else
	tap_fail "completion.bash registers _cyphctl for cyphctl"
	fails=$((fails + 1))
fi

ip()
{
	[ "$*" = "-o link show type cyphonic" ] || return 1
	printf '%s\n' \
		'7: cyph0: <POINTOPOINT,NOARP,UP,LOWER_UP> mtu 1420 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\    link/none ' \
		'9: cyph1: <POINTOPOINT,NOARP> mtu 1420 qdisc noop state DOWN mode DEFAULT group default qlen 1000\    link/none '
}

# check "LINE" "EXPECTED": completes the last word of LINE (a trailing
# space means an empty word) and compares the sorted candidates.
check()
{
	local line=$1 want=$2 got
	read -r -a COMP_WORDS <<< "$line"
	[[ $line == *' ' ]] && COMP_WORDS+=("")
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	COMPREPLY=()
	_cyphctl cyphctl "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
	got=${got% }
	if [ "$got" = "$want" ]; then
		tap_ok "complete '$line' -> $want"
	else
		tap_fail "complete '$line'" "want: $want; got: $got"
		fails=$((fails + 1))
	fi
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/a2b.key" "$tmp/b2a.key" "$tmp/other"
cd "$tmp" || exit 1

check "cyphctl " "--help --version genkey help local monitor set show tunnel"
check "cyphctl s" "set show"
check "cyphctl show " "--json cyph0 cyph1"
check "cyphctl set cy" "cyph0 cyph1"
check "cyphctl set cyph0 " "cipher detach listen-port max-locals max-tunnels workers"
check "cyphctl set cyph0 cipher " "aes-gcm chacha20-poly1305"
check "cyphctl set cyph0 cipher aes-gcm " "detach listen-port max-locals max-tunnels workers"
check "cyphctl set cyph0 detach " "4 6 all"
check "cyphctl set cyph0 max-tunnels " ""
check "cyphctl set cyph0 workers " ""
check "cyphctl local " "add del"
check "cyphctl local add cyph1 " "vip4 vip6"
check "cyphctl tunnel " "add del expect set swap unreachable"
check "cyphctl tunnel del cyph0 " "index"
check "cyphctl tunnel expect cyph0 " "index"
check "cyphctl tunnel unreachable cyph0 " "local4 local6 remote4 remote6"
check "cyphctl tunnel add cyph0 index 1 peer-index 2 tx" "tx-key tx-key-file"
check "cyphctl tunnel add cyph0 index 1 tx-key-file " "a2b.key b2a.key other"
check "cyphctl tunnel add cyph0 index 1 rx-key-file b" "b2a.key"
check "cyphctl tunnel set cyph0 index 1 slot " "next primary"
check "cyphctl tunnel set cyph0 index 1 relay " "none"
check "cyphctl tunnel set cyph0 index 1 s" "slot"
check "cyphctl tunnel swap cyph0 index 1 " ""
check "cyphctl monitor " "--help --json"
check "cyphctl help t" "tunnel"

# The keywords offered are exactly the ones cyphctl accepts (cmd_tunnel.c).
src=$top/user/cyphctl/cmd_tunnel.c
for sub in add set; do
	want=$(sed -n "/^static const char \*const ${sub}_kws\[\]/,/};/p" "$src" |
		grep -o '"[a-z0-9-]*"' | tr -d '"' | sort | tr '\n' ' ')
	check "cyphctl tunnel $sub cyph0 " "${want% }"
done
# ... and so are the tunnel subcommands (their table in cmd_tunnel.c) and
# set's keywords (cmd_set.c).
want=$(grep -o '{ "[a-z]*", CYPHONIC_CMD_' "$src" | grep -o '"[a-z]*"' | tr -d '"' | sort | tr '\n' ' ')
check "cyphctl tunnel " "${want% }"
want=$(grep -o '{ "[a-z0-9-]*", KW_' "$top/user/cyphctl/cmd_set.c" | grep -o '"[a-z0-9-]*"' |
	tr -d '"' | sort | tr '\n' ' ')
check "cyphctl set cyph0 " "${want% }"

tap_plan
[ "$fails" -eq 0 ]
