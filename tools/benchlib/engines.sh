# shellcheck shell=bash
# The container-engine rows of tools/bench (sourced by it): one cold
# container run of the bench's rootfs per command, by docker, podman (with
# runc and with crun), runc and crun, each set up here and torn down here.
#
#   beng_up TMPDIR ROOTFS KEY...   set up the engines of KEYs (docker,
#       podman-runc, podman-crun, runc, crun) once, everything in TMPDIR
#       (made here, removed by beng_down), and run each once (/bin/true).
#       BENG_OK[KEY]=1 if it works, else BENG_WHY[KEY] says why not (one
#       line: which command failed and its first error line). BENG_NOTE[KEY]
#       is what the row must say about how it runs (may be empty).
#       BENG_SETUP[KEY] what its set-up took ("dockerd up 600ms, import
#       4000ms"). Returns 0 even when some engines do not work (1 only on
#       bad arguments or when TMPDIR cannot be made).
#   beng_argv KEY WORKLOAD...      sets BENG_ARGV to one execvp-able
#       command that does one complete cold run of WORKLOAD in a new
#       container of KEY and removes it (stdio may be /dev/null). Each call
#       gets a new container name where the engine needs one.
#   beng_versions                  prints one line: the engines' versions.
#   beng_down                      stops and removes everything beng_up
#       made, checks that nothing remains (processes, mounts under TMPDIR,
#       cgroups, TMPDIR), prints what remained and returns 1 if anything
#       did. Safe to call twice, or after a partial beng_up.
#
# Exported for tools/bench: BENG_DOCKER_HOST (the private dockerd's socket:
# run `sbx exec --driver docker` with DOCKER_HOST=$BENG_DOCKER_HOST so it
# uses the same dockerd and image), BENG_DOCKERD_PID, BENG_PIDS (the pids of
# the long-lived processes started here: the dockerd holder, dockerd, the
# crun namespace holder), BENG_IMAGE (sbx-python:latest in both stores).
#
# How each runs:
#  docker: a private dockerd (tools/dockerd-private; its data-root on a
#    tmpfs), the rootfs imported as BENG_IMAGE; `docker run --rm --network
#    none IMAGE WORKLOAD`, with whichever docker CLI is first in PATH.
#  podman-runc / podman-crun: a private store in TMPDIR/podman (root,
#    runroot, tmpdir; overlay, cgroupfs, no events), the rootfs imported
#    there; `podman ... run --rm --network none --ulimit nofile=1024:1024
#    --ulimit nproc=1024:1024 IMAGE WORKLOAD` (podman's default rlimits are
#    above this machine's hard limits, and root lacks CAP_SYS_RESOURCE).
#  runc / crun: one OCI bundle per workload in TMPDIR (root = the rootfs,
#    read-only; namespaces user (0 -> 100000, 65536 ids), pid, network,
#    ipc, uts, mount, cgroup, as sbx; no terminal); `runc run` / `crun
#    run` with a state dir of their own, which delete the container at its
#    exit. runc's cgroups go below a parent of ours (sbx-bench-PID on the v1
#    hierarchies), crun's below sbx-bench-PID on cgroup2.
#  crun (and podman-crun) refuse hybrid cgroups ("cgroups in hybrid mode not
#    supported"): where /sys/fs/cgroup is not a cgroup2, they run in a
#    private mount namespace where cgroup2 is mounted on /sys/fs/cgroup
#    (the host's mounts are never touched), held by one long-lived process
#    made here; each run enters it with nsenter (one exec more, in the
#    time). There crun cannot apply limits: it would load an eBPF device
#    filter and raise RLIMIT_MEMLOCK for it, which needs CAP_SYS_RESOURCE;
#    so crun's bundle has no linux.resources and podman-crun runs with
#    --cgroups=disabled (both said in BENG_NOTE).

