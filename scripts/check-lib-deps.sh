#!/bin/bash
# SPDX-License-Identifier: MIT
# The dependency rule of user/lib/: each sub-folder is one concern, and a
# file may include headers of its own folder and of the folders named on
# the "May include:" line of its folder's overview header
# (user/lib/<folder>/<folder>.h). That line is the only place the allowed
# edges are written; this script reads it and fails, naming the file, the
# include and the edge, when:
#
#   - a file includes "B/x.h" and B is not allowed for its folder;
#   - a file includes a flat "x.h" that is not in its own folder but in
#     folder B (it only resolves through -I, and hides the edge): write
#     "B/x.h" instead;
#   - a .c or .h lies directly in user/lib/, outside any folder;
#   - a folder has no overview header or no "May include:" line.
#
#   scripts/check-lib-deps.sh [LIBDIR]           check (default user/lib)
#   scripts/check-lib-deps.sh --graph [LIBDIR]   print the allowed edges
#
# Run by user/Makefile before libcyphonic.a is archived, and by
# tests/static/suite.sh on a copy with a planted violation.
set -u
graph=0
if [ "${1:-}" = --graph ]; then graph=1; shift; fi
lib=${1:-$(cd "$(dirname "$0")/.." && pwd)/user/lib}
lib=${lib%/}
[ -d "$lib" ] || { echo "check-lib-deps: $lib: no such directory" >&2; exit 2; }
bad=0
err() { echo "check-lib-deps: $*" >&2; bad=1; }
# The rule of folder $1, as its header states it.
rule() {
	local s=${allowed[$1]# $1 }
	s=${s% }
	echo "$1/$1.h: May include: ${s:-nothing}"
}

declare -A allowed isfolder
folders=()
for d in "$lib"/*/; do
	d=$(basename "$d")
	folders+=("$d")
	isfolder[$d]=1
done
for f in "$lib"/*.c "$lib"/*.h; do
	[ -e "$f" ] && err "$f: outside any folder; move it to the folder of its concern"
done
for d in "${folders[@]}"; do
	hdr="$lib/$d/$d.h"
	if [ ! -f "$hdr" ]; then
		err "$lib/$d: no overview header $d/$d.h saying what the folder offers and may include"
		continue
	fi
	line=$(sed -n 's/^ \* May include: *//p' "$hdr" | head -n1)
	if [ -z "$line" ]; then
		err "$hdr: no \" * May include: ...\" line"
		continue
	fi
	allowed[$d]=" $d "
	# "nothing (only system headers)", "runtime, pki": folder names up to
	# any parenthesis.
	for w in $(echo "${line%%(*}" | tr ',' ' '); do
		[ "$w" = nothing ] && continue
		if [ -n "${isfolder[$w]:-}" ]; then
			allowed[$d]+="$w "
		else
			err "$hdr: May include: names \"$w\", which is not a folder of $lib"
		fi
	done
done
if [ "$graph" = 1 ]; then
	for d in "${folders[@]}"; do
		deps=$(echo "${allowed[$d]:-}" | tr ' ' '\n' | grep -vx -e "$d" -e '' | paste -sd' ')
		echo "$d -> ${deps:-(nothing)}"
	done
	exit $bad
fi

for d in "${folders[@]}"; do
	[ -n "${allowed[$d]:-}" ] || continue
	for f in "$lib/$d"/*.c "$lib/$d"/*.h; do
		[ -e "$f" ] || continue
		while IFS=: read -r n inc; do
			inc=${inc#*\"}
			inc=${inc%%\"*}
			case "$inc" in
			*/*)
				b=${inc%%/*}
				[ -n "${isfolder[$b]:-}" ] || continue
				case "${allowed[$d]}" in *" $b "*) continue ;; esac
				err "$f:$n: #include \"$inc\": $d -> $b is not allowed ($(rule "$d"))"
				;;
			*)
				[ -e "$lib/$d/$inc" ] && continue
				for b in "${folders[@]}"; do
					[ -e "$lib/$b/$inc" ] || continue
					why="write \"$b/$inc\""
					case "${allowed[$d]}" in
					*" $b "*) ;;
					*) why="and $d -> $b is not allowed ($(rule "$d"))" ;;
					esac
					err "$f:$n: #include \"$inc\" is $b/$inc, found only through -I; $why"
				done
				;;
			esac
		done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
	done
done
exit $bad
