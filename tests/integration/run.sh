#!/bin/bash
# Integration tests for sbx: real sandboxes, checked from inside and from the host.
#
#   tests/integration/run.sh [--group NAME] [--filter REGEX] [--list] SBX_BINARY
#
# Each test is a function t_<group>_<name> in t_<group>.sh, run in its own
# subshell with a fresh temp dir /tmp/sbx-test-XXXXXX as cwd ($T). After
# every test a leak check fails the test if anything of ours remains:
# processes in another pid namespace or running the sbx binary, mounts
# naming sbx, sbx-* cgroups, /tmp/sbx* (and /dev/shm, /run, /var/tmp) entries.
# Leaks are cleaned up after being reported. Output: PASS/FAIL/SKIP lines,
# then "N passed, N failed[, N skipped]"; exit 1 if any test failed.
#
# Needs root. No python/jq on the host: JSON is read with awk (lib.sh), or
# with the sandboxed python3 for the detailed checks.

GROUPS_ORDER="basic isolation seccomp fs cgroup supervise output errors"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() {
	echo "usage: $0 [--group NAME] [--filter REGEX] [--list] SBX_BINARY" >&2
	echo "groups: $GROUPS_ORDER" >&2
	exit 2
}

GROUP= FILTER= LIST=0 BIN=
while [ $# -gt 0 ]; do
	case $1 in
	--group) [ $# -ge 2 ] || usage; GROUP=$2; shift 2 ;;
	--group=*) GROUP=${1#*=}; shift ;;
	--filter) [ $# -ge 2 ] || usage; FILTER=$2; shift 2 ;;
	--filter=*) FILTER=${1#*=}; shift ;;
	--list) LIST=1; shift ;;
	-h | --help) usage ;;
	-*) echo "$0: unknown option $1" >&2; usage ;;
	*) [ -z "$BIN" ] || usage; BIN=$1; shift ;;
	esac
done
[ -n "$BIN" ] || usage
if [ -n "$GROUP" ] && [[ " $GROUPS_ORDER " != *" $GROUP "* ]]; then
	echo "$0: unknown group '$GROUP' (groups: $GROUPS_ORDER)" >&2
	exit 2
fi

# shellcheck source=lib.sh
. "$HERE/lib.sh"
for f in "$HERE"/t_*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

# Tests in group order, then in the order they are written in their file.
ALL_TESTS=()
for g in $GROUPS_ORDER; do
	[ -f "$HERE/t_$g.sh" ] || continue
	while read -r fn; do
		ALL_TESTS+=("$fn")
	done < <(sed -n "s/^\(t_${g}_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{\{0,1\}.*$/\1/p" "$HERE/t_$g.sh")
