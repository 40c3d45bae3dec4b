# shellcheck shell=bash
# oci: build/sbx-oci, the OCI runtime (issue 13; docs/oci.md), under the
# OCI validation suite, podman and containerd.
#
# The runtime under test is OCI_RUNTIME_UNDER_TEST (default: sbx-oci next to
# the sbx binary under test, e.g. build/sbx-oci); setting it to
# /usr/sbin/runc (or crun) checks the harness itself: every test must pass
# with runc in place of sbx-oci.
#
# - t_oci_validation: runtime-tools' validation/*/*.t (built by `make
#   oci-validation` into build/oci-validation/runtime-tools; SBX_OCI_SUITE
#   overrides) against runc 1.1.5 and the runtime under test in the same
#   run (oci_suite.sh, inside a private mount+cgroup namespace rooted at a
#   sub-cgroup of the test's own in every hierarchy: the suite's absolute
#   cgroupsPath "/testdir/cgrouptest" never reaches the host's hierarchy
#   roots). Compared per TAP line: every `ok N - text` of runc must be `ok`
#   for the runtime under test (matched by text: runtimetest's numbering
#   changes from run to run; repeated texts count as many times) (exit codes are not trusted: a program whose
#   container fails prints no TAP at all). The table and the failures go to
#   SBX_OCI_RESULTS (default oci-results next to the sbx binary).
# - t_oci_podman_*: podman 4.3 with --runtime RUNTIME --runtime-flag
#   root=$T/root (the runtime's state dir of the test's own), cgroupfs, a
#   cgroup parent /sbxtest-oci-HARNESSPID-PID, and the image sbx-python:latest (the
#   drivers' image, imported from the rootfs by engines.sh when missing).
# - t_oci_ctr_*: a private containerd (its own root, state and sockets in
#   $T; the CRI plugin off) started and stopped by the test, the image
#   imported with `podman save | ctr images import`, `ctr run
#   --runc-binary RUNTIME --runc-root $T/root --cgroup sbxtest-oci-HARNESSPID-...`.
# After each: no container process, no cgroup, no state dir may be left.
#
# Environment: OCI_RUNTIME_UNDER_TEST (path or name in PATH), OCI_RT_ROOT
# (its default state root when not /run/sbx-oci, /run/runc or /run/crun by
# its name), SBX_OCI_RUNC (the reference, /usr/sbin/runc), SBX_OCI_SUITE,
# SBX_OCI_RESULTS, SBX_OCI_PAR (validation programs at a time, 2),
# SBX_OCI_PROG_TIMEOUT (s per program, 90), SBX_OCI_SUITE_TIMEOUT (s for
# the whole suite, 3600). runc's half of the suite takes ~150 s here
# (programs summed; the suite polls `state` once a second), both halves
# ~200-250 s of wall time with 2 at a time.

OCI_RUNC=${SBX_OCI_RUNC:-/usr/sbin/runc}
OCI_IMAGE=localhost/sbx-python:latest
OCI_ULIMITS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

# ---------------------------------------------------------------- helpers

