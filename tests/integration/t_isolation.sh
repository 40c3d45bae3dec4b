# shellcheck shell=bash
# isolation: namespaces, ids, capabilities, network, ipc — checked from
# inside the sandbox and, where possible, from the host.

t_isolation_host_tmp_invisible() {
	echo secret >"$T/host-secret"
	local py='
import os, sys
print("TMP", sorted(os.listdir("/tmp")))
print("SEES", os.path.exists(sys.argv[1]), os.path.exists(sys.argv[2]))
'
	run_sbx run -- python3 -c "$py" "$T/host-secret" "/tmp/$(basename "$T")"
	expect_rc 0
	out_has "SEES False False" || fail_out "a file made on the host in /tmp is visible inside"
	out_has "TMP []" || fail_out "/tmp inside is not a fresh empty dir"
}

t_isolation_namespaces() {
	local py='
import os
for n in ["user", "pid", "mnt", "net", "ipc", "uts", "cgroup"]:
    print(n, os.readlink("/proc/self/ns/" + n))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local n bad= inside host
	for n in user pid mnt net ipc uts cgroup; do
		inside=$(out_line "$n")
		host=$(readlink "/proc/$BASHPID/ns/$n")
		[ -n "$inside" ] || bad+=" $n: not readable inside;"
		[ "$inside" = "$host" ] && bad+=" $n: same as the host's ($host);"
	done
	[ -z "$bad" ] || fail_out "namespaces not new:$bad"
}

t_isolation_pid_namespace() {
	local py='
import os
pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
print("PID", os.getpid())
print("COUNT", len(pids))
print("PIDS", pids)
print("HAS1", os.path.exists("/proc/1"))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local pid count
	pid=$(out_line PID)
	count=$(out_line COUNT)
	[ -n "$pid" ] && [ "$pid" -le 10 ] || fail_out "own pid $pid is not small (not in a new pid namespace?)"
	[ -n "$count" ] && [ "$count" -le 4 ] || fail_out "/proc lists $count processes, expected only the sandbox's own (<= 4)"
	out_has "HAS1 True" || fail_out "no pid 1 in the sandbox's /proc"
}

t_isolation_concurrent_sandboxes() {
	local sync markA markB
	sync=$(mk_sync)
	markA=$(new_mark)A
	markB=$(new_mark)B
	echo "$markB" >"$sync/mark-A-looks-for"
	echo "$markA" >"$sync/mark-B-looks-for"
	# argv: own name, own mark (so the other can look for it)
	local py='
import os, sys, time
me = sys.argv[1]
other_mark = open("/workspace/mark-%s-looks-for" % me).read().strip()
other = "B" if me == "A" else "A"
open("/tmp/secret-" + me, "w").write(me)
open("/workspace/ready-" + me, "w").write(str(os.getpid()))
for i in range(300):
    if os.path.exists("/workspace/go"):
        break
    time.sleep(0.05)
seen = []
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            if other_mark.encode() in open("/proc/%s/cmdline" % p, "rb").read():
                seen.append(p)
        except OSError:
            pass
print("OTHER_TMP", os.path.exists("/tmp/secret-" + other))
print("OWN_TMP", os.path.exists("/tmp/secret-" + me))
print("OTHER_PROCS", seen)
'
	sbx_start A run --workspace "$sync:rw" -- python3 -c "$py" A "$markA"
	sbx_start B run --workspace "$sync:rw" -- python3 -c "$py" B "$markB"
	if ! wait_for_file "$sync/ready-A" 20 || ! wait_for_file "$sync/ready-B" 20; then
		sbx_wait A 30
		sbx_wait B 30
		fail_out "the sandboxes did not both start (ready files missing)"
	fi
	# the marks really are visible from the host: the check inside can fail
	[ -n "$(mark_pids "$markA")" ] && [ -n "$(mark_pids "$markB")" ] ||
		fail "cannot find the running sandboxes' processes from the host"
	touch "$sync/go"
	sbx_wait A 30
	local outA rcA=$RC
	outA=$(cat "$T/out")
	sbx_wait B 30
	[ "$rcA" = 0 ] || fail "sandbox A exited $rcA: $outA"
	expect_rc 0 "sandbox B"
	local bad=
	[[ $outA == *"OTHER_TMP False"* ]] || bad+=" A sees B's /tmp file;"
	[[ $outA == *"OWN_TMP True"* ]] || bad+=" A lost its own /tmp file;"
	[[ $outA == *"OTHER_PROCS []"* ]] || bad+=" A sees B's processes;"
	out_has "OTHER_TMP False" || bad+=" B sees A's /tmp file;"
	out_has "OWN_TMP True" || bad+=" B lost its own /tmp file;"
	out_has "OTHER_PROCS []" || bad+=" B sees A's processes;"
	[ -z "$bad" ] || fail_out "concurrent sandboxes:$bad (A said: $(echo "$outA" | tr '\n' ' '))"
}