# shellcheck disable=SC2034 # BENG_NOTE is for the caller
declare -gA BENG_OK=() BENG_WHY=() BENG_NOTE=() BENG_SETUP=()
declare -ga BENG_ARGV=()
declare -gA BENG_BUNDLE=()
BENG_DIR='' BENG_ROOTFS='' BENG_IMAGE=sbx-python:latest BENG_SEQ=0
BENG_DOCKER_HOST='' BENG_DOCKERD_PID='' BENG_PIDS='' BENG_NSHOLDER=''
BENG_CG=sbx-bench-$$
BENG_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# generous: the machine may be loaded
BENG_START_S=${BENG_START_S:-60}
BENG_STOP_S=${BENG_STOP_S:-60}
BENG_RUN_S=${BENG_RUN_S:-60}

_beng_now_ms() {
	local s=${EPOCHREALTIME/./}
	echo $((s / 1000))
}

# _beng_first OUTPUT: its first non-empty line, at most 300 bytes.
_beng_first() {
	local l
	l=$(printf '%s\n' "$1" | grep -m 1 -v '^[[:space:]]*$' || true)
	printf '%s' "${l:0:300}"
}

_beng_fail() { # KEY REASON
	unset "BENG_OK[$1]"
	BENG_WHY[$1]=$2
}

# _beng_check KEY: run its row once (/bin/true); record why it fails.
_beng_check() {
	local out st
	beng_argv "$1" /bin/true
	out=$(timeout -k 5 "$BENG_RUN_S" "${BENG_ARGV[@]}" 2>&1 </dev/null) && return 0
	st=$?
	local what=$1
	case $1 in podman-*) what="podman --runtime ${1#podman-}" ;; esac
	_beng_fail "$1" "$what run of /bin/true exited with status $st: $(_beng_first "$out")"
	return 1
}

# ---------------------------------------------------------------- up

