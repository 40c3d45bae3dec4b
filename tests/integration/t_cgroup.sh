# shellcheck shell=bash
# cgroup: memory/pids/cpu limits hold, and the sbx-<id> cgroups are where
# the contract says with the limits written. The harness never creates
# cgroups except the --cgroup-parent test's parent under its own cgroups.

t_cgroup_memory_oom() {
	run_sbx run --memory 64M --json -- python3 -c '
a = []
for i in range(512):
    a.append(b"x" * (1 << 20))
print("survived")'
	expect_rc 137 "allocating 512 MB under --memory 64M"
	grep -q survived "$T/out" && fail_out "the allocation succeeded"
	[ "$(json_get oom_killed)" = true ] || fail_out "oom_killed is not true"
	[ "$(json_get exit_code)" = 137 ] || fail_out "exit_code is not 137"
	[ "$(json_get signal)" = 9 ] || fail_out "signal is not 9"
}

t_cgroup_pids_limit() {
	run_sbx run --pids 20 --timeout 20s -- python3 -c '
import os, sys, time
n = 0
try:
    for i in range(100):
        pid = os.fork()
        if pid == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    print("NOLIMIT", n)
except BlockingIOError as e:
    print("EAGAIN", n)
sys.stdout.flush()
os._exit(0)'
	expect_rc 0
	local r
	r=$(cat "$T/out")
	case $r in
	"EAGAIN "*) [ "${r#EAGAIN }" -lt 20 ] || fail_out "forked ${r#EAGAIN } children under --pids 20" ;;
	*) fail_out "fork never failed with EAGAIN under --pids 20" ;;
	esac
	[ "$ELAPSED_MS" -lt 10000 ] || fail_out "took ${ELAPSED_MS}ms: the sleeping children kept the sandbox alive"
}

t_cgroup_fork_bomb() {
	local mark
	mark=$(new_mark)
	sbx_start bomb run --pids 20 --timeout 6s -- python3 -c '
import os
while True:
    try:
        os.fork()
    except OSError:
        pass' "$mark"
	sleep 3
	local n max=0 i
	for i in 1 2 3 4 5; do
		n=$(mark_pids "$mark" | wc -l)
		[ "$n" -gt "$max" ] && max=$n
		sleep 0.2
	done
	sbx_wait bomb 40
	case $RC in 124 | 0 | 1 | 137) ;; *) fail_out "fork bomb ended with exit $RC" ;; esac
	[ "$ELAPSED_MS" -lt 20000 ] || fail_out "the fork bomb sandbox took ${ELAPSED_MS}ms to end"
	[ "$max" -le 20 ] || fail_out "saw $max bomb processes with --pids 20"
	[ "$max" -ge 2 ] || note "saw only $max bomb processes while it ran"
	# host fine
	local t0 t1
	t0=$(now_us)
	/bin/true || fail "the host cannot fork"
	t1=$(now_us)
	[ $((t1 - t0)) -lt 2000000 ] || fail "the host is sluggish after the bomb"
}

CPU_BUSY_PY='
import time
t = time.time()
while time.time() - t < 1.5:
    pass'

# cpu_ratio100: 100 * cpu_ms / duration_ms of the last --json run
cpu_ratio100() {
	local cpu dur
	cpu=$(json_get cpu_ms)
	dur=$(json_get duration_ms)
	[[ $cpu =~ ^[0-9]+$ ]] && [[ $dur =~ ^[0-9]+$ ]] && [ "$dur" -gt 0 ] ||
		fail_out "cpu_ms '$cpu' / duration_ms '$dur' are not numbers"
	echo $((cpu * 100 / dur))
}

t_cgroup_cpu_quota() {
	local r02 r1 try
	run_sbx run --cpus 0.2 --json -- python3 -c "$CPU_BUSY_PY"
	expect_rc 0
	r02=$(cpu_ratio100) || exit 1
	[ "$r02" -lt 50 ] || fail_out "--cpus 0.2: cpu_ms/duration_ms = 0.$r02 (want < 0.5)"
	# the unthrottled ratio can only be lowered by other load on the host:
	# up to three tries
	local all=
	for try in 1 2 3; do
		run_sbx run --cpus 1 --json -- python3 -c "$CPU_BUSY_PY"
		expect_rc 0
		r1=$(cpu_ratio100) || exit 1
		all+=" 0.$r1"
		[ "$r1" -gt 70 ] && break
		sleep 1
	done
	[ "$r1" -gt 70 ] || fail_out "--cpus 1: cpu_ms/duration_ms =$all (want > 0.7); host load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
	note "cpu ratio: --cpus 0.2 -> 0.$r02, --cpus 1 -> 0.$r1"
}