t_isolation_hostname() {
	local host_before py
	host_before=$(cat /proc/sys/kernel/hostname)
	py='
import os, socket
print(socket.gethostname(), os.uname().nodename, open("/proc/sys/kernel/hostname").read().strip())
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	expect_stdout "sandbox sandbox sandbox"
	run_sbx run --hostname box-42 -- python3 -c "$py"
	expect_rc 0
	expect_stdout "box-42 box-42 box-42"
	[ "$(cat /proc/sys/kernel/hostname)" = "$host_before" ] || fail "the host's hostname changed"
}

# python: interfaces, lo flags, and connection attempts to argv[1:] ("addr:port")
NET_PROBE_PY='
import errno, fcntl, os, socket, struct, sys
print("IFS", sorted(n for _, n in socket.if_nameindex()))
lines = open("/proc/net/dev").read().splitlines()[2:]
print("DEV", sorted(l.split(":")[0].strip() for l in lines))
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r = fcntl.ioctl(s.fileno(), 0x8913, struct.pack("16sH14x", b"lo", 0))
print("LOUP", struct.unpack("16sH14x", r)[1] & 1)
for target in sys.argv[1:]:
    host, port = target.rsplit(":", 1)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(3)
    try:
        c.connect((host, int(port)))
        print("CONNECT", target, "OK")
    except OSError as e:
        print("CONNECT", target, "ERR", errno.errorcode.get(e.errno, e.errno) if e.errno else type(e).__name__)
    c.close()
'

# start the host listener; sets LPORT, LOUT; checks the host itself can connect
start_host_listener() {
	need_helpers
	LOUT=$T/listener.out
	"$HELPERS/tcp_listen" 60 >"$LOUT" 2>&1 &
	local lpid=$!
	on_exit "kill $lpid"
	local i
	for ((i = 0; i < 200; i++)); do
		grep -q '^PORT ' "$LOUT" && break
		sleep 0.01
	done
	LPORT=$(sed -n 's/^PORT //p' "$LOUT")
	[ -n "$LPORT" ] || fail "host listener did not start: $(cat "$LOUT")"
	# sanity: the host can reach it (so a sandbox connection would be seen)
	if ! (exec 9<>"/dev/tcp/127.0.0.1/$LPORT") 2>/dev/null; then
		fail "the host cannot connect to its own listener on 127.0.0.1:$LPORT"
	fi
	for ((i = 0; i < 100; i++)); do
		[ "$(grep -c '^ACCEPT' "$LOUT")" -ge 1 ] && return 0
		sleep 0.02
	done
	fail "host listener did not see the host's own connection"
}

net_targets() {
	local a gw
	for a in $(host_ipv4s); do echo "$a:$LPORT"; done
	gw=$(host_gateway)
	[ -n "$gw" ] && echo "$gw:53" && echo "$gw:80"
	echo "1.1.1.1:53"
	echo "8.8.8.8:443"
}

