# shellcheck shell=bash
# The container engines the drivers group runs on, provided by the harness
# (sourced by run.sh, which calls engines_before before every test,
# engines_after after it and engines_stop when it exits).
#
# docker: a private dockerd (tools/dockerd-private: its own data-root on a
# tmpfs, exec-root, socket, mount namespace; no bridge, no iptables; read
# its header), started before the first docker test and stopped after the
# last one (also when a test fails or the harness is interrupted; if the
# harness is SIGKILLed, dockerd gets a SIGTERM as its owner dies).
# Everything it keeps is in $H/dockerd. Containers use cgroupfs under a
# parent cgroup of their own, dockerd-itest-<harness pid>: below the
# harness's cgroup where that is not the root, so the leak check counts the
# containers' processes as the harness's. The system's /var/run/docker.sock
# and /var/lib/docker are never used. The tests reach it through
# DOCKER_HOST, exported, so the docker CLI that sbx runs (whichever is first
# in PATH) inherits it.
#
# Images: sbx-python:latest is imported from the rootfs (tools/mkrootfs
# --import) into the private dockerd, and into podman when podman lacks it.
#
# SBX_TEST_DOCKERD_START_S / SBX_TEST_DOCKERD_STOP_S (default 60) bound its
# start and stop, SBX_TEST_DOCKERD_DATA_SIZE (1g) its data-root;
# SBX_TEST_DOCKERD_LOG=FILE keeps a copy of its log.
#
# What the set-up found is in $H/engine-ENGINE for drv_need (t_drivers.sh):
# "ok", "skip: REASON" (only what this machine cannot provide: the engine is
# not installed) or "fail: REASON" (the engine is there but did not come up:
# the engine's tests fail with the reason).

ENG_DOCKERD_PID= ENG_DOCKERD_DIR= ENG_DOCKERD_CG= ENG_LAST_DOCKER_TEST=
# Generous: the machine may be loaded.
ENG_DOCKERD_START_S=${SBX_TEST_DOCKERD_START_S:-60}
ENG_DOCKERD_STOP_S=${SBX_TEST_DOCKERD_STOP_S:-60}
# The image is ~170 MB, containers write little. On a tmpfs the import is
# quicker and nothing is left to delete (rm -rf of the image's layer took
# ~15 s on a loaded disk).
ENG_DOCKERD_DATA_SIZE=${SBX_TEST_DOCKERD_DATA_SIZE:-1g}

# engines_before FN: what test FN's engine needs, set up once per run.
engines_before() {
	case $1 in
	t_drivers_docker_*)
		if [ ! -e "$H/engine-docker" ]; then
			_eng_docker_up
			# did not come up: nothing of it may stay
			if [ "$(cat "$H/engine-docker")" != ok ]; then
				_eng_docker_down >"$H/engine-down" 2>&1
				sed 's/^/#   /' "$H/engine-down"
			fi
		fi
		;;
	t_drivers_podman_* | t_oci_podman_* | t_oci_ctr) [ -e "$H/engine-podman" ] || _eng_podman_up ;;
	esac
}

# engines_after FN: after the last docker test of this run, stop dockerd.
engines_after() {
	if [ -z "$ENG_LAST_DOCKER_TEST" ]; then
		local f
		ENG_LAST_DOCKER_TEST=none
		for f in "${SELECTED[@]}"; do
			[[ $f == t_drivers_docker_* ]] && ENG_LAST_DOCKER_TEST=$f
		done
	fi
	[ "$1" = "$ENG_LAST_DOCKER_TEST" ] && engines_stop
	return 0
}

# engines_stop: stop what was started. A teardown that leaves something
# behind (or needs force) is a failure of the run.
engines_stop() {
	[ -n "$ENG_DOCKERD_DIR" ] || return 0
	# not in a subshell: it reaps dockerd and resets the globals
	_eng_docker_down >"$H/engine-down" 2>&1
	[ -s "$H/engine-down" ] || return 0
	echo "FAIL engines_dockerd_teardown: the private dockerd did not stop cleanly"
	sed 's/^/    /' "$H/engine-down"
	FAILED=$((FAILED + 1))
}

_eng_result() { # ENGINE LINE
	echo "$2" >"$H/engine-$1.tmp" && mv "$H/engine-$1.tmp" "$H/engine-$1"
	case $2 in
	ok) ;;
	*) echo "# $1: $2" ;;
	esac
}

# ---------------------------------------------------------------- docker