done
SELECTED=()
for fn in "${ALL_TESTS[@]}"; do
	[ -n "$GROUP" ] && [[ $fn != "t_${GROUP}_"* ]] && continue
	[ -n "$FILTER" ] && ! [[ ${fn#t_} =~ $FILTER ]] && continue
	SELECTED+=("$fn")
done
if [ $LIST = 1 ]; then
	printf '%s\n' "${SELECTED[@]#t_}"
	exit 0
fi

case $BIN in /*) SBX=$BIN ;; *) SBX=$PWD/$BIN ;; esac
if [ ! -x "$SBX" ] || [ -d "$SBX" ]; then
	echo "$0: $BIN is not an executable file" >&2
	exit 2
fi
SBX_REAL=$(readlink -f "$SBX")
[ "$(id -u)" = 0 ] || echo "# warning: not root; most tests need root" >&2

# Where the runtime finds its rootfs without --rootfs: $SBX_ROOTFS, else
# <exe dir>/../rootfs/python. For a binary deeper in the tree (build/asan/sbx)
# look upward for rootfs/python and export SBX_ROOTFS so those runs work.
if [ -n "$SBX_ROOTFS" ]; then
	ROOTFS=$SBX_ROOTFS
elif [ -d "$(dirname "$SBX_REAL")/../rootfs/python" ]; then
	ROOTFS=$(cd "$(dirname "$SBX_REAL")/../rootfs/python" && pwd)
else
	d=$(dirname "$SBX_REAL")
	while [ "$d" != / ] && [ ! -d "$d/rootfs/python" ]; do d=$(dirname "$d"); done
	if [ -d "$d/rootfs/python" ]; then
		ROOTFS=$d/rootfs/python
		export SBX_ROOTFS=$ROOTFS
		echo "# note: no rootfs next to $SBX; exporting SBX_ROOTFS=$ROOTFS"
	else
		ROOTFS=$REPO/rootfs/python
	fi
fi
[ -d "$ROOTFS" ] || echo "# warning: rootfs $ROOTFS does not exist" >&2

HOST_PIDNS=$(readlink /proc/$$/ns/pid)
H=$(mktemp -d /tmp/sbx-harness.XXXXXX) || exit 2
chmod 0711 "$H"
HARNESS_PID=$$

harness_exit() {
	local rc=$?
	trap - EXIT INT TERM
	[ "$BASHPID" = "$HARNESS_PID" ] && rm -rf "$H"
	exit "$rc"
}
trap harness_exit EXIT
trap 'echo "# interrupted" >&2; exit 130' INT TERM

# ---------------------------------------------------------------- helpers
HELPERS= HELPERS_ERR=
build_helpers() {
	local dir=$H/helpers out
	mkdir -p "$dir" && chmod 0755 "$dir"
	if ! command -v "${CC_HELPERS:-gcc}" >/dev/null; then
		HELPERS_ERR="no C compiler (gcc) on the host"
		return
	fi
	if ! out=$("${CC_HELPERS:-gcc}" -static -O1 -Wall -o "$dir/foreign_arch" "$HERE/helpers/foreign_arch.c" 2>&1); then
		HELPERS_ERR="gcc -static foreign_arch.c failed: $(echo "$out" | head -n 3)"
		return
	fi
	if ! out=$("${CC_HELPERS:-gcc}" -O1 -Wall -o "$dir/tcp_listen" "$HERE/helpers/tcp_listen.c" 2>&1); then
		HELPERS_ERR="gcc tcp_listen.c failed: $(echo "$out" | head -n 3)"
		return
	fi
	chmod 0755 "$dir"/*
	HELPERS=$dir
}
build_helpers

# ---------------------------------------------------------------- leak check

# Foreign pid-namespace processes and processes running the sbx binary, as
# "pid:starttime" (starttime makes a recycled pid a different process).
_snap_procs() {
	local pid line rest
	find /proc/[0-9]*/ns/pid /proc/[0-9]*/exe -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
		awk -v ns="$HOST_PIDNS" -v exe="$SBX_REAL" '{
			split($1, a, "/"); link = substr($0, length($1) + 2)
			if (a[4] == "ns" && link != ns && link != "") print a[3]
			if (a[4] == "exe" && (link == exe || link == exe " (deleted)")) print a[3]
		}' | sort -u | while read -r pid; do
		read -r line <"/proc/$pid/stat" 2>/dev/null || continue
		rest=${line##*) }
		# shellcheck disable=SC2086
		set -- $rest
		echo "$pid:${20}"
	done
}
_snap_cgroups() {
	find /sys/fs/cgroup -maxdepth 8 -type d \( -name 'sbx-*' -o -name 'sbxtest-*' \) 2>/dev/null
}
_snap_mounts() {
	grep -F sbx /proc/self/mountinfo 2>/dev/null
}
_snap_tmp() {
	local f
	for f in /tmp/sbx* /tmp/.sbx* /dev/shm/sbx* /dev/shm/.sbx* /run/sbx* /run/.sbx* /var/tmp/sbx* /var/tmp/.sbx*; do
		[ -e "$f" ] || [ -L "$f" ] || continue
		[ "$f" = "$H" ] && continue
		echo "$f"
	done
}
_snapshot() { # DIR
	_snap_procs | sort >"$1/procs"
	_snap_cgroups | sort >"$1/cgroups"
	_snap_mounts | sort >"$1/mounts"
	_snap_tmp | sort >"$1/tmp"
}
# New things since the baseline in $H/base, one "kind value" per line.
_leaks() {
	mkdir -p "$H/now"
	_snapshot "$H/now"
	local k
	for k in procs cgroups mounts tmp; do
		comm -13 "$H/base/$k" "$H/now/$k" | sed "s|^|$k |"
	done
}
_describe_leak() {
	local kind=$1 v=$2 pid
	case $kind in
	procs)
		pid=${v%%:*}
		echo "leak: process $pid [$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)]" \
			"pidns=$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" \
			"exe=$(readlink "/proc/$pid/exe" 2>/dev/null)" \
			"cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | head -c 160)"
		;;
	cgroups) echo "leak: cgroup $v (procs: $(tr '\n' ' ' <"$v/cgroup.procs" 2>/dev/null))" ;;
	mounts) echo "leak: mount $v" ;;
	tmp) echo "leak: temp entry $v" ;;
	esac
}
_cleanup_leaks() { # leak lines on stdin
	local kind v pid i
	local procs=() cgs=() mnts=() tmps=()
	while read -r kind v; do
		case $kind in
		procs) procs+=("${v%%:*}") ;;
		cgroups) cgs+=("$v") ;;
		mounts) mnts+=("$v") ;;
		tmp) tmps+=("$v") ;;
		esac
	done
	for pid in "${procs[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	# cgroups: kill what is inside, then remove deepest first
	for v in $(printf '%s\n' "${cgs[@]}" | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-); do
		for pid in $(cat "$v/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for ((i = 0; i < 50; i++)); do
			find "$v" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$v" ] || break
			sleep 0.05
		done
	done
	# mounts: lazily unmount (never a cgroup hierarchy)
	for v in "${mnts[@]}"; do
		# mountinfo: id parent maj:min root mountpoint opts ... - fstype source superopts
		set -- $v
		local mp=$5 fstype
		fstype=$(echo "$v" | sed 's/.* - \([^ ]*\) .*/\1/')
		case $fstype in cgroup | cgroup2) continue ;; esac
		umount -l "$(printf '%b' "$mp")" 2>/dev/null
	done
	for v in "${tmps[@]}"; do rm -rf "$v" 2>/dev/null; done
}
# Poll up to ~2 s for stragglers; print the leaks (if any) and clean them up.
_leak_check() {
	local end=$(($(now_us) + 2000000)) out
	while :; do
		out=$(_leaks)
		[ -z "$out" ] && return 0
		(($(now_us) > end)) && break
		sleep 0.1
	done
	local kind v
	while read -r kind v; do _describe_leak "$kind" "$v"; done <<<"$out"
	_cleanup_leaks <<<"$out"
	sleep 0.2
	out=$(_leaks)
	[ -n "$out" ] && echo "  (cleanup incomplete: $(echo "$out" | tr '\n' ';' | head -c 400))"
	return 1
}