# oci_rt: the runtime under test (OCI_RT), or fail.
oci_rt() {
	OCI_RT=${OCI_RUNTIME_UNDER_TEST:-$(dirname "$SBX")/sbx-oci}
	case $OCI_RT in /*) ;; *) OCI_RT=$(command -v "$OCI_RT" 2>/dev/null || echo "$REPO/$OCI_RT") ;; esac
	[ -x "$OCI_RT" ] && [ ! -d "$OCI_RT" ] || fail "the OCI runtime under test $OCI_RT is not an executable (make all builds build/sbx-oci; OCI_RUNTIME_UNDER_TEST chooses another)"
}

# oci_cg_hierarchies: "MOUNTPOINT OWNPATH" for every cgroup hierarchy
# mounted under /sys/fs/cgroup (v1 and v2), OWNPATH = this process's cgroup
# there.
oci_cg_hierarchies() {
	local mp opts fs line ctrls path c ok
	while read -r mp fs opts; do
		while IFS= read -r line; do
			ctrls=$(echo "$line" | cut -d: -f2)
			path=$(echo "$line" | cut -d: -f3-)
			if [ "$fs" = cgroup2 ]; then
				[ -z "$ctrls" ] || continue
			else
				[ -n "$ctrls" ] || continue
				ok=1
				for c in ${ctrls//,/ }; do [[ ,$opts, == *",$c,"* ]] || ok=0; done
				[ $ok = 1 ] || continue
			fi
			echo "$mp $path"
			break
		done </proc/$BASHPID/cgroup
	done < <(awk '{ for (i = 7; $i != "-"; i++) ; if (($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") && ($5 == "/sys/fs/cgroup" || index($5, "/sys/fs/cgroup/") == 1)) print $5, $(i + 1), $(i + 3) }' /proc/self/mountinfo)
}

# oci_cg_subtree NAME: a sub-cgroup NAME of the test's own cgroup in every
# hierarchy; "MOUNTPOINT DIR" lines in $T/binds; removed when the test ends
# (oci_cg_remove, which kills what is still inside).
oci_cg_subtree() {
	local name=$1 mp own dir
	: >"$T/binds"
	on_exit "oci_cg_remove"
	while read -r mp own; do
		if [ "$own" = / ]; then dir=$mp/$name; else dir=$mp$own/$name; fi
		mkdir "$dir" || fail "cannot make the cgroup $dir"
		echo "$mp $dir" >>"$T/binds"
		if [ -e "$dir/cpuset.cpus" ]; then
			cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus" &&
				cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems" ||
				fail "cannot set up the cpuset cgroup $dir"
		fi
	done < <(oci_cg_hierarchies)
	[ -s "$T/binds" ] || fail "no cgroup hierarchy found under /sys/fs/cgroup"
}

# oci_cg_procs: live (not zombie) pids still in the sub-cgroups of
# $T/binds (recursively). Zombies: the containers' inits are reparented to
# this machine's pid 1, which reaps late; their cgroup goes with them.
oci_cg_procs() {
	local mp dir pid st
	while read -r mp dir; do
		[ -d "$dir" ] && find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
	done <"$T/binds" | sort -un | while read -r pid; do
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && echo "$pid"
	done
}

# oci_cg_remove: kill what is left in the sub-cgroups, remove them (deepest
# first; up to 30 s: zombies keep a v1 cgroup busy until reaped).
oci_cg_remove() {
	local mp dir pid i
	[ -s "$T/binds" ] || return 0
	for ((i = 0; i < 50; i++)); do
		pid=$(oci_cg_procs)
		[ -z "$pid" ] && break
		# shellcheck disable=SC2086
		kill -KILL $pid 2>/dev/null
		sleep 0.1
	done
	while read -r mp dir; do
		for ((i = 0; i < 300; i++)); do
			[ -d "$dir" ] || break
			find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
			[ -d "$dir" ] || break
			sleep 0.1
		done
	done <"$T/binds"
}

# ---------------------------------------------------------------- validation suite

t_oci_validation() {
	oci_rt
	local suite=${SBX_OCI_SUITE:-$REPO/build/oci-validation/runtime-tools}
	local res=${SBX_OCI_RESULTS:-$(dirname "$SBX")/oci-results}
	local w=$T/suite t0 t1 rc
	[ -x "$suite/runtimetest" ] && [ -f "$suite/rootfs-amd64.tar.gz" ] ||
		fail "the validation suite is not built in $suite (make oci-validation)"
	[ -x "$OCI_RUNC" ] || fail "$OCI_RUNC (runc, the reference) is not installed (make deps)"
	command -v unshare >/dev/null || fail "unshare (util-linux) not found"
	local runc_v
	runc_v=$("$OCI_RUNC" --version 2>/dev/null | awk 'NR == 1 { print $NF }')
	mkdir -p "$w" "$res" || fail "cannot make $w or $res"
	rm -f "$res"/*.txt
	rm -rf "$res/tap"
	oci_cg_subtree "sbxtest-oci-$HARNESS_PID-suite-$BASHPID"
	t0=$(now_us)
	# The subshell (not the test's shell) moves into the sub-cgroups and
	# becomes the namespaces' first process.
	(
		while read -r mp dir; do
			echo "$BASHPID" >"$dir/cgroup.procs" || exit 3
		done <"$T/binds"
		exec timeout -k 10 "${SBX_OCI_SUITE_TIMEOUT:-3600}" unshare -m -C --propagation private -- \
			bash "$REPO/tests/integration/oci_suite.sh" "$suite" "$w" "$T/binds" \
			"${SBX_OCI_PAR:-2}" "runc=$OCI_RUNC" "sbx=$OCI_RT"
	) >"$T/suite.log" 2>&1
	rc=$?
	t1=$(now_us)
	[ $rc = 0 ] || {
		detail "oci_suite.sh: $(head -c 1500 "$T/suite.log")"
		fail "the suite's run exited with status $rc"
	}
	# processes the suite's containers left (in its sub-cgroups)
	local left_procs
	left_procs=$(oci_cg_procs)
	[ -n "$left_procs" ] && describe_pids $left_procs >"$w/left-procs"
	cp -r "$w/tap" "$res/tap"

	# The per-program table and the runtime under test's failures.
	local p f n_r n_s nok_r nok_s tab=$res/table.txt fails=$res/failures.txt
	local tot_r=0 tot_s=0 totn_r=0 totn_s=0 missing=0 progs=0 progs_r=0 lost_progs=0 leftbad="" runc_failed=""
	{
		echo "# runtime-tools validation suite: runc ($OCI_RUNC, $runc_v) vs sbx ($OCI_RT)"
		printf '%-36s %6s %6s %3s %7s | %6s %6s %3s %7s | %s\n' program runc:ok notok rc ms sbx:ok notok rc ms "runc-ok lines not ok for sbx"
	} >"$tab"
	: >"$fails"
	for f in "$w"/tap/runc/*.tap; do
		p=$(basename "$f" .tap)
		progs=$((progs + 1))
		n_r=$(grep -c '^ok ' "$f")
		nok_r=$(grep -c '^not ok ' "$f")
		n_s=$(grep -c '^ok ' "$w/tap/sbx/$p.tap" 2>/dev/null)
		nok_s=$(grep -c '^not ok ' "$w/tap/sbx/$p.tap" 2>/dev/null)
		tot_r=$((tot_r + n_r)) tot_s=$((tot_s + ${n_s:-0})) totn_r=$((totn_r + nok_r)) totn_s=$((totn_s + ${nok_s:-0}))
		[ "$n_r" -gt 0 ] && progs_r=$((progs_r + 1))
		# by text: the numbers vary between runs (runtimetest walks Go maps)
		sed -n 's/^ok [0-9]* *//p' "$f" | sort >"$w/ok-runc"
		sed -n 's/^ok [0-9]* *//p' "$w/tap/sbx/$p.tap" 2>/dev/null | sort >"$w/ok-sbx"
		local lost
		lost=$(comm -23 "$w/ok-runc" "$w/ok-sbx" | wc -l)
		# A program runc fails (non-zero exit: it printed its ok lines and
		# then found the runtime wrong, as process_capabilities_fail does
		# when runc runs a config it should refuse) is not one runc passes:
		# its lines are listed, not required.
		if [ "$(cat "$w/tap/runc/$p.rc")" != 0 ] && [ "$lost" -gt 0 ]; then
			runc_failed+="$p (runc exit $(cat "$w/tap/runc/$p.rc"), sbx exit $(cat "$w/tap/sbx/$p.rc" 2>/dev/null), $lost lines); "
			lost=0
		fi
		missing=$((missing + lost))
		[ "$lost" -gt 0 ] && lost_progs=$((lost_progs + 1))
		printf '%-36s %6s %6s %3s %7s | %6s %6s %3s %7s | %s\n' "$p" "$n_r" "$nok_r" \
			"$(cat "$w/tap/runc/$p.rc")" "$(cat "$w/tap/runc/$p.ms")" "${n_s:-0}" "${nok_s:-0}" \
			"$(cat "$w/tap/sbx/$p.rc" 2>/dev/null)" "$(cat "$w/tap/sbx/$p.ms" 2>/dev/null)" "$lost" >>"$tab"
		if [ "$lost" -gt 0 ]; then
			{
				echo "== $p: $lost of runc's $n_r ok lines are not ok for sbx (sbx: $n_s ok, $nok_s not ok, exit $(cat "$w/tap/sbx/$p.rc" 2>/dev/null))"
				comm -23 "$w/ok-runc" "$w/ok-sbx" | head -n 20 | sed 's/^/  runc ok: /'
				grep '^not ok ' "$w/tap/sbx/$p.tap" 2>/dev/null | head -n 10 | sed 's/^/  sbx: /'
				[ "${n_s:-0}" = 0 ] && [ "${nok_s:-0}" = 0 ] &&
					head -c 600 "$w/tap/sbx/$p.err" 2>/dev/null | sed 's/^/  sbx stderr: /'
			} >>"$fails"
		fi
		# leftovers: sbx must not leave what runc does not
		if [ -s "$w/left/sbx/$p" ] && [ ! -s "$w/left/runc/$p" ]; then
			leftbad+="$p: $(tr '\n' ' ' <"$w/left/sbx/$p"); "
		fi
	done
	local ms_r ms_s
	ms_r=$(cat "$w/wall-runc") ms_s=$(cat "$w/wall-sbx")
	{
		echo "# totals: runc $tot_r ok / $totn_r not ok in $progs programs ($progs_r with ok lines), ${ms_r} ms summed;" \
			"sbx $tot_s ok / $totn_s not ok, ${ms_s} ms summed; runc-ok lines not ok for sbx: $missing in $lost_progs programs;" \
			"wall $((($(now_us) - t0) / 1000)) ms for both (parallel ${SBX_OCI_PAR:-2})"
		for f in "$w"/left/runc/* "$w"/left/sbx/*; do
			[ -s "$f" ] && echo "# left by ${f#"$w"/left/}: $(tr '\n' ' ' <"$f")"
		done
		for f in "$w"/left-state/*; do
			[ -s "$f" ] && echo "# state dirs left by ${f##*/} (deleted with delete --force): $(tr '\n' ' ' <"$f")"
		done
		[ -s "$w/left-procs" ] && echo "# processes left in the suite's cgroups (killed): $(tr '\n' ';' <"$w/left-procs")"
		[ -n "$runc_failed" ] && echo "# programs runc fails (exit not 0), ok lines not required: $runc_failed"
	} >>"$tab"
	for f in "$w"/retried-*; do
		[ -s "$f" ] && note "${f##*/retried-}: programs run twice (no TAP line the first time): $(sed -n '2~2p' "$f" | tr '\n' ' ')"
	done
	[ -n "$runc_failed" ] && note "programs runc fails, their ok lines not required: $runc_failed"
	note "runc $runc_v: $tot_r ok / $totn_r not ok in $progs programs (${ms_r} ms summed); sbx: $tot_s ok / $totn_s not ok (${ms_s} ms); wall $(((t1 - t0) / 1000000)) s; table: $tab"
	[ "$progs" -ge 58 ] || fail "only $progs validation programs ran (58 expected): $(head -c 300 "$T/suite.log")"
	# A harness that lost runc's results would pass anything.
	[ "$progs_r" -ge 35 ] && [ "$tot_r" -ge 3000 ] ||
		fail "runc itself passed only $tot_r lines in $progs_r programs: the harness is broken (see $tab)"
	if [ "$missing" -gt 0 ]; then
		detail "$(head -c 3000 "$fails")"
		fail "$missing of runc's ok lines are not ok for $OCI_RT, in $lost_progs programs (table: $tab, failures: $fails)"
	fi
	[ -z "$leftbad" ] || fail "$OCI_RT left behind what runc did not: $leftbad"
	[ -s "$w/left-state/sbx" ] && [ ! -s "$w/left-state/runc" ] &&
		fail "$OCI_RT left state dirs in its --root: $(tr '\n' ' ' <"$w/left-state/sbx")"
	[ -z "$left_procs" ] || fail "processes left in the suite's cgroups: $(tr '\n' ';' <"$w/left-procs")"
	return 0
}

