#!/bin/bash
# Integration tests for sbx: real sandboxes, checked from inside and from the host.
#
#   tests/integration/run.sh [--group NAME[,NAME...]] [--filter REGEX] [--list] SBX_BINARY
#
# Each test is a function t_<group>_<name> in t_<group>.sh, run in its own
# subshell with a fresh temp dir /tmp/sbx-test-XXXXXX as cwd ($T). After
# every test a leak check fails the test if anything of ours remains:
# processes in another pid namespace or running the sbx binary, slirp4netns
# processes, the net tests' servers and veths, mounts
# naming sbx, sbx-* cgroups, /tmp/sbx* (and /dev/shm, /run, /var/tmp) entries.
# Leaks are cleaned up after being reported. The drivers group's engines (a
# private dockerd, the image in it and in podman) are set up before their
# first test and torn down after their last (engines.sh). Output:
# PASS/FAIL/SKIP lines, then "N passed, N failed[, N skipped]"; exit 1 if
# any test failed.
#
# Needs root. No python/jq on the host: JSON is read with awk (lib.sh), or
# with the sandboxed python3 for the detailed checks.

GROUPS_ORDER="basic isolation seccomp fs cgroup supervise output errors lifecycle drivers pool zygote dockerapi net ocifs ocicli oci"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)

