# SPDX-License-Identifier: MIT
# bash completion for cyphctl(8): commands, subcommands, cyphonic device
# names, each command's keywords and their fixed values, and file names
# for the *-key-file arguments. Keep in step with help.c, cmd_*.c.

# cyphonic devices in this network namespace (from `ip`; without it, every
# interface, as sysfs does not tell the link kind).
_cyphctl_devices()
{
	local out
	if out=$(ip -o link show type cyphonic 2> /dev/null); then
		printf '%s\n' "$out" | sed -n 's/^[0-9]*: \([^:@ ]*\).*/\1/p'
	else
		ls /sys/class/net 2> /dev/null
	fi
}

# Completes keyword/value pairs. $1: index of the first keyword in
# COMP_WORDS; the rest: the keywords the command accepts.
_cyphctl_kw()
{
	local first=$1 cur=${COMP_WORDS[COMP_CWORD]} prev i w
	shift
	local -a left=()
	if (((COMP_CWORD - first) % 2)); then
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		case $prev in
		cipher) COMPREPLY=($(compgen -W 'aes-gcm chacha20-poly1305' -- "$cur")) ;;
		slot) COMPREPLY=($(compgen -W 'primary next' -- "$cur")) ;;
		detach) COMPREPLY=($(compgen -W '4 6 all' -- "$cur")) ;;
		relay) COMPREPLY=($(compgen -W 'none' -- "$cur")) ;;
		*-file)
			compopt -o filenames 2> /dev/null
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		esac
		return
	fi
	# Keywords not given yet (each may appear once).
	for w in "$@"; do
		for ((i = first; i < COMP_CWORD; i += 2)); do
			[[ ${COMP_WORDS[i]} == "$w" ]] && continue 2
		done
		left+=("$w")
	done
	COMPREPLY=($(compgen -W "${left[*]}" -- "$cur"))
}

_cyphctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} cmd=${COMP_WORDS[1]} sub
	local commands='show set local tunnel monitor genkey help'
	COMPREPLY=()

	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
		return
	fi
	case $cmd in
	show)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W '--json --help' -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_cyphctl_devices) --json" -- "$cur"))
		fi ;;
	set)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W "$(_cyphctl_devices)" -- "$cur"))
		else
			_cyphctl_kw 3 listen-port cipher workers detach max-tunnels max-locals
		fi ;;
	local)
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W 'add del' -- "$cur"))
		elif ((COMP_CWORD == 3)); then
			COMPREPLY=($(compgen -W "$(_cyphctl_devices)" -- "$cur"))
		else
			_cyphctl_kw 4 vip4 vip6
		fi ;;
	tunnel)
		sub=${COMP_WORDS[2]}
		if ((COMP_CWORD == 2)); then
			COMPREPLY=($(compgen -W 'add set swap del unreachable expect' -- "$cur"))
		elif ((COMP_CWORD == 3)); then
			COMPREPLY=($(compgen -W "$(_cyphctl_devices)" -- "$cur"))
		else
			case $sub in
			add) _cyphctl_kw 4 index peer-index local4 remote4 local6 remote6 \
				endpoint relay key-id tx-key tx-key-file rx-key rx-key-file ;;
			set) _cyphctl_kw 4 index endpoint relay slot key-id tx-key \
				tx-key-file rx-key rx-key-file ;;
			swap | del | expect) _cyphctl_kw 4 index ;;
			unreachable) _cyphctl_kw 4 local4 remote4 local6 remote6 ;;
			esac
		fi ;;
	monitor)
		((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W '--json --help' -- "$cur")) ;;
	help)
		((COMP_CWORD == 2)) && COMPREPLY=($(compgen -W "$commands" -- "$cur")) ;;
	esac
}

complete -F _cyphctl cyphctl