# ---------------------------------------------------------------- commands

# oci_cmd ARGS...: run ARGS (stdin /dev/null, OCI_TIMEOUT s, default 120);
# RC, $T/out, $T/err, ELAPSED_MS, LAST_ARGS as for sbx runs.
oci_cmd() {
	local t0
	LAST_ARGS=$(printf '%q ' "$@")
	t0=$(now_us)
	timeout -k 5 "${OCI_TIMEOUT:-120}" "$@" </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	ELAPSED_MS=$((($(now_us) - t0) / 1000))
}

# oci_fail_out REASON: fail, showing the last command, its status and output.
oci_fail_out() {
	LAST_PREFIX="" fail_out "$@"
}

oci_expect_rc() { # N WHAT
	[ "$RC" = "$1" ] || oci_fail_out "$2: exit $RC, expected $1"
}

# oci_default_root: where the runtime under test keeps its state when given
# no --root (podman passes none to the exit command's `delete --force`).
oci_default_root() {
	if [ -n "${OCI_RT_ROOT:-}" ]; then echo "$OCI_RT_ROOT"; return; fi
	case ${OCI_RT##*/} in
	runc) echo /run/runc ;;
	crun) echo /run/crun ;;
	*) echo /run/sbx-oci ;;
	esac
}

# oci_record_id ID: tell the harness's leak check that state dirs named ID
# under /run/sbx-oci (or the runtime's root) are this test's.
oci_record_id() {
	echo "$1" >>"$H/oci-ids"
}