t_isolation_net_none() {
	start_host_listener
	local targets
	targets=$(net_targets | tr '\n' ' ')
	# shellcheck disable=SC2086
	run_sbx run --net none -- python3 -c "$NET_PROBE_PY" $targets
	expect_rc 0
	out_has "IFS ['lo']" || fail_out "interfaces other than lo (if_nameindex)"
	out_has "DEV ['lo']" || fail_out "interfaces other than lo in /proc/net/dev"
	out_has "LOUP 0" || fail_out "--net none: lo is up"
	local connected
	connected=$(grep '^CONNECT .* OK$' "$T/out")
	[ -z "$connected" ] || fail_out "--net none connected: $connected"
	[ "$(grep -c '^CONNECT ' "$T/out")" -ge 3 ] || fail_out "connection attempts missing"
	sleep 0.2
	[ "$(grep -c '^ACCEPT' "$LOUT")" = 1 ] || fail_out "the host listener saw a connection from the sandbox: $(cat "$LOUT")"

	# the default is --net none too
	run_sbx run -- python3 -c "$NET_PROBE_PY"
	expect_rc 0
	{ out_has "IFS ['lo']" && out_has "LOUP 0"; } || fail_out "default network is not like --net none"
}

t_isolation_net_loopback() {
	start_host_listener
	local targets py
	targets=$(net_targets | tr '\n' ' ')
	py=$NET_PROBE_PY'
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
c = socket.create_connection(("127.0.0.1", s.getsockname()[1]), timeout=3)
a, _ = s.accept()
c.sendall(b"ping")
print("GOT", a.recv(4).decode())
'
	# shellcheck disable=SC2086
	run_sbx run --net loopback -- python3 -c "$py" $targets
	expect_rc 0
	out_has "IFS ['lo']" || fail_out "interfaces other than lo"
	out_has "LOUP 1" || fail_out "--net loopback: lo is not up"
	out_has "GOT ping" || fail_out "--net loopback: no bind+connect on 127.0.0.1"
	local connected
	connected=$(grep '^CONNECT .* OK$' "$T/out")
	[ -z "$connected" ] || fail_out "--net loopback reached outside the sandbox: $connected"
	sleep 0.2
	[ "$(grep -c '^ACCEPT' "$LOUT")" = 1 ] || fail_out "the host listener saw a connection from the sandbox: $(cat "$LOUT")"
}

t_isolation_id_mapping() {
	local py='
import os
print("UID_MAP", " ".join(open("/proc/self/uid_map").read().split()))
print("GID_MAP", " ".join(open("/proc/self/gid_map").read().split()))
print("IDS", os.getuid(), os.geteuid(), os.getgid(), os.getegid())
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	# Its own range (docs/security.md): 65536 ids cut from the default set
	# 0x70000000 + k * 65536, k < 2048.
	local u g
	read -r _ u _ <<<"$(out_line UID_MAP)"
	read -r _ g _ <<<"$(out_line GID_MAP)"
	[[ $(out_line UID_MAP) =~ ^0\ [0-9]+\ 65536$ ]] || fail_out "uid_map is not '0 BASE 65536'"
	[[ $(out_line GID_MAP) =~ ^0\ [0-9]+\ 65536$ ]] || fail_out "gid_map is not '0 BASE 65536'"
	((u >= 0x70000000 && u < 0x78000000 && u % 65536 == 0)) ||
		fail_out "uid_map base $u is not a slot of the default id set"
	[ "$u" = "$g" ] || fail_out "uid base $u and gid base $g differ"
	out_has "IDS 0 0 0 0" || fail_out "not uid/gid 0 inside"
	# An explicit map still works.
	run_sbx run --map-uid 300000 --map-gid 310000 -- python3 -c "$py"
	expect_rc 0 "--map-uid 300000 --map-gid 310000"
	out_has "UID_MAP 0 300000 65536" || fail_out "--map-uid 300000: uid_map is not '0 300000 65536'"
	out_has "GID_MAP 0 310000 65536" || fail_out "--map-gid 310000: gid_map is not '0 310000 65536'"
}

