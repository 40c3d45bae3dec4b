#!/bin/bash
# Run the Docker API tests (the dockerode flows and cli.sh) against a real,
# private dockerd: the comparison mode, to see what Docker itself does.
#
#   tests/dockerapi/run-against-dockerd.sh [-v] [NAME...]
#
# NAME: a flow (pool getorcreate exec archive run oom kill remove errors
# ports) or a part of cli.sh (cli-run cli-lifecycle cli-load cli-isolation
# cli-ports); default: all. -v prints every check's line, not only the
# failures'. The private dockerd has no bridge, so nothing is published:
# ports and cli-ports check there only what does not need a published
# port (the rest prints "note - ..." lines).
#
# It starts a dockerd of its own with tools/dockerd-private (its data-root
# on a tmpfs, its own socket, exec-root and mount namespace, never the
# system's; its containers under the cgroup dapi-dockerd-PID), imports the
# rootfs (SBX_ROOTFS, default rootfs/python) as sbx-python:latest as
# tests/integration/engines.sh does, runs the tests with DAPI_PEER=dockerd
# (the checks where sbx is meant to differ print "note - ..." there), then
# stops dockerd by its pid (dockerd-private stop) and checks that nothing
# of it is left. Prints PASS/FAIL per test and "N passed, N failed"; exits 1
# if a test failed or the teardown left something. Needs root, dockerd and
# the docker CLI (make deps), node and npm (make deps; npm ci is run here
# when node_modules is missing).
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
FLOWS="pool getorcreate exec archive run oom kill remove errors ports"
CLIS="cli-run cli-lifecycle cli-load cli-isolation cli-ports"
VERBOSE=0
if [ "${1:-}" = -v ]; then
	VERBOSE=1
	shift
fi
NAMES=("$@")
[ ${#NAMES[@]} = 0 ] && read -r -a NAMES <<<"$FLOWS $CLIS"
for n in "${NAMES[@]}"; do
	[[ " $FLOWS $CLIS " == *" $n "* ]] || {
		echo "$0: unknown test '$n' (tests: $FLOWS $CLIS)" >&2
		exit 2
	}
done
[ "$(id -u)" = 0 ] || {
	echo "$0: needs root (it starts a private dockerd)" >&2
	exit 2
}
for tool in node npm dockerd docker; do
	command -v "$tool" >/dev/null || {
		echo "$0: $tool not found (make deps)" >&2
		exit 2
	}
done
ROOTFS=${SBX_ROOTFS:-$REPO/rootfs/python}
[ -d "$ROOTFS" ] || {
	echo "$0: no rootfs at $ROOTFS (make rootfs)" >&2
	exit 2
}
if [ ! -d "$HERE/node_modules/dockerode" ]; then
	(cd "$HERE" && timeout 300 npm ci --no-audit --no-fund --ignore-scripts >/dev/null) || {
		echo "$0: npm ci in $HERE failed" >&2
		exit 2
	}
fi

TOP=$(mktemp -d /tmp/dapi-dockerd.XXXXXX) || exit 2
DIR=$TOP/d
CG=dapi-dockerd-$$
STARTED=0
teardown() {
	local rc=$? out
	trap - EXIT INT TERM
	if [ $STARTED = 1 ]; then
		if ! out=$("$REPO/tools/dockerd-private" stop --dir "$DIR" --cgroup-parent "$CG" 2>&1) || [ -n "$out" ]; then
			echo "FAIL teardown: the private dockerd did not stop cleanly: $out"
			rc=1
		fi
	fi
	rm -rf "$TOP"
	exit "$rc"
}
trap teardown EXIT
trap 'exit 130' INT TERM

if ! out=$("$REPO/tools/dockerd-private" start --dir "$DIR" --cgroup-parent "$CG" --owner $$ 2>&1); then
	echo "$0: $(echo "$out" | head -n 1)" >&2
	exit 1
fi
STARTED=1
SOCK=$DIR/docker.sock
echo "# dockerd $(echo "$out" | sed -n 's/^DOCKERD_VERSION=//p') (private, pid $(echo "$out" | sed -n 's/^DOCKERD_PID=//p'), $SOCK)"
if ! err=$(DOCKER_HOST=unix://$SOCK "$REPO/tools/mkrootfs" --import docker --out "$ROOTFS" 2>&1 >/dev/null); then
	echo "$0: importing $ROOTFS: $(echo "$err" | tail -n 1)" >&2
	exit 1
fi

export DOCKER_SOCK=$SOCK DAPI_PEER=dockerd
PASSED=0 FAILED=0
LOG=$TOP/log
for n in "${NAMES[@]}"; do
	t0=${EPOCHREALTIME/./}
	case $n in
	cli-*) timeout -k 5 900 "$HERE/cli.sh" "${n#cli-}" >"$LOG" 2>&1 ;;
	*) timeout -k 5 600 node "$HERE/$n.js" >"$LOG" 2>&1 ;;
	esac
	rc=$?
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	if [ $rc = 0 ]; then
		echo "PASS $n (${ms}ms, $(grep -c '^ok - ' "$LOG") checks)"
		PASSED=$((PASSED + 1))
		if [ $VERBOSE = 1 ]; then sed 's/^/    /' "$LOG"; else grep '^note - ' "$LOG" | sed 's/^/    /'; fi
	else
		echo "FAIL $n (exit $rc, ${ms}ms)"
		FAILED=$((FAILED + 1))
		if [ $VERBOSE = 1 ]; then sed 's/^/    /' "$LOG"; else grep -v '^ok - ' "$LOG" | tail -n 20 | sed 's/^/    /'; fi
	fi
done
echo "$PASSED passed, $FAILED failed"
[ $FAILED = 0 ]
