# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# A stand-in for the kubelet, sourced by tests/k8s/suite.sh: starts the
# containers of the rendered manifests (podspec.py + sandbox.sh) in one
# network namespace the suite owns, probes them as the kubelet would (HTTP
# GET on the readiness/liveness path and port), and stops them as a pod
# deletion does (preStop, then SIGTERM, then SIGKILL after
# terminationGracePeriodSeconds).
#
# What differs from a cluster: every pod shares the namespace's loopback
# (the daemons' ports do not collide), /etc/hosts maps the Service names
# to 127.0.0.1 instead of cluster DNS and ClusterIPs, and a PVC is a
# directory shared by the pods that name it.
#
# Needs: K8S_TMP (scratch), K8S_NS (netns name), K8S_OBJS (rendered
# objects, JSON), K8S_SECRETS (secrets.yaml).

declare -A POD_PID

# pod_plan NAME WORKLOAD CONTAINER: materialize volumes, write the plan
pod_plan() {
	mkdir -p "$K8S_TMP/pods/$1"
	"$K8S_DIR/podspec.py" "$K8S_OBJS" "$2" "$3" "$K8S_SECRETS" \
		"$K8S_TMP/pods/$1" "$K8S_TMP/pvc" > "$K8S_TMP/pods/$1/plan.sh"
}

# pod_run NAME ROOT [ARG...]: run the container to its end (init
# containers, --check); its output in $K8S_TMP/pods/NAME/log
# (--propagation unchanged: sandbox.sh makes its mounts private itself,
# also where / is not a mount point and unshare's default would fail)
pod_run() {
	local name=$1 root=$2; shift 2
	nsenter --net=/run/netns/"$K8S_NS" unshare --mount --propagation unchanged --pid --fork --kill-child \
		bash "$K8S_DIR/sandbox.sh" "$root" "$K8S_TMP/pods/$name" "$@" \
		> "$K8S_TMP/pods/$name/log" 2>&1
}

# pod_exec NAME FROM ROOT CMD...: run CMD with pod FROM's volumes and
# user, as `kubectl exec` would (its own mount namespace, the same volumes)
pod_exec() {
	local name=$1 from=$2 root=$3; shift 3
	mkdir -p "$K8S_TMP/pods/$name"
	{ cat "$K8S_TMP/pods/$from/plan.sh"; echo "P_CMD=($(printf '%q ' "$@"))"; } \
		> "$K8S_TMP/pods/$name/plan.sh"
	pod_run "$name" "$root"
}

# pod_start NAME ROOT: start it in the background; its exit status lands
# in $K8S_TMP/pods/NAME/rc (readable from any subshell, unlike wait)
pod_start() {
	local name=$1 root=$2 dir=$K8S_TMP/pods/$1
	rm -f "$dir/rc"
	{
		nsenter --net=/run/netns/"$K8S_NS" unshare --mount --propagation unchanged --pid --fork --kill-child \
			bash "$K8S_DIR/sandbox.sh" "$root" "$dir" > "$dir/log" 2>&1
		echo $? > "$dir/rc"
	} &
	POD_PID[$name]=$!
	echo "$!" >> "$K8S_TMP/pids"
}

# pod_http NAME PATH PORT: the HTTP status code a GET gets (000: none)
pod_http() {
	nsenter --net=/run/netns/"$K8S_NS" curl -s -o /dev/null -m 2 -w '%{http_code}' \
		"http://127.0.0.1:$3$2" 2> /dev/null || true
}

# pod_probe NAME READY|LIVE: the kubelet's verdict now (HTTP 200..399)
pod_probe() {
	local p
	# shellcheck source=/dev/null
	p=$(. "$K8S_TMP/pods/$1/plan.sh"; if [ "$2" = READY ]; then echo "$P_READY"; else echo "$P_LIVE"; fi)
	[ -n "$p" ] || return 1
	local code
	code=$(pod_http "$1" "${p% *}" "${p#* }")
	[ "$code" -ge 200 ] && [ "$code" -lt 400 ]
}

# pod_wait_ready NAME SECONDS: until the readiness probe passes
pod_wait_ready() {
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		pod_probe "$1" READY && return 0
		kill -0 "${POD_PID[$1]}" 2> /dev/null || return 1
		sleep 0.2
	done
	return 1
}

# pod_main_pid NAME: the container's process (PID 1 of its namespace),
# the child of unshare, the child of the pod_start subshell
pod_main_pid() {
	local u
	u=$(pgrep -P "${POD_PID[$1]}" | head -n1) && pgrep -P "$u" | head -n1
}

# pod_delete NAME [PRESTOP]: preStop (PRESTOP s instead when given), SIGTERM, wait up to the grace period (then
# SIGKILL, as the kubelet does). Sets POD_RC (exit status or "killed"),
# POD_DRAIN_MS (SIGTERM to exit) and POD_UNREADY_MS (SIGTERM to the first
# failed readiness probe, -1 if it never failed).
pod_delete() {
	local name=$1 main tgps pre t0 i
	# shellcheck source=/dev/null
	read -r tgps pre < <(. "$K8S_TMP/pods/$name/plan.sh"; echo "$P_TGPS $P_PRESTOP")
	pre=${2:-$pre}
	main=$(pod_main_pid "$name")
	# the preStop sleep action: the kubelet waits, the container serves on
	sleep "$pre"
	t0=$(date +%s%N)
	kill -TERM "$main"
	POD_UNREADY_MS=-1
	for ((i = 0; i < (tgps - pre) * 20; i++)); do
		if [ "$POD_UNREADY_MS" = -1 ] && ! pod_probe "$name" READY; then
			POD_UNREADY_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
		fi
		kill -0 "$main" 2> /dev/null || break
		sleep 0.05
	done
	POD_DRAIN_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
	if kill -0 "$main" 2> /dev/null; then
		kill -KILL "$main"
		POD_RC=killed
	else
		for ((i = 0; i < 100; i++)); do
			[ -s "$K8S_TMP/pods/$name/rc" ] && break
			sleep 0.05
		done
		POD_RC=$(cat "$K8S_TMP/pods/$name/rc" 2> /dev/null || echo unknown)
	fi
}
