# shellcheck shell=bash
# zygote: pre-forked pool sandboxes (issue 10). Every test goes through a
# real `sbx pool serve --socket ... --size 2` in its default mode (fork: each
# sandbox forked from a Python zygote) and the CLI clients (`sbx python
# --pool`, `sbx run --pool`, `sbx pool stats`): isolation between two
# sandboxes alive at the same time, the pool's limits per sandbox, a crashed
# zygote restarted, nothing left after SIGTERM or kill -9 of the daemon, the
# stats of both modes, and the requests a fork pool refuses.
#
# Uses the pool group's helpers (t_pool.sh: pool_up, pool_stop, pool_raw_c,
# pool_cg_pids, pool_cg_dirs, ...); daemons are started with sbx_start, so
# the harness stops them however a test ends.
#
# A request that must be alive while another one checks (a "holder") cannot
# tell the host it is ready through its output (pool output is captured,
# not streamed): once set up it renames itself (prctl PR_SET_NAME, its
# comm; not a write to /proc/self/comm, which a non-dumpable process cannot
# do) to a
# marker the host looks for, then waits until the host sends it SIGUSR2
# (a file the host created in its /tmp would belong to no one the
# sandbox's user namespace knows: EOVERFLOW). Nothing of that lets one
# sandbox see the other.

# ---------------------------------------------------------------- helpers

# zyg_stats SOCK: `sbx pool stats` into $T/stats (status of the command).
zyg_stats() {
	"$SBX" pool stats --socket "$1" >"$T/stats" 2>"$T/stats.err"
}

# zyg_stat SOCK KEY: one value of `sbx pool stats`, whether it prints
# "key value" lines or a JSON object (strings without their quotes).
# Nothing (status 1) if the key is absent.
zyg_stat() {
	zyg_stats "$1" || return 1
	if [ "$(head -c 1 "$T/stats")" = "{" ]; then
		json_get "$2" "$T/stats"
	else
		awk -v k="$2" '$1 == k { print $2; f = 1; exit } END { exit !f }' "$T/stats"
	fi
}

# zyg_wait_stat SOCK KEY MIN SECONDS: wait until KEY >= MIN.
zyg_wait_stat() {
	local end=$(($(now_us) + $4 * 1000000)) v
	while :; do
		v=$(zyg_stat "$1" "$2")
		[[ $v =~ ^[0-9]+$ ]] && [ "$v" -ge "$3" ] && return 0
		(($(now_us) > end)) && return 1
		sleep 0.1
	done
}

# zyg_stats_detail SOCK: the current stats into the details.
zyg_stats_detail() {
	detail "stats: $("$SBX" pool stats --socket "$1" 2>&1 | tr '\n' ' ')"
}

