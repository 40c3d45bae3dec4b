# shellcheck shell=bash
# ocicli: build/sbx-oci driven directly, as a runc-compatible CLI, on a bundle
# of sbx's own rootfs (root.path absolute, read-only): the lifecycle
# (create, state, start, exec, ps, kill, delete), run with exit codes,
# linux.resources read back from the host's cgroup files (v1 here, v2 in the
# vmtest guest), a killed init, the error log in runc's JSON form, and bad
# input (one line, exit 125, nothing left). The podman, containerd and
# validation-suite tests are in t_oci.sh.

ocicli_rt() {
	OCI=${OCI_RUNTIME_UNDER_TEST:-$(dirname "$SBX")/sbx-oci}
	[ -x "$OCI" ] || fail "$OCI is not built (make all)"
	OCIROOT=$T/root
}

# ocicli_bundle DIR PYTHON-CODE [JSON-PATCH]: a bundle in DIR whose process
# runs python3 -c CODE; the patch (a Python expression on `c`) is applied.
ocicli_bundle() {
	local dir=$1 code=$2 patch=${3:-None}
	mkdir -p "$dir"
	python3 - "$dir/config.json" "$ROOTFS" "$code" <<PY || fail "cannot write $dir/config.json"
import json, sys
path, rootfs, code = sys.argv[1:4]
c = {
  "ociVersion": "1.0.2",
  "process": {"terminal": False, "user": {"uid": 0, "gid": 0},
    "args": ["python3", "-c", code],
    "env": ["PATH=/usr/local/bin:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1"],
    "cwd": "/",
    "capabilities": {k: ["CAP_KILL", "CAP_NET_BIND_SERVICE"] for k in
                     ("bounding", "effective", "permitted")},
    "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
    "noNewPrivileges": True},
  "root": {"path": rootfs, "readonly": True},
  "hostname": "ocicli",
  "mounts": [
    {"destination": "/proc", "type": "proc", "source": "proc"},
    {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    {"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]},
    {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "mode=1777"]},
    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}],
  "linux": {
    "namespaces": [{"type": t} for t in ("pid", "network", "ipc", "uts", "mount", "cgroup")],
    "maskedPaths": ["/proc/kcore", "/proc/keys"],
    "readonlyPaths": ["/proc/sys"]}}
patch = $patch
json.dump(c, open(path, "w"))
PY
}

oci() { # oci ARGS...: run the runtime; RC, $T/out, $T/err (fail_out shows them)
	LAST_PREFIX="" LAST_ARGS="$OCI $*"
	"$OCI" --root "$OCIROOT" "$@" >"$T/out" 2>"$T/err"
	RC=$?
}