# oci_live_pids TEXT: live (not zombie) processes whose command line has TEXT.
oci_live_pids() {
	local f pid st
	for f in $(grep -laF -- "$1" /proc/[0-9]*/cmdline 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[ "$pid" = "$BASHPID" ] && continue
		st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] && echo "$pid"
	done
}

# oci_cgroups_named TEXT: cgroup dirs whose name contains TEXT.
oci_cgroups_named() {
	find /sys/fs/cgroup -maxdepth 12 -type d -name "*$1*" 2>/dev/null
}

# oci_expect_gone WHAT ID [MARK]: within 10 s, no live process naming ID
# (conmon, the shim) or MARK (the container's command), no cgroup named
# after ID, no state dir ID in the runtime's root (OCI_STATE_ROOT).
oci_expect_gone() {
	local what=$1 id=$2 mark=${3:-} end p c s
	end=$(($(now_us) + 10000000))
	while :; do
		p=$(oci_live_pids "$id")
		[ -n "$mark" ] && p+=$(oci_live_pids "$mark")
		c=$(oci_cgroups_named "$id")
		s=
		[ -e "$OCI_STATE_ROOT/$id" ] && s=$OCI_STATE_ROOT/$id
		[ -z "$p$c$s" ] && return 0
		(($(now_us) > end)) && break
		sleep 0.1
	done
	[ -n "$p" ] && detail "processes: $(describe_pids $p | tr '\n' ';')"
	[ -n "$c" ] && detail "cgroups: $(echo "$c" | tr '\n' ' ')"
	[ -n "$s" ] && detail "state dir: $s"
	fail "$what: left behind after 10 s:${p:+ processes}${c:+ cgroups}${s:+ state dir}"
}

# ---------------------------------------------------------------- podman

# oci_podman_need: podman with the runtime under test; the image from
# engines.sh. OCI_PODMAN (podman and its global options), OCI_PRUN (the
# options of every run: cgroup parent /sbxtest-oci-HARNESSPID-PID, the rlimits).
oci_podman_need() {
	oci_rt
	case $(cat "$H/engine-podman" 2>/dev/null) in
	ok) ;;
	skip:*) skip "podman unavailable on this machine: $(sed 's/^skip: *//' "$H/engine-podman")" ;;
	*) fail "podman unusable: $(sed 's/^fail: *//' "$H/engine-podman" 2>/dev/null)" ;;
	esac
	OCI_STATE_ROOT=$(oci_default_root)
	OCI_CGP=sbxtest-oci-$HARNESS_PID-$BASHPID
	OCI_PODMAN=(podman --runtime "$OCI_RT" --cgroup-manager=cgroupfs)
	# podman's default rlimits are above this machine's hard limits (no
	# CAP_SYS_RESOURCE): as the podman driver does.
	OCI_PRUN=(--cgroup-parent "/$OCI_CGP" "${OCI_ULIMITS[@]}")
	on_exit oci_podman_cleanup
}

