# shellcheck shell=bash
# seccomp: denied system calls return EPERM (the process lives on), clone3
# returns ENOSYS, foreign ABIs are blocked. Probes use ctypes from python;
# each probe runs in a forked child so one SIGSYS cannot hide the others.
# Arguments are chosen so that, where possible, the call would NOT fail
# with EPERM without the filter (e.g. setns(-1) -> EBADF, ptrace(TRACEME)
# -> 0), and are harmless if the filter were missing.

# run_probes SCRIPT MIN WHAT: run the probe script; every probe OK, at least
# MIN of them, and the script finished.
run_probes() {
	run_sbx run -- python3 -c "$1"
	expect_rc 0
	out_has DONE || fail_out "the probe script did not finish"
	local bad
	bad=$(grep '^BAD ' "$T/out" | sed 's/^BAD //' | tr '\n' ';')
	[ -z "$bad" ] || fail_out "$3: $bad"
	[ "$(grep -c '^OK ' "$T/out")" -ge "$2" ] || fail_out "probes missing"
}

SECCOMP_PY_PRELUDE='
import ctypes, errno, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
L, U, S = ctypes.c_long, ctypes.c_ulong, ctypes.c_char_p

def sc(nr, *args):
    ctypes.set_errno(0)
    r = libc.syscall(L(nr), *args)
    return r, ctypes.get_errno()

def probe(fn):
    """run fn() in a child; return (ret, errno) or a string if it died"""
    rd, wr = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rd)
        signal.alarm(10)
        try:
            ret, err = fn()
            msg = "%d %d" % (ret, err)
        except Exception as e:
            msg = "EXC %r" % (e,)
        os.write(wr, msg.encode())
        os._exit(0)
    os.close(wr)
    data = b""
    while True:
        chunk = os.read(rd, 4096)
        if not chunk:
            break
        data += chunk
    os.close(rd)
    _, st = os.waitpid(pid, 0)
    if os.WIFSIGNALED(st):
        return "killed by signal %d" % os.WTERMSIG(st)
    try:
        ret, err = data.decode().split()
        return int(ret), int(err)
    except ValueError:
        return data.decode() or "no result"

def show(r):
    if isinstance(r, str):
        return r
    ret, err = r
    if ret == -1:
        return "ret=-1 errno=%s" % errno.errorcode.get(err, err)
    return "ret=%d (succeeded)" % ret

def report(name, r, want):
    ok = (not isinstance(r, str)) and r[0] == -1 and r[1] == want
    print("OK" if ok else "BAD", name, show(r))
'

