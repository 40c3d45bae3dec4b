# shellcheck shell=bash
# The container engines the drivers group runs on, provided by the harness
# (sourced by run.sh, which calls engines_before before every test,
# engines_after after it and engines_stop when it exits).
#
# docker: a private dockerd, started before the first docker test and
# stopped after the last one (also when a test fails or the harness is
# interrupted; if the harness is SIGKILLed, dockerd gets a SIGTERM as its
# parent dies). Everything it keeps is in $H/dockerd: data-root (a tmpfs),
# exec-root (with the containerd that dockerd starts and manages itself, and
# that containerd's state), pidfile, API socket, an empty config file, its
# log. No bridge, no iptables, no forwarding or masquerading. Containers use
# cgroupfs under a parent cgroup of their own, dockerd-itest-<harness pid>:
# below the harness's cgroup where that is not the root, so the leak check
# counts the containers' processes as the harness's. dockerd runs in a mount
# namespace of its own (a slave of the host's) with a tmpfs on /run and
# $H/dockerd/etc on /etc/docker: its mounts (data-root, overlays, netns
# files) never reach the host's mount table and vanish with it, and what
# dockerd and containerd write to fixed places (/run/docker/plugins, the
# shim sockets in /run/containerd/s, /etc/docker/key.json) stays private.
# The system's /var/run/docker.sock and /var/lib/docker are never used. The
# tests reach it through DOCKER_HOST, exported, so the docker CLI that sbx
# runs (whichever is first in PATH) inherits it.
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
	t_drivers_podman_*) [ -e "$H/engine-podman" ] || _eng_podman_up ;;
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

# The last lines of dockerd's log that are not level=info, on one line.
_eng_dockerd_log_tail() {
	local t
	t=$(grep -av 'level=info' "$ENG_DOCKERD_DIR/dockerd.log" 2>/dev/null | tail -n 3 |
		sed 's/^time="[^"]*" *//' | tr '\n' ' ' | head -c 600)
	echo "${t:-(nothing in its log but info lines)}"
}

_eng_docker_up() {
	local t0 t1 d err v pidf
	if ! command -v docker >/dev/null; then
		_eng_result docker "skip: the docker CLI is not installed (make deps installs docker.io)"
		return
	fi
	if ! command -v dockerd >/dev/null; then
		_eng_result docker "skip: dockerd is not installed (make deps installs docker.io)"
		return
	fi
	local tool
	for tool in setsid unshare mount timeout; do
		if ! command -v "$tool" >/dev/null; then
			_eng_result docker "fail: $tool (util-linux/coreutils) not found: cannot start a private dockerd"
			return
		fi
	done
	_eng_sweep_stale_cgroups
	t0=$(now_us)
	d=$H/dockerd
	ENG_DOCKERD_DIR=$d
	if ! { mkdir -p "$d/data" "$d/exec" "$d/etc" && chmod 0700 "$d" && echo '{}' >"$d/daemon.json"; }; then
		_eng_result docker "fail: cannot make $d"
		return
	fi
	# Below the harness's cgroup where it is not the root (v1 hierarchies;
	# runc resolves a relative path against its own cgroup), at the top on a
	# pure cgroup v2 host (a v2 cgroup with processes cannot have children
	# with controllers).
	ENG_DOCKERD_CG=dockerd-itest-$HARNESS_PID
	local parent=$ENG_DOCKERD_CG
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && parent=/$parent
	# pdeathsig: if the harness is SIGKILLed, dockerd still gets a SIGTERM.
	local pdeath=()
	command -v setpriv >/dev/null && pdeath=(setpriv --pdeathsig TERM --)
	# In its own session: a ^C for the harness does not reach it, the
	# harness stops it. setsid does not fork here (a background job of a
	# shell without job control is no group leader), so $! is dockerd.
	setsid "${pdeath[@]}" unshare --mount --propagation slave -- sh -c '
		mount -t tmpfs -o mode=0755,size=64m tmpfs /run || exit 125
		if [ -d /etc/docker ]; then mount --bind "$1/etc" /etc/docker || exit 125; fi
		mount -t tmpfs -o mode=0710,size=$2 tmpfs "$1/data" || exit 125
		shift 2
		exec "$@"' sh "$d" "$ENG_DOCKERD_DATA_SIZE" \
		dockerd \
		--data-root "$d/data" \
		--exec-root "$d/exec" \
		--pidfile "$d/dockerd.pid" \
		-H "unix://$d/docker.sock" \
		--config-file "$d/daemon.json" \
		--bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$parent" \
		--oom-score-adjust=0 \
		>"$d/dockerd.log" 2>&1 </dev/null &
	ENG_DOCKERD_PID=$!
	ENG_SAVED_DOCKER_HOST=${DOCKER_HOST-unset}
	export DOCKER_HOST=unix://$d/docker.sock
	unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
	local end=$((t0 + ENG_DOCKERD_START_S * 1000000)) up=0
	while :; do
		if ! _eng_alive "$ENG_DOCKERD_PID"; then
			wait "$ENG_DOCKERD_PID" 2>/dev/null
			local st=$?
			ENG_DOCKERD_PID=
			_eng_result docker "fail: the private dockerd exited with status $st at start: $(_eng_dockerd_log_tail)"
			return
		fi
		if v=$(timeout 10 docker version --format '{{.Server.Version}}' 2>/dev/null) && [ -n "$v" ]; then
			up=1
			break
		fi
		(($(now_us) > end)) && break
		sleep 0.5
	done
	t1=$(now_us)
	if [ $up = 0 ]; then
		_eng_result docker "fail: the private dockerd did not answer within ${ENG_DOCKERD_START_S}s: $(_eng_dockerd_log_tail)"
		return
	fi
	pidf=$(cat "$d/dockerd.pid" 2>/dev/null)
	if [ "$pidf" != "$ENG_DOCKERD_PID" ]; then
		_eng_result docker "fail: the private dockerd's pidfile says '$pidf', not $ENG_DOCKERD_PID"
		return
	fi
	echo "# dockerd $v (private, $DOCKER_HOST; docker CLI $(docker version --format '{{.Client.Version}}' 2>/dev/null) at $(command -v docker)) up in $(((t1 - t0) / 1000))ms"
	if ! err=$("$REPO/tools/mkrootfs" --import docker --out "$ROOTFS" 2>&1 >/dev/null); then
		_eng_result docker "fail: importing the rootfs into the private dockerd: $(echo "$err" | tail -n 1)"
		return
	fi
	echo "# docker: imported $ROOTFS as sbx-python:latest in $((($(now_us) - t1) / 1000))ms"
	_eng_result docker ok
}

