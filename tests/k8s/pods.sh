# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Part 5 of tests/k8s/suite.sh (sourced): the pods of deploy/k8s/base run by
# pod.sh, the daemons from the image's root filesystem ($rootfs).
# suite.sh sets top, sec, bin, tools, rootfs, redis_ok.
# shellcheck disable=SC2154
ns() { nsenter --net=/run/netns/"$K8S_NS" "$@"; }
ca=$sec/files/ca.crt
domain=cyph.example.net

# PostgreSQL and Redis: the StatefulSets' containers from Debian's
# packages on this machine (the packages their images hold), or with
# K8S_ALL_IMAGES=1 from the images themselves (deploy/k8s/image/build.sh
# postgres|redis: about 350 MB more to fetch and unpack).
pg_root=/ redis_root=/
if [ "${K8S_ALL_IMAGES:-0}" = 1 ]; then
	for n in postgres redis; do
		if r=$("$top/deploy/k8s/image/build.sh" "$n" 2> "$K8S_TMP/image-$n.log"); then
			tap_ok "image: $n built from Debian packages ($(du -sm "$r/rootfs" | cut -f1) MB)"
			printf -v "${n}_root" %s "$r/rootfs"
		else
			tap_fail "image: $n built from Debian packages" "$(tail -n 3 "$K8S_TMP/image-$n.log")"
		fi
	done
	pg_root=$postgres_root
fi
if [ -x "$pg_root/usr/lib/postgresql/15/bin/postgres" ]; then
	pod_plan pg-init cyphonic-postgres initdb
	check "postgres: the init container creates the cluster, the role and the database" pod_run pg-init "$pg_root"
	pod_plan postgres cyphonic-postgres postgres
	pod_start postgres "$pg_root"
	ok=0
	for ((i = 0; i < 300; i++)); do
		ns /usr/lib/postgresql/15/bin/pg_isready -q -h 127.0.0.1 -p 5432 && { ok=1; break; }
		sleep 0.2
	done
	check "postgres: the server accepts connections (the readiness probe's pg_isready)" test $ok = 1
else
	tap_fail "postgres: Debian's postgresql-15 is installed (scripts/packages.txt)"
fi

# AS from the image
pod_plan as cyphonic-as as
pod_start as "$rootfs"
check "as: the pod from the image is ready (GET /readyz on the probe port)" pod_wait_ready as 60
check "as: live (GET /healthz)" pod_probe as LIVE
uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$(pod_main_pid "$1")/status"; }
check "as: runs as uid 10001 (runAsUser), not root" test "$(uid_of as)" = 10001
ro_root() { awk '$5 == "/" { print $6 }' "/proc/$(pod_main_pid "$1")/mountinfo" | grep -q '^ro'; }
check "as: serves with its root filesystem mounted read-only (readOnlyRootFilesystem)" ro_root as
check "as: issued its TLS certificate from the CA Secret into its emptyDir" \
	test -s "$K8S_TMP/pods/as/vol/state/tls.crt"
check "as: published the CRL on the shared volume" test -s "$K8S_TMP/pvc/cyphonic-crl/crl.pem"
check "as: cyphonic-admin in the AS pod adds a node to the PostgreSQL registry" \
	pod_exec as-admin as "$rootfs" /usr/sbin/cyphonic-admin -c /etc/cyphonic/as.conf \
	node add alice --password pw-alice
check "as: the node authenticates over TLS (server name as.$domain, CA from secrets.sh)" \
	ns "$tools/as-client" -a 127.0.0.1:7443 -n "as.$domain" -C "$ca" \
	-k "$K8S_TMP/alice.key" -o "$K8S_TMP/alice.crt" auth alice pw-alice

# Redis: the StatefulSet from Debian's redis-server on this machine, which
# the NMS and TRS pods keep their shared state in ([store], docs/scale-out.md;
# a build without that backend runs them without [store]).
if [ -x "$redis_root/usr/bin/redis-server" ]; then
	pod_plan redis cyphonic-redis redis
	pod_start redis "$redis_root"
	ok=0
	for ((i = 0; i < 100; i++)); do
		[ "$(ns redis-cli -p 6379 ping 2> /dev/null)" = PONG ] && { ok=1; break; }
		sleep 0.2
	done
	check "redis: ready (the readiness probe's redis-cli ping), append-only file on its volume" \
		bash -c "[ $ok = 1 ] && ls $K8S_TMP/pvc/data-cyphonic-redis-0/ | grep -q appendonly"