t_seccomp_denied_syscalls() {
	local py=$SECCOMP_PY_PRELUDE'
buf = lambda n: ctypes.create_string_buffer(n)
timex = buf(256)                    # adjtimex modes=0: a read-only query without the filter
uring_params = buf(120)
perf_attr = buf(128)
ctypes.memmove(perf_attr, (1).to_bytes(4, "little") + (128).to_bytes(4, "little") + (1).to_bytes(8, "little"), 16)
ctypes.memmove(ctypes.addressof(perf_attr) + 40, ((1 << 5) | (1 << 6)).to_bytes(8, "little"), 8)
ch = buf(1)
devnull = os.open("/dev/null", os.O_RDWR)

def tiocsti():
    return sc(16, L(devnull), U(0x5412), ch)

EPERM = [
    ("mount", lambda: sc(165, S(b"none"), S(b"/tmp"), S(b"tmpfs"), U(0), None)),
    ("umount2", lambda: sc(166, S(b"/tmp"), L(0))),
    ("pivot_root", lambda: sc(155, S(b"/tmp"), S(b"/tmp"))),
    ("unshare(CLONE_NEWUSER)", lambda: sc(272, U(0x10000000))),
    ("unshare(CLONE_NEWNS)", lambda: sc(272, U(0x00020000))),
    ("unshare(CLONE_NEWUSER|CLONE_NEWNET)", lambda: sc(272, U(0x10000000 | 0x40000000))),
    ("setns", lambda: sc(308, L(-1), L(0))),
    ("kexec_load", lambda: sc(246, U(0), U(0), None, U(0))),
    ("init_module", lambda: sc(175, None, U(0), S(b""))),
    ("finit_module", lambda: sc(313, L(-1), S(b""), L(0))),
    ("delete_module", lambda: sc(176, S(b"sbx_no_such_module"), L(0))),
    ("bpf", lambda: sc(321, L(0), None, L(0))),
    ("perf_event_open", lambda: sc(298, perf_attr, L(0), L(-1), L(-1), U(0))),
    ("keyctl", lambda: sc(250, L(0), L(-3), L(1))),
    ("add_key", lambda: sc(248, S(b"user"), S(b"sbx-test"), S(b"x"), L(1), L(-2))),
    ("request_key", lambda: sc(249, S(b"user"), S(b"sbx-test-none"), None, L(0))),
    ("userfaultfd", lambda: sc(323, L(1))),
    ("open_by_handle_at", lambda: sc(304, L(-1), None, L(0))),
    ("io_uring_setup", lambda: sc(425, U(1), uring_params)),
    ("reboot", lambda: sc(169, L(0xfee1dead), L(0), U(0), None)),
    ("swapon", lambda: sc(167, S(b"/nonexistent"), L(0))),
    ("swapoff", lambda: sc(168, S(b"/nonexistent"))),
    ("settimeofday", lambda: sc(164, None, None)),
    ("clock_settime", lambda: sc(227, L(0), None)),
    ("adjtimex", lambda: sc(159, timex)),
    ("acct", lambda: sc(163, None)),
    ("ptrace(PTRACE_TRACEME)", lambda: sc(101, L(0), L(0), None, None)),
    ("personality(ADDR_NO_RANDOMIZE)", lambda: sc(135, U(0x0040000))),
    ("personality(READ_IMPLIES_EXEC)", lambda: sc(135, U(0x0400000))),
    ("ioctl(TIOCSTI)", tiocsti),
]
for name, fn in EPERM:
    report(name, probe(fn), errno.EPERM)

# allowed: must not fail with EPERM
def allowed(name, r):
    ok = (not isinstance(r, str)) and not (r[0] == -1 and r[1] == errno.EPERM)
    print("OK" if ok else "BAD", "allowed " + name, show(r))
allowed("getpid", probe(lambda: sc(39)))
allowed("personality(PER_LINUX)", probe(lambda: sc(135, U(0))))
rp, wp = os.pipe()
allowed("ioctl(FIONREAD)", probe(lambda: sc(16, L(rp), U(0x541B), buf(8))))
print("DONE")
'
	run_probes "$py" 33 "syscalls not denied with EPERM (or allowed ones denied)"
}

t_seccomp_clone3_enosys() {
	local py=$SECCOMP_PY_PRELUDE'
report("clone3(NULL, 0)", probe(lambda: sc(435, None, U(0))), errno.ENOSYS)
args = ctypes.create_string_buffer(88)   # flags=0, exit_signal=SIGCHLD: a plain fork if allowed
ctypes.memmove(ctypes.addressof(args) + 32, (17).to_bytes(8, "little"), 8)
def c3():
    r = sc(435, args, U(88))
    if r[0] == 0:
        os._exit(0)
    if r[0] > 0:
        os.waitpid(r[0], 0)
    return r
report("clone3(plain)", probe(c3), errno.ENOSYS)
import threading, subprocess
t = threading.Thread(target=lambda: print("THREAD ran", flush=True))
t.start(); t.join()
print("SUBPROCESS", subprocess.run(["true"]).returncode)
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local bad
	bad=$(grep '^BAD ' "$T/out" | sed 's/^BAD //' | tr '\n' ';')
	[ -z "$bad" ] || fail_out "clone3 not ENOSYS: $bad"
	out_has "THREAD ran" || fail_out "threads do not work (libc clone3->clone fallback?)"
	out_has "SUBPROCESS 0" || fail_out "subprocess.run(['true']) does not work"
}