t_isolation_host_view_of_ids() {
	local sync mark
	sync=$(mk_sync)
	mark=$(new_mark)
	sbx_start A run --workspace "$sync:rw" -- python3 -c '
import os, sys, time
open("/workspace/ready", "w").close()
for i in range(400):
    if os.path.exists("/workspace/go"): break
    time.sleep(0.05)
' "$mark"
	wait_for_file "$sync/ready" 20 || { sbx_wait A 30; fail_out "sandbox did not start"; }
	local pids p bad= base
	pids=$(mark_pids "$mark")
	[ -n "$pids" ] || bad+=" no sandbox process found from the host;"
	for p in $pids; do
		local uid gid capeff
		uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$p/status")
		gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$p/status")
		capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$p/status")
		base=$(awk '{print $2}' "/proc/$p/uid_map")
		((base >= 0x70000000)) || bad+=" pid $p: uid_map base '$base' not in the default set;"
		[ "$uid" = "$base $base $base $base" ] || bad+=" pid $p has host uids '$uid' (base $base);"
		[ "$gid" = "$base $base $base $base" ] || bad+=" pid $p has host gids '$gid' (base $base);"
		# Root inside keeps only the namespaced set (privs.c), none of
		# CAP_SYS_ADMIN (21), CAP_NET_ADMIN (12), CAP_NET_RAW (13), ...
		[ "$capeff" = 00000000000004fb ] || bad+=" pid $p CapEff $capeff;"
	done
	touch "$sync/go"
	sbx_wait A 30
	expect_rc 0
	[ -z "$bad" ] || fail "host view of the sandbox:$bad"
}

t_isolation_capabilities() {
	local py='
import subprocess
def show(tag, text):
    st = dict(l.split(":", 1) for l in text.splitlines() if ":" in l)
    for k in ["CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs", "Seccomp"]:
        print(tag, k, st.get(k, "?").strip())
show("SELF", open("/proc/self/status").read())
show("CHILD", subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True).stdout)
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	# Root inside keeps exactly CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
	# CAP_FSETID, CAP_KILL, CAP_SETGID, CAP_SETUID, CAP_NET_BIND_SERVICE:
	# 0x4fb (they act only on what the user namespace maps; docs/security.md).
	local who k bad=
	for who in SELF CHILD; do
		for k in CapPrm CapEff CapBnd; do
			out_has "$who $k 00000000000004fb" || bad+=" $who $k=$(out_line "$who $k");"
		done
		out_has "$who CapAmb 0000000000000000" || bad+=" $who CapAmb=$(out_line "$who CapAmb");"
		out_has "$who NoNewPrivs 1" || bad+=" $who NoNewPrivs=$(out_line "$who NoNewPrivs");"
		out_has "$who Seccomp 2" || bad+=" $who Seccomp=$(out_line "$who Seccomp");"
	done
	[ -z "$bad" ] || fail_out "privileges:$bad"
}

t_isolation_ipc() {
	command -v ipcmk >/dev/null || skip "no ipcmk on the host"
	local shm msg sem
	shm=$(ipcmk -M 4096 | sed -n 's/.*id: *//p')
	[ -n "$shm" ] && on_exit "ipcrm -m $shm"
	msg=$(ipcmk -Q | sed -n 's/.*id: *//p')
	[ -n "$msg" ] && on_exit "ipcrm -q $msg"
	sem=$(ipcmk -S 1 | sed -n 's/.*id: *//p')
	[ -n "$sem" ] && on_exit "ipcrm -s $sem"
	[ -n "$shm" ] && [ -n "$msg" ] && [ -n "$sem" ] || fail "ipcmk failed"
	# sanity: the host sees them
	awk -v id="$shm" '$2 == id { f = 1 } END { exit !f }' /proc/sysvipc/shm || fail "host shm $shm not in /proc/sysvipc/shm"
	local py='
for k in ["shm", "msg", "sem"]:
    lines = open("/proc/sysvipc/" + k).read().splitlines()[1:]
    print(k.upper(), len(lines), " | ".join(l.split()[1] for l in lines if l.split()))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	out_has "SHM 0 " || out_has "SHM 0" || fail_out "host SysV shm visible inside (host shm id $shm)"
	out_has "MSG 0 " || out_has "MSG 0" || fail_out "host SysV message queue visible inside (host id $msg)"
	out_has "SEM 0 " || out_has "SEM 0" || fail_out "host SysV semaphore visible inside (host id $sem)"
}