# Empty cgroups of earlier benches that were SIGKILLed (their engines then
# stopped on their own: the holders watch the bench's pid, but nothing
# removed the cgroups). rmdir removes only empty ones.
_beng_sweep_stale() {
	local c pid
	find /sys/fs/cgroup -maxdepth 8 -type d -regex '.*/sbx-bench-[0-9]+\(-docker\)?' 2>/dev/null |
		while read -r c; do
			pid=${c##*/sbx-bench-}
			pid=${pid%-docker}
			kill -0 "$pid" 2>/dev/null && continue
			find "$c" -depth -type d -exec rmdir {} \; 2>/dev/null
		done
	return 0
}

beng_up() {
	local key t0
	(($# >= 3)) || {
		echo "beng_up: usage: beng_up TMPDIR ROOTFS KEY..." >&2
		return 1
	}
	BENG_DIR=$1 BENG_ROOTFS=$2
	shift 2
	[[ $BENG_DIR == /* ]] || BENG_DIR=$PWD/$BENG_DIR
	# runc refuses a root path through a symlink
	BENG_ROOTFS=$(realpath -e "$BENG_ROOTFS" 2>/dev/null) || {
		echo "beng_up: no rootfs at $2" >&2
		return 1
	}
	for key; do
		case $key in docker | podman-runc | podman-crun | runc | crun) ;; *)
			echo "beng_up: unknown engine '$key' (docker podman-runc podman-crun runc crun)" >&2
			return 1
			;;
		esac
	done
	_beng_sweep_stale
	mkdir -p "$BENG_DIR" && chmod 0700 "$BENG_DIR" || {
		echo "beng_up: cannot make $BENG_DIR" >&2
		return 1
	}
	# podman's store before crun's namespace holder, which sees only the
	# mounts made before it
	local want=" $* " order=()
	for key in docker podman-runc podman-crun runc crun; do
		[[ $want == *" $key "* ]] && order+=("$key")
	done
	for key in "${order[@]}"; do
		[ -n "${BENG_OK[$key]:-}${BENG_WHY[$key]:-}" ] && continue
		BENG_OK[$key]=1 BENG_NOTE[$key]='' BENG_SETUP[$key]=''
		t0=$(_beng_now_ms)
		case $key in
		docker) _beng_up_docker ;;
		podman-*) _beng_up_podman "${key#podman-}" ;;
		runc | crun) _beng_up_oci "$key" ;;
		esac || continue
		BENG_SETUP[$key]+="${BENG_SETUP[$key]:+, }total $(($(_beng_now_ms) - t0))ms"
		_beng_check "$key" || true
	done
	return 0
}

_beng_up_docker() {
	local out t0 err
	command -v docker >/dev/null || { _beng_fail docker "the docker CLI is not installed"; return 1; }
	t0=$(_beng_now_ms)
	if ! out=$("$BENG_REPO/tools/dockerd-private" start --dir "$BENG_DIR/dockerd" \
		--cgroup-parent "$BENG_CG-docker" --owner "$$" --timeout "$BENG_START_S" 2>&1); then
		_beng_fail docker "tools/dockerd-private start: $(_beng_first "${out#dockerd-private: }")"
		return 1
	fi
	BENG_DOCKER_HOST=$(sed -n 's/^DOCKER_HOST=//p' <<<"$out")
	BENG_DOCKERD_PID=$(sed -n 's/^DOCKERD_PID=//p' <<<"$out")
	BENG_PIDS+="${BENG_PIDS:+ }$(sed -n 's/^HOLDER_PID=//p' <<<"$out") $BENG_DOCKERD_PID"
	export BENG_DOCKER_HOST BENG_DOCKERD_PID BENG_PIDS
	BENG_SETUP[docker]="dockerd up $(($(_beng_now_ms) - t0))ms"
	t0=$(_beng_now_ms)
	if ! err=$(DOCKER_HOST=$BENG_DOCKER_HOST "$BENG_REPO/tools/mkrootfs" --import docker \
		--image "$BENG_IMAGE" --out "$BENG_ROOTFS" 2>&1 >/dev/null); then
		_beng_fail docker "tools/mkrootfs --import docker: $(_beng_first "$(tail -n 1 <<<"$err")")"
		return 1
	fi
	BENG_SETUP[docker]+=", import $(($(_beng_now_ms) - t0))ms"
}

# --------------------------------------------------------------- podman

_beng_podman() { # the podman command line of the private store
	BENG_ARGV=(podman --root "$BENG_DIR/podman/root" --runroot "$BENG_DIR/podman/run"
		--tmpdir "$BENG_DIR/podman/tmp" --storage-driver overlay
		--cgroup-manager cgroupfs --events-backend none)
}

_beng_up_podman() { # runc|crun
	local rt=$1 out t0 st
	command -v podman >/dev/null || { _beng_fail "podman-$rt" "podman is not installed"; return 1; }
	command -v "$rt" >/dev/null || { _beng_fail "podman-$rt" "$rt is not installed"; return 1; }
	# The store first: the crun namespace holder must be made after its
	# mount (the host's mounts need not propagate to it).
	_beng_podman_store "$rt" || return 1
	if [ "$rt" = crun ]; then
		_beng_nsholder || { _beng_fail podman-crun "${BENG_WHY[nsholder]}"; return 1; }
		[ -z "$BENG_NSHOLDER" ] || BENG_NOTE[podman-crun]="run with --cgroups=disabled in a private mount namespace with cgroup2 on /sys/fs/cgroup (crun refuses hybrid cgroups; with a cgroup it loads an eBPF device filter, which needs CAP_SYS_RESOURCE to raise RLIMIT_MEMLOCK: root lacks it here); one nsenter more per run"
	fi
}

_beng_podman_store() { # runc|crun: the private store, mounted and imported once
	local rt=$1 out t0 st
	[ -e "$BENG_DIR/podman/imported" ] && return 0
	if [ -e "$BENG_DIR/podman/failed" ]; then
		_beng_fail "podman-$rt" "$(cat "$BENG_DIR/podman/failed")"
		return 1
	fi
	# The store on a tmpfs: quick to import, nothing to delete at the end.
	mkdir -p "$BENG_DIR/podman" &&
		mount -t tmpfs -o mode=0700,size=1g tmpfs "$BENG_DIR/podman" &&
		mkdir -p "$BENG_DIR/podman/root" "$BENG_DIR/podman/run" "$BENG_DIR/podman/tmp" || {
		_beng_fail "podman-$rt" "cannot mount a tmpfs on $BENG_DIR/podman"
		return 1
	}
	t0=$(_beng_now_ms)
	_beng_podman
	out=$(tar -C "$BENG_ROOTFS" --numeric-owner -c . |
		TMPDIR=$BENG_DIR/podman/tmp timeout -k 5 "$BENG_START_S" "${BENG_ARGV[@]}" \
			import - "$BENG_IMAGE" 2>&1 >/dev/null) && st=0 || st=$?
	if [ $st != 0 ]; then
		echo "podman import (private store) exited with status $st: $(_beng_first "$out")" >"$BENG_DIR/podman/failed"
		_beng_fail "podman-$rt" "$(cat "$BENG_DIR/podman/failed")"
		return 1
	fi
	touch "$BENG_DIR/podman/imported"
	BENG_SETUP[podman-$rt]="podman import $(($(_beng_now_ms) - t0))ms"
}

# ------------------------------------------------------- crun's namespace

# _beng_nsholder: where /sys/fs/cgroup is not a cgroup2 (hybrid), one
# process in a private mount namespace with cgroup2 on /sys/fs/cgroup; it
# lives until beng_down kills it or this shell dies (tail --pid).
_beng_nsholder() {
	local i out
	[ -n "$BENG_NSHOLDER" ] && return 0
	[ -n "${BENG_WHY[nsholder]:-}" ] && return 1
	[ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && return 0
	# Not a child of this shell (a bare `wait` of the caller must not wait
	# for it): started from a subshell that exits at once. A slave of the
	# host's mounts, but where those are private nothing mounted later
	# reaches it: beng_up makes the podman store first.
	# shellcheck disable=SC2016
	(
		setsid unshare --mount --propagation slave -- sh -c '
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 125
		echo up >"$1"
		exec tail --pid="$2" -f /dev/null' sh "$BENG_DIR/nsholder.up" "$$" \
			>"$BENG_DIR/nsholder.log" 2>&1 </dev/null &
		echo $! >"$BENG_DIR/nsholder.pid"
	)
	BENG_NSHOLDER=$(cat "$BENG_DIR/nsholder.pid")
	BENG_PIDS+="${BENG_PIDS:+ }$BENG_NSHOLDER"
	export BENG_PIDS
	for ((i = 0; i < 100; i++)); do
		[ -e "$BENG_DIR/nsholder.up" ] && return 0
		kill -0 "$BENG_NSHOLDER" 2>/dev/null || break
		sleep 0.05
	done
	out=$(cat "$BENG_DIR/nsholder.log" 2>/dev/null || true)
	BENG_WHY[nsholder]="unshare --mount + mount -t cgroup2 (for crun, which refuses hybrid cgroups) failed: $(_beng_first "${out:-no output within 5s}")"
	_beng_kill_nsholder
	return 1
}

# _beng_kill_nsholder: kill it and wait (5s) until it is gone (it is not
# our child: init reaps it).
_beng_kill_nsholder() {
	local i st
	kill -KILL "$BENG_NSHOLDER" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		st=$(awk '{ print $3 }' "/proc/$BENG_NSHOLDER/stat" 2>/dev/null) || st=''
		if [ -z "$st" ] || [ "$st" = Z ]; then
			BENG_NSHOLDER=''
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# ------------------------------------------------------------ runc, crun

# _beng_json STRING: STRING as a JSON string.
_beng_json() {
	local s=$1 c out='' i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		'"') out+='\"' ;;
		\\) out+='\\' ;;
		$'\n') out+='\n' ;;
		$'\t') out+='\t' ;;
		[[:cntrl:]]) out+=$(printf '\\u%04x' "'$c") ;;
		*) out+=$c ;;
		esac
	done
	printf '"%s"' "$out"
}

# _beng_bundle RT ARGS-JSON DIR: write the bundle config of runtime RT.
_beng_bundle() {
	local rt=$1 args=$2 dir=$3 res=''
	# runc's default device rules (runc applies them on cgroup v1 anyway);
	# crun cannot have them in its private namespace (see above).
	if [ "$rt" = runc ] || [ -z "$BENG_NSHOLDER" ]; then
		res='"resources": {"devices": [{"allow": false, "access": "rwm"}]},'
	fi
	cat >"$dir/config.json" <<EOF
{
	"ociVersion": "1.0.2",
	"process": {
		"terminal": false,
		"user": {"uid": 0, "gid": 0},
		"args": $args,
		"env": ["PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"],
		"cwd": "/",
		"capabilities": {
			"bounding": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
			"effective": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
			"permitted": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"],
			"ambient": ["CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_AUDIT_WRITE"]
		},
		"rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
		"noNewPrivileges": true
	},
	"root": {"path": "$BENG_ROOTFS", "readonly": true},
	"hostname": "sbx-bench",
	"mounts": [
		{"destination": "/proc", "type": "proc", "source": "proc"},
		{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
		{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
		{"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
		{"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
		{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
		{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777", "size=65536k"]}
	],
	"linux": {
		"uidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
		"gidMappings": [{"containerID": 0, "hostID": 100000, "size": 65536}],
		$res
		"cgroupsPath": "/$BENG_CG/$rt-${dir##*-}",
		"namespaces": [
			{"type": "user"}, {"type": "pid"}, {"type": "network"}, {"type": "ipc"},
			{"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}
		],
		"maskedPaths": ["/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
			"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/proc/scsi"],
		"readonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]
	}
}
EOF
}

_beng_up_oci() { # runc|crun
	local rt=$1
	command -v "$rt" >/dev/null || { _beng_fail "$rt" "$rt is not installed"; return 1; }
	if [ "$rt" = crun ]; then
		_beng_nsholder || { _beng_fail crun "${BENG_WHY[nsholder]}"; return 1; }
		[ -z "$BENG_NSHOLDER" ] || BENG_NOTE[crun]="in a private mount namespace with cgroup2 on /sys/fs/cgroup (crun refuses hybrid cgroups), one nsenter more per run; no linux.resources, which runc's bundle has (the default device rules): with them crun would load an eBPF device filter, which needs CAP_SYS_RESOURCE to raise RLIMIT_MEMLOCK: root lacks it here"
	fi
	mkdir -p "$BENG_DIR/$rt/state" || {
		_beng_fail "$rt" "cannot make $BENG_DIR/$rt"
		return 1
	}
	BENG_SETUP[$rt]="bundle dirs"
}

# ----------------------------------------------------------------- argv

beng_argv() {
	local key=$1 a args='' b ns=()
	shift
	BENG_SEQ=$((BENG_SEQ + 1))
	if [ -n "$BENG_NSHOLDER" ]; then ns=(nsenter "--mount=/proc/$BENG_NSHOLDER/ns/mnt" --); fi
	case $key in
	docker)
		BENG_ARGV=(docker -H "$BENG_DOCKER_HOST" run --rm --network none "$BENG_IMAGE" "$@")
		;;
	podman-runc | podman-crun)
		_beng_podman
		# the runtime's state in the private store, not in /run/runc|crun
		BENG_ARGV+=(--runtime "${key#podman-}"
			--runtime-flag "root=$BENG_DIR/podman/run/${key#podman-}" run --rm --network none
			--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
		if [ "$key" = podman-crun ] && [ -n "$BENG_NSHOLDER" ]; then
			BENG_ARGV=("${ns[@]}" "${BENG_ARGV[@]}" --cgroups=disabled)
		else
			# its containers' cgroups and conmon's below a parent of ours
			BENG_ARGV+=(--cgroup-parent "/$BENG_CG/podman")
		fi
		BENG_ARGV+=("$BENG_IMAGE" "$@")
		;;
	runc | crun)
		# The bundle's args are the workload: one bundle per workload (the
		# argvs of several rows may be made before any of them runs).
		for a; do args+="${args:+, }$(_beng_json "$a")"; done
		b=${BENG_BUNDLE["$key $args"]:-}
		if [ -z "$b" ]; then
			b=$BENG_DIR/$key/bundle-${#BENG_BUNDLE[@]}
			mkdir -p "$b" || return 1
			_beng_bundle "$key" "[$args]" "$b"
			BENG_BUNDLE["$key $args"]=$b
		fi
		# runc and crun delete the container at its exit: the same argv may
		# run again (benchrun's rounds) once it has ended.
		BENG_ARGV=("$key" --root "$BENG_DIR/$key/state" run --bundle "$b" "bench-$$-$BENG_SEQ")
		if [ "$key" = crun ]; then BENG_ARGV=("${ns[@]}" "${BENG_ARGV[@]}"); fi
		;;
	*)
		echo "beng_argv: unknown engine '$key'" >&2
		return 1
		;;
	esac
}

# -------------------------------------------------------------- versions

beng_versions() {
	local d='' dc='' p='' r='' c='' ct=''
	command -v docker >/dev/null && dc=$(docker version --format '{{.Client.Version}}' 2>/dev/null || true)
	[ -n "$BENG_DOCKER_HOST" ] &&
		d=$(DOCKER_HOST=$BENG_DOCKER_HOST docker version --format '{{.Server.Version}}' 2>/dev/null || true)
	[ -n "$d" ] || d=$(dockerd --version 2>/dev/null | sed 's/^Docker version \([^,]*\).*/\1/' || true)
	command -v podman >/dev/null && p=$(podman --version 2>/dev/null | awk '{ print $NF }')
	command -v runc >/dev/null && r=$(runc --version 2>/dev/null | awk 'NR == 1 { print $NF }')
	command -v crun >/dev/null && c=$(crun --version 2>/dev/null | awk 'NR == 1 { print $NF }')
	command -v containerd >/dev/null && ct=$(containerd --version 2>/dev/null | awk '{ print $3 }')
	echo "docker client ${dc:-none} ($(command -v docker || echo none)), dockerd ${d:-none}, containerd ${ct:-none}, podman ${p:-none}, runc ${r:-none}, crun ${c:-none}"
}

# ----------------------------------------------------------------- down

# Processes that name BENG_DIR (conmon, runtimes, the holders, dockerd's).
_beng_procs() {
	local f pid
	for f in $(grep -laF -- "$BENG_DIR/" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$$" ] || [ "$pid" = "$BASHPID" ] && continue
		# zombies are not counted (their parent or init reaps them)
		case $(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) in
		S | R | D) echo "$pid" ;;
		esac
	done
}

# The cgroups made for runc and crun (not dockerd's: tools/dockerd-private
# checks those), deepest first.
_beng_cgroups() {
	local c
	find /sys/fs/cgroup -maxdepth 8 -type d -name "$BENG_CG" 2>/dev/null |
		while read -r c; do find "$c" -depth -type d; done
	return 0
}

beng_down() {
	local out=() o p c i left rt
	if [ -z "$BENG_DIR" ]; then
		return 0
	fi
	if [ -d "$BENG_DIR/dockerd" ]; then
		o=$("$BENG_REPO/tools/dockerd-private" stop --dir "$BENG_DIR/dockerd" \
			--timeout "$BENG_STOP_S" 2>&1) || out+=("dockerd: $(echo "$o" | tr '\n' ' ')")
	fi
	BENG_DOCKER_HOST='' BENG_DOCKERD_PID=''
	# Containers of runc and crun that are still there (a run killed by
	# benchrun's deadline): kill and delete them.
	for rt in runc crun; do
		[ -d "$BENG_DIR/$rt/state" ] || continue
		for c in "$BENG_DIR/$rt/state"/*/; do
			[ -d "$c" ] || continue
			c=$(basename "$c")
			out+=("$rt: container $c was left: deleted it")
			if [ "$rt" = crun ] && [ -n "$BENG_NSHOLDER" ]; then
				timeout 10 nsenter "--mount=/proc/$BENG_NSHOLDER/ns/mnt" -- crun --root "$BENG_DIR/crun/state" delete -f "$c" >/dev/null 2>&1 || true
			else
				timeout 10 "$rt" --root "$BENG_DIR/$rt/state" delete -f "$c" >/dev/null 2>&1 || true
			fi
		done
	done
	if [ -e "$BENG_DIR/podman/root" ]; then
		# conmon and containers of runs killed by a deadline
		_beng_podman
		o=$(timeout 30 "${BENG_ARGV[@]}" ps -aq 2>/dev/null || true)
		if [ -n "$o" ]; then
			out+=("podman: containers were left: $(echo "$o" | tr '\n' ' ')")
			if [ -n "$BENG_NSHOLDER" ]; then
				timeout 30 nsenter "--mount=/proc/$BENG_NSHOLDER/ns/mnt" -- "${BENG_ARGV[@]}" rm -f -a >/dev/null 2>&1 || true
			fi
			timeout 30 "${BENG_ARGV[@]}" rm -f -a >/dev/null 2>&1 || true
		fi
		# podman's own mounts (the store's overlay) are in this namespace
		timeout 60 "${BENG_ARGV[@]}" system reset -f >/dev/null 2>&1 || true
	fi
	[ -z "$BENG_NSHOLDER" ] || _beng_kill_nsholder ||
		out+=("crun's namespace holder (pid $BENG_NSHOLDER) still there 5s after SIGKILL")
	for ((i = 0; i < 50; i++)); do
		[ -z "$(_beng_procs)" ] && break
		sleep 0.1
	done
	for p in $(_beng_procs); do
		out+=("left running: pid $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | head -c 200)")
		kill -KILL "$p" 2>/dev/null || true
	done
	for c in $(_beng_cgroups); do
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do
			out+=("left in $c: pid $p")
			kill -KILL "$p" 2>/dev/null || true
		done
	done
	for ((i = 0; i < 30; i++)); do
		left=$(_beng_cgroups)
		[ -z "$left" ] && break
		for c in $left; do rmdir "$c" 2>/dev/null || true; done
		[ -z "$(_beng_cgroups)" ] && break
		sleep 0.1
	done
	left=$(_beng_cgroups)
	# only the parents were ours to make: a container cgroup left is a leak
	left=$(grep -v "/$BENG_CG\$" <<<"$left" || true)
	[ -n "$left" ] && out+=("cgroups left: $(echo "$left" | tr '\n' ' ')")
	_beng_cgroups | while read -r c; do rmdir "$c" 2>/dev/null || true; done
	left=$(_beng_cgroups)
	[ -n "$left" ] && out+=("cgroups not removable: $(echo "$left" | tr '\n' ' ')")
	# mounts under BENG_DIR: the podman store's tmpfs is ours, the rest not
	left=$(awk -v d="$BENG_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r)
	o=$(grep -vx "$BENG_DIR/podman" <<<"$left" || true)
	[ -n "$o" ] && out+=("mounts left: $(echo "$o" | tr '\n' ' ')")
	for p in $left; do umount "$p" 2>/dev/null || umount -l "$p" 2>/dev/null || true; done
	left=$(awk -v d="$BENG_DIR/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
	[ -n "$left" ] && out+=("mounts not removable: $(echo "$left" | tr '\n' ' ')")
	[ -n "$left" ] || rm -rf --one-file-system "$BENG_DIR" 2>/dev/null || true
	[ -e "$BENG_DIR" ] && out+=("could not remove $BENG_DIR")
	BENG_DIR='' BENG_PIDS=''
	BENG_OK=() BENG_WHY=() BENG_NOTE=() BENG_SETUP=() BENG_BUNDLE=()
	((${#out[@]} == 0)) && return 0
	printf 'beng_down: %s\n' "${out[@]}"
	return 1
}
