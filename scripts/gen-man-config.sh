#!/bin/bash
# SPDX-License-Identifier: MIT
# Writes the key list of docs/man/cyphonic-{as,nms,trs}.conf.5 and
# cyphonicd.conf.5 from each
# daemon's `--help-config`, which prints the configuration schema compiled
# into the daemon (section, key, type, required, default, meaning). The
# generated part sits between the markers
#	.\" BEGIN KEYS ...   and   .\" END KEYS
# of each page; the rest of the page is written by hand.
#
#   scripts/gen-man-config.sh [--check] [BINDIR]
#
# BINDIR defaults to build/bin. --check changes nothing: it prints the
# difference and exits 1 when a page does not match its daemon's schema
# (the static suite runs it, so the pages cannot drift from the code).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
check=0
if [ "${1:-}" = --check ]; then
	check=1
	shift
fi
bindir=${1:-$top/build/bin}
status=0

# "[sec] key (type[, required][, default X]): help" -> roff, one .SS per section.
to_roff() {
	perl -ne '
		chomp;
		/^\[([^]]+)\] (\S+) \((.*?)\): (.*)$/ or die "unexpected --help-config line: $_\n";
		my ($sec, $key, $attrs, $help) = ($1, $2, $3, $4);
		my $esc = sub { my $s = shift; $s =~ s/\\/\\e/g; return $s; };
		my $lit = sub { my $s = $esc->(shift); $s =~ s/-/\\-/g; return $s; };
		my @a = split /, /, $attrs;
		my $type = shift @a;
		my @desc = ($esc->($type));
		for (@a) {
			if (/^default (.*)$/) { push @desc, "default \\fB" . $lit->($1) . "\\fR"; }
			else { push @desc, $esc->($_); }
		}
		print ".SS [" . $esc->($sec) . "]\n" if !defined $last || $last ne $sec;
		$last = $sec;
		print ".TP\n\\fB" . $lit->($key) . "\\fR (" . join(", ", @desc) . ")\n";
		print "\\&" . $esc->($help) . "\n";
	'
}

for p in cyphonic-as cyphonic-nms cyphonic-trs cyphonicd; do
	page=$top/docs/man/$p.conf.5
	bin=$bindir/$p
	if [ ! -x "$bin" ]; then
		echo "gen-man-config: $bin not built (make -C user progs)" >&2
		exit 2
	fi
	keys=$(mktemp)
	new=$(mktemp)
	"$bin" --help-config | to_roff > "$keys"
	awk -v keys="$keys" '
		/^\.\\" END KEYS/ { skip = 0 }
		!skip { print }
		/^\.\\" BEGIN KEYS/ {
			while ((getline l < keys) > 0) print l
			skip = 1; found = 1
		}
		END { if (!found) exit 3 }
	' "$page" > "$new" || { echo "gen-man-config: $page has no BEGIN KEYS marker" >&2; exit 2; }
	if [ "$check" = 1 ]; then
		if ! diff -u "$page" "$new" >&2; then
			echo "gen-man-config: $page does not match $p --help-config (run scripts/gen-man-config.sh)" >&2
			status=1
		fi
	elif ! cmp -s "$page" "$new"; then
		cat "$new" > "$page"
		echo "updated $page"
	fi
	rm -f "$keys" "$new"
done
exit $status