# oci_podman_name: a container name of this test (removed at its end)
oci_podman_name() {
	local n=sbxtest-oci-$BASHPID-$RANDOM
	echo "$n" >>"$T/oci-names"
	echo "$n"
}

# oci_podman_id NAME|CIDFILE: the container's full id
oci_podman_cid() {
	local id
	id=$(head -c 64 "$1" 2>/dev/null)
	[[ $id =~ ^[0-9a-f]{64}$ ]] || fail "no container id in $1"
	oci_record_id "$id"
	echo "$id"
}

oci_podman_cleanup() {
	local n d pid
	if [ -f "$T/oci-names" ]; then
		while read -r n; do "${OCI_PODMAN[@]}" rm -f -t 0 "$n"; done <"$T/oci-names"
	fi
	for d in /sys/fs/cgroup/*/"$OCI_CGP"; do
		[ -d "$d" ] || continue
		for pid in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -KILL "$pid"; done
		sleep 0.1
		find "$d" -depth -type d -exec rmdir {} \;
	done
}

# oci_podman_run WHAT ARGS...: `podman run --rm` of ARGS with a cidfile;
# OCI_ID is the container's id. Checks afterwards that nothing is left.
oci_podman_run() {
	local what=$1
	shift
	rm -f "$T/cid"
	oci_cmd "${OCI_PODMAN[@]}" run --rm --cidfile "$T/cid" "${OCI_PRUN[@]}" "$@"
	cp "$T/out" "$T/run.out"
	cp "$T/err" "$T/run.err"
	[ -s "$T/cid" ] || oci_fail_out "$what: podman wrote no container id"
	OCI_ID=$(oci_podman_cid "$T/cid")
}

# run --rm: output, exit 0 and the exit code of sys.exit(7)
t_oci_podman_run() {
	oci_podman_need
	oci_podman_run "run --rm" --network none "$OCI_IMAGE" python3 -c 'print(6 * 7)'
	oci_expect_rc 0 "podman run --rm print(6*7)"
	[ "$(cat "$T/out")" = 42 ] || oci_fail_out "podman run --rm: stdout is not 42"
	oci_expect_gone "run --rm" "$OCI_ID"
	oci_podman_run "run --rm sys.exit(7)" --network none "$OCI_IMAGE" python3 -c 'import sys; print("bye"); sys.exit(7)'
	oci_expect_rc 7 "podman run --rm sys.exit(7)"
	[ "$(cat "$T/out")" = bye ] || oci_fail_out "podman run --rm: stdout is not bye"
	oci_expect_gone "run --rm sys.exit(7)" "$OCI_ID"
}

# -d, exec (output and exit code through), stop, rm
t_oci_podman_detach_exec() {
	oci_podman_need
	local n id mark
	n=$(oci_podman_name)
	mark=sbxmark$BASHPID$RANDOM
	oci_cmd "${OCI_PODMAN[@]}" run -d --name "$n" "${OCI_PRUN[@]}" --network none "$OCI_IMAGE" \
		python3 -c "import time; time.sleep(300)  # $mark"
	oci_expect_rc 0 "podman run -d"
	id=$(head -n 1 "$T/out")
	[[ $id =~ ^[0-9a-f]{64}$ ]] || oci_fail_out "podman run -d printed no container id"
	oci_record_id "$id"
	[ -n "$(mark_pids "$mark")" ] || oci_fail_out "podman run -d: the container's process is not running"
	oci_cmd "${OCI_PODMAN[@]}" exec "$n" python3 -c 'import os; print("exec", os.getpid() != 1)'
	oci_expect_rc 0 "podman exec"
	[ "$(cat "$T/out")" = "exec True" ] || oci_fail_out "podman exec: stdout is not 'exec True'"
	oci_cmd "${OCI_PODMAN[@]}" exec "$n" sh -c 'exit 5'
	oci_expect_rc 5 "podman exec sh -c 'exit 5'"
	oci_cmd "${OCI_PODMAN[@]}" exec "$n" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
	oci_expect_rc 0 "podman exec cat /proc/1/cmdline"
	grep -qF "$mark" "$T/out" || oci_fail_out "podman exec: pid 1 of the container is not its command"
	oci_cmd "${OCI_PODMAN[@]}" stop -t 2 "$n"
	oci_expect_rc 0 "podman stop -t 2"
	[ -z "$(oci_live_pids "$mark")" ] || fail "the container's process still runs after podman stop"
	oci_cmd "${OCI_PODMAN[@]}" rm "$n"
	oci_expect_rc 0 "podman rm"
	oci_cmd "${OCI_PODMAN[@]}" container exists "$n"
	[ "$RC" = 1 ] || oci_fail_out "podman container exists after rm: exit $RC, expected 1"
	oci_expect_gone "run -d + exec + stop + rm" "$id" "$mark"
}

# --memory 64m: the limit inside, a 200 MB allocation killed
t_oci_podman_memory() {
	oci_podman_need
	oci_podman_run "run --memory 64m" --memory 64m --network none "$OCI_IMAGE" sh -c \
		'cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.limit_in_bytes'
	oci_expect_rc 0 "podman run --memory 64m (reading the limit)"
	[ "$(cat "$T/out")" = 67108864 ] || oci_fail_out "the memory limit inside is not 67108864"
	oci_expect_gone "run --memory" "$OCI_ID"
	oci_podman_run "run --memory 64m, 200 MB" --memory 64m --memory-swap 64m --network none "$OCI_IMAGE" \
		python3 -c 'b = b"x" * (200 << 20); print("allocated", len(b))'
	oci_expect_rc 137 "podman run --memory 64m allocating 200 MB"
	grep -q allocated "$T/out" && oci_fail_out "200 MB were allocated under --memory 64m"
	oci_expect_gone "run --memory, killed" "$OCI_ID"
}

# --pids-limit 20: a fork loop stops below 20
t_oci_podman_pids() {
	oci_podman_need
	oci_podman_run "run --pids-limit 20" --pids-limit 20 --network none "$OCI_IMAGE" python3 -c '
import os, time
n = 0
try:
    while n < 200:
        if os.fork() == 0:
            time.sleep(20)
            os._exit(0)
        n += 1
    print("forked", n)
except OSError as e:
    print("limited", n, e.errno)
'
	oci_expect_rc 0 "podman run --pids-limit 20 (fork loop)"
	local got
	got=$(cat "$T/out")
	[[ $got =~ ^limited\ ([0-9]+)\ 11$ ]] || oci_fail_out "the fork loop was not stopped by EAGAIN"
	[ "${BASH_REMATCH[1]}" -lt 20 ] || oci_fail_out "more than 19 forks under --pids-limit 20"
	oci_expect_gone "run --pids-limit" "$OCI_ID"
}

# --network none: only lo
t_oci_podman_network_none() {
	oci_podman_need
	oci_podman_run "run --network none" --network none "$OCI_IMAGE" python3 -c \
		'import socket; print(" ".join(sorted(n for i, n in socket.if_nameindex())))'
	oci_expect_rc 0 "podman run --network none"
	[ "$(cat "$T/out")" = lo ] || oci_fail_out "interfaces other than lo under --network none"
	oci_expect_gone "run --network none" "$OCI_ID"
}

# -v HOSTDIR:/data, read and write
t_oci_podman_volume() {
	oci_podman_need
	local d
	d=$(mk_dir data 0755)
	echo "from the host $BASHPID" >"$d/in.txt"
	oci_podman_run "run -v" --network none -v "$d:/data" "$OCI_IMAGE" sh -c \
		'cat /data/in.txt && echo "from the container" >/data/out.txt'
	oci_expect_rc 0 "podman run -v DIR:/data"
	[ "$(cat "$T/out")" = "from the host $BASHPID" ] || oci_fail_out "the host's file is not readable in /data"
	[ "$(cat "$d/out.txt" 2>/dev/null)" = "from the container" ] ||
		oci_fail_out "the container's write to /data did not reach the host"
	oci_expect_gone "run -v" "$OCI_ID"
}

# -it through a pty (script(1)): stdin and stdout are terminals
t_oci_podman_tty() {
	oci_podman_need
	command -v script >/dev/null || fail "script (util-linux) not found"
	local cmd
	rm -f "$T/cid"
	cmd=$(printf '%q ' "${OCI_PODMAN[@]}" run --rm -it --cidfile "$T/cid" "${OCI_PRUN[@]}" --network none \
		"$OCI_IMAGE" sh -c 'test -t 0 && test -t 1 && echo TTY-OK; exit 4')
	oci_cmd script -qec "$cmd" /dev/null
	oci_expect_rc 4 "podman run -it under script(1)"
	grep -q TTY-OK "$T/out" || oci_fail_out "stdin and stdout are not terminals under podman run -it"
	OCI_ID=$(oci_podman_cid "$T/cid")
	oci_expect_gone "run -it" "$OCI_ID"
}

# ---------------------------------------------------------------- containerd

# oci_ctr_up: a private containerd in $T/ctd (root, state, sockets of its
# own; the CRI plugin off), stopped by its pid when the test ends, and the
# image imported into it from podman. OCI_CTR: ctr and its address.
oci_ctr_up() {
	oci_rt
	command -v containerd >/dev/null && command -v ctr >/dev/null ||
		skip "containerd is not installed (make deps installs it)"
	case $(cat "$H/engine-podman" 2>/dev/null) in
	ok) ;;
	skip:*) skip "podman (the image's source) unavailable: $(sed 's/^skip: *//' "$H/engine-podman")" ;;
	*) fail "podman (the image's source) unusable: $(sed 's/^fail: *//' "$H/engine-podman" 2>/dev/null)" ;;
	esac
	local d=$T/ctd i t0
	mkdir -p "$d" && chmod 0700 "$d"
	# /run/containerd/{fifo,runc,s}: ctr and the shim make them; removed at
	# the end only if this test made them
	OCI_CTR_RUNDIRS=
	for i in fifo runc s; do [ -e "/run/containerd/$i" ] || OCI_CTR_RUNDIRS+=" /run/containerd/$i"; done
	[ -e /run/containerd ] || OCI_CTR_RUNDIRS+=" /run/containerd"
	cat >"$d/config.toml" <<-TOML
		version = 2
		root = "$d/root"
		state = "$d/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$d/c.sock"
		[ttrpc]
		  address = "$d/c.sock.ttrpc"
		[debug]
		  address = "$d/debug.sock"
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$d/opt"
	TOML
	t0=$(now_us)
	containerd --config "$d/config.toml" </dev/null >"$d/log" 2>&1 &
	OCI_CTD_PID=$!
	on_exit oci_ctr_down
	OCI_CTR=(ctr -a "$d/c.sock")
	for ((i = 0; i < 300; i++)); do
		[ -S "$d/c.sock" ] && "${OCI_CTR[@]}" version >/dev/null 2>&1 && break
		kill -0 "$OCI_CTD_PID" 2>/dev/null || break
		sleep 0.1
	done
	"${OCI_CTR[@]}" version >/dev/null 2>&1 || {
		detail "containerd log: $(tail -c 1500 "$d/log")"
		fail "the private containerd did not come up in 30 s"
	}
	set -o pipefail
	if ! podman save "$OCI_IMAGE" 2>"$d/save.err" | timeout 300 "${OCI_CTR[@]}" images import - >"$d/import.out" 2>&1; then
		set +o pipefail
		detail "podman save: $(head -c 500 "$d/save.err"); ctr import: $(head -c 500 "$d/import.out")"
		fail "importing $OCI_IMAGE into the private containerd failed"
	fi
	set +o pipefail
	"${OCI_CTR[@]}" images ls -q | grep -qxF "$OCI_IMAGE" ||
		fail "$OCI_IMAGE is not in the private containerd after the import: $("${OCI_CTR[@]}" images ls -q | tr '\n' ' ')"
	note "containerd up and $OCI_IMAGE imported in $((($(now_us) - t0) / 1000)) ms"
	OCI_CTR_ROOT=$T/root
	OCI_STATE_ROOT=$OCI_CTR_ROOT/default
	OCI_CRUN=(run --runc-binary "$OCI_RT" --runc-root "$OCI_CTR_ROOT")
}