# _eng_alive PID: the process exists and is not a zombie.
_eng_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Processes of the private dockerd: dockerd itself, and whatever names its
# dir (its containerd, the shims).
_eng_dockerd_procs() {
	local f pid
	[ -n "$ENG_DOCKERD_DIR" ] || return 0
	for f in $(grep -laF -- "$ENG_DOCKERD_DIR/" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink /proc/$$/exe)" ] && continue
		_eng_alive "$pid" && echo "$pid"
	done
}

# The private cgroup dirs (parent and containers), deepest first.
_eng_dockerd_cgroups() {
	[ -n "$ENG_DOCKERD_CG" ] || return 0
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$ENG_DOCKERD_CG" 2>/dev/null |
		while read -r c; do find "$c" -depth -type d; done
}

# Empty parent cgroups of earlier runs whose harness is gone (SIGKILLed:
# its dockerd then stopped on its own, see pdeathsig, but nothing removed
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

# Stop dockerd (SIGTERM: it stops its containers and containerd), then
# make sure nothing of it remains. Prints what needed force or remains.
_eng_docker_down() {
	local pid=$ENG_DOCKERD_PID d=$ENG_DOCKERD_DIR i p c left
	ENG_DOCKERD_PID=
	if [ -n "$pid" ]; then
		kill -TERM "$pid" 2>/dev/null
		for ((i = 0; i < ENG_DOCKERD_STOP_S * 10; i++)); do
			_eng_alive "$pid" || break
			sleep 0.1
		done
		if _eng_alive "$pid"; then
			echo "dockerd (pid $pid) still running ${ENG_DOCKERD_STOP_S}s after SIGTERM: SIGKILLed it"
			kill -KILL "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	fi
	# containerd and the shims end with dockerd; give them a moment
	for ((i = 0; i < 100; i++)); do
		[ -z "$(_eng_dockerd_procs)" ] && break
		sleep 0.1
	done
	for p in $(_eng_dockerd_procs); do
		echo "left running: pid $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 200)"
		kill -KILL "$p" 2>/dev/null
	done
	for c in $(_eng_dockerd_cgroups); do
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do
			echo "left in $c: pid $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 200)"
			kill -KILL "$p" 2>/dev/null
		done
	done
	for ((i = 0; i < 50; i++)); do
		left=$(_eng_dockerd_cgroups)
		[ -z "$left" ] && break
		for c in $left; do rmdir "$c" 2>/dev/null; done
		[ -z "$(_eng_dockerd_cgroups)" ] && break
		sleep 0.1
	done
	left=$(_eng_dockerd_cgroups)
	[ -n "$left" ] && echo "cgroups not removable: $(echo "$left" | tr '\n' ' ')"
	# Its mounts were in its own mount namespace, gone with its last
	# process; none may be in the host's.
	if [ -n "$d" ]; then
		left=$(awk -v d="$d/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
		if [ -n "$left" ]; then
			echo "mounts in the host's namespace: $(echo "$left" | tr '\n' ' ')"
			echo "$left" | sort -r | while read -r p; do umount -l "$p" 2>/dev/null; done
		fi
		[ -n "$SBX_TEST_DOCKERD_LOG" ] && cp "$d/dockerd.log" "$SBX_TEST_DOCKERD_LOG" 2>/dev/null
		rm -rf --one-file-system "$d" 2>/dev/null
		[ -e "$d" ] && echo "could not remove $d"
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
