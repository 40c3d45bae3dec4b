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
#   cgroup parent /sbxtest-oci-PID, and the image sbx-python:latest (the
#   drivers' image, imported from the rootfs by engines.sh when missing).
# - t_oci_ctr_*: a private containerd (its own root, state and sockets in
#   $T; the CRI plugin off) started and stopped by the test, the image
#   imported with `podman save | ctr images import`, `ctr run
#   --runc-binary RUNTIME --runc-root $T/root --cgroup sbxtest-oci-...`.
# After each: no container process, no cgroup, no state dir may be left.

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
	done < <(awk '{ for (i = 7; $i != "-"; i++) ; if (($(i + 1) == "cgroup" || $(i + 1) == "cgroup2") && index($5, "/sys/fs/cgroup/") == 1) print $5, $(i + 1), $(i + 3) }' /proc/self/mountinfo)
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

# oci_cg_procs: pids still in the sub-cgroups of $T/binds (recursively)
oci_cg_procs() {
	local mp dir
	while read -r mp dir; do
		[ -d "$dir" ] && find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null
	done <"$T/binds" | sort -un
}

# oci_cg_remove: kill what is left in the sub-cgroups, remove them (deepest first).
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
		for ((i = 0; i < 50; i++)); do
			[ -d "$dir" ] || break
			find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
			sleep 0.05
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
	oci_cg_subtree "sbxtest-oci-suite-$BASHPID"
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
	local tot_r=0 tot_s=0 totn_r=0 totn_s=0 missing=0 progs=0 progs_r=0 lost_progs=0 leftbad=""
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
	} >>"$tab"
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