oci_ctr_down() {
	local d=$T/ctd i p
	if [ -n "${OCI_CTD_PID:-}" ]; then
		# tasks and containers of the test first (the shims exit with them)
		for i in $("${OCI_CTR[@]}" tasks ls -q 2>/dev/null); do "${OCI_CTR[@]}" tasks kill -s SIGKILL "$i"; done
		sleep 0.2
		for i in $("${OCI_CTR[@]}" tasks ls -q 2>/dev/null); do "${OCI_CTR[@]}" tasks delete -f "$i"; done
		for i in $("${OCI_CTR[@]}" containers ls -q 2>/dev/null); do "${OCI_CTR[@]}" containers delete "$i"; done
		kill -TERM "$OCI_CTD_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$OCI_CTD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$OCI_CTD_PID" 2>/dev/null
		wait "$OCI_CTD_PID" 2>/dev/null
	fi
	# shims of this containerd (their command lines name its socket)
	for p in $(oci_live_pids "$d/c.sock"); do kill -KILL "$p"; done
	# mounts under its dirs, deepest first
	awk -v d="$d/" 'index($5, d) == 1 { print length($5) " " $5 }' /proc/self/mountinfo | sort -rn |
		cut -d' ' -f2- | while read -r p; do umount -l "$(printf '%b' "$p")"; done
	for p in $OCI_CTR_RUNDIRS; do rm -rf "$p"; done
	rm -rf "$d"
}

