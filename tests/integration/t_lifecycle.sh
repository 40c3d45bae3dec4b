# shellcheck shell=bash
# lifecycle: long-lived sandboxes — create, exec, read, write, ls, inspect,
# stop, start, rm, idle timeout, a killed supervisor, the C API.
#
# Every test keeps its sandboxes' state in $T/state and $T/run
# (SBX_STATE_DIR, SBX_RUN_DIR), so tests are independent and whatever a
# test leaves running is found by the harness's leak check; a failing test
# removes its sandboxes with `rm -f` on the way out.

# ---------------------------------------------------------------- helpers

# lc_setup: per-test state/run dirs, and `rm -f` of every sandbox at exit.
lc_setup() {
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	on_exit lc_cleanup
}

lc_cleanup() {
	local d
	for d in "$SBX_STATE_DIR"/sandboxes/*; do
		[ -d "$d" ] && "$SBX" rm -f "${d##*/}"
	done
}

# lc_ok WHAT ARGS...: run sbx ARGS, which must exit 0.
lc_ok() {
	local what=$1
	shift
	run_sbx "$@"
	expect_rc 0 "$what"
}

# lc_state NAME: sets LS_STATE to NAME's STATE column in `sbx ls` (empty if
# not listed).
lc_state() {
	run_sbx ls
	expect_rc 0 "sbx ls"
	LS_STATE=$(awk -v n="$1" 'NR > 1 && $1 == n { print $2 }' "$T/out")
}

# lc_wait_state NAME STATE SECONDS: poll `sbx ls` until NAME shows STATE.
lc_wait_state() {
	local end=$(($(now_us) + $3 * 1000000))
	while :; do
		lc_state "$1"
		[ "$LS_STATE" = "$2" ] && return 0
		(($(now_us) > end)) && return 1
		sleep 0.1
	done
}

# lc_pstart PID: start time of a live (non-zombie) process, else nothing.
lc_pstart() {
	local l
	read -r l <"/proc/$1/stat" 2>/dev/null || return 1
	l=${l##*) }
	# shellcheck disable=SC2086
	set -- $l
	[ "$1" = Z ] || [ "$1" = X ] && return 1
	echo "${20}"
}

# lc_alive PID START: the very process PID (started at START) still lives.
lc_alive() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$(lc_pstart "$1")" = "$2" ]
}

# lc_snap NAME: record a running sandbox's supervisor (from inspect, checked
# against the runtime state), its init and its cgroups:
# SNAP_SUP SNAP_SUP_START SNAP_INIT SNAP_INIT_START SNAP_CGS (array).
lc_snap() {
	local name=$1 st=$SBX_RUN_DIR/$1/state
	lc_ok "inspect $name" inspect "$name"
	SNAP_SUP=$(json_get pid)
	[ -f "$st" ] || fail "no runtime state $st for running sandbox $name"
	local sup
	sup=$(sed -n 's/^sup_pid=//p' "$st")
	[ "$SNAP_SUP" = "$sup" ] || fail_out "inspect pid $SNAP_SUP differs from the supervisor pid $sup in $st"
	SNAP_SUP_START=$(lc_pstart "$SNAP_SUP") || fail "supervisor $SNAP_SUP of $name is not alive"
	SNAP_INIT=$(sed -n 's/^init_pid=//p' "$st")
	SNAP_INIT_START=$(lc_pstart "$SNAP_INIT") || fail "init $SNAP_INIT of $name is not alive"
	mapfile -t SNAP_CGS < <(sed -n 's/^cgroup=//p' "$st")
	[ ${#SNAP_CGS[@]} -gt 0 ] || fail "no cgroups recorded in $st"
	local c
	for c in "${SNAP_CGS[@]}"; do
		[ -d "$c" ] || fail "cgroup $c of running sandbox $name does not exist"
		case $c in */sbx-*) ;; *) fail "cgroup $c of $name is not an sbx-* cgroup" ;; esac
	done
}

# lc_runtime_gone NAME WHAT [SECONDS]: the supervisor, init and cgroups
# recorded by lc_snap and the run dir entry are gone (polling up to SECONDS,
# default 2, for stragglers). Failures name WHAT.
lc_runtime_gone() {
	local name=$1 what=$2 end=$(($(now_us) + ${3:-2} * 1000000)) left c t0
	t0=$(now_us)
	while :; do
		left=
		lc_alive "$SNAP_SUP" "$SNAP_SUP_START" && left+=" supervisor $SNAP_SUP ($(tr '\0' ' ' <"/proc/$SNAP_SUP/cmdline" 2>/dev/null | head -c 100));"
		lc_alive "$SNAP_INIT" "$SNAP_INIT_START" && left+=" init $SNAP_INIT;"
		for c in "${SNAP_CGS[@]}"; do
			[ -d "$c" ] && left+=" cgroup $c (procs: $(tr '\n' ' ' <"$c/cgroup.procs" 2>/dev/null));"
		done
		[ -e "$SBX_RUN_DIR/$name" ] && left+=" run dir entry $SBX_RUN_DIR/$name ($(ls -A "$SBX_RUN_DIR/$name" 2>/dev/null | tr '\n' ' '));"
		[ -z "$left" ] && break
		(($(now_us) > end)) && fail "$what: still there:$left"
		sleep 0.05
	done
	local ms=$((($(now_us) - t0) / 1000))
	[ $ms -gt 300 ] && note "$what: runtime leftovers took ${ms}ms to go away"
	return 0
}

# lc_bad LABEL REGEX ARGS...: sbx ARGS must exit 125 with exactly one stderr
# line "sbx: ..." matching REGEX (extended, case-insensitive) and no stdout.
# Problems are collected in LC_ERRS (report with lc_errs_done).
LC_ERRS=()
lc_bad() {
	local label=$1 re=$2
	shift 2
	run_sbx "$@"
	local problems= lines first n
	lines=$(stderr_lines "$T/err")
	n=$(printf '%s' "$lines" | grep -c '')
	first=$(printf '%s\n' "$lines" | head -n 1)
	[ "$RC" = 125 ] || problems+=" exit $RC (want 125);"
	[ "$n" = 1 ] || problems+=" $n lines on stderr (want 1);"
	case $first in "sbx: "*) ;; *) problems+=" message does not start with 'sbx: ';" ;; esac
	printf '%s\n' "$first" | grep -qiE -- "$re" || problems+=" message does not match /$re/;"
	[ -s "$T/out" ] && problems+=" stdout not empty ($(head -c 100 "$T/out" | cat -v));"
	[ -z "$problems" ] || LC_ERRS+=("[$label]$problems stderr: $(head -c 300 "$T/err" | tr '\n' '|')")
}

