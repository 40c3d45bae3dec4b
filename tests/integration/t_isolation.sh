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
	out_has "UID_MAP 0 100000 65536" || fail_out "uid_map is not '0 100000 65536'"
	out_has "GID_MAP 0 100000 65536" || fail_out "gid_map is not '0 100000 65536'"
	out_has "IDS 0 0 0 0" || fail_out "not uid/gid 0 inside"
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
	local pids p bad=
	pids=$(mark_pids "$mark")
	[ -n "$pids" ] || bad+=" no sandbox process found from the host;"
	for p in $pids; do
		local uid gid capeff
		uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$p/status")
		gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$p/status")
		capeff=$(awk '/^CapEff:/ {print $2}' "/proc/$p/status")
		[ "$uid" = "100000 100000 100000 100000" ] || bad+=" pid $p has host uids '$uid';"
		[ "$gid" = "100000 100000 100000 100000" ] || bad+=" pid $p has host gids '$gid';"
		[ "$capeff" = 0000000000000000 ] || bad+=" pid $p CapEff $capeff;"
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
	local who k bad=
	for who in SELF CHILD; do
		for k in CapPrm CapEff CapBnd; do
			out_has "$who $k 0000000000000000" || bad+=" $who $k=$(out_line "$who $k");"
		done
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
	local c line bad=
	for c in memory cpu pids; do
		line=$(awk -F: -v c="$c" '{ n = split($2, o, ","); for (j = 1; j <= n; j++) if (o[j] == c) print }' "$T/out")
		[ -n "$line" ] || { bad+=" no $c line;"; continue; }
		[ "${line#*:*:}" = / ] || bad+=" $c path is '${line#*:*:}' (want /);"
	done
	local own
	own=$(cg_own memory $BASHPID)
	if [ "$own" != / ] && grep -qF "$own" "$T/out"; then
		bad+=" the host's cgroup path $own is visible;"
	fi
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