# Start a sandbox that waits for $sync/go; sets CG_MARK. Args: extra sbx options.
start_waiting_sandbox() {
	CG_SYNC=$(mk_sync)
	CG_MARK=$(new_mark)
	sbx_start W run "$@" --workspace "$CG_SYNC:rw" -- python3 -c '
import os, time
open("/workspace/ready", "w").close()
for i in range(600):
    if os.path.exists("/workspace/go"):
        break
    time.sleep(0.05)' "$CG_MARK"
	wait_for_file "$CG_SYNC/ready" 20 || {
		sbx_wait W 30
		fail_out "sandbox did not start"
	}
}

finish_waiting_sandbox() {
	touch "$CG_SYNC/go"
	sbx_wait W 30
	expect_rc 0
}

# check_sandbox_cgroups PARENT_REL: for memory/cpu/pids the sandbox's
# processes are in <own cgroup>[/PARENT_REL]/sbx-<id> with the limits of
# start_waiting_sandbox (64M, 0.5 cpu, 37 pids). Sets CG_DIRS.
check_sandbox_cgroups() {
	local rel=$1 pids p c own base path name dir bad=
	pids=$(mark_pids "$CG_MARK")
	[ -n "$pids" ] || fail "no sandbox process found from the host"
	CG_DIRS=()
	for c in memory cpu pids; do
		own=$(cg_own "$c" "$BASHPID")
		base=${own%/}${rel:+/$rel}
		for p in $pids; do
			path=$(cg_own "$c" "$p")
			case $path in
			"$base"/sbx-*) ;;
			*) bad+=" $c: pid $p is in '$path', not under $base/sbx-*;"; continue 2 ;;
			esac
		done
		path=$(cg_own "$c" "$(echo "$pids" | head -n 1)")
		name=${path#"$base"/}
		name=${name%%/*}
		dir=$(cg_dir "$c" "$base/$name")
		[ -d "$dir" ] || { bad+=" $c: $dir missing;"; continue; }
		CG_DIRS+=("$dir")
		case $c in
		memory)
			[ "$(cat "$dir/memory.limit_in_bytes")" = 67108864 ] ||
				bad+=" memory.limit_in_bytes=$(cat "$dir/memory.limit_in_bytes");"
			;;
		cpu)
			local q per
			q=$(cat "$dir/cpu.cfs_quota_us")
			per=$(cat "$dir/cpu.cfs_period_us")
			[ "$q" -gt 0 ] && [ $((q * 1000 / per)) = 500 ] || bad+=" cpu quota $q/$per (want 0.5);"
			;;
		pids)
			[ "$(cat "$dir/pids.max")" = 37 ] || bad+=" pids.max=$(cat "$dir/pids.max");"
			;;
		esac
		# every sandbox process is in there (or below)
		local inside
		inside=$(find "$dir" -name cgroup.procs -exec cat {} + 2>/dev/null | tr '\n' ' ')
		for p in $pids; do
			[[ " $inside " == *" $p "* ]] || bad+=" $c: pid $p not in $dir/cgroup.procs;"
		done
	done
	[ -z "$bad" ] || fail "sandbox cgroups:$bad"
}

t_cgroup_dirs_and_limits() {
	local c
	for c in memory cpu pids; do
		[ -n "$(cg_mount "$c")" ] || skip "no cgroup v1 $c hierarchy on this host"
	done
	start_waiting_sandbox --memory 64M --cpus 0.5 --pids 37
	check_sandbox_cgroups ""
	local dirs=("${CG_DIRS[@]}")
	finish_waiting_sandbox
	local d i
	for ((i = 0; i < 40; i++)); do
		local left=
		for d in "${dirs[@]}"; do [ -d "$d" ] && left+=" $d"; done
		[ -z "$left" ] && return 0
		sleep 0.05
	done
	fail "sandbox cgroups still there after sbx exited:$left"
}

t_cgroup_parent() {
	local c name dir
	for c in memory cpu pids; do
		[ -n "$(cg_mount "$c")" ] || skip "no cgroup v1 $c hierarchy on this host"
	done
	name=sbxtest-parent-$BASHPID
	local parents=()
	for c in memory cpu pids; do
		dir=$(cg_dir "$c" "$(cg_own "$c" "$BASHPID")")/$name
		mkdir "$dir" || fail "cannot create test parent cgroup $dir"
		parents+=("$dir")
		on_exit "rmdir '$dir'"
	done
	# relative --cgroup-parent: under the runtime's own cgroup in each hierarchy
	start_waiting_sandbox --memory 64M --cpus 0.5 --pids 37 --cgroup-parent "$name"
	check_sandbox_cgroups "$name"
	finish_waiting_sandbox
	local d i left
	for ((i = 0; i < 40; i++)); do
		left=$(find "${parents[@]}" -mindepth 1 -maxdepth 1 -type d -name 'sbx-*' 2>/dev/null)
		[ -z "$left" ] && break
		sleep 0.05
	done
	[ -z "$left" ] || fail "sandbox cgroups left under the parent: $left"
	for d in "${parents[@]}"; do
		[ -d "$d" ] || fail "the runtime removed the --cgroup-parent dir $d"
	done
}
