#!/bin/bash
# The OCI runtime validation suite (runtime-tools' validation/*/*.t) against
# several runtimes, run by t_oci_validation (t_oci.sh) INSIDE a private mount
# and cgroup namespace:
#
#   unshare -m -C --propagation private -- bash oci_suite.sh SUITE WORK BINDS PAR NAME=BIN...
#
# The caller has already moved this process into a sub-cgroup of its own in
# every cgroup hierarchy (BINDS: "MOUNTPOINT DIR" lines: the hierarchy's
# mount point and that sub-cgroup's dir), so the new cgroup namespace is
# rooted there. Here each DIR is bind-mounted over its MOUNTPOINT in this
# private mount namespace only (the host's mounts are never touched; the
# binds die with the namespace): a runtime that takes an absolute
# cgroupsPath such as the suite's "/testdir/cgrouptest" from the mount
# point, as runc does, then writes below the test's sub-cgroup, and the
# suite, which reads the limits from the host side (mount point +
# cgroupsPath) and /proc/PID/cgroup, sees consistent paths.
#
# Every program runs once per runtime NAME (the runtime is BIN, called
# through a wrapper that adds `--root WORK/state/NAME`), from the suite's
# dir (it uses ./runtimetest and ./rootfs-amd64.tar.gz there), with
# TMPDIR=WORK/tmp/NAME/PROG of its own: what a failing program leaves there
# (bundles, mounts in this namespace) is unmounted and removed after it.
# Programs run PAR at a time (the suite polls `state` once a second), but
# the linux_cgroups_* and delete_* ones one after the other (they share
# cgroup paths). A program that prints no TAP line at all (its container
# did not start) runs once more (WORK/retried-NAME).
#
# Output in WORK: tap/NAME/PROG.tap (stdout), .err (stderr), .rc, .ms;
# left/NAME/PROG (what had to be cleaned after it); left-state/NAME (state
# dirs still in the runtime's root at the end, deleted with `delete
# --force`); wall-NAME (ms of all of NAME's programs, summed).

set -u
SUITE=$1 WORK=$2 BINDS=$3 PAR=$4
shift 4
RTS=()
for a; do
	RTS+=("${a%%=*}")
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "${a#*=}" "$WORK/state/${a%%=*}" >"$WORK/rt-${a%%=*}"
	chmod 0755 "$WORK/rt-${a%%=*}"
	mkdir -p "$WORK/state/${a%%=*}" "$WORK/tap/${a%%=*}" "$WORK/left/${a%%=*}" "$WORK/tmp/${a%%=*}"
done

while read -r mp dir; do
	[ -n "$mp" ] || continue
	mount --bind "$dir" "$mp" || {
		echo "oci_suite: cannot bind $dir over $mp in the private namespace" >&2
		exit 2
	}
done <"$BINDS"

now_ms() {
	local t=${EPOCHREALTIME/./}
	echo $((10#$t / 1000))
}

# clean_tmp NAME PROG DIR: unmount (deepest first) and remove what the
# program left in its TMPDIR; note it in left/NAME/PROG.
clean_tmp() {
	local name=$1 prog=$2 d=$3 mps n=0 m
	mps=$(awk -v d="$d/" 'index($5, d) == 1 { print length($5) " " $5 }' /proc/self/mountinfo | sort -rn | cut -d' ' -f2-)
	for m in $mps; do
		m=$(printf '%b' "$m")
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
		n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then echo "$n mount(s) under its TMPDIR" >>"$WORK/left/$name/$prog"; fi
	if [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
		echo "in its TMPDIR: $(ls -A "$d" | tr '\n' ' ')" >>"$WORK/left/$name/$prog"
	fi
	rm -rf "$d"
}

run_once() { # NAME PROG
	local name=$1 prog=$2 t0 rc tmp=$WORK/tmp/$1/$2
	mkdir -p "$tmp"
	t0=$(now_ms)
	(cd "$SUITE" && exec env TMPDIR="$tmp" RUNTIME="$WORK/rt-$name" \
		timeout -k 5 "${SBX_OCI_PROG_TIMEOUT:-90}" "./validation/$prog/$prog.t") \
		</dev/null >"$WORK/tap/$name/$prog.tap" 2>"$WORK/tap/$name/$prog.err"
	rc=$?
	echo $(($(now_ms) - t0)) >"$WORK/tap/$name/$prog.ms"
	echo "$rc" >"$WORK/tap/$name/$prog.rc"
	[ "$rc" = 124 ] || [ "$rc" = 137 ] && echo "timed out" >>"$WORK/left/$name/$prog"
	clean_tmp "$name" "$prog" "$tmp"
	return "$rc"
}

# A program that failed without printing any TAP line (its container did
# not start: on this loaded, shared machine runc once failed with "error
# adding seccomp filter rule ...: cannot allocate memory") runs once more.
run_prog() { # NAME PROG
	run_once "$1" "$2" && return 0
	grep -qE '^(not )?ok ' "$WORK/tap/$1/$2.tap" && return 0
	cp "$WORK/tap/$1/$2.err" "$WORK/tap/$1/$2.err.first"
	echo "retried (first run: exit $(cat "$WORK/tap/$1/$2.rc"), no TAP line)" >>"$WORK/retried-$1"
	echo "$2" >>"$WORK/retried-$1"
	run_once "$1" "$2"
}

PROGS=() CGPROGS=()
for f in "$SUITE"/validation/*/*.t; do
	p=$(basename "$f" .t)
	[ "$(basename "$(dirname "$f")")" = "$p" ] || continue
	# the cgroup programs share cgroupsPath "/testdir/cgrouptest" or
	# "cgrouptest"; the delete_* ones a cgroup "cgrouptest" of their own
	case $p in linux_cgroups_* | delete_only_create_resources | delete_resources) CGPROGS+=("$p") ;; *) PROGS+=("$p") ;; esac
done

# The jobs: every (runtime, program) pair, PAR at a time, runtime by
# runtime (the same program never runs twice at once).
running=0
for n in "${RTS[@]}"; do
	for p in "${PROGS[@]}"; do
		run_prog "$n" "$p" &
		running=$((running + 1))
		if [ "$running" -ge "$PAR" ]; then
			wait -n
			running=$((running - 1))
		fi
	done
done
wait
for p in "${CGPROGS[@]}"; do
	for n in "${RTS[@]}"; do run_prog "$n" "$p"; done
done

# Containers still in the runtimes' roots: listed, then deleted.
for n in "${RTS[@]}"; do
	: >"$WORK/left-state/$n" 2>/dev/null || { mkdir -p "$WORK/left-state" && : >"$WORK/left-state/$n"; }
	for s in "$WORK/state/$n"/*; do
		[ -e "$s" ] || continue
		echo "${s##*/}" >>"$WORK/left-state/$n"
		timeout -k 2 20 "$WORK/rt-$n" delete --force "${s##*/}" >/dev/null 2>&1
		[ -e "$s" ] && rm -rf "$s"
	done
	total=0
	for f in "$WORK/tap/$n"/*.ms; do total=$((total + $(cat "$f"))); done
	echo "$total" >"$WORK/wall-$n"
done
exit 0