_eng_docker_up() {
	local t0 t1 out err v
	if ! command -v docker >/dev/null; then
		_eng_result docker "skip: the docker CLI is not installed (make deps installs docker.io)"
		return
	fi
	if ! command -v dockerd >/dev/null; then
		_eng_result docker "skip: dockerd is not installed (make deps installs docker.io)"
		return
	fi
	local tool
	for tool in setsid setpriv unshare mount timeout; do
		if ! command -v "$tool" >/dev/null; then
			_eng_result docker "fail: $tool (util-linux/coreutils) not found: cannot start a private dockerd"
			return
		fi
	done
	_eng_sweep_stale_cgroups
	t0=$(now_us)
	ENG_DOCKERD_DIR=$H/dockerd
	# Below the harness's cgroup where it is not the root (see
	# tools/dockerd-private).
	ENG_DOCKERD_CG=dockerd-itest-$HARNESS_PID
	local keep=()
	[ -n "$SBX_TEST_DOCKERD_LOG" ] && keep=(--keep-log "$SBX_TEST_DOCKERD_LOG")
	# --owner: if the harness is SIGKILLed, dockerd still gets a SIGTERM.
	if ! out=$("$REPO/tools/dockerd-private" start --dir "$ENG_DOCKERD_DIR" \
		--cgroup-parent "$ENG_DOCKERD_CG" --owner "$HARNESS_PID" \
		--data-size "$ENG_DOCKERD_DATA_SIZE" --timeout "$ENG_DOCKERD_START_S" \
		"${keep[@]}" 2>&1); then
		err=$(echo "$out" | head -n 1)
		_eng_result docker "fail: ${err#dockerd-private: }"
		return
	fi
	t1=$(now_us)
	ENG_DOCKERD_PID=$(echo "$out" | sed -n 's/^DOCKERD_PID=//p')
	v=$(echo "$out" | sed -n 's/^DOCKERD_VERSION=//p')
	ENG_SAVED_DOCKER_HOST=${DOCKER_HOST-unset}
	DOCKER_HOST=$(echo "$out" | sed -n 's/^DOCKER_HOST=//p')
	export DOCKER_HOST
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	echo "# dockerd $v (private, $DOCKER_HOST; docker CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null) at $(command -v docker)) up in $(((t1 - t0) / 1000))ms"
	if ! err=$("$REPO/tools/mkrootfs" --import docker --out "$ROOTFS" 2>&1 >/dev/null); then
		_eng_result docker "fail: importing the rootfs into the private dockerd: $(echo "$err" | tail -n 1)"
		return
	fi
	echo "# docker: imported $ROOTFS as sbx-python:latest in $((($(now_us) - t1) / 1000))ms"
	_eng_result docker ok
}

# Empty parent cgroups of earlier runs whose harness is gone (SIGKILLed:
# its dockerd then stopped on its own, see --owner, but nothing removed
# them). rmdir removes only empty ones.
_eng_sweep_stale_cgroups() {
	local c pid
	find /sys/fs/cgroup -maxdepth 8 -name 'dockerd-itest-[0-9]*' -type d 2>/dev/null |
		while read -r c; do
			pid=${c##*-}
			kill -0 "$pid" 2>/dev/null && continue
			find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
}

# Stop dockerd (tools/dockerd-private stop: SIGTERM, then it makes sure
# nothing of it remains). Prints what needed force or remains.
_eng_docker_down() {
	local d=$ENG_DOCKERD_DIR keep=()
	ENG_DOCKERD_PID=
	if [ -n "$d" ]; then
		[ -n "$SBX_TEST_DOCKERD_LOG" ] && keep=(--keep-log "$SBX_TEST_DOCKERD_LOG")
		"$REPO/tools/dockerd-private" stop --dir "$d" --cgroup-parent "$ENG_DOCKERD_CG" \
			--timeout "$ENG_DOCKERD_STOP_S" "${keep[@]}"
	fi
	ENG_DOCKERD_DIR=
	if [ "${ENG_SAVED_DOCKER_HOST-unset}" = unset ]; then
		unset DOCKER_HOST
	else
		export DOCKER_HOST=$ENG_SAVED_DOCKER_HOST
	fi
	return 0
}

# ---------------------------------------------------------------- podman

_eng_podman_up() {
	local err t0
	if ! command -v podman >/dev/null; then
		_eng_result podman "skip: podman is not installed (make deps installs it)"
		return
	fi
	if podman image exists sbx-python:latest 2>/dev/null; then
		_eng_result podman ok
		return
	fi
	t0=$(now_us)
	if ! err=$("$REPO/tools/mkrootfs" --import podman --out "$ROOTFS" 2>&1 >/dev/null); then
		_eng_result podman "fail: importing the rootfs into podman: $(echo "$err" | tail -n 1)"
		return
	fi
	echo "# podman: imported $ROOTFS as sbx-python:latest in $((($(now_us) - t0) / 1000))ms"
	_eng_result podman ok
}