lc_errs_done() {
	[ ${#LC_ERRS[@]} -eq 0 ] && return 0
	local e
	for e in "${LC_ERRS[@]}"; do detail "$e"; done
	fail "${#LC_ERRS[@]} case(s) not rejected properly: $(printf '%s\n' "${LC_ERRS[@]}" | sed 's/\].*/]/' | tr '\n' ' ')"
}

# A tree that ignores SIGTERM/SIGHUP/SIGINT and double-forks a setsid'd
# daemon; prints "started" once all of it runs.
LC_TREE_PY='
import os, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
signal.signal(signal.SIGINT, signal.SIG_IGN)
for i in range(3):
    if os.fork() == 0:
        if i == 0:
            os.setsid()
            if os.fork() == 0:
                while True:
                    time.sleep(1)
            os._exit(0)
        while True:
            time.sleep(1)
time.sleep(0.3)
print("started", flush=True)
while True:
    time.sleep(1)
'

# ---------------------------------------------------------------- tests

t_lifecycle_create_exec_keeps_tmp() {
	lc_setup
	lc_ok "create" create L1 --memory 256M --cpus 0.5 --pids 50
	lc_ok "first exec" exec L1 -- sh -c 'echo "kept $$" >/tmp/state; echo one'
	expect_stdout one
	lc_ok "second exec" exec L1 -- cat /tmp/state
	grep -qxE 'kept [0-9]+' "$T/out" || fail_out "/tmp/state written by the first exec is not there for the second"
	echo "from stdin" >"$T/in"
	run_sbx exec L1 -- cat <"$T/in"
	expect_rc 0 "exec with stdin"
	expect_stdout "from stdin"

	lc_state L1
	[ "$LS_STATE" = running ] || fail_out "sbx ls shows L1 as '$LS_STATE', want running"
	awk 'NR == 1' "$T/out" | grep -q 'NAME *STATE *CREATED *PID *MEMORY *CPUS *PIDS' ||
		fail_out "sbx ls header is not NAME STATE CREATED PID MEMORY CPUS PIDS"

	lc_ok "inspect" inspect L1
	local bad= v
	[ "$(json_str name)" = L1 ] || bad+=" name=$(json_get name);"
	[ "$(json_get state)" = running ] || bad+=" state=$(json_get state);"
	[ "$(json_get memory)" = 268435456 ] || bad+=" limits.memory=$(json_get memory) (want 268435456);"
	[ "$(json_get pids)" = 50 ] || bad+=" limits.pids=$(json_get pids) (want 50);"
	v=$(json_get cpus)
	awk -v v="$v" 'BEGIN { exit !(v + 0 == 0.5) }' || bad+=" limits.cpus=$v (want 0.5);"
	[ "$(json_get own_workspace)" = true ] || bad+=" own_workspace=$(json_get own_workspace);"
	[ "$(json_get workspace_mode)" = rw ] || bad+=" workspace_mode=$(json_get workspace_mode);"
	[ "$(json_str workspace)" = "$T/state/sandboxes/L1/workspace" ] || bad+=" workspace=$(json_get workspace);"
	[ "$(json_get idle_timeout_ms)" = 0 ] || bad+=" idle_timeout_ms=$(json_get idle_timeout_ms);"
	json_get created >/dev/null || bad+=" no created;"
	json_get started >/dev/null || bad+=" no started;"
	json_get memory_bytes >/dev/null || bad+=" no usage.memory_bytes;"
	local pid
	pid=$(json_get pid)
	if ! [[ $pid =~ ^[0-9]+$ ]] || ! lc_pstart "$pid" >/dev/null; then
		bad+=" pid $pid is not a live process;"
	elif ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qE "(^|/)sbx create L1( |$)"; then
		bad+=" pid $pid is not the supervisor (cmdline: $(tr '\0' ' ' <"/proc/$pid/cmdline"));"
	fi
	[ -z "$bad" ] || fail_out "inspect L1:$bad"
	cp "$T/out" "$T/inspect.json"
	json_py "$T/inspect.json" '
ok = d["limits"]["memory"] == 268435456 and d["limits"]["pids"] == 50 and abs(d["limits"]["cpus"] - 0.5) < 1e-9
ok = ok and d["state"] == "running" and isinstance(d["usage"], dict) and isinstance(d["pid"], int)
print("OK" if ok else "BAD %r" % d)' || fail "inspect output is not valid JSON: $(cat "$T/inspect.json")"
	[ "$PY_OUT" = OK ] || fail "inspect JSON: $PY_OUT"

	run_sbx ls --json
	expect_rc 0 "ls --json"
	cp "$T/out" "$T/ls.json"
	json_py "$T/ls.json" '
m = [x for x in d if x["name"] == "L1"]
print("OK" if len(m) == 1 and m[0]["state"] == "running" and m[0]["limits"]["memory"] == 268435456 else "BAD %r" % d)' ||
		fail "ls --json output is not valid JSON: $(cat "$T/ls.json")"
	[ "$PY_OUT" = OK ] || fail "ls --json: $PY_OUT"
	lc_ok "rm -f" rm -f L1
}

t_lifecycle_write_exec_read() {
	local i j
	lc_setup
	lc_ok "create" create W1
	# a script, written with `write`, run with `exec`
	cat >"$T/job.py" <<'EOF'
import hashlib, sys
data = open("/workspace/in.bin", "rb").read()
with open("/workspace/out.bin", "wb") as f:
    f.write(bytes(range(256)) * 3 + b"\0\0\xff\xfe")
with open("result.txt", "w") as f:
    f.write("sha256 %s len %d arg %s\n" % (hashlib.sha256(data).hexdigest(), len(data), sys.argv[1]))
print("job done")
EOF
	lc_ok "write job.py" write W1 job.py <"$T/job.py"
	# binary input: every byte value, NULs, 0xff, larger than one protocol chunk
	{
		for ((i = 0; i < 256; i++)); do printf "\\$(printf %03o "$i")"; done
		printf '\0\0\377\377\0'
		head -c 200000 /dev/urandom
		printf '\377\0'
	} >"$T/in.bin"
	[ "$(stat -c %s "$T/in.bin")" = 200263 ] || fail "could not build the binary test file ($(stat -c %s "$T/in.bin") bytes)"
	lc_ok "write in.bin" write W1 /workspace/in.bin <"$T/in.bin"
	lc_ok "exec job.py" exec W1 -- python3 job.py xyz
	expect_stdout "job done"
	lc_ok "read result.txt" read W1 result.txt
	local want
	want="sha256 $(sha256sum "$T/in.bin" | cut -d' ' -f1) len 200263 arg xyz"
	expect_stdout "$want"
	# what the sandbox wrote, byte for byte
	{
		for ((i = 0; i < 3; i++)); do
			for ((j = 0; j < 256; j++)); do printf "\\$(printf %03o "$j")"; done
		done
		printf '\0\0\377\376'
	} >"$T/out.expected"
	lc_ok "read out.bin" read W1 /workspace/out.bin
	cmp -s "$T/out" "$T/out.expected" || fail_out "out.bin read back differs from what the script wrote ($(stat -c %s "$T/out") bytes, want $(stat -c %s "$T/out.expected"))"
	# write + read round trip of the binary file itself
	lc_ok "read in.bin" read W1 in.bin
	cmp -s "$T/out" "$T/in.bin" || fail "in.bin read back differs from what was written: $(cmp "$T/out" "$T/in.bin" 2>&1 | head -n 1)"
	# atomic replace with shorter content, and an empty file
	printf 'short\0\377' >"$T/short.bin"
	lc_ok "replace in.bin" write W1 in.bin <"$T/short.bin"
	lc_ok "read replaced in.bin" read W1 in.bin
	cmp -s "$T/out" "$T/short.bin" || fail_out "replaced in.bin reads back wrong"
	: >"$T/empty"
	lc_ok "write empty" write W1 /tmp/empty <"$T/empty"
	lc_ok "read empty" read W1 /tmp/empty
	[ -s "$T/out" ] && fail_out "empty file read back non-empty"
	lc_ok "exec wc" exec W1 -- sh -c 'wc -c </tmp/empty; wc -c </workspace/in.bin; ls -A /workspace | grep -c sbx-write || :'
	[ "$(tr -s ' \n' ' ' <"$T/out")" = "0 7 0 " ] || fail_out "inside, sizes/temp files are wrong (want empty=0, in.bin=7, no .sbx-write temp files)"
	lc_ok "rm -f" rm -f W1
}

t_lifecycle_stop_start() {
	lc_setup
	lc_ok "create" create S1
	echo "persistent data" >"$T/p.txt"
	lc_ok "write" write S1 keep.txt <"$T/p.txt"
	lc_ok "exec" exec S1 -- sh -c 'echo volatile >/tmp/vol; ls /tmp/vol'
	lc_snap S1
	lc_ok "stop" stop S1
	lc_runtime_gone S1 "after stop"
	lc_state S1
	[ "$LS_STATE" = stopped ] || fail_out "sbx ls shows S1 as '$LS_STATE' after stop"
	lc_ok "inspect stopped" inspect S1
	[ "$(json_get state)" = stopped ] || fail_out "inspect state after stop is not stopped"
	[ "$(json_get pid)" = null ] || fail_out "inspect pid after stop is not null"
	lc_bad "exec stopped" 'not running' exec S1 -- true
	lc_bad "read stopped" 'not running' read S1 keep.txt
	lc_bad "write stopped" 'not running' write S1 x.txt
	lc_errs_done
	[ -f "$T/state/sandboxes/S1/workspace/keep.txt" ] || fail "the workspace file is gone from the state dir after stop"

	lc_ok "start" start S1
	lc_state S1
	[ "$LS_STATE" = running ] || fail_out "sbx ls shows S1 as '$LS_STATE' after start"
	local old=$SNAP_SUP
	lc_snap S1
	[ "$SNAP_SUP" != "$old" ] || fail "same supervisor pid $old after stop+start"
	lc_ok "start again (no-op)" start S1
	lc_ok "inspect" inspect S1
	[ "$(json_get pid)" = "$SNAP_SUP" ] || fail_out "start on a running sandbox changed its supervisor"
	lc_ok "read after restart" read S1 keep.txt
	cmp -s "$T/out" "$T/p.txt" || fail_out "workspace file changed across stop/start"
	lc_ok "exec after restart" exec S1 -- sh -c 'if [ -e /tmp/vol ]; then echo present; else echo absent; fi; ls -A /tmp | wc -l'
	[ "$(head -n 1 "$T/out")" = absent ] || fail_out "/tmp/vol survived stop/start (want a fresh /tmp)"
	lc_ok "rm -f" rm -f S1
}

t_lifecycle_workspaces() {
	lc_setup
	lc_ok "create A" create WA
	lc_ok "create B" create WB
	echo "only in A" >"$T/a.txt"
	lc_ok "write A" write WA secret.txt <"$T/a.txt"
	lc_ok "exec A" exec WA -- sh -c 'echo from-exec >/workspace/e.txt'
	lc_bad "B reads A's file" 'secret.txt' read WB secret.txt
	lc_errs_done
	lc_ok "exec B" exec WB -- sh -c 'ls -A /workspace; echo END'
	expect_stdout END
	lc_ok "inspect A" inspect WA
	local wa wb
	wa=$(json_str workspace)
	lc_ok "inspect B" inspect WB
	wb=$(json_str workspace)
	[ -n "$wa" ] && [ "$wa" != "$wb" ] || fail "A and B share the workspace '$wa'"
	[ -f "$wa/secret.txt" ] && [ -f "$wa/e.txt" ] || fail "A's files are not in its workspace dir $wa: $(ls -A "$wa" 2>&1)"
	[ -z "$(ls -A "$wb" 2>&1)" ] || fail "B's workspace $wb is not empty: $(ls -A "$wb" 2>&1)"

	# a host directory as the workspace
	local hw
	hw=$(mk_dir hostws)
	echo "from the host" >"$hw/host.txt"
	if ! ws_idmap_ok "$hw"; then
		# $T's file system cannot be idmapped: host dirs are refused with
		# the documented line, nothing stored (own workspaces still work)
		local m
		for m in rw ro; do
			run_sbx create WC --workspace "$hw:$m"
			ws_expect_refused "$hw" "create with a host :$m workspace"
		done
		[ -z "$(ls -A "$SBX_STATE_DIR/sandboxes" | grep -vx 'WA\|WB')" ] ||
			fail "a refused create left state: $(ls -A "$SBX_STATE_DIR/sandboxes")"
		[ "$(ls -A "$hw")" = host.txt ] || fail "a refused create changed $hw: $(ls -A "$hw")"
		note "$T cannot be idmapped here: host workspaces refused as documented"
		lc_ok "rm -f A" rm -f WA
		lc_ok "rm -f B" rm -f WB
		[ -e "$wa" ] && fail "A's own workspace $wa is still there after rm"
		return 0
	fi
	lc_ok "create C" create WC --workspace "$hw:rw"
	lc_ok "read host file" read WC /workspace/host.txt
	expect_stdout "from the host"
	lc_ok "exec C" exec WC -- sh -c 'echo made-inside >/workspace/inside.txt; pwd'
	expect_stdout /workspace
	echo "via write" >"$T/w.txt"
	lc_ok "write C" write WC sub.txt <"$T/w.txt"
	[ "$(cat "$hw/inside.txt" 2>&1)" = made-inside ] || fail "file written by exec is not in the host dir: $(ls -la "$hw")"
	[ "$(cat "$hw/sub.txt" 2>&1)" = "via write" ] || fail "file written with sbx write is not in the host dir: $(ls -la "$hw")"
	lc_ok "inspect C" inspect WC
	[ "$(json_str workspace)" = "$hw" ] || fail_out "inspect workspace is not $hw"
	[ "$(json_get own_workspace)" = false ] || fail_out "own_workspace is not false for a host dir"
	[ "$(json_get workspace_mode)" = rw ] || fail_out "workspace_mode is not rw"

	# read-only host workspace
	local rw
	rw=$(mk_dir rows)
	echo ro-content >"$rw/r.txt"
	lc_ok "create D" create WD --workspace "$rw:ro"
	lc_ok "read ro" read WD r.txt
	expect_stdout ro-content
	lc_bad "write into a ro workspace" 'read-only|permission' write WD r.txt
	lc_errs_done
	[ "$(cat "$rw/r.txt")" = ro-content ] || fail "a ro workspace file was changed on the host"

	lc_ok "rm -f C" rm -f WC
	lc_ok "rm -f D" rm -f WD
	[ -d "$hw" ] || fail "rm removed the host workspace dir $hw"
	[ "$(cat "$hw/inside.txt" 2>&1)" = made-inside ] && [ "$(cat "$hw/sub.txt" 2>&1)" = "via write" ] &&
		[ "$(cat "$hw/host.txt" 2>&1)" = "from the host" ] || fail "rm changed the host workspace: $(ls -la "$hw" 2>&1)"
	[ -f "$rw/r.txt" ] || fail "rm removed files of the ro host workspace"
	lc_ok "rm -f A" rm -f WA
	lc_ok "rm -f B" rm -f WB
	[ -e "$wa" ] && fail "A's own workspace $wa is still there after rm"
	return 0
}

t_lifecycle_concurrent_execs() {
	lc_setup
	lc_ok "create" create CC
	# Each exec announces itself, then waits (up to 45 s) until all four
	# have: they can only all finish "together" if they ran at the same
	# time. No timing assumption (a slow or loaded machine only waits).
	local i py='
import os, sys, time
me = sys.argv[1]
open("/workspace/up%s" % me, "w").close()
end = time.time() + 45
while time.time() < end:
    seen = sum(os.path.exists("/workspace/up%d" % i) for i in range(4))
    if seen == 4:
        break
    time.sleep(0.05)
open("/workspace/c%s" % me, "w").write("%d\n" % seen)
print("done", me)'
	for i in 0 1 2 3; do
		sbx_start "c$i" exec CC --timeout 60s -- python3 -c "$py" "$i"
	done
	local bad=
	for i in 0 1 2 3; do
		sbx_wait "c$i" 90
		[ "$RC" = 0 ] && [ "$(cat "$T/out")" = "done $i" ] ||
			bad+=" exec $i: exit $RC, stdout '$(head -c 100 "$T/out")', stderr '$(head -c 200 "$T/err" | tr '\n' '|')';"
	done
	[ -z "$bad" ] || fail "concurrent execs failed:$bad"
	: >"$T/times"
	for i in 0 1 2 3; do
		lc_ok "read c$i" read CC "c$i"
		cat "$T/out" >>"$T/times"
	done
	# overlapped: each saw all four running before it ended
	[ "$(tr '\n' ' ' <"$T/times")" = "4 4 4 4 " ] ||
		fail "the 4 execs did not run at the same time (execs each saw: $(tr '\n' ' ' <"$T/times"))"
	lc_ok "rm -f" rm -f CC
}

t_lifecycle_exec_timeout_kills_only_that_command() {
	lc_setup
	local m2
	m2=$(new_mark)
	lc_ok "create" create TO --pids 200
	# a background sleep that outlives its exec (which still holds its stdout)
	run_sbx exec TO -- sh -c 'sleep 1000 & echo $!'
	expect_rc 0 "exec starting a background sleep"
	[ "$ELAPSED_MS" -lt 5000 ] || fail_out "exec waited ${ELAPSED_MS}ms for its background process"
	local bg
	bg=$(head -n 1 "$T/out")
	[[ $bg =~ ^[0-9]+$ ]] || fail_out "no pid of the background sleep"

	# 6 s: time enough for the tree to start and print on a slow machine
	# (a TCG guest under load needs > 1 s); "started" must survive the kill.
	run_sbx exec TO --timeout 6s --json -- python3 -c "$LC_TREE_PY" "$m2"
	expect_rc 124 "exec --timeout 6s of a SIGTERM-ignoring, double-forking tree"
	[ "$ELAPSED_MS" -lt 30000 ] || fail_out "took ${ELAPSED_MS}ms to end a 6s exec timeout"
	[ "$(json_get timed_out)" = true ] || fail_out "timed_out is not true"
	[ "$(json_get exit_code)" = 124 ] || fail_out "exit_code is not 124"
	[ "$(json_str stdout)" = started ] || fail_out "the tree's output before the timeout was lost"
	wait_no_mark "$m2" 3 || fail "processes of the timed-out exec left: $(describe_pids $(mark_pids "$m2"))"

	run_sbx exec TO --env "BG=$bg" --env "M2=$m2" -- python3 -c '
import os
bg = os.environ["BG"]; m2 = os.environ["M2"].encode()
try:
    print("BG", open("/proc/%s/cmdline" % bg, "rb").read().replace(b"\0", b" ").decode().strip(),
          open("/proc/%s/stat" % bg).read().rsplit(")", 1)[1].split()[0])
except OSError as e:
    print("BG gone", e)
n = 0
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            if m2 in open("/proc/%s/cmdline" % p, "rb").read():
                n += 1
        except OSError:
            pass
print("TREE", n)'
	expect_rc 0 "exec checking /proc"
	[ "$(out_line BG)" = "sleep 1000 S" ] || fail_out "the first exec's background sleep did not survive the other exec's timeout"
	[ "$(out_line TREE)" = 0 ] || fail_out "processes of the timed-out tree are still visible inside"
	lc_state TO
	[ "$LS_STATE" = running ] || fail "the sandbox is '$LS_STATE' after an exec timed out"
	lc_ok "rm -f" rm -f TO
}

t_lifecycle_symlink_escapes() {
	lc_setup
	local host=$T/host ws=$T/host/ws
	mkdir -p "$ws" && chmod 0755 "$host" "$ws"
	echo "HOST-SECRET-$RANDOM" >"$host/hostsecret"
	chmod 0644 "$host/hostsecret"
	local secret
	secret=$(cat "$host/hostsecret")
	local ids=()
	if ! ws_idmap_ok "$ws"; then
		# $T's file system cannot be idmapped: refused as documented; the
		# escapes are then tried with root inside mapped to the owner
		run_sbx create SY --workspace "$ws:rw"
		ws_expect_refused "$ws" "create with a host workspace"
		[ ! -e "$SBX_STATE_DIR/sandboxes/SY" ] || fail "a refused create left state"
		chown "$((0x6f000000)):$((0x6f000000))" "$ws"
		ids=(--map-uid "$((0x6f000000))" --map-gid "$((0x6f000000))")
		note "$T cannot be idmapped here: the workspace is used with --map-uid/--map-gid of its owner"
	fi
	lc_ok "create" create SY "${ids[@]}" --workspace "$ws:rw"
	# A decoy at the host path, inside the sandbox's own /tmp: resolving a
	# host path inside the sandbox may find this, never the host's file.
	local deep=../../../../../../../../..
	lc_ok "plant links" exec SY --env "H=$host" --env "DEEP=$deep" -- sh -c '
set -e
mkdir -p "$H" && echo INSIDE-DECOY >"$H/hostsecret"
cd /workspace
ln -s "$H/hostsecret" abs
ln -s ../hostsecret rel
ln -s "$DEEP$H/hostsecret" reldeep
ln -s "/proc/1/root$H/hostsecret" proc1
ln -s "/proc/self/root$H/hostsecret" procself
ln -s "/proc/1/cwd/../hostsecret" proc1cwd
ln -s chain2 chain1; ln -s chain3 chain2; ln -s chain4 chain3; ln -s ../hostsecret chain4
ln -s chainabs2 chainabs1; ln -s abs chainabs2
ln -s "$H" dirabs
ln -s .. dirup
ln -s "$DEEP" dirdeep
ln -s dirup dirchain
ln -s "$H/hostsecret" /tmp/tabs
ln -s ../../../../hostsecret /tmp/trel
echo planted'
	expect_stdout planted
	local before after
	before=$(find "$host" -path "$ws" -prune -o -printf '%p %i %s %T@ %m\n' | sort)

	local p bad=
	local reads=(abs rel reldeep proc1 procself proc1cwd chain1 chainabs1 dirabs/hostsecret dirup/hostsecret
		"dirdeep$host/hostsecret" dirchain/hostsecret /tmp/tabs /tmp/trel ../hostsecret /workspace/../hostsecret
		"$deep$host/hostsecret" "/proc/1/root$host/hostsecret" "/proc/self/root$host/hostsecret"
		"/proc/1/cwd/../hostsecret" "$host/hostsecret")
	for p in "${reads[@]}"; do
		run_sbx read SY "$p"
		if grep -qF "$secret" "$T/out"; then
			bad+=" read '$p' returned the host file;"
		elif [ "$RC" = 0 ]; then
			[ "$(cat "$T/out")" = INSIDE-DECOY ] || bad+=" read '$p' exit 0 with unexpected content '$(head -c 80 "$T/out" | cat -v)';"
		elif [ "$RC" != 125 ] || ! stderr_lines "$T/err" | grep -q '^sbx: '; then
			bad+=" read '$p' exit $RC (want 125 or the sandbox's own file), stderr '$(head -c 120 "$T/err")';"
		fi
	done
	[ -z "$bad" ] || fail "symlink/.. escapes on read:$bad"

	# the rootfs's /etc/hostname, reached with .. from the workspace
	run_sbx read SY ../../../../etc/hostname
	expect_rc 0 "read ../../../../etc/hostname"
	cmp -s "$T/out" "$ROOTFS/etc/hostname" || fail_out "../../../../etc/hostname is not the rootfs's /etc/hostname"
	expect_stdout sbx
	cmp -s "$T/out" /etc/hostname && note "the host's /etc/hostname is also 'sbx': cannot tell them apart"
	run_sbx read SY "/proc/1/root/../../etc/hostname"
	[ "$RC" = 125 ] || { [ "$RC" = 0 ] && cmp -s "$T/out" "$ROOTFS/etc/hostname"; } ||
		fail_out "read /proc/1/root/../../etc/hostname gave something other than an error or the rootfs's file"

	# writes through the same links must not touch the host
	echo "PWNED" >"$T/pwn"
	local writes=(dirabs/hostsecret dirup/hostsecret "dirdeep$host/hostsecret" dirchain/hostsecret
		dirup/newfile dirabs/newfile "dirdeep$host/newfile" ../hostsecret ../newfile
		"$deep$host/hostsecret" "/proc/1/root$host/hostsecret" "/proc/self/root$host/hostsecret"
		"/proc/1/root$host/newfile" "/proc/1/cwd/../newfile" /tmp/tabs /tmp/trel
		abs rel reldeep proc1 procself chain1 chainabs1)
	for p in "${writes[@]}"; do
		run_sbx write SY "$p" <"$T/pwn"
		[ "$RC" = 0 ] || [ "$RC" = 125 ] || bad+=" write '$p' exit $RC;"
	done
	after=$(find "$host" -path "$ws" -prune -o -printf '%p %i %s %T@ %m\n' | sort)
	[ "$(cat "$host/hostsecret")" = "$secret" ] || bad+=" host file content changed to '$(head -c 80 "$host/hostsecret")';"
	[ "$before" = "$after" ] || bad+=" host dir changed: $(diff <(echo "$before") <(echo "$after") | grep '^[<>]' | tr '\n' ';');"
	[ -z "$bad" ] || fail "symlink/.. escapes on write:$bad"
	# the workspace links themselves were replaced by regular files (fine),
	# or left as they were; nothing outside was followed
	[ -d "$ws" ] || fail "the workspace dir is gone"
	lc_ok "rm -f" rm -f SY
	[ "$(cat "$host/hostsecret")" = "$secret" ] || fail "host file changed after rm"
}

t_lifecycle_readonly_and_limits() {
	lc_setup
	lc_ok "create" create RO
	echo data >"$T/d"
	local f
	for f in /etc/x /usr/bin/x /x /usr/lib/x; do
		lc_bad "write $f" 'read-only|permission' write RO "$f" <"$T/d"
	done
	for f in etc/x usr/bin/x x usr/lib/x; do
		[ -e "$ROOTFS/$f" ] && { rm -f "${ROOTFS:?}/$f"; LC_ERRS+=("[write /$f] created $ROOTFS/$f on the host"); }
	done
	lc_bad "write over /etc/passwd" 'read-only|permission' write RO /etc/passwd <"$T/d"
	lc_bad "read a directory (/etc)" 'directory' read RO /etc
	lc_bad "read a directory (/workspace)" 'directory' read RO /workspace
	lc_bad "read a directory (.)" 'directory' read RO .
	lc_bad "read a missing file" 'no such file' read RO /workspace/nope
	lc_bad "write to a directory" 'directory' write RO /tmp <"$T/d"
	lc_bad "write into a missing dir" 'no such file' write RO /tmp/nodir/x <"$T/d"
	lc_ok "make a 2048-byte file" exec RO -- python3 -c 'open("/workspace/big", "wb").write(b"z" * 2048)'
	lc_bad "read 2048 bytes with --max-size 1K" 'large|big|size|max' read RO big --max-size 1K
	lc_bad "read 2048 bytes with --max-size 2047" 'large|big|size|max' read RO big --max-size 2047
	head -c 3000 /dev/zero >"$T/3000"
	lc_bad "write 3000 bytes with --max-size 2K" 'size|large|exceed|max' write RO w3000 --max-size 2K <"$T/3000"
	lc_errs_done
	lc_ok "read with --max-size 2K" read RO big --max-size 2K
	[ "$(stat -c %s "$T/out")" = 2048 ] || fail_out "read --max-size 2K of a 2048-byte file gave $(stat -c %s "$T/out") bytes"
	lc_ok "exec ls" exec RO -- sh -c 'ls -A /workspace'
	expect_stdout big
	lc_ok "rm -f" rm -f RO
}

t_lifecycle_idle_timeout() {
	lc_setup
	# 8 s: on a slow machine (a TCG guest) create, inspect and write take
	# more than 2 s; what is checked is that it stops once idle, not before.
	lc_ok "create" create ID --idle-timeout 8s
	lc_ok "inspect" inspect ID
	[ "$(json_get idle_timeout_ms)" = 8000 ] || fail_out "idle_timeout_ms is not 8000"
	echo kept >"$T/k"
	lc_ok "write" write ID k.txt <"$T/k"
	lc_snap ID
	lc_ok "exec" exec ID -- true
	local t_exec
	t_exec=$(now_us)
	lc_state ID
	[ "$LS_STATE" = running ] || fail_out "stopped right after an exec (idle timeout 8s)"
	lc_wait_state ID stopped 40 || fail_out "still '$LS_STATE' 40 s after the last exec with --idle-timeout 8s"
	local ms=$((($(now_us) - t_exec) / 1000))
	[ $ms -ge 7000 ] || fail "stopped after ${ms}ms, before the 8s idle timeout"
	lc_runtime_gone ID "after the idle timeout" 3
	[ -f "$T/state/sandboxes/ID/config" ] || fail "the idle-stopped sandbox's config is gone"
	lc_ok "start" start ID
	lc_state ID
	[ "$LS_STATE" = running ] || fail_out "not running after start"
	lc_ok "read after restart" read ID k.txt
	expect_stdout kept
	lc_ok "rm -f" rm -f ID
}

t_lifecycle_rm_force_running() {
	lc_setup
	local mark
	mark=$(new_mark)
	lc_ok "create" create RM
	lc_ok "background process" exec RM -- sh -c 'python3 -c "import time; time.sleep(1000)" "$0" >/dev/null 2>&1 </dev/null &' "$mark"
	local i
	for ((i = 0; i < 100; i++)); do
		[ -n "$(mark_pids "$mark")" ] && break
		sleep 0.05
	done
	[ -n "$(mark_pids "$mark")" ] || fail "the background process did not start"
	lc_snap RM
	lc_bad "rm without -f" 'running' rm RM
	lc_errs_done
	lc_state RM
	[ "$LS_STATE" = running ] || fail "rm without -f stopped the sandbox ($LS_STATE)"
	lc_ok "rm -f" rm -f RM
	lc_runtime_gone RM "after rm -f"
	[ -e "$T/state/sandboxes/RM" ] && fail "state dir entry $T/state/sandboxes/RM is still there: $(ls -A "$T/state/sandboxes/RM")"
	wait_no_mark "$mark" 2 || fail "sandbox processes left after rm -f: $(describe_pids $(mark_pids "$mark"))"
	lc_state RM
	[ -z "$LS_STATE" ] || fail "sbx ls still lists RM after rm -f"
	lc_bad "inspect after rm" 'no such sandbox' inspect RM
	lc_errs_done
}

t_lifecycle_supervisor_sigkill() {
	lc_setup
	local mark
	mark=$(new_mark)
	lc_ok "create" create SK
	lc_ok "background process" exec SK -- sh -c 'python3 -c "import time; time.sleep(1000)" "$0" >/dev/null 2>&1 </dev/null &' "$mark"
	lc_snap SK
	kill -KILL "$SNAP_SUP"
	lc_wait_state SK stopped 5 || fail_out "sbx ls shows '$LS_STATE' 5 s after SIGKILL of the supervisor"
	wait_no_mark "$mark" 3 || fail "sandbox processes live on after SIGKILL of the supervisor: $(describe_pids $(mark_pids "$mark"))"
	lc_alive "$SNAP_INIT" "$SNAP_INIT_START" && fail "the sandbox init $SNAP_INIT lives on after SIGKILL of its supervisor"
	lc_bad "exec on a killed sandbox" 'not running' exec SK -- true
	lc_errs_done
	lc_ok "rm" rm SK
	lc_runtime_gone SK "after SIGKILL of the supervisor and rm"
	[ -e "$T/state/sandboxes/SK" ] && fail "state dir entry is still there after rm"

	# the same, then start instead of rm: stale leftovers go, it runs again
	lc_ok "create 2" create SK2
	lc_snap SK2
	kill -KILL "$SNAP_SUP"
	lc_wait_state SK2 stopped 5 || fail_out "SK2: ls shows '$LS_STATE' 5 s after SIGKILL of the supervisor"
	local old=("${SNAP_CGS[@]}") c
	lc_ok "start after SIGKILL" start SK2
	lc_ok "exec after restart" exec SK2 -- echo back
	expect_stdout back
	lc_snap SK2
	for c in "${old[@]}"; do
		local reused=0 n
		for n in "${SNAP_CGS[@]}"; do [ "$n" = "$c" ] && reused=1; done
		[ $reused = 0 ] && [ -d "$c" ] && fail "stale cgroup $c of the killed supervisor remains after start"
	done
	lc_ok "rm -f 2" rm -f SK2
	lc_runtime_gone SK2 "SK2 after rm -f"
}

t_lifecycle_bad_names_and_unknown() {
	lc_setup
	local long64 long65 n
	long64=$(printf 'a%.0s' {1..64})
	long65=$(printf 'b%.0s' {1..65})
	echo x >"$T/x"
	local names=('bad name' .x -x "$long65" a/b '' .. 'a$b' 'é')
	for n in "${names[@]}"; do
		lc_bad "create '$n'" 'name|usage' create "$n"
		lc_bad "exec '$n'" 'name|usage' exec "$n" -- true
		lc_bad "read '$n'" 'name|usage' read "$n" f
		lc_bad "write '$n'" 'name|usage' write "$n" f <"$T/x"
		lc_bad "stop '$n'" 'name|usage' stop "$n"
		lc_bad "start '$n'" 'name|usage' start "$n"
		lc_bad "rm '$n'" 'name|usage' rm "$n"
		lc_bad "rm -f '$n'" 'name|usage' rm -f "$n"
		lc_bad "inspect '$n'" 'name|usage' inspect "$n"
	done
	local c
	for c in "exec nosuch -- true" "read nosuch f" "write nosuch f" "stop nosuch" "start nosuch" \
		"rm nosuch" "rm -f nosuch" "inspect nosuch"; do
		# shellcheck disable=SC2086
		lc_bad "$c" 'no such sandbox|nosuch' $c <"$T/x"
	done
	lc_errs_done
	local left
	left=$(find "$T/state" "$T/run" -mindepth 1 ! -path "$T/state/sandboxes" 2>/dev/null)
	[ -z "$left" ] || fail "rejected names left entries behind: $left"
	# the longest valid name works
	lc_ok "create with a 64-char name" create "$long64"
	lc_ok "exec with a 64-char name" exec "$long64" -- echo ok
	expect_stdout ok
	lc_ok "rm -f 64-char name" rm -f "$long64"
}

t_lifecycle_exec_json_and_exit_codes() {
	lc_setup
	lc_ok "create" create JX
	local keys='print(" ".join("%s:%s" % (k, type(v).__name__) for k, v in sorted(d.items())))'
	run_sbx run --json -- python3 -c 'print(1)'
	expect_rc 0 "run --json"
	cp "$T/out" "$T/run.json"
	json_py "$T/run.json" "$keys" || fail "run --json output is not JSON"
	local run_keys=$PY_OUT
	run_sbx exec JX --json -- python3 -c 'print(1)'
	expect_rc 0 "exec --json"
	cp "$T/out" "$T/exec.json"
	json_py "$T/exec.json" "$keys" || fail "exec --json output is not JSON: $(cat "$T/exec.json")"
	[ "$PY_OUT" = "$run_keys" ] || fail "exec --json keys differ from run --json: exec '$PY_OUT' run '$run_keys'"
	[ "$(json_str stdout "$T/exec.json")" = 1 ] || fail "exec --json stdout is not '1': $(cat "$T/exec.json")"

	local bad= want code args
	while IFS='|' read -r want code; do
		eval "args=($code)"
		run_sbx exec JX -- "${args[@]}"
		[ "$RC" = "$want" ] || bad+=" [$code] exit $RC want $want (stderr: $(head -c 150 "$T/err" | tr '\n' ' '));"
		run_sbx exec JX --json -- "${args[@]}"
		[ "$RC" = "$want" ] || bad+=" [--json $code] exit $RC want $want;"
		[ "$(json_get exit_code)" = "$want" ] || bad+=" [--json $code] exit_code $(json_get exit_code) want $want;"
	done <<'EOF'
3|sh -c 'exit 3'
0|true
137|python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'
143|sh -c 'kill -TERM $$'
127|no-such-command-xyz
126|/etc/passwd
EOF
	[ -z "$bad" ] || fail "exec exit statuses:$bad"
	run_sbx exec JX --json -- python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'
	[ "$(json_get signal)" = 9 ] || fail_out "signal is not 9 for a self-SIGKILL"
	[ "$(json_get oom_killed)" = false ] || fail_out "a self-SIGKILL is reported as OOM"

	run_sbx exec JX --env FOO=bar --cwd /tmp -- sh -c 'echo "$FOO"; pwd; echo err >&2'
	expect_rc 0 "exec --env --cwd"
	[ "$(cat "$T/out")" = "bar
/tmp" ] || fail_out "exec --env FOO=bar --cwd /tmp did not apply"
	[ "$(stderr_lines "$T/err")" = err ] || fail_out "stderr of the exec is not passed through"
	run_sbx exec JX --output-limit 10 -- python3 -c 'print("x" * 100)'
	expect_rc 0 "exec --output-limit 10"
	[ "$(stat -c %s "$T/out")" = 10 ] || fail_out "exec --output-limit 10 gave $(stat -c %s "$T/out") bytes of stdout"
	lc_state JX
	[ "$LS_STATE" = running ] || fail "the sandbox is '$LS_STATE' after its commands were killed by signals"
	lc_ok "rm -f" rm -f JX
}

t_lifecycle_create_twice() {
	lc_setup
	lc_ok "create" create DUP --memory 200M
	lc_snap DUP
	lc_bad "second create" 'already exists' create DUP --memory 300M
	lc_bad "second create, stopped" 'already exists' create DUP
	lc_errs_done
	lc_ok "inspect" inspect DUP
	[ "$(json_get pid)" = "$SNAP_SUP" ] || fail_out "the second create changed the supervisor"
	[ "$(json_get memory)" = 209715200 ] || fail_out "the second create changed the memory limit"
	lc_ok "exec" exec DUP -- echo still
	expect_stdout still
	lc_ok "stop" stop DUP
	lc_bad "create over a stopped one" 'already exists' create DUP
	lc_errs_done
	[ -f "$T/state/sandboxes/DUP/config" ] || fail "create over a stopped sandbox removed its config"
	lc_ok "rm" rm DUP
}

t_lifecycle_failed_create_leaves_nothing() {
	lc_setup
	mkdir -p "$T/badroot/proc" "$T/badroot/dev" "$T/badroot/tmp"
	lc_bad "create --rootfs /nonexistent" 'rootfs|nonexistent' create F1 --rootfs /nonexistent
	lc_bad "create --workspace missing" 'workspace|nonexistent' create F2 --workspace "$T/nonexistent:rw"
	lc_bad "create --rootfs without a usable tree" '.' create F3 --rootfs "$T/badroot"
	lc_bad "create --cwd missing" 'nonexistent|cwd|directory' create F4 --cwd /nonexistent
	lc_bad "create --memory bad" 'memory' create F5 --memory 12Q
	lc_errs_done
	local left cgs
	left=$(find "$T/state" "$T/run" -mindepth 1 ! -path "$T/state/sandboxes" 2>/dev/null)
	[ -z "$left" ] || fail "failed creates left entries behind: $(echo "$left" | tr '\n' ' ')"
	cgs=$(comm -13 "$H/base/cgroups" <(find /sys/fs/cgroup -maxdepth 8 -type d -name 'sbx-*' 2>/dev/null | sort))
	[ -z "$cgs" ] || fail "failed creates left cgroups: $(echo "$cgs" | tr '\n' ' ')"
	lc_state F1
	[ -z "$LS_STATE" ] || fail "sbx ls lists F1 after its create failed"
	# the names are free again
	lc_ok "create F1 properly" create F1
	lc_ok "create F4 properly" create F4
	lc_ok "rm -f F1" rm -f F1
	lc_ok "rm -f F4" rm -f F4
}

t_lifecycle_c_api() {
	command -v cc >/dev/null || skip "no C compiler on the host"
	local libdir lib san=() out
	libdir=$(dirname "$SBX_REAL")
	lib=$libdir/libsbx.a
	[ -f "$lib" ] || fail "no $lib next to $SBX_REAL (make all)"
	if grep -qa __asan_init "$SBX_REAL"; then
		san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
	fi
	out=$(cc -std=gnu11 -O1 -g -Wall -Wextra -Werror "${san[@]}" -I"$REPO/include" \
		-o "$T/api_test" "$HERE/helpers/api_test.c" "$lib" -lseccomp -lcap -lcgroup -lpthread 2>&1) ||
		fail "building api_test failed: $(echo "$out" | head -n 5)"
	mkdir -p "$T/.runs" "$T/api"
	# only for the clean-up of a failed run: api_test sets these itself
	export SBX_STATE_DIR=$T/api/state SBX_RUN_DIR=$T/api/run
	on_exit lc_cleanup
	local rc t0
	t0=$(now_us)
	SBX_ROOTFS=$ROOTFS timeout -s KILL 180 "$T/api_test" "$T/api" >"$T/.runs/api_test.out" 2>"$T/.runs/api_test.err"
	rc=$?
	detail "api_test exit $rc after $((($(now_us) - t0) / 1000))ms; stdout:"
	detail "$(head -c 2000 "$T/.runs/api_test.out")"
	detail "stderr: $(head -c 2000 "$T/.runs/api_test.err")"
	[ $rc = 0 ] || fail "api_test exited $rc: $(grep -m1 'api_test: ' "$T/.runs/api_test.out")"
	grep -qx 'api_test: ok' "$T/.runs/api_test.out" || fail "api_test did not print 'api_test: ok'"
	# supervisors forked by the program carry its exe, not sbx's
	local p left=
	for p in /proc/[0-9]*; do
		case $(readlink "$p/exe" 2>/dev/null) in
		"$T/api_test" | "$T/api_test (deleted)") left+=" ${p#/proc/}" ;;
		esac
	done
	[ -z "$left" ] || fail "processes of api_test left running:$left"
	left=$(find "$T/api" -mindepth 1 ! -path "$T/api/state" ! -path "$T/api/state/sandboxes" ! -path "$T/api/run" 2>/dev/null)
	[ -z "$left" ] || fail "api_test left state behind: $(echo "$left" | tr '\n' ' ')"
	: >"$T/.details"
}

# ---------------------------------------------------------------- store (issue 9, items 8 and 10)
# Removal that always works (fd-relative, any depth, never following a
# symlink, broken entries listed and removable) and liveness from the
# kernel (the supervisor's lock, the cgroups it holds), never from the
# state file alone.

# st_holder NAME: pid holding the supervisor lock of NAME (from /proc/locks).
st_holder() {
	local f=$SBX_STATE_DIR/sandboxes/$1/supervisor ino
	ino=$(stat -c %i "$f" 2>/dev/null) || return 0
	awk -v i=":$ino " '$2 == "POSIX" && index($0, i) { print $5; exit }' /proc/locks
}

t_lifecycle_rm_deep_tree() {
	lc_setup
	mkdir -p "$T/victim" "$T/userws"
	echo keep >"$T/victim/file"
	echo keep >"$T/userws/file"
	lc_ok "create" create DEEP
	# a tree deeper than PATH_MAX, symlinks to a host dir and to "..", a fifo
	lc_ok "deep tree" exec DEEP --timeout 60s -- python3 -c '
import os, sys
os.chdir("/workspace")
os.symlink(sys.argv[1], "to-host")
os.mkfifo("fifo")
for i in range(40):
    os.mkdir("d" * 200)
    os.chdir("d" * 200)
    os.symlink(sys.argv[1], "to-host")
    os.symlink("..", "up")
open("f", "w").write("x")
print(len(os.getcwd()))
' "$T/victim"
	[ "$(cat "$T/out")" -gt 4096 ] || fail_out "the tree is not deeper than PATH_MAX"
	lc_ok "rm -f of a sandbox with a tree deeper than PATH_MAX" rm -f DEEP
	[ -e "$T/state/sandboxes/DEEP" ] && fail "state dir entry $T/state/sandboxes/DEEP is still there"
	[ "$(cat "$T/victim/file" 2>/dev/null)" = keep ] || fail "rm -f followed a symlink: $T/victim/file is gone"
	lc_state DEEP
	[ -z "$LS_STATE" ] || fail "ls still lists DEEP"
	lc_ok "create again" create DEEP
	# a host directory given with --workspace is never emptied
	lc_ok "create with a host workspace" create UWS --workspace "$T/userws:rw"
	lc_ok "rm -f UWS" rm -f UWS
	[ "$(cat "$T/userws/file" 2>/dev/null)" = keep ] || fail "rm -f touched the user's --workspace dir"
	lc_ok "rm -f DEEP again" rm -f DEEP
	# something mounted in its directory (here a bind mount of a host dir, on
	# the same file system) is detached, never entered
	lc_ok "create MNT" create MNT
	lc_ok "stop MNT" stop MNT
	local m=$T/state/sandboxes/MNT/workspace/m
	mkdir -p "$m" && mount --bind "$T/victim" "$m" || fail "cannot bind-mount into $m"
	run_sbx rm -f MNT
	local rc=$RC
	if grep -qF " $m " /proc/self/mountinfo; then
		umount -l "$m"
		fail "rm -f left $m mounted (exit $rc)"
	fi
	[ "$(cat "$T/victim/file" 2>/dev/null)" = keep ] || fail "rm -f entered a mount and removed $T/victim/file"
	[ "$rc" = 0 ] || fail_out "rm -f with a mount inside exited $rc"
	[ -e "$T/state/sandboxes/MNT" ] && fail "rm -f left $T/state/sandboxes/MNT"
	return 0
}

t_lifecycle_broken_entries_listed_and_removed() {
	lc_setup
	local sb=$T/state/sandboxes
	lc_ok "create NOCONF" create NOCONF
	lc_ok "create LOCKDIR" create LOCKDIR
	lc_ok "create BADCONF" create BADCONF
	lc_ok "create LIVE" create LIVE
	lc_ok "stop NOCONF" stop NOCONF
	lc_ok "stop LOCKDIR" stop LOCKDIR
	rm -f "$sb/NOCONF/config"
	rm -f "$sb/LOCKDIR/lock" && mkdir "$sb/LOCKDIR/lock"
	printf 'version=1\nmemory=-1\n' >"$sb/BADCONF/config"
	lc_snap LIVE
	rm -f "$sb/LIVE/config" # while it runs
	run_sbx ls
	expect_rc 0 "sbx ls"
	local n
	for n in NOCONF LOCKDIR BADCONF LIVE; do
		awk -v n=$n 'NR > 1 && $1 == n && $2 == "broken"' "$T/out" | grep -q . ||
			fail_out "sbx ls does not show $n as broken"
	done
	run_sbx ls --json
	expect_rc 0 "sbx ls --json"
	json_py "$T/out" 'b = sorted(x["name"] for x in d if x["state"] == "broken" and x.get("error"))
assert b == ["BADCONF", "LIVE", "LOCKDIR", "NOCONF"], b' ||
		fail_out "ls --json does not list the four broken entries with their error"
	lc_bad "rm without -f of a broken one" 'broken' rm NOCONF
	lc_errs_done
	for n in NOCONF LOCKDIR BADCONF LIVE; do
		lc_ok "rm -f $n" rm -f $n
		[ -e "$sb/$n" ] && fail "rm -f $n left $sb/$n: $(ls -A "$sb/$n")"
	done
	lc_runtime_gone LIVE "after rm -f of a running sandbox without config" 5
	run_sbx ls
	[ "$(wc -l <"$T/out")" = 1 ] || fail_out "ls still lists something"
}

t_lifecycle_corrupt_state_running() {
	lc_setup
	local mark st=$T/run/CS/state
	mark=$(new_mark)
	lc_ok "create" create CS
	lc_ok "background process" exec CS -- sh -c 'python3 -c "import time; time.sleep(1000)" "$0" >/dev/null 2>&1 </dev/null &' "$mark"
	lc_snap CS
	# truncated: ls/inspect still say running, with the real supervisor
	: >"$st"
	lc_state CS
	[ "$LS_STATE" = running ] || fail_out "ls says '$LS_STATE' for a running sandbox whose state is truncated"
	lc_ok "inspect" inspect CS
	[ "$(json_get state)" = running ] && [ "$(json_get pid)" = "$SNAP_SUP" ] ||
		fail_out "inspect does not report the running supervisor $SNAP_SUP"
	# start launches no second supervisor
	lc_ok "start while running" start CS
	[ "$(st_holder CS)" = "$SNAP_SUP" ] || fail "the supervisor lock is now held by '$(st_holder CS)', not $SNAP_SUP"
	[ -s "$st" ] && fail "start rewrote the state (a second supervisor?): $(head -c 200 "$st")"
	# a state naming another live process is not believed either
	sleep 1000 &
	local decoy=$!
	printf 'sup_pid=%d\nsup_start=%s\ninit_pid=%d\nstarted=1\ncgroup=/nonexistent/sbx-1-00000000\n' \
		"$decoy" "$(lc_pstart $decoy)" "$decoy" >"$st"
	lc_ok "inspect with a lying state" inspect CS
	[ "$(json_get pid)" = "$SNAP_SUP" ] || fail_out "inspect believes the state's pid $decoy"
	: >"$st"
	lc_ok "rm -f with a truncated state" rm -f CS
	kill -0 $decoy 2>/dev/null || fail "rm -f killed the process the state named ($decoy)"
	kill $decoy
	wait $decoy 2>/dev/null
	lc_runtime_gone CS "after rm -f with a truncated state" 5
	wait_no_mark "$mark" 3 || fail "sandbox processes left after rm -f: $(describe_pids $(mark_pids "$mark"))"
	[ -e "$T/state/sandboxes/CS" ] && fail "state dir entry still there after rm -f"

	# stop, and a garbage state
	lc_ok "create 2" create CS2
	lc_snap CS2
	head -c 300 /dev/urandom >"$T/run/CS2/state"
	lc_ok "stop with a garbage state" stop CS2
	lc_runtime_gone CS2 "after stop with a garbage state" 5
	lc_state CS2
	[ "$LS_STATE" = stopped ] || fail_out "ls says '$LS_STATE' after stop"
	# a stale state naming another live sandbox's cgroups: start does not
	# remove them (a cgroup someone holds is never a leftover)
	lc_ok "create CS3" create CS3
	lc_snap CS3
	mkdir -p "$T/run/CS2"
	{
		printf 'sup_pid=999999\nsup_start=1\ninit_pid=999999\nstarted=1\n'
		for f in "${SNAP_CGS[@]}"; do printf 'cgroup=%s\n' "$f"; done
	} >"$T/run/CS2/state"
	lc_ok "start CS2 over a stale state naming CS3's cgroups" start CS2
	for f in "${SNAP_CGS[@]}"; do [ -d "$f" ] || fail "start of CS2 removed $f of the running CS3"; done
	lc_alive "$SNAP_INIT" "$SNAP_INIT_START" || fail "start of CS2 killed the init of CS3"
	lc_ok "exec CS3" exec CS3 -- echo alive
	expect_stdout alive
	lc_ok "rm -f CS2" rm -f CS2
	lc_ok "rm -f CS3" rm -f CS3
}

t_lifecycle_cleanup_orphaned_cgroups() {
	lc_setup
	local m own dead hex orphan held f sleeper holder
	m=$(cg_mount pids)
	[ -n "$m" ] || m=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	own=$(cg_own pids)
	[ -n "$own" ] || own=$(awk -F: '$1 == 0 { print $3 }' /proc/self/cgroup)
	[ -n "$m" ] || fail "no pids hierarchy found"
	# an orphan: its creator is dead and a process still runs in it
	(exit 0) &
	dead=$!
	wait $dead
	hex=$(printf '%08x' $((RANDOM * 32768 + RANDOM)))
	orphan=$m${own%/}/sbx-$dead-$hex
	mkdir "$orphan" || fail "cannot make $orphan"
	sleep 1000 &
	sleeper=$!
	echo $sleeper >"$orphan/cgroup.procs" || fail "cannot move $sleeper into $orphan"
	# held: a live process outside it keeps an fd on it (as every owner does)
	held=$m${own%/}/sbx-$$-$(printf '%08x' $((RANDOM * 32768 + RANDOM + 1)))
	mkdir "$held"
	sleep 1000 &
	local inheld=$!
	echo $inheld >"$held/cgroup.procs"
	bash -c 'exec 7<"$1"; exec sleep 1000' _ "$held" &
	holder=$!
	sleep 0.2
	# a running sandbox of another state dir
	lc_ok "create" create KEEP
	lc_snap KEEP
	SBX_STATE_DIR=$T/other SBX_RUN_DIR=$T/otherrun run_sbx cleanup
	expect_rc 0 "sbx cleanup"
	local problems=
	[ -d "$orphan" ] && problems+=" orphaned cgroup $orphan still there;"
	kill -0 $sleeper 2>/dev/null && [ "$(awk '{print $3}' /proc/$sleeper/stat)" != Z ] && problems+=" the process in the orphaned cgroup lives;"
	[ -d "$held" ] || problems+=" removed $held, which a live process holds;"
	kill -0 $inheld 2>/dev/null || problems+=" killed the process in a held cgroup;"
	for f in "${SNAP_CGS[@]}"; do [ -d "$f" ] || problems+=" removed $f of a running sandbox;"; done
	lc_alive "$SNAP_INIT" "$SNAP_INIT_START" || problems+=" killed the init of a running sandbox;"
	kill $holder $inheld 2>/dev/null
	wait $holder $inheld $sleeper 2>/dev/null
	rmdir "$held" 2>/dev/null
	[ -d "$orphan" ] && { kill -9 $(cat "$orphan/cgroup.procs") 2>/dev/null; sleep 0.2; rmdir "$orphan"; }
	[ -z "$problems" ] || fail "sbx cleanup:$problems"
	lc_ok "exec after cleanup" exec KEEP -- echo alive
	expect_stdout alive

	# a supervisor killed with a corrupt state: what it left is the sweep's
	: >"$T/run/KEEP/state"
	kill -KILL "$SNAP_SUP"
	run_sbx cleanup
	expect_rc 0 "sbx cleanup after SIGKILL of a supervisor"
	lc_ok "rm KEEP" rm KEEP
	lc_runtime_gone KEEP "after SIGKILL of the supervisor, cleanup and rm" 5
}

# ---------------------------------------------------------------- issue 9: stalls, long paths, pids

# lc_one_line_error WHAT RE: the last run failed with exit 125 and exactly
# one stderr line matching RE.
lc_one_line_error() {
	expect_rc 125 "$1"
	local n
	n=$(stderr_lines | wc -l)
	[ "$n" = 1 ] || fail_out "$1: $n stderr lines, expected one error line"
	stderr_lines | grep -qE "$2" || fail_out "$1: the error does not say /$2/"
}

# A loop inside that SIGSTOPs every sbx-init process but pid 1 (the exec
# shims and file handlers the host talks to) must not hang the host: exec,
# read and write keep their deadlines, a big request (more than the socket
# buffer) too, and SIGTERM still ends an exec without a timeout.
t_lifecycle_stopped_helpers_keep_deadlines() {
	lc_setup
	lc_ok "create" create SH
	# Big enough that a handler lives long enough for the loop to catch it.
	lc_ok "make a 5 MB file" exec SH -- sh -c 'head -c 5000000 /dev/zero >/tmp/big5'
	# The loop starts after its own exec has ended (it stops that shim too).
	run_sbx exec SH -- sh -c '(sleep 1; while :; do for p in /proc/[0-9]*; do
		n=${p#/proc/}; [ "$n" = 1 ] && continue
		read -r c <"$p/comm" 2>/dev/null && [ "$c" = sbx-init ] && kill -STOP "$n" 2>/dev/null
	done; done) >/dev/null 2>&1 </dev/null &'
	expect_rc 0 "exec starting the SIGSTOP loop"
	sleep 2
	local big
	big=$(head -c 100000 /dev/zero | tr '\0' a)
	WATCHDOG=60 run_sbx exec SH --timeout 2s -- echo hi
	[ "$RC" != 0 ] || fail_out "exec succeeded with every helper stopped"
	[ "$ELAPSED_MS" -lt 30000 ] || fail_out "exec --timeout 2s took ${ELAPSED_MS}ms"
	lc_one_line_error "exec --timeout 2s" "did not answer|did not take|did not end"
	# 400 KB of environment: more than the socket takes without a reader
	WATCHDOG=60 run_sbx exec SH --timeout 2s --env "A=$big" --env "B=$big" --env "C=$big" --env "D=$big" -- true
	[ "$ELAPSED_MS" -lt 30000 ] || fail_out "exec --timeout 2s with a big request took ${ELAPSED_MS}ms"
	lc_one_line_error "exec --timeout 2s, big request" "did not answer|did not take|did not end"
	WATCHDOG=60 run_sbx read SH /tmp/big5 --timeout 2s
	[ "$ELAPSED_MS" -lt 20000 ] || fail_out "read --timeout 2s took ${ELAPSED_MS}ms"
	lc_one_line_error "read --timeout 2s" "did not complete the request within 2 s"
	head -c 5000000 /dev/zero >"$T/big"
	WATCHDOG=60 run_sbx write SH /tmp/big --timeout 2s <"$T/big"
	[ "$ELAPSED_MS" -lt 20000 ] || fail_out "write --timeout 2s of 5 MB took ${ELAPSED_MS}ms"
	lc_one_line_error "write --timeout 2s" "did not complete the request within 2 s"
	# No timeout at all: SIGTERM still ends it (after its grace periods).
	sbx_start term exec SH --timeout 0 --env "A=$big" --env "B=$big" --env "C=$big" --env "D=$big" -- true
	sleep 1
	kill -TERM "$(sbx_pid term)"
	sbx_wait term 60
	[ "$RC" != 0 ] || fail_out "exec ended by SIGTERM exited 0"
	[ "$ELAPSED_MS" -lt 45000 ] || fail_out "exec took ${ELAPSED_MS}ms to end after SIGTERM"
	lc_ok "rm -f" rm -f SH
}

# Paths up to PATH_MAX - 1 bytes work for read and write; longer ones, and
# relative ones that become too long with the working directory, get a
# one-line error naming the cause (not "ended the request").
t_lifecycle_long_paths() {
	lc_setup
	lc_ok "create" create LP
	local c d rel
	c=$(printf 'c%.0s' $(seq 200))
	d=/tmp/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c/$c # 3623 bytes
	lc_ok "mkdir" exec LP -- mkdir -p "$d"
	echo deep >"$T/deep"
	lc_ok "write a ${#d}-byte path" write LP "$d/f" <"$T/deep"
	lc_ok "read it back" read LP "$d/f"
	expect_stdout deep
	# 600 bytes (over the old 512-byte request buffer)
	echo mid >"$T/mid"
	lc_ok "write a 609-byte path" write LP "/tmp/$c/$c/$c/f" <"$T/mid"
	lc_ok "read a 609-byte path" read LP "/tmp/$c/$c/$c/f"
	expect_stdout mid
	run_sbx read LP "/tmp/$c/$c/$c/nofile"
	lc_one_line_error "read of a missing 600-byte path" "No such file"
	# PATH_MAX and beyond: refused with its cause
	local long
	long=$(printf 'e%.0s' $(seq 4100))
	run_sbx read LP "/$long"
	lc_one_line_error "read of a 4101-byte path" "path"
	run_sbx write LP "/$long" <"$T/deep"
	lc_one_line_error "write of a 4101-byte path" "path"
	# relative: cwd + path past PATH_MAX
	rel=${d#/}/${d#/}
	rel=${rel:0:4090}
	run_sbx read LP "$rel"
	lc_one_line_error "read of a relative path too long with the cwd" "too long"
	stderr_lines | grep -q "ended the request" && fail_out "a refused request is reported as ended"
	lc_ok "rm -f" rm -f LP
}

# An exec refused at the sandbox's pids limit says so (whether init cannot
# fork the exec's handler or the handler cannot fork the command).
t_lifecycle_exec_at_pids_limit() {
	lc_setup
	lc_ok "create" create PL --pids 12
	# Takes every free pid, and each one that frees up again.
	run_sbx exec PL -- sh -c '(while :; do sleep 1000 & done) >/dev/null 2>&1 </dev/null &'
	expect_rc 0 "exec filling the pids limit"
	sleep 1
	local i
	for i in 1 2 3; do
		WATCHDOG=60 run_sbx exec PL -- true
		lc_one_line_error "exec at the pids limit ($i)" "pids limit reached \(12\)"
	done
	lc_ok "rm -f" rm -f PL
}

# A sandbox socket that answers badly (a stand-in for a subverted sandbox:
# tests/integration/helpers/fake_ctl.c): silent, garbage, half a transfer,
# an absurd size, or EOF at once. Every call ends in bounded time with one
# error line and exit 125.
t_lifecycle_hostile_replies() {
	command -v "${CC_HELPERS:-gcc}" >/dev/null || skip "no C compiler (gcc) for the fake sandbox socket"
	"${CC_HELPERS:-gcc}" -O1 -Wall -o "$T/fake_ctl" "$REPO/tests/integration/helpers/fake_ctl.c" 2>"$T/cc.err" ||
		fail "gcc fake_ctl.c failed: $(head -n 3 "$T/cc.err")"
	lc_setup
	lc_ok "create" create FK
	lc_ok "stop" stop FK
	mkdir -p "$SBX_RUN_DIR/FK"
	echo data >"$T/data"
	local mode fake
	for mode in silent garbage half huge eof; do
		"$T/fake_ctl" "$SBX_RUN_DIR/FK/ctl.sock" "$mode" &
		fake=$!
		on_exit "kill $fake"
		wait_for_file "$SBX_RUN_DIR/FK/ctl.sock" 5 || fail "fake socket ($mode) did not appear"
		WATCHDOG=60 run_sbx exec FK --timeout 2s -- true
		[ "$ELAPSED_MS" -lt 30000 ] || fail_out "exec against a $mode socket took ${ELAPSED_MS}ms"
		lc_one_line_error "exec against a $mode socket" "FK"
		WATCHDOG=60 run_sbx read FK /x --timeout 2s
		[ "$ELAPSED_MS" -lt 20000 ] || fail_out "read against a $mode socket took ${ELAPSED_MS}ms"
		lc_one_line_error "read against a $mode socket" "FK"
		WATCHDOG=60 run_sbx write FK /x --timeout 2s <"$T/data"
		[ "$ELAPSED_MS" -lt 20000 ] || fail_out "write against a $mode socket took ${ELAPSED_MS}ms"
		lc_one_line_error "write against a $mode socket" "FK"
		kill "$fake"
		wait "$fake" 2>/dev/null
		rm -f "$SBX_RUN_DIR/FK/ctl.sock"
	done
	lc_ok "rm -f" rm -f FK
}

# Issue 15: sbx's own workspace on a file system without idmapped mounts
# (the state dir on a ramfs): its owners are shifted to the ids root inside
# maps to at each start, so it stays root's inside across starts with new
# ranges; symlinks are not followed, other ids and mode bits are kept; a
# shift cut short (its record left in the sandbox's dir) is completed by the
# next start; rm leaves nothing.
t_lifecycle_own_workspace_shift() {
	ws_ramfs rs
	export SBX_STATE_DIR=$WS_RAMFS/state SBX_RUN_DIR=$T/run
	on_exit lc_cleanup
	local b=$((0x74000000)) c=$((0x74100000)) d=$((0x74200000)) e=$((0x74300000))
	export SBX_ID_RANGE=$b:65536
	lc_ok "create" create OS
	lc_ok "exec (first range)" exec OS -- sh -c '
set -e
cd /workspace
mkdir -p d/e && echo deep >d/e/f
ln -s /etc/passwd abs && ln -s d/e/f rel
ln d/e/f hard
echo other >o && chown 1000:1001 o
mkdir od && chown 1000:1000 od
mkfifo fifo
echo ok'
	expect_stdout ok
	local w=$WS_RAMFS/state/sandboxes/OS/workspace
	[ "$(stat -c %u:%g "$w" "$w/d/e/f" | sort -u)" = "$b:$b" ] || fail "first start: workspace not owned by $b: $(ls -lnR "$w" | tr '\n' '|')"
	lc_ok "stop" stop OS
	# host-made: a setgid dir and a setuid file of root inside, a file of
	# someone outside the range
	mkdir "$w/sg" && chown "$b:$b" "$w/sg" && chmod 2775 "$w/sg"
	echo x >"$w/su" && chown "$b:$b" "$w/su" && chmod 4755 "$w/su"
	echo y >"$w/foreign" && chown 4242:4242 "$w/foreign"

	export SBX_ID_RANGE=$c:65536
	lc_ok "start (new range)" start OS
	local owners
	owners=$(cd "$w" && stat -c '%n %u:%g %a' . d d/e d/e/f abs rel hard o od fifo sg su foreign)
	local want=". $c:$c 755
d $c:$c 755
d/e $c:$c 755
d/e/f $c:$c 644
abs $c:$c 777
rel $c:$c 777
hard $c:$c 644
o $((c + 1000)):$((c + 1001)) 644
od $((c + 1000)):$((c + 1000)) 755
fifo $c:$c 644
sg $c:$c 2775
su $c:$c 4755
foreign 4242:4242 644"
	[ "$owners" = "$want" ] || fail "owners after the shift:$(diff <(echo "$want") <(echo "$owners") | grep '^[<>]' | tr '\n' ';')"
	[ "$(readlink "$w/abs")" = /etc/passwd ] && [ "$(readlink "$w/rel")" = d/e/f ] || fail "symlink targets changed"
	[ "$(stat -c %h "$w/hard")" = 2 ] || fail "the hardlink is broken"
	[ "$(stat -c %u /etc/passwd)" = 0 ] || fail "the shift followed a symlink to /etc/passwd"
	[ ! -e "$w.shift" ] || fail "the shift record is left after a completed shift"
	lc_ok "exec (new range)" exec OS -- sh -c 'cd /workspace && echo more >>d/e/f && echo new >n && mkdir nd && ls -ln o | cut -d" " -f3,4 && cat d/e/f'
	expect_stdout "1000 1001
deep
more"
	[ "$(stat -c %u:%g "$w/n" "$w/nd" | sort -u)" = "$c:$c" ] || fail "files made after the shift are not owned by $c"
	lc_ok "stop" stop OS

	# a shift killed half-way from c to d: the record says so, some entries
	# moved, the directory itself not yet; the next start (range e)
	# completes it, then shifts to e
	printf '%s %s %s %s 65536\n' "$c" "$c" "$d" "$d" >"$w.shift"
	chown -h "$d:$d" "$w/d/e/f" "$w/abs"
	chown -h "$((d + 1000)):$((d + 1001))" "$w/o"
	export SBX_ID_RANGE=$e:65536
	lc_ok "start after a cut shift" start OS
	owners=$(cd "$w" && stat -c '%n %u:%g' . d d/e d/e/f abs rel hard o od n nd foreign)
	want=". $e:$e
d $e:$e
d/e $e:$e
d/e/f $e:$e
abs $e:$e
rel $e:$e
hard $e:$e
o $((e + 1000)):$((e + 1001))
od $((e + 1000)):$((e + 1000))
n $e:$e
nd $e:$e
foreign 4242:4242"
	[ "$owners" = "$want" ] || fail "owners after completing a cut shift:$(diff <(echo "$want") <(echo "$owners") | grep '^[<>]' | tr '\n' ';')"
	[ ! -e "$w.shift" ] || fail "the shift record is left"
	lc_ok "exec (third range)" exec OS -- sh -c 'echo third >>/workspace/d/e/f && cat /workspace/d/e/f'
	expect_stdout "deep
more
third"
	lc_ok "rm -f" rm -f OS
	[ -z "$(ls -A "$SBX_STATE_DIR/sandboxes" 2>/dev/null)" ] || fail "rm left: $(ls -AR "$SBX_STATE_DIR/sandboxes")"
	unset SBX_ID_RANGE
}

# Issue 15: through the C API, a host workspace that cannot be idmapped
# (ramfs) is refused by sbx_run and sbx_sandbox_create with SBX_E_PATH and
# the documented message; nothing is stored.
t_lifecycle_c_api_workspace_refused() {
	command -v cc >/dev/null || skip "no C compiler on the host"
	local lib=$(dirname "$SBX_REAL")/libsbx.a san=() out
	[ -f "$lib" ] || fail "no $lib next to $SBX_REAL (make all)"
	grep -qa __asan_init "$SBX_REAL" &&
		san=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
	out=$(cc -std=gnu11 -O1 -g -Wall -Wextra -Werror "${san[@]}" -I"$REPO/include" \
		-o "$T/api_test" "$HERE/helpers/api_test.c" "$lib" -lseccomp -lcap -lcgroup -lpthread 2>&1) ||
		fail "building api_test failed: $(echo "$out" | head -n 5)"
	ws_ramfs rfs
	mkdir -m 0755 "$WS_RAMFS/h"
	export SBX_STATE_DIR=$T/api/state SBX_RUN_DIR=$T/api/run
	on_exit lc_cleanup
	SBX_ROOTFS=$ROOTFS timeout -s KILL 60 "$T/api_test" "$T/api" --refused-workspace "$WS_RAMFS/h" >"$T/out" 2>"$T/err"
	RC=$?
	[ "$RC" = 0 ] && grep -qx 'api_test: ok' "$T/out" || fail_out "api_test --refused-workspace: $(grep -m1 'api_test: ' "$T/out")"
	[ -z "$(ls -A "$T/api/state/sandboxes" 2>/dev/null)" ] || fail "a refused create left state: $(ls -A "$T/api/state/sandboxes")"
	[ -z "$(ls -A "$WS_RAMFS/h")" ] || fail "the refused calls changed the workspace"
}