# ---------------------------------------------------------------- run tests
PASSED=0 FAILED=0 SKIPPED=0
SAN_RE='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:'

indent() { sed 's/^/    /'; }

run_one() {
	local fn=$1 name=${1#t_} rc reason status leaks san
	mkdir -p "$H/base"
	_snapshot "$H/base"
	T=$(mktemp -d /tmp/sbx-test-XXXXXX) || {
		echo "FAIL $name: mktemp failed"
		FAILED=$((FAILED + 1))
		return
	}
	chmod 0711 "$T"
	(
		cd "$T" || exit 1
		exec </dev/null
		ON_EXIT=()
		trap _test_exit EXIT
		trap 'exit 1' TERM INT
		"$fn"
	) >"$H/log" 2>&1
	rc=$?
	reason=$(head -n 1 "$T/.reason" 2>/dev/null)
	cp "$T/.details" "$H/details" 2>/dev/null || : >"$H/details"
	cp "$T/.notes" "$H/notes" 2>/dev/null || : >"$H/notes"
	# sanitizer reports anywhere in what the runs wrote
	san=$(grep -rlaE "$SAN_RE" "$T/.runs" 2>/dev/null | head -n 3)
	if [ -n "$san" ]; then
		for f in $san; do grep -aE -B2 -A12 "$SAN_RE" "$f" | head -n 40; done >"$H/san"
	fi
	rm -rf "$T" 2>/dev/null
	leaks=$(_leak_check)
	[ -e "$T" ] && rm -rf "$T" 2>/dev/null
	if [ -e "$T" ]; then leaks+=$'\n'"leak: could not remove $T"; fi

	if [ $rc = 77 ] && [ -z "$san" ] && [ -z "$leaks" ]; then
		status=SKIP
	elif [ $rc = 0 ] && [ -z "$san" ] && [ -z "$leaks" ]; then
		status=PASS
	else
		status=FAIL
		if [ $rc = 0 ] || [ $rc = 77 ]; then
			if [ -n "$san" ]; then reason="sanitizer report in sbx output"; else reason="left something behind"; fi
		elif [ -z "$reason" ]; then
			reason="test exited with status $rc"
		fi
	fi
	case $status in
	PASS) echo "PASS $name"; PASSED=$((PASSED + 1)) ;;
	SKIP) echo "SKIP $name: $reason"; SKIPPED=$((SKIPPED + 1)) ;;
	FAIL)
		echo "FAIL $name: $reason"
		FAILED=$((FAILED + 1))
		{
			cat "$H/details"
			if [ -n "$san" ]; then
				echo "sanitizer output (from $(echo "$san" | sed 's|.*/||' | tr '\n' ' ')):"
				cat "$H/san" 2>/dev/null
			fi
			[ -n "$leaks" ] && echo "$leaks"
			if [ -s "$H/log" ] && { [ $rc != 0 ] && [ $rc != 77 ]; }; then
				echo "--- test output (last 20 lines):"
				tail -n 20 "$H/log"
			fi
		} | indent
		;;
	esac
	[ -s "$H/notes" ] && sed 's/^/    note: /' "$H/notes"
	rm -f "$H/san"
}

echo "# sbx: $SBX"
echo "# rootfs: $ROOTFS"
[ -n "$HELPERS" ] || echo "# helpers not built: $HELPERS_ERR"
for fn in "${SELECTED[@]}"; do
	run_one "$fn"
done
summary="$PASSED passed, $FAILED failed"
[ $SKIPPED -gt 0 ] && summary+=", $SKIPPED skipped"
echo "$summary"
[ $FAILED -eq 0 ]
