#!/bin/bash
# SPDX-License-Identifier: MIT
# Creates the cyphonic cloud's secrets with the project's own tools and
# writes them as Secret manifests ready for `kubectl apply -f`:
#
#   deploy/k8s/secrets.sh [--domain D] [--nms-days N] [--namespace NS] OUTDIR
#   deploy/k8s/secrets.sh --renew-nms [--domain D] [--nms-days N] OUTDIR
#
#   OUTDIR/secrets.yaml   the Secrets (cyphonic-ca, cyphonic-ca-cert,
#                         cyphonic-nms-identity, cyphonic-relay,
#                         cyphonic-postgres)
#   OUTDIR/files/         the same material as files (mode 0600); keep the
#                         CA key offline, it is needed again only to rotate
#                         the NMS certificate
#
# The CA and its first CRL come from `cyphonic-admin init-ca` (Ed25519, the
# format the AS issues with); the NMS identity is an Ed25519 key with a
# certificate signed by that CA with openssl, carrying the SANs a node
# credential has (user/lib/pki/cred.h) and the FQDN nms.<domain> that nodes
# check. The relay key and the PostgreSQL password are random hex.
# --renew-nms issues a new NMS key and certificate from the CA kept in
# OUTDIR/files and rewrites OUTDIR/secrets.yaml (apply it, then restart the
# NMS pods: kubectl rollout restart deployment/cyphonic-nms).
# cyphonic-admin is taken from $CYPHONIC_ADMIN, else build/bin, else PATH.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
domain=cyph.example.net
nms_days=90
ns=cyphonic
renew=0
while [ $# -gt 1 ]; do
	case $1 in
	--domain) domain=$2; shift 2 ;;
	--nms-days) nms_days=$2; shift 2 ;;
	--namespace) ns=$2; shift 2 ;;
	--renew-nms) renew=1; shift ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { sed -n '3,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
admin=${CYPHONIC_ADMIN:-}
if [ -z "$admin" ]; then
	if [ -x "$top/build/bin/cyphonic-admin" ]; then
		admin=$top/build/bin/cyphonic-admin
	else
		admin=$(command -v cyphonic-admin) || {
			echo "secrets.sh: cyphonic-admin not found (make -C user, or set CYPHONIC_ADMIN)" >&2
			exit 1
		}
	fi
fi
if [ $renew = 1 ]; then
	[ -s "$out/files/ca.key" ] || { echo "secrets.sh: no CA in $out/files to renew from" >&2; exit 1; }
elif [ -e "$out/secrets.yaml" ]; then
	echo "secrets.sh: $out/secrets.yaml exists; refusing to replace a deployment's CA" >&2
	exit 1
fi

umask 077
f=$out/files
mkdir -p "$f"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ $renew = 0 ]; then
	# cyphonic-admin reads the CA paths from an AS config; the store it
	# opens for the first CRL is a throw-away SQLite file.
	cat > "$work/as.conf" <<CONF
[as]
domain = $domain
[tls]
cert = $work/tls.crt
key = $work/tls.key
[ca]
cert = $f/ca.crt
key = $f/ca.key
crl = $f/crl.pem
[store]
path = $work/as.db
[vip]
prefix4 = 10.77.0.0/16
CONF
	"$admin" -c "$work/as.conf" init-ca > /dev/null
	openssl rand -hex 32 > "$f/relay.key"
	# no newline: the kubelet hands a Secret key over byte for byte (PGPASSWORD)
	printf %s "$(openssl rand -hex 24)" > "$f/postgres-password"
fi

rm -f "$f/nms.key" "$f/nms.crt"
openssl genpkey -algorithm ed25519 -out "$f/nms.key" 2> /dev/null
openssl req -new -key "$f/nms.key" -subj "/CN=nms.$domain" -out "$work/nms.csr"
cat > "$work/nms.ext" <<EXT
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
subjectAltName = URI:cyphonic:node:0, URI:cyphonic:role:node, DNS:nms.$domain
EXT
openssl x509 -req -in "$work/nms.csr" -CA "$f/ca.crt" -CAkey "$f/ca.key" \
	-set_serial "0x$(openssl rand -hex 16)" -days "$nms_days" \
	-extfile "$work/nms.ext" -out "$f/nms.crt" 2> /dev/null
openssl verify -CAfile "$f/ca.crt" "$f/nms.crt" > /dev/null

# secret NAME KEY=FILE...: one Secret manifest
secret() {
	local name=$1 kv; shift
	printf -- '---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: %s\n  namespace: %s\n' \
		"$name" "$ns"
	printf '  labels:\n    app.kubernetes.io/part-of: cyphonic\ntype: Opaque\ndata:\n'
	for kv in "$@"; do
		printf '  %s: %s\n' "${kv%%=*}" "$(base64 -w0 < "${kv#*=}")"
	done
}
{
	echo "# cyphonic Secrets, made by deploy/k8s/secrets.sh on $(date -u +%F)."
	echo "# Holds the CA private key: apply it, then keep it out of version control."
	secret cyphonic-ca ca.crt="$f/ca.crt" ca.key="$f/ca.key"
	secret cyphonic-ca-cert ca.crt="$f/ca.crt"
	secret cyphonic-nms-identity nms.key="$f/nms.key" nms.crt="$f/nms.crt"
	secret cyphonic-relay relay.key="$f/relay.key"
	secret cyphonic-postgres password="$f/postgres-password"
} > "$out/secrets.yaml"
echo "secrets.sh: wrote $out/secrets.yaml (CA, NMS identity for nms.$domain valid $nms_days days, relay key, PostgreSQL password)"