t_isolation_cgroup_namespace() {
	run_sbx run -- python3 -c 'print(open("/proc/self/cgroup").read(), end="")'
	expect_rc 0
	local c line bad= own
	# Each hierarchy the sandbox's limits use must show "/" inside: the v1
	# controllers' lines where memory/cpu/pids are on v1 (hybrid hosts), the
	# unified "0::" line where they are on v2 (pure v2 hosts have only it).
	for c in memory cpu pids; do
		if [ -n "$(cg_own "$c" $BASHPID)" ]; then
			line=$(awk -F: -v c="$c" '{ n = split($2, o, ","); for (j = 1; j <= n; j++) if (o[j] == c) print }' "$T/out")
			[ -n "$line" ] || { bad+=" no $c line;"; continue; }
		else
			line=$(grep '^0::' "$T/out")
			[ -n "$line" ] || { bad+=" no unified (0::) line for $c;"; continue; }
		fi
		[ "${line#*:*:}" = / ] || bad+=" $c path is '${line#*:*:}' (want /);"
	done
	# and the host's own path of any hierarchy is not visible
	for c in memory unified; do
		if [ $c = unified ]; then
			own=$(sed -n 's/^0:://p' /proc/$BASHPID/cgroup)
		else
			own=$(cg_own $c $BASHPID)
		fi
		if [ -n "$own" ] && [ "$own" != / ] && grep -qF "$own" "$T/out"; then
			bad+=" the host's cgroup path $own is visible;"
		fi
	done
	[ -z "$bad" ] || fail_out "cgroup namespace:$bad"
}

# The sandbox's init is a copy of the host's sbx process: its command line
# (host paths, options, --env values) must not be readable inside.
t_isolation_host_cmdline_hidden() {
	local marker="hostsecret$$"
	run_sbx run --env "K=$marker" --workspace "$T:ro" -- sh -c \
		'for p in /proc/[0-9]*; do tr "\0" " " < $p/cmdline; echo; done'
	expect_rc 0
	local out
	out=$(cat "$T/out")
	case $out in
	*"$marker"* | *"$T"* | *--workspace*) fail "host command line visible inside: $out" ;;
	esac
	case $out in
	*sbx-init*) ;;
	*) fail "pid 1 does not show as sbx-init: $out" ;;
	esac
}

# Per-sandbox host ids (issue 9 item 5): concurrent sandboxes — one-shot
# runs and a long-lived sandbox's exec — run under different host uids,
# each the root of its own user namespace's range.
t_isolation_own_host_ids() {
	export SBX_STATE_DIR=$T/state SBX_RUN_DIR=$T/run
	on_exit '"$SBX" rm -f idsL >/dev/null 2>&1'
	local sync mark
	sync=$(mk_sync)
	mark=$(new_mark)
	local py='
import os, sys, time
open("/workspace/ready-" + sys.argv[1], "w").close()
for i in range(600):
    if os.path.exists("/workspace/go"): break
    time.sleep(0.05)
'
	run_sbx create idsL --workspace "$sync:rw"
	expect_rc 0 "sbx create idsL"
	sbx_start A run --workspace "$sync:rw" -- python3 -c "$py" A "$mark"
	sbx_start B run --workspace "$sync:rw" -- python3 -c "$py" B "$mark"
	sbx_start L exec idsL -- python3 -c "$py" L "$mark"
	local w bad=
	for w in A B L; do
		wait_for_file "$sync/ready-$w" 30 || bad+=" $w did not start;"
	done
	local p uid seen=" "
	for p in $(mark_pids "$mark"); do
		uid=$(awk '/^Uid:/ {print $2}' "/proc/$p/status")
		[ -n "$uid" ] && [[ $seen != *" $uid "* ]] && seen+="$uid "
	done
	touch "$sync/go"
	for w in A B L; do
		sbx_wait $w 60
		[ "$RC" = 0 ] || bad+=" $w exited $RC: $(head -c 300 "$T/err");"
	done
	[ -z "$bad" ] || fail "own host ids:$bad"
	local n
	n=$(wc -w <<<"$seen")
	[ "$n" = 3 ] || fail "three concurrent sandboxes ran under $n distinct host uids:$seen(want 3)"
	for uid in $seen; do
		((uid >= 0x70000000 && uid % 65536 == 0)) || fail "host uid $uid is not the root of a slot of the default id set"
	done
}

