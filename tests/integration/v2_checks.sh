#!/bin/bash
# tests/integration/v2_checks.sh SBX_BINARY — the runtime's cgroup v2 path.
#
# Meant to run as root on a pure cgroup v2 host: the guest that
# tools/vmtest/run-v2-suite boots (this CI host is cgroup v1/hybrid).  On any
# other host every check after the first fails with "not a pure cgroup v2
# host", and nothing is created.
#
# Each check_* function prints nothing on success and "why" on failure (and
# returns non-zero); run_check prints "PASS name" or "FAIL name: why", then
# verifies nothing was left behind (no sbx-* cgroup, no process in a foreign
# pid namespace) and cleans up what was.  Last line: "N passed, N failed".
# Exit status 1 if anything failed.
#
# Uses no python/jq on the host: python3 runs only inside the sandboxes.

set -u
if [ $# -ne 1 ]; then
    echo "usage: $0 SBX_BINARY" >&2
    exit 2
fi
case $1 in /*) SBX=$1 ;; *) SBX=$PWD/$1 ;; esac
CG=/sys/fs/cgroup
W=$(mktemp -d /tmp/v2checks.XXXXXX) || exit 2
trap 'rm -rf "$W"' EXIT
SBX_TIMEOUT=${SBX_TIMEOUT:-90} # outer bound on any one sbx invocation (TCG is slow)
passed=0 failed=0

is_pure_v2() {
    [ "$(stat -fc %T $CG 2>/dev/null)" = cgroup2fs ] &&
        ! awk '$3 == "cgroup" { found = 1 } END { exit !found }' /proc/mounts
}
PURE_V2=0
is_pure_v2 && PURE_V2=1

# ------------------------------------------------------------------ helpers

# sbx TAG ARGS...: run "sbx run ARGS..." with SBX_DEBUG=1 in the foreground;
# stdout/stderr in $W/TAG.out/.err, exit status in RC.
sbx() {
    local tag=$1
    shift
    SBX_DEBUG=1 timeout -k 5 "$SBX_TIMEOUT" "$SBX" run "$@" >"$W/$tag.out" 2>"$W/$tag.err" </dev/null
    RC=$?
}
# sbx_bg TAG ARGS...: the same in the background; its pid in BG.
sbx_bg() {
    local tag=$1
    shift
    SBX_DEBUG=1 timeout -k 5 "$SBX_TIMEOUT" "$SBX" run "$@" >"$W/$tag.out" 2>"$W/$tag.err" </dev/null &
    BG=$!
}
# the debug line(s) of a run, for failure messages
dbg() { grep -h "sbx-debug: $2" "$W/$1.err" 2>/dev/null | head -n 3 | tr '\n' ' '; }
# last lines of stderr without debug lines, for failure messages
errtail() { grep -v '^sbx-debug:' "$W/$1.err" 2>/dev/null | tail -n 3 | tr '\n' ' ' | sed 's/ *$//'; }
# "exit N; stderr: ...; debug: ..." for failure messages (DEBUG_KEY optional)
ctx() {
    local e d
    e=$(errtail "$1")
    [ -n "${3:-}" ] && d=$(dbg "$1" "$3" | sed 's/ *$//')
    printf 'exit %s%s%s' "$2" "${e:+; stderr: $e}" "${d:+; debug: $d}"
}

has_procs() { # DIR: its cgroup.procs is not empty (builtins only)
    local x=
    { IFS= read -r x <"$1/cgroup.procs"; } 2>/dev/null
    [ -n "$x" ]
}

# cg_of TAG CTRL [SECS]: the v2 cgroup dir sbx reported for CTRL
# ("sbx-debug: cgroup CTRL v2 PATH") once it has processes; waits up to SECS
# while the sbx started by sbx_bg runs.  Falls back to any sbx-* cgroup with
# processes when sbx prints no such line.
cg_of() {
    local tag=$1 ctrl=$2 secs=${3:-60} i p line d
    for ((i = 0; i < secs * 10; i++)); do
        p=
        while IFS= read -r line; do
            case $line in "sbx-debug: cgroup $ctrl v2 "*) p=${line#"sbx-debug: cgroup $ctrl v2 "}; break ;; esac
        done <"$W/$tag.err"
        if [ -n "$p" ] && has_procs "$p"; then
            echo "$p"
            return 0
        fi
        if [ -z "$p" ] && [ $i -gt 20 ]; then
            for d in $(sbx_cgroups); do
                has_procs "$d" && { echo "$d"; return 0; }
            done
        fi
        kill -0 "${BG:-0}" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# key VALUE from a flat JSON object ("key": value), strings unquoted
json_get() {
    sed -n "s/.*\"$2\"[[:space:]]*:[[:space:]]*\(\"[^\"]*\"\|[^,}]*\).*/\1/p" "$1" | head -n 1 | tr -d '"'
}