elif [ $redis_ok = 1 ]; then
	tap_fail "redis: Debian's redis-server is installed (scripts/packages.txt)"
else
	tap_skip "redis: the StatefulSet's server" "redis-server not installed"
fi
note=""
[ $redis_ok = 1 ] || note=" (without [store]: no Redis backend in this build)"

for d in nms trs; do
	pod_plan "$d" "cyphonic-$d" "$d"
	[ -n "$note" ] && strip_store "$d" "$d.conf"
	pod_start "$d" "$rootfs"
	check "$d: the pod from the image is ready (GET /readyz)$note" pod_wait_ready "$d" 60
	check "$d: live (GET /healthz)" pod_probe "$d" LIVE
done
check "nms: a node registers with the NMS pod and checks its signed answer (identity from secrets.sh)" \
	bash -c "nsenter --net=/run/netns/$K8S_NS $tools/cyph_node --cert $K8S_TMP/alice.crt --key $K8S_TMP/alice.key \
		--ca $ca --nms 127.0.0.1:7100 --nms-name nms.$domain register | grep -q '^ok registered'"

# Deleting a pod: preStop, SIGTERM; it must fail readiness at once and exit
# 0 within terminationGracePeriodSeconds. The AS is deleted with a request
# in flight (a deliberately slow password hash) and without the preStop
# wait, so the request is still running at SIGTERM: the drain finishes it.
# The hash costs about 0.5 s on a quiet machine: long enough to be seen
# running (password_checks_pending 1) when SIGTERM is sent, short enough
# to end within the 10 s grace even on a machine ten times slower.
deleted() {	# deleted NAME RC DRAIN_MS UNREADY_MS
	local tgps period
	tgps=$(. "$K8S_TMP/pods/$1/plan.sh"; echo "$P_TGPS")
	check "$1: pod deletion: exit status 0 (got $2)" test "$2" = 0
	check "$1: drained in $3 ms after SIGTERM, within the grace period (${tgps} s)" \
		test "$3" -lt $((tgps * 1000))
	period=$(. "$K8S_TMP/pods/$1/plan.sh"; echo "$P_READY_PERIOD")
	check "$1: readiness failed $4 ms after SIGTERM, within one probe period (${period} s)" \
		test "$4" -ge 0 -a "$4" -lt $((period * 1000))
}
pod_exec as-slow as "$rootfs" /usr/sbin/cyphonic-admin -c /etc/cyphonic/as.conf \
	node add slow --password slow-pw --kdf-iterations 1500000
ns "$tools/as-client" -a 127.0.0.1:7443 -n "as.$domain" -C "$ca" -t 120000 auth slow slow-pw \
	> "$K8S_TMP/slow.out" 2>&1 &
slow=$!
hashing=no
for ((i = 0; i < 400; i++)); do
	if ns curl -s -m 2 http://127.0.0.1:9101/metrics |
		grep -q '^cyphonic_as_password_checks_pending 1$'; then
		hashing=yes
		break
	fi
	sleep 0.02
done
pod_delete as 0
wait "$slow"
check "as: the slow login's password check was running when SIGTERM was sent (seen: $hashing)" \
	test "$hashing" = yes
check "as: the request in flight at SIGTERM completes ($(head -c 60 "$K8S_TMP/slow.out"))" \
	grep -q '^ok id=' "$K8S_TMP/slow.out"
deleted as "$POD_RC" "$POD_DRAIN_MS" "$POD_UNREADY_MS"
# NMS and TRS together, with their preStop, as a rolling update would
for d in nms trs; do
	( pod_delete "$d"; echo "$POD_RC $POD_DRAIN_MS $POD_UNREADY_MS" > "$K8S_TMP/pods/$d/deleted" ) &
done
wait_for() { local i; for ((i = 0; i < 600; i++)); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }
for d in nms trs; do
	wait_for "$K8S_TMP/pods/$d/deleted"
	read -r rc drain unready < "$K8S_TMP/pods/$d/deleted" || rc=none
	deleted "$d" "$rc" "${drain:-99999}" "${unready:--1}"
done
if [ -n "${POD_PID[postgres]:-}" ]; then
	pod_delete postgres
	check "postgres: stops cleanly on SIGTERM (rc $POD_RC)" test "$POD_RC" = 0
fi
if [ -n "${POD_PID[redis]:-}" ]; then
	pod_delete redis
	check "redis: stops cleanly on SIGTERM (rc $POD_RC)" test "$POD_RC" = 0
fi