# A per-user kernel count exhausted in one sandbox (inotify instances,
# fs.inotify.max_user_instances, charged up the user-namespace chain to the
# namespace's owner) must not give EMFILE in another.
t_isolation_own_inotify_count() {
	local max
	max=$(cat /proc/sys/fs/inotify/max_user_instances)
	# Above the sandbox's RLIMIT_NOFILE (1024) the open file limit, not the
	# per-user count, would stop the first sandbox.
	((max <= 900)) || skip "fs.inotify.max_user_instances is $max: no finite per-user count to exhaust"
	local sync
	sync=$(mk_sync)
	local py='
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
fds, err = [], ""
while len(fds) < 2000:
    fd = libc.inotify_init1(0)
    if fd < 0:
        err = os.strerror(ctypes.get_errno()); break
    fds.append(fd)
    if sys.argv[1] == "B" and len(fds) == 5: break
print("GOT", len(fds), err, flush=True)
open("/workspace/ready-" + sys.argv[1], "w").close()
for i in range(600):
    if sys.argv[1] == "B" or os.path.exists("/workspace/go"): break
    time.sleep(0.05)
'
	sbx_start A run --workspace "$sync:rw" -- python3 -c "$py" A
	wait_for_file "$sync/ready-A" 30 || { touch "$sync/go"; sbx_wait A 30; fail_out "sandbox A did not start"; }
	run_sbx run --workspace "$sync:rw" -- python3 -c "$py" B
	local outB rcB=$RC
	outB=$(cat "$T/out")
	touch "$sync/go"
	sbx_wait A 30
	expect_rc 0 "sandbox A"
	out_has "GOT $max Too many open files" ||
		fail_out "sandbox A did not get exactly fs.inotify.max_user_instances ($max) instances of its own"
	[ "$rcB" = 0 ] || fail "sandbox B exited $rcB: $outB"
	[[ $outB == "GOT 5 "* ]] || fail "sandbox B could not create inotify instances while A held $max: $outB"
}