t_seccomp_clone_namespace_flags() {
	local py=$SECCOMP_PY_PRELUDE'
SIGCHLD = 17
def clone_with(flags):
    def fn():
        r = sc(56, U(flags | SIGCHLD), None, None, None, U(0))
        if r[0] == 0:
            os._exit(0)   # the child, if the clone went through
        if r[0] > 0:
            os.waitpid(r[0], 0)
        return r
    return fn
NEWUSER = 0x10000000
for name, f in [("CLONE_NEWUSER", NEWUSER),
                ("CLONE_NEWUSER|CLONE_NEWNS", NEWUSER | 0x00020000),
                ("CLONE_NEWUSER|CLONE_NEWPID", NEWUSER | 0x20000000),
                ("CLONE_NEWUSER|CLONE_NEWNET", NEWUSER | 0x40000000),
                ("CLONE_NEWUSER|CLONE_NEWUTS", NEWUSER | 0x04000000),
                ("CLONE_NEWUSER|CLONE_NEWIPC", NEWUSER | 0x08000000),
                ("CLONE_NEWUSER|CLONE_NEWCGROUP", NEWUSER | 0x02000000),
                ("CLONE_NEWNS", 0x00020000),
                ("CLONE_NEWPID", 0x20000000),
                ("CLONE_NEWNET", 0x40000000)]:
    report("clone(%s)" % name, probe(clone_with(f)), errno.EPERM)
# plain fork must work
pid = os.fork()
if pid == 0:
    os._exit(7)
_, st = os.waitpid(pid, 0)
print("FORK", os.WEXITSTATUS(st))
r = probe(clone_with(0))
print("PLAINCLONE", "ok" if not isinstance(r, str) and r[0] > 0 else show(r))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local bad
	bad=$(grep '^BAD ' "$T/out" | sed 's/^BAD //' | tr '\n' ';')
	[ -z "$bad" ] || fail_out "clone with namespace flags not EPERM: $bad"
	out_has "FORK 7" || fail_out "plain fork does not work"
	out_has "PLAINCLONE ok" || fail_out "raw clone(SIGCHLD) without namespace flags does not work"
}

t_seccomp_chmod_setuid() {
	local py=$SECCOMP_PY_PRELUDE'
import stat
AT_FDCWD = -100
p = b"/tmp/f"
d = b"/tmp/d"
open(p, "w").close(); os.chmod(p, 0o644)
os.mkdir(d, 0o755)
fd = os.open(p, os.O_RDONLY)
cases = [
    ("chmod 04755", lambda: sc(90, S(p), U(0o4755))),
    ("chmod 02755", lambda: sc(90, S(p), U(0o2755))),
    ("chmod 06755", lambda: sc(90, S(p), U(0o6755))),
    ("chmod dir 02755", lambda: sc(90, S(d), U(0o2755))),
    ("fchmod 04755", lambda: sc(91, L(fd), U(0o4755))),
    ("fchmod 02755", lambda: sc(91, L(fd), U(0o2755))),
    ("fchmodat 04755", lambda: sc(268, L(AT_FDCWD), S(p), U(0o4755))),
    ("fchmodat 02755", lambda: sc(268, L(AT_FDCWD), S(p), U(0o2755))),
]
for name, fn in cases:
    report(name, probe(fn), errno.EPERM)
bits = stat.S_ISUID | stat.S_ISGID
print("MODE_FILE", oct(os.stat(p).st_mode & 0o7777))
print("MODE_DIR", oct(os.stat(d).st_mode & 0o7777))
# ordinary chmod works
for name, fn, want in [("chmod 0600", lambda: sc(90, S(p), U(0o600)), 0o600),
                       ("fchmod 0640", lambda: sc(91, L(fd), U(0o640)), 0o640),
                       ("fchmodat 0755", lambda: sc(268, L(AT_FDCWD), S(p), U(0o755)), 0o755)]:
    r = probe(fn)
    got = os.stat(p).st_mode & 0o7777
    print("OK" if r == (0, 0) and got == want else "BAD", "allowed " + name, show(r), oct(got))
# not a contract item, reported as a note: a file created with setuid bits
try:
    nfd = os.open("/tmp/created", os.O_CREAT | os.O_WRONLY, 0o4755)
    os.close(nfd)
    print("CREATE_MODE", oct(os.stat("/tmp/created").st_mode & 0o7777))
except OSError as e:
    print("CREATE_MODE", "error", e)
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	local bad
	bad=$(grep '^BAD ' "$T/out" | sed 's/^BAD //' | tr '\n' ';')
	[ -z "$bad" ] || fail_out "setuid/setgid chmod: $bad"
	out_has "MODE_FILE 0o644" || fail_out "the file's mode changed despite the denials"
	out_has "MODE_DIR 0o755" || fail_out "the dir's mode changed despite the denials"
	local cm
	cm=$(out_line CREATE_MODE)
	case $cm in *4755) note "open(O_CREAT, 04755) in /tmp creates a setuid file (mode $cm); not covered by the chmod filter" ;; esac
}