# oci_ctr_id N: a container id (and cgroup name) of this test
oci_ctr_id() {
	local id=sbxtest-oci-$HARNESS_PID-ctr-$BASHPID-$1
	oci_record_id "$id"
	echo "$id"
}

# ctr run --rm: output, exit 0, the exit code 3, -t under script(1); task
# exec, ps and kill (137) on a running task; nothing left after each.
t_oci_ctr() {
	oci_ctr_up
	local id mark cmd i bgpid pid
	id=$(oci_ctr_id 1)
	oci_cmd "${OCI_CTR[@]}" "${OCI_CRUN[@]}" --rm --cgroup "$id" "$OCI_IMAGE" "$id" python3 -c 'print(6 * 7)'
	oci_expect_rc 0 "ctr run --rm print(6*7)"
	[ "$(cat "$T/out")" = 42 ] || oci_fail_out "ctr run --rm: stdout is not 42"
	oci_expect_gone "ctr run --rm" "$id"

	id=$(oci_ctr_id 2)
	oci_cmd "${OCI_CTR[@]}" "${OCI_CRUN[@]}" --rm --cgroup "$id" "$OCI_IMAGE" "$id" python3 -c 'import sys; sys.exit(3)'
	oci_expect_rc 3 "ctr run --rm sys.exit(3)"
	oci_expect_gone "ctr run --rm sys.exit(3)" "$id"

	id=$(oci_ctr_id 3)
	command -v script >/dev/null || fail "script (util-linux) not found"
	cmd=$(printf '%q ' "${OCI_CTR[@]}" "${OCI_CRUN[@]}" --rm -t --cgroup "$id" "$OCI_IMAGE" "$id" \
		sh -c 'test -t 0 && test -t 1 && echo TTY-OK; exit 4')
	oci_cmd script -qec "$cmd" /dev/null
	oci_expect_rc 4 "ctr run -t under script(1)"
	grep -q TTY-OK "$T/out" || oci_fail_out "stdin and stdout are not terminals under ctr run -t"
	oci_expect_gone "ctr run -t" "$id"

	# a running task: exec, ps, kill
	id=$(oci_ctr_id 4)
	mark=sbxmark$BASHPID$RANDOM
	timeout -k 5 120 "${OCI_CTR[@]}" "${OCI_CRUN[@]}" --rm --cgroup "$id" "$OCI_IMAGE" "$id" \
		python3 -c "import time; time.sleep(300)  # $mark" </dev/null >"$T/bg.out" 2>"$T/bg.err" &
	bgpid=$!
	for ((i = 0; i < 300; i++)); do
		pid=$(mark_pids "$mark" | head -n 1)
		[ -n "$pid" ] && "${OCI_CTR[@]}" tasks ls 2>/dev/null | grep -q "^$id .*RUNNING" && break
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$pid" ] || {
		detail "ctr run: $(head -c 800 "$T/bg.err")"
		fail "ctr run (in the background): the task did not start in 30 s"
	}
	oci_cmd "${OCI_CTR[@]}" tasks exec --exec-id "e$BASHPID" "$id" sh -c 'echo exec-out; exit 5'
	oci_expect_rc 5 "ctr task exec sh -c 'echo exec-out; exit 5'"
	[ "$(cat "$T/out")" = exec-out ] || oci_fail_out "ctr task exec: stdout is not exec-out"
	oci_cmd "${OCI_CTR[@]}" tasks ps "$id"
	oci_expect_rc 0 "ctr task ps"
	awk 'NR > 1 { print $1 }' "$T/out" | grep -qxF "$pid" ||
		oci_fail_out "ctr task ps does not list the task's process $pid"
	oci_cmd "${OCI_CTR[@]}" tasks kill -s SIGKILL "$id"
	oci_expect_rc 0 "ctr task kill -s SIGKILL"
	for ((i = 0; i < 300; i++)); do
		kill -0 "$bgpid" 2>/dev/null || break
		sleep 0.1
	done
	wait "$bgpid"
	RC=$?
	LAST_ARGS="ctr run --rm (killed by ctr task kill -s SIGKILL)"
	cp "$T/bg.out" "$T/out"
	cp "$T/bg.err" "$T/err"
	oci_expect_rc 137 "ctr run of a task killed with SIGKILL"
	oci_expect_gone "ctr run + task exec/ps/kill" "$id" "$mark"
	# nothing of the test's in the runtime's root
	[ -z "$(ls -A "$OCI_STATE_ROOT" 2>/dev/null)" ] ||
		fail "state left in $OCI_STATE_ROOT: $(ls -A "$OCI_STATE_ROOT" | tr '\n' ' ')"
}