# A host id range is never shared by two live sandboxes: a taken slot is
# refused; after SIGKILL of its sbx it is reused only once nothing of the old
# sandbox runs; and a slot whose lock is free while processes with its ids
# run (an explicit --map-uid) is not taken. A private one-slot set
# (SBX_ID_RANGE) keeps the default set of concurrent tests out of it.
t_isolation_id_range_exclusive() {
	local base=$((0x68000000 + (RANDOM % 256) * 65536))
	export SBX_ID_RANGE=$base:65536
	local sync mark
	sync=$(mk_sync)
	mark=$(new_mark)
	sbx_start A run --workspace "$sync:rw" -- sh -c 'touch /workspace/ready-A; sleep 120' "$mark"
	wait_for_file "$sync/ready-A" 30 || { kill -KILL "$(sbx_pid A)"; sbx_wait A 30; fail_out "sandbox A did not start"; }
	run_sbx run -- true
	expect_rc 125 "a second sandbox while the only slot is taken"
	grep -q "no free host id range: 1 of 1 in use, 0 with processes still running (set: SBX_ID_RANGE)" "$T/err" ||
		fail_out "no clear error for a taken id range"
	kill -KILL "$(sbx_pid A)"
	sbx_wait A 30
	# Its sandbox dies with it (PDEATHSIG); the slot is free once its
	# processes are gone.
	wait_no_mark "$mark" 20 || fail "sandbox processes left after SIGKILL to sbx: $(describe_pids $(mark_pids "$mark"))"
	local left d
	left=$(_leaks | sed -n 's/^cgroups //p')
	for d in $(echo "$left" | awk '{ print length($0) " " $0 }' | sort -rn | cut -d' ' -f2-); do
		rmdir "$d" 2>/dev/null
	done
	# Its init may stay a zombie until the host's init reaps it: retry.
	local end=$(($(now_us) + 20000000))
	while :; do
		run_sbx run -- cat /proc/self/uid_map
		[ "$RC" = 125 ] && (($(now_us) < end)) || break
		sleep 0.2
	done
	expect_rc 0 "the slot after SIGKILL of its holder (within 20 s)"
	[[ $(cat "$T/out") =~ ^\ *0\ +$base\ +65536 ]] || fail_out "uid_map is not '0 $base 65536'"
	# Lock free, processes in the slot: not taken.
	sbx_start E run --map-uid "$base" --map-gid "$base" --workspace "$sync:rw" -- \
		sh -c 'touch /workspace/ready-E; while [ ! -e /workspace/go ]; do sleep 0.05; done'
	wait_for_file "$sync/ready-E" 30 || { touch "$sync/go"; sbx_wait E 30; fail_out "sandbox E did not start"; }
	run_sbx run -- true
	local rc=$RC err
	err=$(cat "$T/err")
	touch "$sync/go"
	sbx_wait E 30
	expect_rc 0 "sandbox E (--map-uid $base)"
	[ "$rc" = 125 ] && [[ $err == *"no free host id range"* ]] ||
		fail "a slot whose ids a running process has was taken (exit $rc: $err)"
	run_sbx run -- true
	expect_rc 0 "the slot once E ended"
	unset SBX_ID_RANGE
}

# Pooled sandboxes (the pool daemon holds their ranges) get distinct host
# ids too.
# Every process below pid $1, depth first.
iso_descendants() {
	local p
	for p in $(pgrep -P "$1"); do
		echo "$p"
		iso_descendants "$p"
	done
}

t_isolation_pool_own_host_ids() {
	local S mode end p uid seen nspid
	# A fresh pool's sandboxes are the daemon's children; a fork pool's
	# are forked in its template (issue 10): their inits are pid 1 of a
	# pid namespace two levels down (NSpid: host, template, own).
	for mode in fresh fork; do
		S=$T/$mode.sock
		sbx_start P pool serve --socket "$S" --size 3 $([ $mode = fresh ] && echo --fresh)
		end=$(($(now_us) + 60000000))
		until "$SBX" pool stats --socket "$S" 2>/dev/null | grep -qx 'idle 3'; do
			sbx_running P || fail "$mode pool daemon exited: $(head -c 600 "$T/.runs/P.err")"
			(($(now_us) > end)) && fail "the $mode pool did not reach 3 idle sandboxes within 60 s"
			sleep 0.1
		done
		seen=" "
		for p in $(if [ $mode = fresh ]; then pgrep -P "$(sbx_pid P)"; else iso_descendants "$(sbx_pid P)"; fi); do
			if [ $mode = fork ]; then
				nspid=$(awk '/^NSpid:/ {print NF - 1, $NF}' "/proc/$p/status" 2>/dev/null)
				[ "$nspid" = "3 1" ] || continue
			fi
			uid=$(awk '/^Uid:/ {print $2}' "/proc/$p/status")
			((uid >= 0x70000000 && uid % 65536 == 0)) || fail "$mode: pooled sandbox init $p has host uid $uid, not a slot of the default set"
			[[ $seen != *" $uid "* ]] && seen+="$uid "
		done
		[ "$(wc -w <<<"$seen")" = 3 ] || fail "$mode: 3 pooled sandboxes have host uids:$seen(want 3 distinct)"
		kill -TERM "$(sbx_pid P)"
		sbx_wait P 30
		expect_rc 0 "$mode pool daemon after SIGTERM"
	done
}