t_seccomp_fchmodat2_setuid() {
	# fchmodat2 (Linux 6.6, nr 452) is a fourth way to set the mode; a
	# filter that only covers chmod/fchmod/fchmodat lets it through.
	local py=$SECCOMP_PY_PRELUDE'
open("/tmp/f", "w").close(); os.chmod("/tmp/f", 0o644)
r = probe(lambda: sc(452, L(-100), S(b"/tmp/f"), U(0o4755), L(0)))
print("RESULT", show(r))
print("MODE", oct(os.stat("/tmp/f").st_mode & 0o7777))
'
	run_sbx run -- python3 -c "$py"
	expect_rc 0
	out_has "MODE 0o644" || fail_out "fchmodat2 set a setuid bit ($(out_line RESULT), $(out_line MODE))"
}

# run the foreign_arch helper for ABI $1; skip when the host itself cannot
# make such calls (then the check inside would prove nothing)
foreign_arch_test() {
	local abi=$1 host_out
	need_helpers
	host_out=$("$HELPERS/foreign_arch" "$abi" 2>&1)
	if [[ $host_out != *"RESULT SUCCEEDED"* ]]; then
		skip "the host kernel cannot make $abi syscalls either ($(echo "$host_out" | head -n 1)): nothing to block"
	fi
	run_sbx run --workspace "$HELPERS:ro" -- /workspace/foreign_arch "$abi"
	case $RC in
	0) out_has "RESULT blocked" || fail_out "$abi: unexpected helper output" ;;
	159) note "$abi syscall: process killed by SIGSYS" ;;
	*) fail_out "$abi syscalls not blocked (exit $RC)" ;;
	esac
}

t_seccomp_foreign_arch_i386() {
	foreign_arch_test i386
}

t_seccomp_foreign_arch_x32() {
	foreign_arch_test x32
}

# Socket families: only unix, inet, inet6 and netlink. AF_VSOCK is not
# network-namespaced (it reaches the VM host's agents: the host here can
# create one, so this fails without the filter), AF_ALG is shared kernel
# crypto state, and an unloaded family would make the kernel load a module.
t_seccomp_socket_families() {
	local py=$SECCOMP_PY_PRELUDE'
import socket
def mk(fam, typ, pair=False):
    def fn():
        try:
            if pair:
                a, b = socket.socketpair(fam, typ)
                a.close(); b.close()
            else:
                socket.socket(fam, typ).close()
            return 0, 0
        except OSError as e:
            return -1, e.errno
    return fn
def allowed(name, r):
    ok = (not isinstance(r, str)) and r[0] == 0
    print(("OK " if ok else "BAD ") + name + ": " + show(r))
for fam, name in ((socket.AF_VSOCK, "AF_VSOCK"), (socket.AF_ALG, "AF_ALG"),
                  (socket.AF_PACKET, "AF_PACKET"), (socket.AF_CAN, "AF_CAN"),
                  (5, "AF_APPLETALK"), (21, "AF_RDS"), (30, "AF_TIPC"), (45, "AF_XDP")):
    typ = socket.SOCK_SEQPACKET if fam in (socket.AF_ALG, 21, 30) else socket.SOCK_DGRAM
    report("socket(%s)" % name, probe(mk(fam, typ)), errno.EAFNOSUPPORT)
report("socketpair(AF_VSOCK)", probe(mk(socket.AF_VSOCK, socket.SOCK_STREAM, True)), errno.EAFNOSUPPORT)
allowed("socket(AF_UNIX)", probe(mk(socket.AF_UNIX, socket.SOCK_STREAM)))
allowed("socketpair(AF_UNIX)", probe(mk(socket.AF_UNIX, socket.SOCK_STREAM, True)))
allowed("socket(AF_INET)", probe(mk(socket.AF_INET, socket.SOCK_STREAM)))
allowed("socket(AF_INET6)", probe(mk(socket.AF_INET6, socket.SOCK_DGRAM)))
allowed("socket(AF_NETLINK)", probe(mk(socket.AF_NETLINK, socket.SOCK_RAW)))
print("DONE")
'
	run_probes "$py" 14 "socket families not as expected"
}