# zyg_starttime PID: field 22 of /proc/PID/stat (tells a recycled pid apart).
zyg_starttime() {
	local line rest
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${line##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo "${20}"
}

# zyg_live PID: the process exists and is not a zombie.
zyg_live() {
	local st
	st=$(awk '{ sub(/.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# zyg_ppid PID
zyg_ppid() {
	awk '{ sub(/.*\) /, ""); print $2 }' "/proc/$1/stat" 2>/dev/null
}

# zyg_has_ancestor PID ANCESTOR: ANCESTOR is among PID's first 10 ancestors.
zyg_has_ancestor() {
	local p=$1 i
	for ((i = 0; i < 10; i++)); do
		p=$(zyg_ppid "$p")
		[ -n "$p" ] && [ "$p" != 0 ] || return 1
		[ "$p" = "$2" ] && return 0
	done
	return 1
}

# zyg_ancestry PID: "pid(comm) <- ..." for the details.
zyg_ancestry() {
	local p=$1 i out=
	for ((i = 0; i < 10; i++)); do
		[ -n "$p" ] && [ "$p" != 0 ] || break
		out+="$p($(cat "/proc/$p/comm" 2>/dev/null)) <- "
		p=$(zyg_ppid "$p")
	done
	echo "$out"
}

# zyg_comm_pid COMM: host pid of the process (outside the harness's pid
# namespace) whose comm is COMM.
zyg_comm_pid() {
	local f pid
	for f in $(grep -lxF -- "$1" /proc/[0-9]*/comm 2>/dev/null); do
		pid=${f#/proc/}
		pid=${pid%/comm}
		[ "$(pidns_of "$pid")" != "$HOST_PIDNS" ] && zyg_live "$pid" && echo "$pid" && return 0
	done
	return 1
}

# zyg_mark: a fresh comm marker (at most 11 characters, so that a child's
# "k" suffix still fits in the 15 of a comm).
zyg_mark() {
	printf 'zy%05d%04d' $((RANDOM % 100000)) $((RANDOM % 10000))
}

# zyg_descendants PID: pids of PID's descendants (not PID itself).
zyg_descendants() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
		{ pid = $1; r = $0; sub(/.*\) /, "", r); split(r, a, " "); parent[pid] = a[2]; all[++n] = pid }
		END {
			want[root] = 1
			do {
				more = 0
				for (i = 1; i <= n; i++) {
					p = all[i]
					if (!(p in want) && (parent[p] in want)) { want[p] = 1; more = 1 }
				}
			} while (more)
			for (p in want) if (p != root) print p
		}'
}

# zyg_family DPID [ZPID]: "pid:starttime" of every process of daemon DPID:
# its descendants, its zygote ZPID, and what its sandbox cgroups hold.
zyg_family() {
	local pid st
	{
		zyg_descendants "$1"
		[ -n "$2" ] && echo "$2"
		pool_cg_pids "$1"
	} | sort -un | while read -r pid; do
		[ -n "$pid" ] || continue
		st=$(zyg_starttime "$pid") && echo "$pid:$st"
	done
}

# zyg_alive FILE: the "pid:starttime" entries of FILE that are still live.
zyg_alive() {
	local v pid
	while read -r v; do
		pid=${v%%:*}
		[ "$(zyg_starttime "$pid")" = "${v#*:}" ] && zyg_live "$pid" && echo "$pid"
	done <"$1"
}

# zyg_wait_dead FILE SECONDS: wait until no process of FILE is alive.
zyg_wait_dead() {
	local end=$(($(now_us) + $2 * 1000000))
	while [ -n "$(zyg_alive "$1")" ]; do
		(($(now_us) > end)) && return 1
		sleep 0.1
	done
	return 0
}

# zyg_hold NAME SOCK SCRIPT COMM [ARGS...]: start `sbx python --pool SOCK
# SCRIPT COMM ARGS...` in the background; SCRIPT sets its comm to COMM when
# it is ready and then waits for SIGUSR2. Sets ZYG_PID to its host pid.
zyg_hold() {
	local name=$1 sock=$2 script=$3 comm=$4 end pid
	shift 4
	sbx_start "$name" python --pool "$sock" --timeout 200s "$script" "$comm" "$@"
	end=$(($(now_us) + 60000000))
	while ! pid=$(zyg_comm_pid "$comm"); do
		if ! sbx_running "$name"; then
			sbx_wait "$name" 10
			fail_out "request $name ended before it was ready"
		fi
		(($(now_us) > end)) && fail "request $name was not ready within 60 s"
		sleep 0.05
	done
	ZYG_PID=$pid
}

# zyg_go NAME PID: let holder NAME (host pid PID) end; wait for it.
zyg_go() {
	kill -USR2 "$2" || fail "cannot send SIGUSR2 to request $1 (pid $2)"
	sbx_wait "$1" 60
}

# zyg_expect_oks WHAT NAME...: stdout of the last run has "ok NAME" for each
# NAME and no "FAIL" line.
zyg_expect_oks() {
	local what=$1 n
	shift
	grep -q '^FAIL' "$T/out" && fail_out "$what: $(grep -m1 '^FAIL' "$T/out")"
	for n in "$@"; do
		out_has "ok $n" || fail_out "$what: no 'ok $n' line"
	done
	return 0
}

# zyg_cg_value PID CTRL V1FILE V2FILE: a file of PID's cgroup in CTRL's
# hierarchy (v1), else of its cgroup2 cgroup.
zyg_cg_value() {
	local p d
	p=$(cg_own "$2" "$1")
	if [ -n "$p" ] && d=$(cg_dir "$2" "$p") && [ -n "$d" ] && [ -e "$d/$3" ]; then
		cat "$d/$3"
		return
	fi
	p=$(awk -F: '$1 == 0 { print $3 }' "/proc/$1/cgroup" 2>/dev/null)
	cat "/sys/fs/cgroup$p/$4" 2>/dev/null
}

# zyg_cg_path PID CTRL: PID's cgroup path in CTRL's v1 hierarchy, else its
# cgroup2 path.
zyg_cg_path() {
	local p
	p=$(cg_own "$2" "$1")
	[ -n "$p" ] && [ -n "$(cg_mount "$2")" ] && echo "$p" && return
	awk -F: '$1 == 0 { print $3 }' "/proc/$1/cgroup" 2>/dev/null
}

# zyg_expect_fork_stats SOCK WHAT: the pool is in fork mode with a live
# zygote; sets ZYG_ZPID.
zyg_expect_fork_stats() {
	local mode zp
	mode=$(zyg_stat "$1" mode) || { zyg_stats_detail "$1"; fail "$2: \`sbx pool stats\` shows no mode"; }
	[ "$mode" = fork ] || { zyg_stats_detail "$1"; fail "$2: pool stats mode is '$mode', want fork"; }
	# The zygote starts with the pool's first sandbox (or restarts with the
	# next one after a crash): up to 60 s for it.
	local end=$(($(now_us) + 60000000))
	zp=$(zyg_stat "$1" zygote_pid)
	while ! [[ $zp =~ ^[1-9][0-9]*$ ]] && (($(now_us) < end)); do
		sleep 0.1
		zp=$(zyg_stat "$1" zygote_pid)
	done
	[[ $zp =~ ^[0-9]+$ ]] && [ "$zp" -gt 0 ] || { zyg_stats_detail "$1"; fail "$2: pool stats zygote_pid is '$zp', want a pid"; }
	zyg_live "$zp" || fail "$2: zygote_pid $zp is not a live process"
	tr '\0' ' ' <"/proc/$zp/cmdline" 2>/dev/null | grep -q python3 ||
		fail "$2: zygote $zp is not python3: $(tr '\0' ' ' <"/proc/$zp/cmdline" 2>/dev/null | head -c 200)"
	ZYG_ZPID=$zp
}

# ---------------------------------------------------------------- scripts

# zyg_scripts: the Python scripts the tests run, in $T.
zyg_scripts() {
	# A: sets everything up that B must not see, holds until SIGUSR2,
	# then checks that B left nothing in its sandbox either.
	cat >"$T/zyg_a.py" <<'EOF'
import ctypes, json, os, random, signal, socket, sys, time

comm = sys.argv[1]
KEY = 0x5B0C2010
IPC_CREAT = 0o1000
got, go = [], []
signal.signal(signal.SIGWINCH, lambda s, f: got.append(s))
signal.signal(signal.SIGUSR2, lambda s, f: go.append(s))
libc = ctypes.CDLL(None, use_errno=True)
json.marker = "A"
open("/tmp/zyg-a", "w").write("A")
open("/dev/shm/zyg-a", "w").write("A")
ids = {
    "shm": libc.shmget(KEY, 4096, IPC_CREAT | 0o600),
    "msg": libc.msgget(KEY, IPC_CREAT | 0o600),
    "sem": libc.semget(KEY, 1, IPC_CREAT | 0o600),
}
for k, v in ids.items():
    if v < 0:
        print("FAIL %sget in A: %s" % (k, os.strerror(ctypes.get_errno())))
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind("\0sbx-zyg-test")
srv.listen(4)
srv.setblocking(False)
r, w = os.pipe()
kid = os.fork()
if kid == 0:
    ctypes.CDLL(None).prctl(15, (comm + "k").encode(), 0, 0, 0)
    os.write(w, b"k")
    time.sleep(300)
    os._exit(0)
os.read(r, 1)
print("rand", random.random(), os.urandom(8).hex())
ctypes.CDLL(None).prctl(15, comm.encode(), 0, 0, 0)
deadline = time.monotonic() + 150
while not go:
    if time.monotonic() > deadline:
        print("FAIL no SIGUSR2 from the host within 150 s")
        break
    time.sleep(0.05)


def check(name, ok, info=""):
    print("ok " + name if ok else "FAIL %s: %s" % (name, info))


def keys(kind):
    with open("/proc/sysvipc/" + kind) as f:
        next(f)
        return sorted(int(l.split()[0]) for l in f if l.strip())


check("a_signal", not got, "A got signals %r" % got)
t = sorted(os.listdir("/tmp"))
check("a_tmp", t == ["zyg-a"], "A's /tmp: %r" % t)
t = sorted(os.listdir("/dev/shm"))
check("a_devshm", t == ["zyg-a"], "A's /dev/shm: %r" % t)
t = {k: keys(k) for k in ("shm", "msg", "sem")}
check("a_sysv", t == {"shm": [KEY], "msg": [KEY], "sem": [KEY]}, "A's /proc/sysvipc: %r" % t)
check("a_sysv_same", libc.shmget(KEY, 0, 0) == ids["shm"], "A's segment changed")
check("a_memory", json.marker == "A", "json.marker is %r in A" % json.marker)
try:
    srv.accept()
    check("a_abstract", False, "a connection reached A's abstract socket")
except BlockingIOError:
    check("a_abstract", True)
os.kill(kid, 9)
os.waitpid(kid, 0)
EOF
	# B: runs while A holds; argv: A's comm, A's host pid, then NS=LINK
	# for each of A's namespaces.
	cat >"$T/zyg_b.py" <<'EOF'
import ctypes, errno, json, os, random, signal, socket, sys

a_comm, a_hostpid = sys.argv[1], int(sys.argv[2])
a_ns = dict(a.split("=", 1) for a in sys.argv[3:])
KEY = 0x5B0C2010
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
libc = ctypes.CDLL(None, use_errno=True)


def check(name, ok, info=""):
    print("ok " + name if ok else "FAIL %s: %s" % (name, info))


def keys(kind):
    with open("/proc/sysvipc/" + kind) as f:
        next(f)
        return [int(l.split()[0]) for l in f if l.strip()]


mine = {n: os.readlink("/proc/self/ns/" + n) for n in a_ns}
same = sorted(n for n in a_ns if mine[n] == a_ns[n])
check("namespaces", not same and len(a_ns) >= 7, "shared with A: %s (A: %r)" % (same, a_ns))

procs = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            procs[int(p)] = open("/proc/%s/comm" % p).read().strip()
        except OSError:
            pass
seen = sorted(c for c in procs.values() if c.startswith(a_comm))
check("processes", not seen and len(procs) <= 8, "B sees %r" % procs)

bad = []
for pid in list(range(1, 65536)) + [a_hostpid]:
    if pid in procs:
        continue
    try:
        os.kill(pid, 0)
        bad.append(pid)
    except ProcessLookupError:
        pass
    except OSError as e:
        bad.append((pid, errno.errorcode.get(e.errno)))
check("kill_esrch", not bad, "kill(pid, 0) did not fail with ESRCH for %r" % bad[:20])
try:
    os.kill(-1, signal.SIGWINCH)
    check("kill_broadcast", True)
except ProcessLookupError:
    check("kill_broadcast", True)
except OSError as e:
    check("kill_broadcast", False, "kill(-1, SIGWINCH): %s" % e)

t = sorted(os.listdir("/tmp"))
check("tmp", "zyg-a" not in t, "B's /tmp: %r" % t)
t = sorted(os.listdir("/dev/shm"))
check("devshm", "zyg-a" not in t, "B's /dev/shm: %r" % t)
open("/tmp/zyg-b", "w").write("B")
open("/dev/shm/zyg-b", "w").write("B")

t = {k: keys(k) for k in ("shm", "msg", "sem")}
check("sysv_list", not any(KEY in v for v in t.values()), "B's /proc/sysvipc: %r" % t)
errs = []
for what, r in (("shmget", libc.shmget(KEY, 0, 0)), ("msgget", libc.msgget(KEY, 0)),
                ("semget", libc.semget(KEY, 0, 0))):
    e = ctypes.get_errno()
    if r >= 0 or e != errno.ENOENT:
        errs.append("%s -> %d %s" % (what, r, errno.errorcode.get(e)))
check("sysv_get", not errs, "; ".join(errs))
errs = []
for what, r in (("shmget", libc.shmget(KEY, 4096, IPC_CREAT | IPC_EXCL | 0o600)),
                ("msgget", libc.msgget(KEY, IPC_CREAT | IPC_EXCL | 0o600)),
                ("semget", libc.semget(KEY, 1, IPC_CREAT | IPC_EXCL | 0o600))):
    if r < 0:
        errs.append("%s: %s" % (what, os.strerror(ctypes.get_errno())))
check("sysv_create", not errs, "B cannot create A's key: " + "; ".join(errs))

c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    c.connect("\0sbx-zyg-test")
    check("abstract_connect", False, "B connected to A's abstract socket")
except ConnectionRefusedError:
    check("abstract_connect", True)
except OSError as e:
    check("abstract_connect", False, "connect: %s" % e)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.bind("\0sbx-zyg-test")
    s.listen(1)
    check("abstract_bind", True)
except OSError as e:
    check("abstract_bind", False, "B cannot bind A's abstract name: %s" % e)

check("memory", not hasattr(json, "marker"), "json.marker is %r in B" % getattr(json, "marker", None))
json.marker = "B"
print("rand", random.random(), os.urandom(8).hex())
EOF
	# a holder for the limits: argv COMM MIB KIDS: holds MIB MiB and KIDS
	# sleeping children until SIGUSR2.
	cat >"$T/zyg_hold.py" <<'EOF'
import ctypes, os, signal, sys, time

comm, mib, nkids = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
go = []
signal.signal(signal.SIGUSR2, lambda s, f: go.append(s))
data = b"\1" * (mib << 20)
kids = []
for i in range(nkids):
    pid = os.fork()
    if pid == 0:
        time.sleep(300)
        os._exit(0)
    kids.append(pid)
ctypes.CDLL(None).prctl(15, comm.encode(), 0, 0, 0)
deadline = time.monotonic() + 150
while not go and time.monotonic() < deadline:
    time.sleep(0.05)
print("held %d MiB %d kids go=%s" % (len(data) >> 20, len(kids), bool(go)))
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
EOF
	chmod 0644 "$T"/zyg_*.py
}

# ---------------------------------------------------------------- isolation

# Two forked sandboxes alive at the same time: pids, /tmp, /dev/shm, SysV
# IPC, abstract sockets, signals and memory of one are not the other's.
t_zygote_isolation() {
	local S=$T/p.sock a_comm a_pid n ns_args=() a_rand b_rand
	zyg_scripts
	pool_up d "$S" --size 2 --timeout 300s --preload json,random
	zyg_expect_fork_stats "$S" "the pool"
	a_comm=$(zyg_mark)
	zyg_hold a "$S" "$T/zyg_a.py" "$a_comm"
	a_pid=$ZYG_PID
	zyg_has_ancestor "$a_pid" "$ZYG_ZPID" || fail "A is not forked from the zygote $ZYG_ZPID: $(zyg_ancestry "$a_pid")"
	for n in pid ipc mnt net uts user cgroup; do
		ns_args+=("$n=$(readlink "/proc/$a_pid/ns/$n")")
	done
	# A's child is there (B must not see it either)
	zyg_comm_pid "${a_comm}k" >/dev/null || fail "A's child (comm ${a_comm}k) is not running"
	run_sbx python --pool "$S" --timeout 120s "$T/zyg_b.py" "$a_comm" "$a_pid" "${ns_args[@]}"
	expect_rc 0 "request B (while A holds)"
	zyg_expect_oks "B" namespaces processes kill_esrch kill_broadcast tmp devshm sysv_list sysv_get \
		sysv_create abstract_connect abstract_bind memory
	b_rand=$(out_line rand)
	sbx_running a || { sbx_wait a 10; fail_out "A ended before B was done: B did not run beside it"; }
	zyg_go a "$a_pid"
	expect_rc 0 "request A"
	zyg_expect_oks "A (after B ran)" a_signal a_tmp a_devshm a_sysv a_sysv_same a_memory a_abstract
	a_rand=$(out_line rand)
	[ -n "$a_rand" ] && [ -n "$b_rand" ] || fail_out "no 'rand' line from A or B"
	[ "${a_rand% *}" != "${b_rand% *}" ] || fail "A and B drew the same random.random(): $a_rand / $b_rand"
	[ "${a_rand#* }" != "${b_rand#* }" ] || fail "A and B read the same os.urandom(8): $a_rand / $b_rand"
}

# Sequential requests (one zygote, random preloaded in it): different
# random state and os.urandom bytes each time.
t_zygote_random() {
	local S=$T/p.sock i seen=" " r a b
	pool_up d "$S" --size 2 --preload json,random
	zyg_expect_fork_stats "$S" "the pool"
	for i in 1 2 3 4; do
		run_sbx python --pool "$S" - <<<'import os, random, uuid
print(random.random(), random.getrandbits(64), os.urandom(8).hex(), uuid.uuid4())'
		expect_rc 0 "request $i"
		read -r r <"$T/out"
		# shellcheck disable=SC2086 # four words
		set -- $r
		[ $# = 4 ] || fail_out "request $i: unexpected output"
		for a in "$@"; do
			[[ $seen == *" $a "* ]] && fail_out "request $i drew $a again (the random state is shared)"
			seen+="$a "
		done
	done
	# shellcheck disable=SC2086 # the words seen
	b=$(printf '%s\n' $seen | wc -l)
	[ "$b" = 16 ] || fail "expected 16 distinct values, got $b"
}

# ---------------------------------------------------------------- limits

# The pool's limits hold per sandbox: two sandboxes at once each get the
# whole memory and pids limit in a cgroup of their own; a memory bomb is
# OOM killed, a fork bomb stops at the pids limit, a timeout kills the
# request's tree; the next request works each time.
t_zygote_limits() {
	local S=$T/p.sock dpid a_pid b_pid ca cb v mark
	zyg_scripts
	pool_up d "$S" --size 2 --memory 64M --pids 16 --timeout 300s
	dpid=$(sbx_pid d)
	zyg_expect_fork_stats "$S" "the pool"
	zyg_hold a "$S" "$T/zyg_hold.py" "$(zyg_mark)" 30 6
	a_pid=$ZYG_PID
	zyg_hold b "$S" "$T/zyg_hold.py" "$(zyg_mark)" 30 6
	b_pid=$ZYG_PID
	for v in "$a_pid" "$b_pid"; do
		zyg_has_ancestor "$v" "$ZYG_ZPID" || fail "pid $v is not forked from the zygote $ZYG_ZPID: $(zyg_ancestry "$v")"
	done
	ca=$(zyg_cg_path "$a_pid" memory) cb=$(zyg_cg_path "$b_pid" memory)
	detail "cgroups: A $ca, B $cb"
	[[ ${ca##*/} == sbx-"$dpid"-* ]] || fail "A's memory cgroup $ca is not an sbx-$dpid-* cgroup"
	[[ ${cb##*/} == sbx-"$dpid"-* ]] || fail "B's memory cgroup $cb is not an sbx-$dpid-* cgroup"
	[ "$ca" != "$cb" ] || fail "A and B share the memory cgroup $ca"
	for v in "$a_pid" "$b_pid"; do
		[ "$(zyg_cg_value "$v" memory memory.limit_in_bytes memory.max)" = 67108864 ] ||
			fail "pid $v: memory limit $(zyg_cg_value "$v" memory memory.limit_in_bytes memory.max), want 67108864 (--memory 64M)"
		[ "$(zyg_cg_value "$v" pids pids.max pids.max)" = 16 ] ||
			fail "pid $v: pids limit $(zyg_cg_value "$v" pids pids.max pids.max), want 16 (--pids 16)"
	done
	[ "$(zyg_cg_path "$a_pid" pids)" != "$(zyg_cg_path "$b_pid" pids)" ] || fail "A and B share a pids cgroup"
	zyg_go a "$a_pid"
	expect_rc 0 "A (30 MiB, 6 children)"
	expect_stdout "held 30 MiB 6 kids go=True"
	zyg_go b "$b_pid"
	expect_rc 0 "B (30 MiB, 6 children, beside A)"
	expect_stdout "held 30 MiB 6 kids go=True"

	# a memory bomb
	run_sbx python --pool "$S" --json - <<<'chunks = []
while True:
    chunks.append(b"\1" * (4 << 20))'
	[ "$(json_get oom_killed)" = true ] || fail_out "a memory bomb in a --memory 64M pool: oom_killed is not true"
	[ "$(json_get exit_code)" = 137 ] || fail_out "a memory bomb: exit_code is not 137"
	run_sbx python --pool "$S" - <<<'print("after the memory bomb", len(b"x" * (16 << 20)))'
	expect_rc 0 "a request after the memory bomb"
	expect_stdout "after the memory bomb 16777216"

	# a fork bomb
	run_sbx python --pool "$S" - <<<'import errno, os, time
kids, err = [], None
for i in range(200):
    try:
        pid = os.fork()
    except OSError as e:
        err = e.errno
        break
    if pid == 0:
        time.sleep(60)
        os._exit(0)
    kids.append(pid)
for k in kids:
    os.kill(k, 9)
    os.waitpid(k, 0)
print("forked", len(kids), errno.errorcode.get(err, err))'
	expect_rc 0 "a fork bomb in a --pids 16 pool"
	read -r v a b <"$T/out"
	[ "$v" = forked ] && [ "$b" = EAGAIN ] || fail_out "the fork bomb did not stop with EAGAIN"
	[ "$a" -lt 16 ] || fail_out "the fork bomb made $a processes under --pids 16"
	run_sbx python --pool "$S" - <<<'import os
pid = os.fork()
if pid == 0:
    os._exit(7)
print("after the fork bomb", os.waitpid(pid, 0)[1] >> 8)'
	expect_rc 0 "a request after the fork bomb"
	expect_stdout "after the fork bomb 7"

	# a timeout: the whole tree goes, also a child in its own session that
	# ignores SIGTERM
	mark=$(zyg_mark)
	run_sbx python --pool "$S" --timeout 2s --json - "$mark" <<<'import ctypes, os, signal, sys, time
if os.fork() == 0:
    os.setsid()
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
    time.sleep(300)
    os._exit(0)
time.sleep(300)'
	[ "$(json_get timed_out)" = true ] || fail_out "--timeout 2s: timed_out is not true"
	[ "$(json_get exit_code)" = 124 ] || fail_out "--timeout 2s: exit_code is not 124"
	local end=$(($(now_us) + 10000000))
	while v=$(zyg_comm_pid "$mark"); do
		(($(now_us) > end)) && fail "the timed-out request's child (pid $v) still runs 10 s after the answer"
		sleep 0.1
	done
	run_sbx run --pool "$S" -- sh -c 'echo after the timeout'
	expect_rc 0 "a request after the timeout"
	expect_stdout "after the timeout"
}

# ---------------------------------------------------------------- zygote crash

# zyg_crash SOCK SIG N: kill the zygote with SIG; requests go on working;
# it is restarted (zygote_starts N, a new live python3 zygote_pid) and
# sandboxes are forked from the new one.
zyg_crash() {
	local S=$1 sig=$2 n=$3 zp st nz i hold
	zyg_expect_fork_stats "$S" "before kill -$sig"
	zp=$ZYG_ZPID
	st=$(zyg_starttime "$zp")
	[ "$(zyg_stat "$S" zygote_starts)" = $((n - 1)) ] ||
		{ zyg_stats_detail "$S"; fail "zygote_starts is not $((n - 1)) before kill -$sig"; }
	kill -"$sig" "$zp" || fail "kill -$sig $zp failed"
	# more requests than the pool holds ready: some need the new zygote
	for i in 1 2 3 4; do
		WATCHDOG=60 run_sbx python --pool "$S" --timeout 60s - <<<'import sys; print("json" in sys.modules, 6 * 7)'
		expect_rc 0 "request $i after kill -$sig of the zygote"
		expect_stdout "True 42"
	done
	zyg_wait_stat "$S" zygote_starts "$n" 60 ||
		{ zyg_stats_detail "$S"; fail "zygote_starts did not reach $n after kill -$sig of the zygote"; }
	[ "$(zyg_stat "$S" zygote_starts)" = "$n" ] || { zyg_stats_detail "$S"; fail "zygote_starts is not $n"; }
	zyg_expect_fork_stats "$S" "after kill -$sig"
	nz=$ZYG_ZPID
	[ "$nz" != "$zp" ] || [ "$(zyg_starttime "$nz")" != "$st" ] ||
		fail "zygote_pid $zp did not change after kill -$sig"
	if [ "$(zyg_starttime "$zp")" = "$st" ] && zyg_live "$zp"; then
		fail "the old zygote $zp still runs after kill -$sig"
	fi
	# a request now comes from the new zygote
	for i in 1 2 3; do
		run_sbx run --pool "$S" -- true
		expect_rc 0 "request $i after the restart"
	done
	hold=$(zyg_mark)
	zyg_hold "h$n" "$S" "$T/zyg_hold.py" "$hold" 1 0
	zyg_has_ancestor "$ZYG_PID" "$nz" ||
		fail "a request after the restart is not forked from the new zygote $nz: $(zyg_ancestry "$ZYG_PID")"
	zyg_go "h$n" "$ZYG_PID"
	expect_rc 0 "a held request after the restart"
}

t_zygote_crash_restart() {
	local S=$T/p.sock
	zyg_scripts
	pool_up d "$S" --size 2 --preload json
	zyg_crash "$S" SEGV 2
	zyg_crash "$S" KILL 3
	pool_stop d
	expect_rc 0 "the daemon after two zygote restarts"
}

# ---------------------------------------------------------------- leaks

# zyg_leak_setup NAME SOCK: a fork pool with 2 idle sandboxes and one
# request running (background run "busy"); its processes into $T/family.
zyg_leak_setup() {
	local name=$1 S=$2 dpid mark end
	pool_up "$name" "$S" --size 2
	dpid=$(sbx_pid "$name")
	# The zygote starts with the first sandbox: its pid once one is idle.
	zyg_wait_stat "$S" idle 2 60 || { zyg_stats_detail "$S"; fail "idle never reached 2"; }
	zyg_expect_fork_stats "$S" "the pool"
	mark=$(zyg_mark)
	sbx_start busy python --pool "$S" --timeout 120s - "$mark" <<<'import ctypes, signal, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
time.sleep(120)'
	end=$(($(now_us) + 60000000))
	until zyg_comm_pid "$mark" >/dev/null; do
		sbx_running busy || { sbx_wait busy 10; fail_out "the busy request ended"; }
		(($(now_us) > end)) && fail "the busy request did not start within 60 s"
		sleep 0.05
	done
	zyg_wait_stat "$S" idle 2 60 || { zyg_stats_detail "$S"; fail "idle not back to 2 beside the busy request"; }
	zyg_family "$dpid" "$ZYG_ZPID" >"$T/family"
	detail "processes of the pool: $(tr '\n' ' ' <"$T/family")"
	[ "$(wc -l <"$T/family")" -ge 4 ] || fail "the pool has only $(wc -l <"$T/family") processes"
	[ -n "$(pool_cg_dirs "$dpid")" ] || fail "no sbx-$dpid-* cgroup while the pool runs"
	ZYG_DPID=$dpid
}

# SIGTERM of a fork pool (2 idle sandboxes, 1 in use): the daemon exits 0,
# and no process, cgroup or mount of it remains.
t_zygote_sigterm_no_leak() {
	local S=$T/p.sock left
	zyg_leak_setup d "$S"
	pool_stop d 30
	expect_rc 0 "the daemon after SIGTERM"
	sbx_wait busy 30
	expect_rc 125 "the request in use when the daemon stopped"
	zyg_wait_dead "$T/family" 10 ||
		fail "processes of the pool left 10 s after SIGTERM: $(describe_pids $(zyg_alive "$T/family") | tr '\n' ';')"
	left=$(pool_cg_dirs "$ZYG_DPID")
	[ -z "$left" ] || fail "cgroups left after SIGTERM: $(echo "$left" | tr '\n' ' ')"
	[ -e "$S" ] && fail "the socket is left after SIGTERM"
	grep -F "$T" /proc/self/mountinfo && fail "mounts under $T left after SIGTERM"
	return 0
}

# kill -9 of a fork pool (2 idle sandboxes, 1 in use): its processes die by
# themselves, `sbx cleanup` removes its cgroups.
t_zygote_kill9_cleanup() {
	local S=$T/p.sock left
	zyg_leak_setup d "$S"
	kill -KILL "$ZYG_DPID"
	sbx_wait d 10
	sbx_wait busy 30
	expect_rc 125 "the request in use when the daemon was killed"
	zyg_wait_dead "$T/family" 10 ||
		fail "processes of the pool left 10 s after kill -9 of the daemon: $(describe_pids $(zyg_alive "$T/family") | tr '\n' ';')"
	run_sbx cleanup
	expect_rc 0 "sbx cleanup"
	grep -Eq '^removed [0-9]+ leftover' "$T/out" || fail_out "unexpected cleanup output"
	left=$(pool_cg_dirs "$ZYG_DPID")
	[ -z "$left" ] || fail "cgroups of the killed daemon left after sbx cleanup: $(echo "$left" | tr '\n' ' ')"
	[ -n "$(zyg_alive "$T/family")" ] && fail "processes of the pool came back"
	return 0
}

# ---------------------------------------------------------------- stats

# Fork mode is the default: "mode":"fork", a live python3 zygote whose
# children the sandboxes are; --fresh: "mode":"fresh".
t_zygote_stats() {
	local S=$T/p.sock F=$T/f.sock k zp v
	zyg_scripts
	pool_up d "$S" --size 2
	zyg_wait_stat "$S" idle 2 60 || { zyg_stats_detail "$S"; fail "idle never reached 2"; }
	zyg_expect_fork_stats "$S" "a default pool"
	zp=$ZYG_ZPID
	zyg_stats "$S" || fail "pool stats failed: $(cat "$T/stats.err")"
	detail "stats: $(tr '\n' ' ' <"$T/stats")"
	for k in zygote_starts creating waited acquire_p99_ms; do
		v=$(zyg_stat "$S" "$k") || fail "pool stats has no '$k'"
	done
	[ "$(zyg_stat "$S" zygote_starts)" = 1 ] || fail "zygote_starts is not 1 on a new pool"
	[[ $(zyg_stat "$S" acquire_p99_ms) =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "acquire_p99_ms is not a number"
	[[ $(zyg_stat "$S" creating) =~ ^[0-9]+$ ]] || fail "creating is not a count"
	[[ $(zyg_stat "$S" waited) =~ ^[0-9]+$ ]] || fail "waited is not a count"
	zyg_hold h "$S" "$T/zyg_hold.py" "$(zyg_mark)" 1 0
	zyg_has_ancestor "$ZYG_PID" "$zp" ||
		fail "the request's process is not a descendant of the zygote $zp: $(zyg_ancestry "$ZYG_PID")"
	zyg_go h "$ZYG_PID"
	expect_rc 0 "a request on the fork pool"
	: >"$T/.details"

	pool_up f "$F" --size 1 --fresh
	v=$(zyg_stat "$F" mode)
	[ "$v" = fresh ] || { zyg_stats_detail "$F"; fail "--fresh pool: mode is '$v', want fresh"; }
	v=$(zyg_stat "$F" zygote_pid)
	[ -z "$v" ] || [ "$v" = 0 ] || { zyg_stats_detail "$F"; fail "--fresh pool: zygote_pid is '$v' (no zygote: absent or 0)"; }
	run_sbx python --pool "$F" - <<<'print("fresh", 6 * 7)'
	expect_rc 0 "a request on a --fresh pool"
	expect_stdout "fresh 42"
}

# ---------------------------------------------------------------- bad input

# zyg_one_line_125 WHAT: the last run exited 125 with one line on stderr
# and nothing on stdout.
zyg_one_line_125() {
	expect_rc 125 "$1"
	[ "$(stderr_lines | wc -l)" = 1 ] || fail_out "$1: stderr is not one line"
	[ -s "$T/out" ] && fail_out "$1: stdout is not empty"
	return 0
}

# zyg_serve_or_refuse NAME SOCK ARGS...: start `sbx pool serve --socket
# SOCK ARGS...`; 0 once it serves, 1 if it refused to start with exit 125,
# one line on stderr and no socket left (a note says why); else the test
# fails.
zyg_serve_or_refuse() {
	local name=$1 sock=$2 end
	shift 2
	on_exit "pool_daemon_log $name"
	sbx_start "$name" pool serve --socket "$sock" "$@"
	end=$(($(now_us) + 60000000))
	until "$SBX" pool stats --socket "$sock" >/dev/null 2>&1; do
		if ! sbx_running "$name"; then
			sbx_wait "$name" 10
			zyg_one_line_125 "pool serve $*"
			[ -e "$sock" ] && fail "a refused pool left its socket"
			note "pool serve $* is refused: $(stderr_lines)"
			return 1
		fi
		(($(now_us) > end)) && fail "pool serve $* neither served nor failed within 60 s"
		sleep 0.05
	done
	return 0
}

# What a fork pool refuses: `keep` (a forked sandbox cannot become a named
# one) with one error line naming --fresh; --fresh where it means nothing.
# A workspace or --no-python need a fresh pool (docs/cli.md: "without those
# the pool is fresh anyway"): the pool either serves in fresh mode or is
# refused in one line.
t_zygote_bad_input() {
	local S=$T/p.sock W=$T/w.sock N=$T/n.sock e name
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	mkdir -p "$SBX_STATE_DIR" "$SBX_RUN_DIR"

	run_sbx run --fresh -- true
	zyg_one_line_125 "sbx run --fresh"
	grep -q -- '--fresh' "$T/err" || fail_out "the error does not name --fresh"

	pool_up d "$S" --size 1
	zyg_expect_fork_stats "$S" "a default pool"
	name=zygkeep$$
	on_exit "'$SBX' rm --force $name"
	{
		echo "{\"v\":1,\"id\":1,\"op\":\"run\",\"argv\":[\"true\"],\"keep\":\"$name\"}"
		echo "{\"v\":1,\"id\":2,\"op\":\"python\",\"source\":\"print(1)\",\"keep\":\"$name\"}"
		echo '{"v":1,"id":3,"op":"run","argv":["echo","still"]}'
	} | pool_raw_c "$S" >"$T/resp"
	detail "responses: $(cat "$T/resp")"
	pool_expect_error "$T/resp" 1 "run with keep on a fork pool" '--fresh'
	pool_expect_error "$T/resp" 2 "python with keep on a fork pool" '--fresh'
	for e in 1 2; do
		pool_line "$T/resp" $e
		[[ $(json_str error "$T/line.json") != *$'\n'* ]] || fail "error $e is not one line"
	done
	pool_line "$T/resp" 3
	[ "$(json_str stdout "$T/line.json")" = still ] || fail "a request after the keep errors: $(cat "$T/line.json")"
	[ -e "$SBX_STATE_DIR/sandboxes/$name" ] && fail "a refused keep left the sandbox $name"
	run_sbx ls
	grep -q "$name" "$T/out" && fail_out "a refused keep left the sandbox $name"
	: >"$T/.details"

	# a workspace on a fork pool: served, or refused in one line
	mk_dir ws >/dev/null
	echo "in the workspace" >"$T/ws/f"
	chmod 0644 "$T/ws/f"
	if zyg_serve_or_refuse w "$W" --size 1 --workspace "$T/ws:ro"; then
		e=$(zyg_stat "$W" mode)
		[ "$e" = fresh ] || { zyg_stats_detail "$W"; fail "a pool with a workspace: mode is '$e', want fresh"; }
		run_sbx run --pool "$W" -- cat /workspace/f
		expect_rc 0 "a request on a fork pool with a workspace"
		expect_stdout "in the workspace"
		pool_stop w
		expect_rc 0 "the workspace pool after SIGTERM"
	fi

	# --no-python on a fork pool: served, or refused in one line
	if zyg_serve_or_refuse n "$N" --size 1 --no-python; then
		e=$(zyg_stat "$N" mode)
		[ "$e" = fresh ] || { zyg_stats_detail "$N"; fail "a --no-python pool: mode is '$e', want fresh"; }
		run_sbx run --pool "$N" -- sh -c 'echo no-python'
		expect_rc 0 "run on a --no-python pool"
		expect_stdout no-python
		run_sbx python --pool "$N" - <<<'print("py", 6 * 7)'
		expect_rc 0 "python on a --no-python pool"
		expect_stdout "py 42"
		pool_stop n
		expect_rc 0 "the --no-python pool after SIGTERM"
	fi
}