stat_key() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }

# Processes in a pid namespace other than ours, as "pid:starttime" (a
# recycled pid is then a different entry).  Bash builtins only: every fork
# and exec is slow in the emulated guest.
foreign_procs() {
    local d line rest
    for d in /proc/[0-9]*; do
        [ -e "$d/ns/pid" ] && ! [ "$d/ns/pid" -ef /proc/$$/ns/pid ] || continue
        { read -r line <"$d/stat"; } 2>/dev/null || continue
        rest=${line##*) }
        # shellcheck disable=SC2086
        set -- $rest
        echo "${d#/proc/}:${20}"
    done
}
# sbx-* cgroups, up to 5 levels deep
sbx_cgroups() {
    local d
    for d in $CG/sbx-* $CG/*/sbx-* $CG/*/*/sbx-* $CG/*/*/*/sbx-* $CG/*/*/*/*/sbx-*; do
        [ -d "$d" ] && echo "$d"
    done
}
snapshot() { sbx_cgroups; foreign_procs; }
# Cleaning up is only done in the vmtest guest, where nothing else runs: on
# any other host, leftovers are reported, never touched.
IN_VMTEST_GUEST=0
[ -d /run/vmtest/io ] && [ "$(hostname)" = vmtest ] && IN_VMTEST_GUEST=1

# What a check left behind (new since the snapshot BEFORE); waits up to 3 s
# for teardown to finish.
leftovers() {
    local before=$1 i new cgs pids x
    for ((i = 0; i < 30; i++)); do
        new=
        while read -r x; do
            [ -n "$x" ] && [[ $'\n'$before$'\n' != *$'\n'$x$'\n'* ]] && new+=$x$'\n'
        done < <(snapshot)
        [ -z "$new" ] && return 0
        sleep 0.1
    done
    cgs=$(echo "$new" | grep '^/') pids=$(echo "$new" | grep -v '^/' | cut -d: -f1)
    [ -n "$cgs" ] && echo "cgroups left: $(echo $cgs)"
    [ -n "$pids" ] && echo "processes left in a foreign pid namespace: $(for p in $pids; do
        printf '%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"
    done)"
    [ $IN_VMTEST_GUEST = 1 ] || return 1
    # clean up so that the next checks start from a clean state
    local order
    order=$(echo "$cgs" | awk 'NF { print length, $0 }' | sort -rn | cut -d' ' -f2-)
    for d in $order; do echo 1 >"$d/cgroup.kill"; done 2>/dev/null
    for p in $pids; do kill -KILL "$p"; done 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        for d in $order; do [ -d "$d" ] && rmdir "$d"; done 2>/dev/null
        [ -z "$(for d in $order; do [ -d "$d" ] && echo "$d"; done)" ] && break
        sleep 0.1
    done
    return 1
}

run_check() {
    local name=$1 why left before rc t0
    t0=$EPOCHREALTIME
    if [ "$name" != host_pure_v2 ] && [ $PURE_V2 != 1 ]; then
        # never start anything on a host this is not meant for
        echo "FAIL $name: not run: not a pure cgroup v2 host"
        failed=$((failed + 1))
        return
    fi
    before=
    [ $PURE_V2 = 1 ] && before=$(snapshot)
    why=$("check_$name" 2>&1)
    rc=$?
    left=
    [ $PURE_V2 = 1 ] && left=$(leftovers "$before")
    if [ $rc -eq 0 ] && [ -z "$left" ]; then
        echo "PASS $name"
        passed=$((passed + 1))
    else
        [ $rc -eq 0 ] && why=
        why=$(printf '%s\n%s\n' "$why" "$left" | awk 'NF { sub(/[[:space:]]+$/, ""); printf "%s%s", (n++ ? "; " : ""), $0 }')
        echo "FAIL $name: ${why:-failed (no reason given)}"
        failed=$((failed + 1))
    fi
    [ -n "${V2_CHECKS_TIMES:-}" ] && echo "# $name took $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s"
    return 0
}

need_v2_and_sbx() {
    [ $PURE_V2 = 1 ] || { echo "not a pure cgroup v2 host (/sys/fs/cgroup is $(stat -fc %T $CG 2>/dev/null))"; return 1; }
    [ -x "$SBX" ] && [ ! -d "$SBX" ] || { echo "$SBX is not an executable file"; return 1; }
}

# ------------------------------------------------------------------ checks

# /sys/fs/cgroup is cgroup2, no v1 hierarchy is mounted, and the memory, cpu
# and pids controllers are available.
check_host_pure_v2() {
    local t c ctrls
    t=$(stat -fc %T $CG 2>/dev/null)
    [ "$t" = cgroup2fs ] || { echo "/sys/fs/cgroup is '$t', not cgroup2fs"; return 1; }
    if awk '$3 == "cgroup"' /proc/mounts | grep -q .; then
        echo "cgroup v1 hierarchies mounted: $(awk '$3 == "cgroup" { print $2 }' /proc/mounts | tr '\n' ' ')"
        return 1
    fi
    ctrls=$(cat $CG/cgroup.controllers)
    for c in memory cpu pids; do
        [[ " $ctrls " == *" $c "* ]] || { echo "controller $c missing (cgroup.controllers: $ctrls)"; return 1; }
    done
}

# --memory 64M and python touching 512 MB: OOM-killed, exit 137, oom_killed
# true in --json, and the memory cgroup used was the v2 one.
check_memory_oom_v2() {
    need_v2_and_sbx || return 1
    sbx mem --json --memory 64M --timeout 60s -- \
        python3 -c 'x = b"x" * (512 << 20); print("allocated", len(x))'
    local ok=0 oom code
    oom=$(json_get "$W/mem.out" oom_killed)
    code=$(json_get "$W/mem.out" exit_code)
    [ "$RC" = 137 ] || { echo "exit status $RC, want 137 ($(ctx mem "$RC"))"; ok=1; }
    [ "$oom" = true ] || { echo "oom_killed '$oom' in --json, want true"; ok=1; }
    [ "$code" = 137 ] || { echo "exit_code '$code' in --json, want 137"; ok=1; }
    grep -q "^sbx-debug: cgroup memory v2 $CG/.*sbx-" "$W/mem.err" ||
        { echo "no 'sbx-debug: cgroup memory v2 $CG/.../sbx-*' line (got: '$(dbg mem 'cgroup memory' | sed 's/ *$//')')"; ok=1; }
    return $ok
}

# --cpus 0.2 while a busy loop runs: cpu.max is "20000 100000" and
# cpu.stat's nr_throttled grows; usage stays near 20% of one CPU.
check_cpu_max_throttling() {
    need_v2_and_sbx || return 1
    sbx_bg cpu --cpus 0.2 --timeout 60s -- sh -c 'timeout 3 sh -c "while :; do :; done"; exit 0'
    local p ok=0 max n1 n2 u1 u2 t1 t2
    if ! p=$(cg_of cpu cpu); then
        wait $BG
        echo "no running sandbox cgroup found ($(ctx cpu $? 'cgroup '))"
        return 1
    fi
    max=$(cat "$p/cpu.max" 2>/dev/null)
    n1=$(stat_key "$p/cpu.stat" nr_throttled) u1=$(stat_key "$p/cpu.stat" usage_usec) t1=$EPOCHREALTIME
    sleep 1.5
    n2=$(stat_key "$p/cpu.stat" nr_throttled) u2=$(stat_key "$p/cpu.stat" usage_usec) t2=$EPOCHREALTIME
    wait $BG
    local rc=$?
    [ "$max" = "20000 100000" ] || { echo "cpu.max is '$max', want '20000 100000'"; ok=1; }
    if [ -z "$n1" ] || [ -z "$n2" ]; then
        echo "could not read nr_throttled from $p/cpu.stat (sandbox ended too early?)"
        ok=1
    elif [ "$n2" -le "$n1" ]; then
        echo "nr_throttled did not grow ($n1 -> $n2 in 1.5 s)"
        ok=1
    fi
    if [ -n "$u1" ] && [ -n "$u2" ]; then
        local share
        share=$(awk -v a="$u1" -v b="$u2" -v s="$t1" -v e="$t2" 'BEGIN { printf "%.2f", (b - a) / ((e - s) * 1e6) }')
        awk -v x="$share" 'BEGIN { exit !(x > 0.35) }' &&
            { echo "used $share of a CPU with --cpus 0.2"; ok=1; }
    fi
    [ $rc = 0 ] || { echo "sandbox exit status $rc, want 0 ($(ctx cpu $rc))"; ok=1; }
    return $ok
}

# --pids 20 and a python fork bomb: fork fails with EAGAIN inside, the
# sandbox survives to report it, pids.max reads 20 while it runs.
check_pids_max() {
    need_v2_and_sbx || return 1
    cat >"$W/forkbomb.py" <<'EOF'
import os, sys, time
n = 0
try:
    while n < 1000:
        if os.fork() == 0:
            time.sleep(60)
            os._exit(0)
        n += 1
    print("forkbomb: never blocked after", n, "forks", flush=True)
except OSError as e:
    print("forkbomb: blocked after", n, "forks: errno", e.errno, flush=True)
time.sleep(2)  # stay alive so the host can read pids.*
EOF
    sbx_bg pids --pids 20 --timeout 60s -- python3 -c "$(cat "$W/forkbomb.py")"
    local p ok=0 max cur ev i
    if ! p=$(cg_of pids pids); then
        wait $BG
        echo "no running sandbox cgroup found ($(ctx pids $? 'cgroup '))"
        return 1
    fi
    max=$(cat "$p/pids.max" 2>/dev/null)
    for ((i = 0; i < 300; i++)); do
        grep -q '^forkbomb:' "$W/pids.out" && break
        kill -0 $BG 2>/dev/null || break
        sleep 0.1
    done
    cur=$(cat "$p/pids.current" 2>/dev/null)
    ev=$(stat_key "$p/pids.events" max)
    wait $BG
    local rc=$?
    [ "$max" = 20 ] || { echo "pids.max is '$max', want 20"; ok=1; }
    [ -z "$cur" ] || [ "$cur" -le 20 ] || { echo "pids.current $cur > 20"; ok=1; }
    [ -z "$ev" ] || [ "$ev" -gt 0 ] || { echo "pids.events max is $ev, want > 0"; ok=1; }
    grep -q '^forkbomb: blocked after [0-9]* forks: errno 11$' "$W/pids.out" ||
        { echo "fork did not fail with EAGAIN (stdout: $(head -c 200 "$W/pids.out" | tr '\n' ' '))"; ok=1; }
    [ $rc = 0 ] || { echo "sandbox exit status $rc, want 0 ($(ctx pids $rc))"; ok=1; }
    return $ok
}

# --timeout 1s of a process tree that ignores SIGTERM: exit 124, promptly,
# and the processes were killed with cgroup.kill.
check_cgroup_kill_teardown() {
    need_v2_and_sbx || return 1
    local t0 secs ok=0
    t0=$EPOCHREALTIME
    sbx kill --timeout 1s -- sh -c 'trap "" TERM; sleep 60 & sleep 60 & sh -c "sleep 60 & sleep 60" & wait; wait'
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    [ "$RC" = 124 ] || { echo "exit status $RC, want 124 ($(ctx kill "$RC"))"; ok=1; }
    grep -q '^sbx-debug: kill cgroup.kill$' "$W/kill.err" ||
        { echo "teardown not by cgroup.kill (got: '$(dbg kill 'kill ' | sed 's/ *$//')')"; ok=1; }
    awk -v s="$secs" 'BEGIN { exit !(s > 20) }' && { echo "took $secs s for a 1 s timeout"; ok=1; }
    return $ok
}

# The sandbox's first process is created directly in its cgroup
# (clone3 CLONE_INTO_CGROUP).
check_clone_into_cgroup() {
    need_v2_and_sbx || return 1
    sbx clone -- true
    local line
    line=$(grep -m1 '^sbx-debug: clone_into_cgroup' "$W/clone.err")
    if [ "$line" != "sbx-debug: clone_into_cgroup yes" ]; then
        echo "${line:-no 'sbx-debug: clone_into_cgroup' line} ($(ctx clone "$RC"))"
        return 1
    fi
    [ "$RC" = 0 ] || { echo "exit status $RC, want 0 ($(ctx clone "$RC"))"; return 1; }
}

# "No internal processes": every non-root cgroup that delegates controllers
# (non-empty cgroup.subtree_control) has an empty cgroup.procs.
internal_process_violations() {
    local d sc procs
    # (builtins only: this runs while a short-lived sandbox is alive)
    for d in $CG/*/ $CG/*/*/ $CG/*/*/*/ $CG/*/*/*/*/ $CG/*/*/*/*/*/; do
        [ -f "$d/cgroup.subtree_control" ] || continue
        sc='' procs=''
        { IFS= read -r sc <"$d/cgroup.subtree_control"; } 2>/dev/null
        [ -n "$sc" ] || continue
        { IFS= read -r -d '' procs <"$d/cgroup.procs"; } 2>/dev/null
        procs=${procs//$'\n'/ }
        procs=${procs% }
        d=${d%/}
        [ -n "${procs// /}" ] && echo "${d#"$CG"} has controllers '$sc' and processes $procs"
    done
    return 0
}

# While a sandbox runs its cgroup is a leaf (empty subtree_control) and
# no cgroup breaks the no-internal-processes rule.
check_no_internal_processes() {
    need_v2_and_sbx || return 1
    sbx_bg leaf --timeout 60s -- sleep 2
    local p ok=0 sc bad
    if ! p=$(cg_of leaf memory); then
        wait $BG
        echo "no running sandbox cgroup found ($(ctx leaf $? 'cgroup '))"
        return 1
    fi
    sc=$(cat "$p/cgroup.subtree_control")
    bad=$(internal_process_violations)
    wait $BG
    local rc=$?
    [ -z "$sc" ] || { echo "${p#"$CG"} is not a leaf: subtree_control '$sc'"; ok=1; }
    [ -z "$bad" ] || { echo "$bad"; ok=1; }
    [ $rc = 0 ] || { echo "sandbox exit status $rc, want 0 ($(ctx leaf $rc))"; ok=1; }
    return $ok
}

# The production layout: sbx runs in a non-root cgroup that has processes
# (a service), sandboxes go under an empty --cgroup-parent.
check_cgroup_parent() {
    need_v2_and_sbx || return 1
    local svc=$CG/sbxtest-svc-$$ parent=$CG/sbxtest-parent-$$ ok=0 p rc bad
    mkdir -p "$svc" "$parent" || { echo "cannot create test cgroups"; return 1; }
    (
        echo $BASHPID >"$svc/cgroup.procs" || exit 99
        sbx_bg parent --cgroup-parent "/${parent#"$CG"/}" --pids 20 --timeout 60s -- sleep 2
        if p=$(cg_of parent pids); then
            echo "cgroup=$p"
            echo "leaf=$(cat "$p/cgroup.subtree_control")"
            echo "pidsmax=$(cat "$p/pids.max")"
            internal_process_violations | sed 's/^/bad=/'
        fi
        wait $BG
        echo "rc=$?"
    ) >"$W/parent.res" 2>&1
    rc=$(sed -n 's/^rc=//p' "$W/parent.res")
    p=$(sed -n 's/^cgroup=//p' "$W/parent.res")
    bad=$(sed -n 's/^bad=//p' "$W/parent.res")
    if [ -z "$p" ]; then
        echo "no running sandbox cgroup found ($(ctx parent "${rc:-?}" 'cgroup '))"
        ok=1
    else
        [[ $(echo "$p" | tr -s /) == "$parent"/sbx-* ]] || { echo "sandbox cgroup $p is not under $parent"; ok=1; }
        [ "$(sed -n 's/^leaf=//p' "$W/parent.res")" = "" ] || { echo "$p is not a leaf"; ok=1; }
        [ "$(sed -n 's/^pidsmax=//p' "$W/parent.res")" = 20 ] || { echo "pids.max is not 20"; ok=1; }
        [ -z "$bad" ] || { echo "$bad"; ok=1; }
        [ "$rc" = 0 ] || { echo "sandbox exit status $rc, want 0 ($(ctx parent "$rc"))"; ok=1; }
    fi
    # the sandbox cgroup must be gone (give teardown 3 s), then remove ours
    local i left
    for ((i = 0; i < 30; i++)); do
        left=$(for d in "$parent"/*/; do [ -d "$d" ] && echo "${d%/}"; done)
        [ -z "$left" ] && break
        sleep 0.1
    done
    if [ -n "$left" ]; then
        echo "cgroups left under $parent: $(echo $left)"
        ok=1
        if [ $IN_VMTEST_GUEST = 1 ]; then
            for d in $left; do echo 1 >"$d/cgroup.kill"; done 2>/dev/null
            sleep 0.5
            for d in $left; do rmdir "$d"; done 2>/dev/null
        fi
    fi
    rmdir "$svc" "$parent" 2>/dev/null || { echo "cannot remove $svc and $parent"; ok=1; }
    return $ok
}

# ------------------------------------------------------------------ main

echo "# v2 checks: sbx $SBX; kernel $(uname -r); $CG is $(stat -fc %T $CG 2>/dev/null)" \
    "with controllers: $(cat $CG/cgroup.controllers 2>/dev/null)"
CHECKS=(
    host_pure_v2
    memory_oom_v2
    cpu_max_throttling
    pids_max
    cgroup_kill_teardown
    clone_into_cgroup
    no_internal_processes
    cgroup_parent
)
for c in "${CHECKS[@]}"; do
    run_check "$c"
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