usage() {
	echo "usage: $0 [--group NAME[,NAME...]] [--filter REGEX] [--list] SBX_BINARY" >&2
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
# --group a,b,c: several groups (run in GROUPS_ORDER, each once).
SEL_GROUPS=()
if [ -n "$GROUP" ]; then
	IFS=, read -r -a SEL_GROUPS <<<"$GROUP"
	[ ${#SEL_GROUPS[@]} -gt 0 ] || usage
	for g in "${SEL_GROUPS[@]}"; do
		if [ -z "$g" ] || [[ " $GROUPS_ORDER " != *" $g "* ]]; then
			echo "$0: unknown group '$g' (groups: $GROUPS_ORDER)" >&2
			exit 2
		fi
	done
fi
in_groups() { # $1: a group name; true if selected (no --group: all are)
	[ -z "$GROUP" ] && return 0
	[[ ",$GROUP," == *",$1,"* ]]
}

# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=engines.sh
. "$HERE/engines.sh"
for f in "$HERE"/t_*.sh; do
	# shellcheck disable=SC1090
	. "$f"
done

# Tests in group order, then in the order they are written in their file.
ALL_TESTS=()
for g in $GROUPS_ORDER; do
	in_groups "$g" || continue
	[ -f "$HERE/t_$g.sh" ] || continue
	while read -r fn; do
		ALL_TESTS+=("$fn")
	done < <(sed -n "s/^\(t_${g}_[A-Za-z0-9_]*\)[[:space:]]*()[[:space:]]*{\{0,1\}.*$/\1/p" "$HERE/t_$g.sh")
done
SELECTED=()
for fn in "${ALL_TESTS[@]}"; do
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
# rootfs/python in the binary's dir's parents (build/sbx, build/asan/sbx ->
# <tree>/rootfs/python; up to 3 levels, as the runtime looks).
ROOTFS_DEFAULT_LOOKUP=0
if [ -n "$SBX_ROOTFS" ]; then
	ROOTFS=$SBX_ROOTFS
else
	d=$SBX_REAL ROOTFS=
	for _ in 1 2 3; do
		d=$(dirname "$d")
		if [ -d "$d/rootfs/python" ]; then
			ROOTFS=$d/rootfs/python ROOTFS_DEFAULT_LOOKUP=1
			break
		fi
	done
	[ -n "$ROOTFS" ] || ROOTFS=$REPO/rootfs/python
fi
[ -d "$ROOTFS" ] || echo "# warning: rootfs $ROOTFS does not exist" >&2

HOST_PIDNS=$(readlink /proc/$$/ns/pid)
H=$(mktemp -d /tmp/sbx-harness.XXXXXX) || exit 2
chmod 0711 "$H"
: >"$H/created"
HARNESS_PID=$$

harness_exit() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$BASHPID" = "$HARNESS_PID" ]; then
		engines_stop
		rm -rf "$H"
	fi
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
# Only the groups that use them pay for compiling them (slow in the vmtest
# guest, which runs the cgroup group alone).
if in_groups seccomp || in_groups isolation; then build_helpers; fi

# ---------------------------------------------------------------- leak check
#
# Other people may run sbx on this host at the same time, so only what is
# provably ours is a leak, and only that is ever killed or removed:
# - processes (in another pid namespace, or running the sbx binary) that are
#   inside the harness's own cgroup in every hierarchy where that cgroup is
#   not the root (on a host where it is the root everywhere, every new such
#   process counts);
# - sbx-*/sbxtest-* cgroup dirs under the harness's own cgroup in those
#   hierarchies, and same-named dirs in the others;
# - slirp4netns processes (an egress sandbox's user-mode network) that are
#   in the harness's cgroup as above, or whose parent chain reaches the
#   harness;
# - processes whose command line carries "sbxt-<harness pid>-" (the net
#   tests' servers and network namespace holders) and network interfaces
#   named sbxt<harness pid>* (the net tests' veths);
# - the per-test dirs this harness made (/tmp/sbx-test-*);
# - new mounts naming sbx (reported; unmounted only when under our dirs);
# - the oci tests': the OCI runtimes' state dirs (/run/sbx-oci/ID,
#   /run/runc/ID, /run/crun/ID) of the containers they made (ids in
#   $H/oci-ids), their cgroups (sbxtest-oci-<harness pid>-*: another
#   harness's are not ours), and /tmp/ocitest*
#   (the validation suite's bundles) new after an oci test.
# Other new things are printed as notes and left alone.

# "hierarchy-id path" for hierarchies where our cgroup is not the root
OWN_CG=$(awk -F: '$3 != "/" && $3 != "" && $2 != "" { print $1 " " $3 }' /proc/$$/cgroup)
# "own-dir" (filesystem) and the mount point of those hierarchies
OWN_CG_DIRS=() OWN_CG_MOUNTS=()
while read -r hid path; do
	[ -n "$hid" ] || continue
	ctrl=$(awk -F: -v h="$hid" '$1 == h { split($2, c, ","); print c[1] }' /proc/$$/cgroup)
	mnt=$(cg_mount "$ctrl")
	[ -n "$mnt" ] || continue
	OWN_CG_MOUNTS+=("$mnt")
	OWN_CG_DIRS+=("$mnt$path")
done <<<"$OWN_CG"

_proc_is_ours() { # PID
	[ -z "$OWN_CG" ] && return 0
	local hid path line p
	while read -r hid path; do
		line=$(grep -m1 "^$hid:" "/proc/$1/cgroup" 2>/dev/null) || return 1
		p=${line#*:*:}
		[ "$p" = "$path" ] || [[ $p == "$path"/* ]] || return 1
	done <<<"$OWN_CG"
	return 0
}

# Processes with the sbx binary's path as one of their arguments: a
# long-lived sandbox's supervisor keeps the cmdline of the `sbx create` /
# `sbx start` that forked it. Shells are skipped (the harness's own bash
# has the path in its arguments when given an absolute one).
_snap_cmdline_procs() {
	local f pid shell
	shell=$(readlink "/proc/$$/exe")
	for f in $(grep -laF -e "$SBX" -e "$SBX_REAL" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$shell" ] && continue
		tr '\0' '\n' 2>/dev/null <"$f" | grep -qxF -e "$SBX" -e "$SBX_REAL" && echo "$pid"
	done
}

# The net tests' servers: "sbxt-<harness pid>-" in their command line.
NET_TAG="sbxt-$HARNESS_PID-"
_snap_tagged_procs() {
	local f pid
	for f in $(grep -laF -e "$NET_TAG" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		echo "${pid%/cmdline}"
	done
}

# slirp4netns (egress sandboxes' network), by its binary
SLIRP_EXE=$(command -v slirp4netns 2>/dev/null) && SLIRP_EXE=$(readlink -f "$SLIRP_EXE")

# Foreign pid-namespace processes, processes running the sbx binary (or
# with its path in their cmdline) or slirp4netns, and the net tests'
# servers, as "pid:starttime" (starttime makes a recycled pid a different
# process).
_snap_procs() {
	local pid line rest
	{
		find /proc/[0-9]*/ns/pid /proc/[0-9]*/exe -maxdepth 0 -printf '%p %l\n' 2>/dev/null |
			awk -v ns="$HOST_PIDNS" -v exe="$SBX_REAL" -v slirp="${SLIRP_EXE:-/nonexistent}" '{
				split($1, a, "/"); link = substr($0, length($1) + 2)
				if (a[4] == "ns" && link != ns && link != "") print a[3]
				if (a[4] == "exe" && (link == exe || link == exe " (deleted)")) print a[3]
				if (a[4] == "exe" && (link == slirp || link == slirp " (deleted)")) print a[3]
			}'
		_snap_cmdline_procs
		_snap_tagged_procs
	} | sort -u | while read -r pid; do
		{ read -r line <"/proc/$pid/stat"; } 2>/dev/null || continue
		rest=${line##*) }
		# shellcheck disable=SC2086
		set -- $rest
		echo "$pid:${20}"
	done
}
_snap_cgroups() {
	find /sys/fs/cgroup -maxdepth 8 -type d \( -name 'sbx-*' -o -name 'sbxtest-*' \) 2>/dev/null
}
# the net tests' veths ("link NAME")
_snap_net() {
	command -v ip >/dev/null || return 0
	ip -o link show 2>/dev/null | awk -F': ' -v p="sbxt$HARNESS_PID" '{ n = $2; sub(/@.*/, "", n); if (index(n, p) == 1) print "link " n }'
}
_snap_mounts() {
	grep -F sbx /proc/self/mountinfo 2>/dev/null
}
# The OCI runtimes' default state dirs (/run/sbx-oci/ID, /run/runc/ID,
# /run/crun/ID: podman passes no --root to the exit command's `delete`) and
# the validation suite's bundles (/tmp/ocitest*, if a program escaped the
# TMPDIR the oci tests give it) are listed per entry.
_snap_tmp() {
	local f
	for f in /tmp/sbx* /tmp/.sbx* /dev/shm/sbx* /dev/shm/.sbx* /run/sbx* /run/.sbx* /var/tmp/sbx* /var/tmp/.sbx* \
		/run/sbx-oci/* /run/runc/* /run/crun/* /tmp/ocitest*; do
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
	_snap_net | sort >"$1/net"
}

# PID's parent chain reaches the harness
_proc_descends_from_harness() {
	local p=$1 i
	for ((i = 0; i < 64; i++)); do
		[ "$p" = "$HARNESS_PID" ] && return 0
		[ -z "$p" ] || [ "$p" -le 1 ] && return 1
		p=$(awk '{ print $4 }' "/proc/$p/stat" 2>/dev/null)
	done
	return 1
}

# A cgroup named sbxtest-* is a test's; the oci tests' carry the harness's
# pid (sbxtest-oci-<harness pid>-...): another harness's (a concurrent run
# on this shared host, at the same hierarchy roots) is not ours.
_cg_name_ours() { # NAME
	[[ $1 == sbxtest-* ]] || return 1
	[[ $1 == sbxtest-oci-* ]] || return 0
	[[ $1 == "sbxtest-oci-$HARNESS_PID-"* ]]
}

# New things since the baseline in $H/base, split into ours ("kind value"
# lines on stdout) and others (same format, into $H/foreign).
_leaks() {
	mkdir -p "$H/now"
	_snapshot "$H/now"
	: >"$H/foreign"
	local v pid ids=" " d m under hit
	# processes
	while read -r v; do
		[ -n "$v" ] || continue
		pid=${v%%:*}
		# zombies are dead (and show the root cgroup): their live parent is what counts
		local st
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		{ [ -z "$st" ] || [ "$st" = Z ]; } && continue
		if _proc_is_ours "$pid" || { [ -n "$SLIRP_EXE" ] &&
			[ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$SLIRP_EXE" ] &&
			_proc_descends_from_harness "$pid"; }; then
			echo "procs $v"
			for d in $(grep -o 'sbx-[A-Za-z0-9_.-]*' "/proc/$pid/cgroup" 2>/dev/null); do ids+="$d "; done
		else
			echo "procs $v" >>"$H/foreign"
		fi
	done < <(comm -13 "$H/base/procs" "$H/now/procs")
	# cgroups: first those in hierarchies that tell sessions apart
	local newcg=() rest=()
	mapfile -t newcg < <(comm -13 "$H/base/cgroups" "$H/now/cgroups")
	for v in "${newcg[@]}"; do
		[ -n "$v" ] || continue
		under=0 hit=0
		for ((m = 0; m < ${#OWN_CG_MOUNTS[@]}; m++)); do
			if [[ $v == "${OWN_CG_MOUNTS[m]}"/* ]]; then
				under=1
				[[ $v == "${OWN_CG_DIRS[m]}"/* ]] && hit=1
			fi
		done
		if [ $under = 1 ]; then
			# (another harness in the same cgroup: its oci dirs are its own)
			if [ $hit = 1 ] && { [[ ${v##*/} != sbxtest-oci-* ]] || _cg_name_ours "${v##*/}"; }; then
				echo "cgroups $v"
				for d in $(echo "$v" | grep -o 'sbx-[A-Za-z0-9_.-]*'); do ids+="$d "; done
			else
				echo "cgroups $v" >>"$H/foreign"
			fi
		else
			rest+=("$v")
		fi
	done
	for v in "${rest[@]}"; do
		if [ ${#OWN_CG_MOUNTS[@]} = 0 ] || _cg_name_ours "${v##*/}" || [[ $ids == *" ${v##*/} "* ]]; then
			echo "cgroups $v"
		else
			echo "cgroups $v" >>"$H/foreign"
		fi
	done
	# the net tests' veths: named after the harness, ours
	comm -13 "$H/base/net" "$H/now/net" | sed 's/^/net /'
	# mounts: any new one naming sbx is reported, but a named network
	# namespace (/run/netns/NAME, nsfs) only if it is one of the net
	# tests' (others' tools name theirs too, e.g. sbxb-*)
	while read -r v; do
		[ -n "$v" ] || continue
		if [[ $v == *" /run/netns/"*" - nsfs "* ]] && [[ $v != *" /run/netns/$NET_TAG"* ]]; then
			echo "mounts $v" >>"$H/foreign"
		else
			echo "mounts $v"
		fi
	done < <(comm -13 "$H/base/mounts" "$H/now/mounts")
	# temp entries: ours are the test dirs this harness made, the OCI
	# runtimes' state dirs of the containers the oci tests made (their ids
	# are in $H/oci-ids) and new /tmp/ocitest* after an oci test ($fn is
	# run_one's)
	while read -r v; do
		[ -n "$v" ] || continue
		if grep -qxF "$v" "$H/created"; then
			echo "tmp $v"
		elif [[ $v == /run/sbx-oci/* || $v == /run/runc/* || $v == /run/crun/* ]] &&
			[ -f "$H/oci-ids" ] && grep -qxF "${v##*/}" "$H/oci-ids"; then
			echo "tmp $v"
		elif [[ $v == /tmp/ocitest* ]] && [[ ${fn:-} == t_oci_* ]]; then
			echo "tmp $v"
		else
			echo "tmp $v" >>"$H/foreign"
		fi
	done < <(comm -13 "$H/base/tmp" "$H/now/tmp")
}
_describe_leak() {
	local kind=$1 v=$2 pid
	case $kind in
	procs)
		pid=${v%%:*}
		echo "process $pid [$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)]" \
			"pidns=$(readlink "/proc/$pid/ns/pid" 2>/dev/null)" \
			"exe=$(readlink "/proc/$pid/exe" 2>/dev/null)" \
			"cmd=$({ tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | head -c 160)"
		;;
	cgroups) echo "cgroup $v (procs: $({ tr '\n' ' ' <"$v/cgroup.procs"; } 2>/dev/null))" ;;
	mounts) echo "mount $v" ;;
	tmp) echo "temp entry $v" ;;
	net) echo "network interface ${v#link }" ;;
	esac
}
_cleanup_leaks() { # our leak lines on stdin
	local kind v pid i
	local procs=() cgs=() mnts=() tmps=() nets=()
	while read -r kind v; do
		case $kind in
		procs) procs+=("${v%%:*}") ;;
		cgroups) cgs+=("$v") ;;
		mounts) mnts+=("$v") ;;
		tmp) tmps+=("$v") ;;
		net) nets+=("$v") ;;
		esac
	done
	for pid in "${procs[@]}"; do kill -KILL "$pid" 2>/dev/null; done
	# the net tests' veths
	for v in "${nets[@]}"; do ip link del "${v#link }" 2>/dev/null; done
	# cgroups: kill what is inside (ours by construction), remove deepest first
	for v in $(printf '%s\n' "${cgs[@]}" | awk 'NF { print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-); do
		for pid in $(cat "$v/cgroup.procs" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		for ((i = 0; i < 50; i++)); do
			find "$v" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$v" ] || break
			sleep 0.05
		done
	done
	# mounts: lazily unmount only those under our own dirs, never a cgroup fs
	for v in "${mnts[@]}"; do
		local mp fstype
		mp=$(printf '%b' "$(echo "$v" | awk '{ print $5 }')")
		fstype=$(echo "$v" | sed 's/.* - \([^ ]*\) .*/\1/')
		case $fstype in cgroup | cgroup2) continue ;; esac
		local ours=0 c
		while read -r c; do [[ $mp == "$c" || $mp == "$c"/* ]] && ours=1; done <"$H/created"
		[[ $mp == "$H"/* ]] && ours=1
		[ $ours = 1 ] && umount -l "$mp" 2>/dev/null
	done
	for v in "${tmps[@]}"; do
		# a validation bundle may still have mounts (never a cgroup fs)
		if [[ $v == /tmp/ocitest* ]]; then
			awk -v d="$v/" 'index($5, d) == 1 && $0 !~ / - cgroup2? / { print length($5) " " $5 }' /proc/self/mountinfo |
				sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$(printf '%b' "$m")" 2>/dev/null; done
		fi
		rm -rf "$v" 2>/dev/null
	done
}
# Poll up to ~2 s for stragglers; print our leaks (if any) and clean them up.
# Things that are not ours are printed as "ignored" notes.
_leak_check() {
	local end=$(($(now_us) + 2000000)) out
	while :; do
		out=$(_leaks)
		[ -z "$out" ] && break
		(($(now_us) > end)) && break
		sleep 0.1
	done
	local kind v
	if [ -s "$H/foreign" ]; then
		while read -r kind v; do
			echo "$(_describe_leak "$kind" "$v")"
		done <"$H/foreign" >>"$H/ignored_all"
	fi
	[ -z "$out" ] && return 0
	while read -r kind v; do echo "leak: $(_describe_leak "$kind" "$v")"; done <<<"$out"
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
	echo "$T" >>"$H/created"
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
	local lc
	leaks=$(_leak_check)
	lc=$?
	[ $lc = 0 ] && leaks=
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
	engines_before "$fn"
	run_one "$fn"
	engines_after "$fn"
done
if [ -s "$H/ignored_all" ]; then
	echo "# the leak check ignored $(wc -l <"$H/ignored_all") new thing(s) outside the harness's cgroup (someone else's sbx?), e.g.:"
	head -n 5 "$H/ignored_all" | sed 's/^/#   /'
fi
summary="$PASSED passed, $FAILED failed"
[ $SKIPPED -gt 0 ] && summary+=", $SKIPPED skipped"
echo "$summary"
[ $FAILED -eq 0 ]