# The Kubernetes RuntimeClass snippet (docs/oci.md) is accepted by this
# containerd: `containerd config dump` shows the runtime merged.
t_oci_ctr_runtimeclass() {
	command -v containerd >/dev/null || skip "containerd is not installed (make deps installs it)"
	local f=$T/rc.toml
	cat >"$f" <<-TOML
		version = 2
		root = "$T/rc/root"
		state = "$T/rc/state"
		[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sbx]
		  runtime_type = "io.containerd.runc.v2"
		  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sbx.options]
		    BinaryName = "/usr/local/bin/sbx-oci"
		    Root = "/run/sbx-oci"
		    SystemdCgroup = false
	TOML
	oci_cmd containerd --config "$f" config dump
	oci_expect_rc 0 "containerd config dump"
	awk '/^ *\[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.sbx\]/ { s = 1; next }
		s && /^ *\[/ && !/runtimes.sbx.options\]/ { s = 0 }
		s' "$T/out" >"$T/sbx.toml"
	grep -q 'runtime_type = "io.containerd.runc.v2"' "$T/sbx.toml" &&
		grep -q 'BinaryName = "/usr/local/bin/sbx-oci"' "$T/sbx.toml" &&
		grep -q 'Root = "/run/sbx-oci"' "$T/sbx.toml" &&
		grep -q 'SystemdCgroup = false' "$T/sbx.toml" ||
		oci_fail_out "the runtime sbx is not in containerd's merged config as written"
	[ ! -e "$T/rc" ] || fail "containerd config dump created $T/rc"
}