ocicli_state_field() { # ID FIELD
	"$OCI" --root "$OCIROOT" state "$1" | python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# The container's cgroup dirs (host paths) from its state file.
ocicli_cgdirs() {
	python3 -c "import json,sys; [print(l.split(' ', 3)[3]) for l in json.load(open(sys.argv[1]))['cgroups'].splitlines()]" "$OCIROOT/$1/state.json"
}

ocicli_cleanup() { # ID: delete --force, whatever state it is in
	[ -d "$OCIROOT/$1" ] && "$OCI" --root "$OCIROOT" delete --force "$1" >/dev/null 2>&1
	return 0
}

t_ocicli_lifecycle() {
	ocicli_rt
	ocicli_bundle "$T/b" 'import os, time; print("up", os.getpid(), flush=True); time.sleep(300)'
	on_exit "ocicli_cleanup c1"
	oci create --bundle "$T/b" --pid-file "$T/pid" c1 </dev/null
	[ $RC = 0 ] || fail_out "create"
	[ "$(ocicli_state_field c1 status)" = created ] || fail "not created after create"
	local pid
	pid=$(cat "$T/pid")
	[ "$(ocicli_state_field c1 pid)" = "$pid" ] || fail "state pid differs from --pid-file"
	[ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ] || fail "no pid namespace"
	grep -q '^NSpid:.*[[:space:]]1$' /proc/$pid/status || fail "the init is not pid 1 in its namespace"
	oci start c1
	[ $RC = 0 ] || fail_out "start"
	[ "$(ocicli_state_field c1 status)" = running ] || fail "not running after start"
	oci start c1
	[ $RC != 0 ] || fail "a second start succeeded"
	oci exec c1 python3 -c 'import os, socket; print(os.getpid(), socket.gethostname(), open("/proc/self/status").read().split("CapEff:")[1].split()[0])'
	[ $RC = 0 ] || fail_out "exec"
	read -r epid ehost ecap <"$T/out"
	[ "$ehost" = ocicli ] && [ "$epid" -gt 1 ] || fail "exec ran outside the container: $(cat "$T/out")"
	[ "$ecap" = 0000000000000420 ] || fail "exec's capabilities are $ecap, not CAP_KILL+CAP_NET_BIND_SERVICE (0x420)"
	oci exec c1 python3 -c 'raise SystemExit(5)'
	[ $RC = 5 ] || fail_out "exec's exit status 5 came back as $RC"
	oci exec --detach --pid-file "$T/epid" c1 python3 -c 'import time; time.sleep(300)'
	[ $RC = 0 ] || fail_out "exec --detach"
	oci ps --format json c1
	[ $RC = 0 ] || fail_out "ps"
	python3 -c "import json,sys; p=json.load(open(sys.argv[1])); sys.exit(0 if {int(sys.argv[2]), int(sys.argv[3])} <= set(p) else 1)" "$T/out" "$pid" "$(cat "$T/epid")" ||
		fail "ps --format json does not list the init and the exec'd process: $(cat "$T/out")"
	local dirs
	dirs=$(ocicli_cgdirs c1)
	[ -n "$dirs" ] || fail "no cgroup in the state"
	local d
	for d in $dirs; do grep -qx "$pid" "$d/cgroup.procs" || fail "the init is not in $d"; done
	oci delete c1
	[ $RC != 0 ] || fail "delete of a running container succeeded without --force"
	oci kill c1 KILL
	[ $RC = 0 ] || fail_out "kill"
	for ((i = 0; i < 50; i++)); do [ "$(ocicli_state_field c1 status)" = stopped ] && break; sleep 0.1; done
	[ "$(ocicli_state_field c1 status)" = stopped ] || fail "not stopped after kill KILL"
	oci delete c1
	[ $RC = 0 ] || fail_out "delete"
	oci state c1
	[ $RC != 0 ] || fail "state of a deleted container succeeded"
	for d in $dirs; do [ ! -e "$d" ] || fail "cgroup $d left after delete"; done
	[ -z "$(ls -A "$OCIROOT")" ] || fail "state left in the root: $(ls -A "$OCIROOT")"
	kill -0 "$(cat "$T/epid")" 2>/dev/null && fail "the exec'd process outlived delete"
	grep -q "up 1" <(cat /dev/null) # the container's stdout went to create's (/dev/null here)
	return 0
}

t_ocicli_run_exit_codes() {
	ocicli_rt
	ocicli_bundle "$T/b" 'import sys; print("hello from", open("/etc/hostname").read().strip() if False else "oci"); sys.exit(7)'
	oci run --bundle "$T/b" r1 </dev/null
	[ $RC = 7 ] || fail_out "run: exit status 7 came back as $RC"
	grep -qx "hello from oci" "$T/out" || fail_out "run: no output"
	[ -z "$(ls -A "$OCIROOT")" ] || fail "run left state behind"
	# the init killed from outside: 128 + 9 (it is pid 1 in its namespace:
	# it cannot SIGKILL itself)
	ocicli_bundle "$T/b2" 'import time; time.sleep(300)'
	on_exit "ocicli_cleanup r2"
	"$OCI" --root "$OCIROOT" run --bundle "$T/b2" r2 </dev/null >/dev/null 2>&1 &
	local runpid=$!
	for ((i = 0; i < 100; i++)); do [ "$(ocicli_state_field r2 status 2>/dev/null)" = running ] && break; sleep 0.05; done
	oci kill r2 KILL
	[ $RC = 0 ] || fail_out "kill"
	wait $runpid
	RC=$?
	[ $RC = 137 ] || fail "run: a SIGKILLed container came back as $RC, not 137"
	[ -z "$(ls -A "$OCIROOT")" ] || fail "run left state behind"
}

t_ocicli_resources() {
	ocicli_rt
	ocicli_bundle "$T/b" 'import time; time.sleep(300)' \
		'c["linux"].update(resources={"memory": {"limit": 67108864}, "pids": {"limit": 32}, "cpu": {"quota": 50000, "period": 100000}}, cgroupsPath="sbxtest-ocicli-'$BASHPID'/res")'
	on_exit "ocicli_cleanup res"
	oci create --bundle "$T/b" res </dev/null
	[ $RC = 0 ] || fail_out "create"
	local d mem="" pids="" cpu=""
	for d in $(ocicli_cgdirs res); do
		[[ $d == */sbxtest-ocicli-$BASHPID/res ]] || fail "cgroup $d is not at the cgroupsPath beneath the runtime's cgroup"
		[ -f "$d/memory.limit_in_bytes" ] && mem=$(cat "$d/memory.limit_in_bytes")
		[ -f "$d/memory.max" ] && mem=$(cat "$d/memory.max")
		[ -f "$d/pids.max" ] && pids=$(cat "$d/pids.max")
		[ -f "$d/cpu.cfs_quota_us" ] && cpu=$(cat "$d/cpu.cfs_quota_us")
		[ -f "$d/cpu.max" ] && cpu=$(cut -d' ' -f1 "$d/cpu.max")
	done
	[ "$mem" = 67108864 ] || fail "memory limit is '$mem'"
	[ "$pids" = 32 ] || fail "pids limit is '$pids'"
	[ "$cpu" = 50000 ] || fail "cpu quota is '$cpu'"
	oci delete --force res
	[ $RC = 0 ] || fail_out "delete --force"
	# a memory hog is killed by the limit
	ocicli_bundle "$T/b2" 'b = bytearray(256 << 20); print("survived")' \
		'c["linux"].update(resources={"memory": {"limit": 67108864, "swap": 67108864}})'
	oci run --bundle "$T/b2" hog </dev/null
	[ $RC = 137 ] || fail_out "a 256 MiB allocation under a 64 MiB limit ended with $RC, not 137"
	# a fork bomb stops at the pids limit
	ocicli_bundle "$T/b3" 'import os
n = 0
try:
    while n < 200:
        if os.fork() == 0:
            import time; time.sleep(30); os._exit(0)
        n += 1
except OSError:
    pass
print(n)' 'c["linux"].update(resources={"pids": {"limit": 16}})'
	oci run --bundle "$T/b3" bomb </dev/null
	[ $RC = 0 ] || fail_out "fork bomb run"
	local n
	n=$(cat "$T/out")
	[ "$n" -lt 16 ] || fail "forked $n processes under pids.limit 16"
	[ -z "$(ls -A "$OCIROOT")" ] || fail "state left in the root"
}

t_ocicli_init_killed() {
	ocicli_rt
	ocicli_bundle "$T/b" 'import time; time.sleep(300)'
	on_exit "ocicli_cleanup k9"
	oci create --bundle "$T/b" --pid-file "$T/pid" k9 </dev/null
	[ $RC = 0 ] || fail_out "create"
	local dirs
	dirs=$(ocicli_cgdirs k9)
	kill -KILL "$(cat "$T/pid")"
	for ((i = 0; i < 50; i++)); do [ "$(ocicli_state_field k9 status)" = stopped ] && break; sleep 0.1; done
	[ "$(ocicli_state_field k9 status)" = stopped ] || fail "a SIGKILLed init is not stopped"
	oci start k9
	[ $RC != 0 ] || fail "start of a dead container succeeded"
	oci delete k9
	[ $RC = 0 ] || fail_out "delete of a stopped container"
	local d
	for d in $dirs; do [ ! -e "$d" ] || fail "cgroup $d left"; done
	[ -z "$(ls -A "$OCIROOT")" ] || fail "state left in the root"
}

t_ocicli_log_json() {
	ocicli_rt
	"$OCI" --root "$OCIROOT" --log "$T/log.json" --log-format json start nosuch >"$T/out" 2>"$T/err"
	[ $? != 0 ] || fail "start of a missing container succeeded"
	python3 -c "import json,sys; d=json.loads(open(sys.argv[1]).readline()); sys.exit(0 if d['level']=='error' and 'nosuch' in d['msg'] else 1)" "$T/log.json" ||
		fail "the log is not runc's JSON line: $(cat "$T/log.json")"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "stderr is not one line: $(cat "$T/err")"
}

t_ocicli_bad_input() {
	ocicli_rt
	ocicli_bundle "$T/good" 'pass'
	mkdir -p "$T/nocfg" "$T/badjson" "$T/badcap"
	echo '{"ociVersion": "1.0.2", "process": ' >"$T/badjson/config.json"
	ocicli_bundle "$T/badcap" 'pass' 'c["process"]["capabilities"]["bounding"].append("CAP_NOPE")'
	ocicli_bundle "$T/relcwd" 'pass' 'c["process"].update(cwd="relative")'
	ocicli_bundle "$T/blkio" 'pass' 'c["linux"].update(resources={"blockIO": {"weight": 10}})'
	local args
	while IFS= read -r args; do
		# shellcheck disable=SC2086
		oci $args </dev/null
		[ $RC = 125 ] || fail_out "'$args' exited $RC, not 125"
		[ "$(wc -l <"$T/err")" = 1 ] || fail_out "'$args': stderr is not one line"
		[ ! -s "$T/out" ] || fail_out "'$args' wrote to stdout"
		[ -z "$(ls -A "$OCIROOT" 2>/dev/null)" ] || fail "'$args' left $(ls -A "$OCIROOT")"
	done <<EOF2
frobnicate x
create
create --bundle $T/good
create --bundle $T/good a/b
create --bundle $T/good ..
create --bogus --bundle $T/good x
create --bundle $T/nocfg x
create --bundle $T/badjson x
create --bundle $T/badcap x
create --bundle $T/relcwd x
create --bundle $T/blkio x
create --preserve-fds -1 --bundle $T/good x
kill
kill x NOSUCHSIG
exec
--log-format yaml state x
EOF2
}

# --cgroup-parent (relative here: beneath the runtime's own cgroup in every
# hierarchy; the absolute form, from each hierarchy's root as runc takes
# cgroupsPath, is unit-tested: the test may not write at the host's roots).
t_ocicli_cgroup_parent() {
	ocicli_rt
	local name=sbxtest-ocicli-$BASHPID-par mp own dir dirs=()
	while read -r mp own; do
		if [ "$own" = / ]; then dir=$mp/$name; else dir=$mp$own/$name; fi
		mkdir "$dir" || fail "cannot make $dir"
		on_exit "rmdir '$dir'"
		dirs+=("$dir")
		if [ -e "$dir/cpuset.cpus" ]; then
			cat "$(dirname "$dir")/cpuset.cpus" >"$dir/cpuset.cpus"
			cat "$(dirname "$dir")/cpuset.mems" >"$dir/cpuset.mems"
		fi
	done < <(oci_cg_hierarchies)
	ocicli_bundle "$T/b" 'import time; time.sleep(300)' 'c["linux"].update(cgroupsPath="/pc", resources={"pids": {"limit": 9}})'
	on_exit "ocicli_cleanup par"
	"$OCI" --root "$OCIROOT" --cgroup-parent "$name" create --bundle "$T/b" par </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	[ $RC = 0 ] || fail_out "create with --cgroup-parent"
	local d got=0
	for d in $(ocicli_cgdirs par); do
		[[ $d == */$name/pc ]] || fail "cgroup $d is not beneath --cgroup-parent $name"
		got=$((got + 1))
		[ -f "$d/pids.max" ] && { [ "$(cat "$d/pids.max")" = 9 ] || fail "pids.max in $d is $(cat "$d/pids.max")"; }
	done
	[ "$got" -ge 3 ] || fail "only $got cgroup dirs"
	oci delete --force par
	[ $RC = 0 ] || fail_out "delete --force"
	for d in "${dirs[@]}"; do
		[ -d "$d" ] || fail "delete removed the --cgroup-parent dir $d"
		[ ! -e "$d/pc" ] || fail "$d/pc left after delete"
	done
	"$OCI" --root "$OCIROOT" --cgroup-parent "../up" create --bundle "$T/b" bad </dev/null >"$T/out" 2>"$T/err"
	RC=$?
	[ $RC = 125 ] || fail_out "--cgroup-parent ../up exited $RC, not 125"
	[ -z "$(ls -A "$OCIROOT")" ] || fail "state left in the root"
}
