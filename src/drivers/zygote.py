# sbx's zygote (see src/drivers/native_zygote.c and docs/security.md,
# "Pre-forked sandboxes"). Appended to pyrunner.py and started once in a
# pool's template sandbox as `python3 -c THIS --sbx-zygote [MODULE...]`
# with a SOCK_SEQPACKET socket to the pool on fd 0. No untrusted byte ever
# reaches this process: requests come from the pool only.
#
# pool -> zygote   'C' JSON config (once), then 'F' u32 slot + [chan, ctl]
# zygote -> pool   'R' + [pidfd of the zygote] when ready; per fork 'K' (the
#                  child is on its way) or 'E' text
# Each fork: C (the zygote's child) unshares a user namespace whose map the
# zygote writes (0..65535 -> the slot's range) and takes its root's ids,
# unshares mount, net, ipc, uts and pid namespaces and forks G, pid 1 of
# the new pid namespace, then exits (the zygote answered K once the map was
# written: what C and G do from there they report to the pool on ctl). G mounts its own /proc, /tmp,
# /dev/shm and /dev/pts, sends its pidfd on ctl ('P'), waits for the pool's
# 'G' (it is in its own cgroup then), unshares its cgroup namespace, drops
# capabilities, loads the seccomp filters and forks S, which reseeds and
# serves one request on chan (pyrunner's _sbx_serve). G stays as init:
# it passes the pool's kill and signal records on, reports S's wait status
# on ctl (the exec protocol's 'S' record), forks a new runner for a further
# request ('F' + its channel, answered 'A'), and exits when the pool closes
# ctl, which ends everything in the sandbox.


def _sbx_zygote():
    import json, gc, ctypes, select, signal

    CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
    CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
    CLONE_NEWCGROUP = 0x2000000
    MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
    MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
    PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS = 4, 24, 28
    PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_SET_CHILD_SUBREAPER = 38, 47, 36
    PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
    SOL, RIGHTS = _socket.SOL_SOCKET, _socket.SCM_RIGHTS

    ctl = _socket.socket(fileno=0)
    msg = ctl.recv(1 << 20)
    if msg[:1] != b"C":
        os._exit(1)
    cfg = json.loads(msg[1:].decode())
    for k, v in cfg["env"].items():
        os.environ[k] = v
    _sbx_warm(sys.argv[2:])

    libc = ctypes.CDLL(None, use_errno=True)

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    class CapHdr(ctypes.Structure):
        _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

    class CapData(ctypes.Structure):
        _fields_ = [("eff", ctypes.c_uint32), ("perm", ctypes.c_uint32), ("inh", ctypes.c_uint32)]

    # Everything a child needs is made now, once: the children only call.
    bufs = [ctypes.create_string_buffer(bytes.fromhex(h)) for h in cfg["seccomp"]]
    progs = [Fprog(len(b.raw) // 8, ctypes.addressof(b)) for b in bufs]
    mask = cfg["caps"]
    caphdr = CapHdr(0x20080522, 0)
    capdata = (CapData * 2)(CapData(mask & 0xFFFFFFFF, mask & 0xFFFFFFFF, 0),
                            CapData(mask >> 32, mask >> 32, 0))
    tmp_opts = ("size=%d,mode=1777" % cfg["tmp_size"]).encode()
    hostname = cfg["hostname"].encode()
    # Which /proc entries exist, and which are directories, is the same in
    # every child's new /proc as in the template's: looked up once here.
    masked, readonly = [], []
    for p in cfg["proc_masked"]:
        p = "/proc/" + p
        if os.path.lexists(p):
            masked.append((p.encode(), os.path.isdir(p) and not os.path.islink(p)))
    for p in cfg["proc_readonly"]:
        p = "/proc/" + p
        if os.path.lexists(p):
            readonly.append(p.encode())
    limits = [(getattr(resource, n), (v, v)) for n, v in cfg["rlimits"]]

    def check(r, what):
        if r != 0:
            e = ctypes.get_errno()
            raise OSError(e, "%s: %s" % (what, os.strerror(e)))

    def mount(src, dst, fs, flags, data, what):
        check(libc.mount(src, dst, fs, ctypes.c_ulong(flags), data), what)

    def prctl(*a):
        return libc.prctl(*[ctypes.c_ulong(x) for x in a])

    def send_fd(sock, tag, fd):
        sock.sendmsg([tag], [(SOL, RIGHTS, _struct.pack("i", fd))])

    def recv_fds(sock, n):
        data, anc, _, _ = sock.recvmsg(64, _socket.CMSG_SPACE(n * 4))
        fds = []
        for level, kind, blob in anc:
            if level == SOL and kind == RIGHTS:
                fds += _struct.unpack("%di" % (len(blob) // 4), blob[: len(blob) // 4 * 4])
        return data, fds

    def lo_up():
        import fcntl
        s = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
        ifr = fcntl.ioctl(s, 0x8913, _struct.pack("16sh14x", b"lo", 0))  # SIOCGIFFLAGS
        flags = _struct.unpack_from("16sh", ifr)[1] | 1  # IFF_UP
        fcntl.ioctl(s, 0x8914, _struct.pack("16sh14x", b"lo", flags))  # SIOCSIFFLAGS
        s.close()

    def g_setup():
        """G, pid 1 of its namespaces: the sandbox's own mounts."""
        mount(None, b"/", None, MS_REC | MS_PRIVATE, None, "make mounts private")
        mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None, "mount /proc")
        for p in readonly:
            mount(p, p, None, MS_BIND | MS_REC, None, "bind %s" % p.decode())
            mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
                  | MS_NOEXEC, None, "read-only %s" % p.decode())
        for p, is_dir in masked:
            if is_dir:
                mount(b"tmpfs", p, b"tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
                      b"size=0,mode=555", "mask %s" % p.decode())
            else:
                mount(b"/dev/null", p, None, MS_BIND, None, "mask %s" % p.decode())
        mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, tmp_opts, "mount /tmp")
        mount(b"tmpfs", b"/dev/shm", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, tmp_opts,
              "mount /dev/shm")
        if libc.mount(b"devpts", b"/dev/pts", b"devpts", ctypes.c_ulong(MS_NOSUID | MS_NOEXEC),
                      b"newinstance,ptmxmode=0666,mode=0620,gid=5") != 0:
            mount(b"devpts", b"/dev/pts", b"devpts", MS_NOSUID | MS_NOEXEC,
                  b"newinstance,ptmxmode=0666,mode=0620", "mount /dev/pts")
        check(libc.sethostname(hostname, len(hostname)), "sethostname")
        if cfg["loopback"]:
            lo_up()

    def g_lock_down():
        """G: what the sandbox's command gets, as core/workload.c does it."""
        check(libc.unshare(CLONE_NEWCGROUP), "unshare cgroup namespace")
        for kind, lim in limits:
            resource.setrlimit(kind, lim)
        check(prctl(PR_SET_SECUREBITS, cfg["secbits"], 0, 0, 0), "securebits")
        for c in range(cfg["last_cap"] + 1):
            if not mask >> c & 1 and prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0:
                if ctypes.get_errno() != 22:
                    check(-1, "bounding set")
        check(prctl(PR_CAP_AMBIENT, 4, 0, 0, 0), "ambient set")
        check(libc.capset(ctypes.byref(caphdr), capdata), "capability sets")
        check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        check(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "dumpable")
        for p in progs:
            check(libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(p)), "seccomp")

    def prefault():
        """S while idle: what every request does, on /dev/null, so that the
        pages it writes are copied from the zygote's now and not while a
        request waits (a copy-on-write fault costs tens of microseconds in
        a VM; a request touches a few hundred pages)."""
        fd = os.open("/dev/null", os.O_RDWR)
        try:
            r = open(fd, "r", closefd=False)
            w = open(fd, "w", closefd=False, buffering=-1)
            e = open(fd, "w", closefd=False, errors="backslashreplace", buffering=1)
            m = type(sys)("__main__")
            m.__builtins__ = __builtins__
            code = compile("import sys\nprint(1, [str(i) for i in range(3)], file=w)\n",
                           "<sbx-prefault>", "exec")
            m.w = w
            exec(code, m.__dict__)
            w.flush()
            e.write("")
            os.isatty(fd)
            os.chdir("/tmp")
            resource.getrusage(resource.RUSAGE_SELF)
            _struct.pack("<iqq", 0, 0, 0)
            del r, w, e, m, code
        except Exception:
            pass
        finally:
            os.close(fd)

    def g_runner(chan, gctl):
        """G: S, a runner for one request on chan, in a session of its own."""
        s = os.fork()
        if s == 0:
            try:
                gctl.close()
                os.setsid()
                # G is not dumpable (the request cannot trace or read it);
                # the request's own process is, as any command is.
                prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)
                if chan.fileno() == 0:  # received into a free fd 0
                    chan.detach()
                else:
                    os.dup2(chan.fileno(), 0)
                    chan.close()
                if "numpy.random" in sys.modules:
                    sys.modules["numpy.random"].seed()
                gc.enable()
                prefault()
                _sbx_serve(0)
            finally:
                os._exit(1)
        chan.close()
        return s

    def g_main(chan, gctl):
        try:
            g_setup()
            me = os.pidfd_open(1)
            send_fd(gctl, b"P", me)
            os.close(me)
            if gctl.recv(16)[:1] != b"G":
                os._exit(0)
            g_lock_down()
            s = g_runner(chan, gctl)
        except BaseException as e:
            try:
                gctl.send(b"E" + str(e).encode("utf-8", "replace")[:400])
            finally:
                os._exit(125)
        g_loop(s, gctl)

    def g_loop(s, gctl):
        """G until the pool closes gctl: its records in (K kill, N signal,
        F a new runner), each runner's wait status out (S)."""
        used = [0.0]

        def report(st):
            ru = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = ru.ru_utime + ru.ru_stime
            try:
                gctl.send(b"S" + _struct.pack("iiqq", st, 0, int((cpu - used[0]) * 1e6),
                                               ru.ru_maxrss))
            except OSError:
                pass
            used[0] = cpu

        # S's pidfd wakes us the moment it ends (a command it exec'd has no
        # early report: its status is the end of the request).
        spfd = [os.pidfd_open(s)] if s else []
        while True:
            try:
                r, _, _ = select.select([gctl] + spfd, [], [], 0.5)
            except InterruptedError:
                r = []
            if gctl in r:
                rec, fds = recv_fds(gctl, 1)
                if not rec:
                    os._exit(0)  # the pool let go: the sandbox ends with us
                if rec[:1] == b"K":
                    try:
                        os.kill(-1, signal.SIGKILL)  # all of the sandbox but us
                    except OSError:
                        pass
                elif rec[:1] == b"N" and len(rec) >= 5 and s:
                    try:
                        os.killpg(s, _struct.unpack_from("i", rec, 1)[0])
                    except OSError:
                        pass
                elif rec[:1] == b"F" and len(fds) == 1:
                    if s:  # the pool is done with it: its runner goes
                        try:
                            os.killpg(s, signal.SIGKILL)
                        except OSError:
                            pass
                        report(os.waitpid(s, 0)[1])
                    try:
                        s = g_runner(_socket.socket(fileno=fds[0]), gctl)
                        for f in spfd:
                            os.close(f)
                        spfd = [os.pidfd_open(s)]
                        gctl.send(b"A")
                    except OSError as e:
                        s = 0
                        for f in spfd:
                            os.close(f)
                        spfd = []
                        gctl.send(b"E" + str(e).encode("utf-8", "replace")[:400])
                    fds = []
                for f in fds:
                    os.close(f)
            while True:
                try:
                    pid, st = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                if pid == s:
                    s = 0
                    for f in spfd:
                        os.close(f)
                    spfd = []
                    report(st)

    def c_main(slot, chan, gctl, sync):
        """C: its ids, its namespaces, then G. After "m" the zygote has
        let go: errors go to the pool on gctl."""
        # The new namespace is owned by the zygote's uid, so the zygote may
        # write its map (which takes CAP_SYS_ADMIN over it); C then becomes
        # its root: the slot's ids.
        check(libc.unshare(CLONE_NEWUSER), "unshare user namespace")
        sync.send(b"u")
        if sync.recv(1) != b"m":
            os._exit(1)
        sync.close()
        # Nothing of the zygote's goes on (its channel is fd 0): the two
        # channels move to 3 and 4, everything from 5 up is closed.
        cf, gf = chan.detach(), gctl.detach()
        if gf == 3:
            gf, old = os.dup(gf), gf
            os.close(old)
        if cf != 3:
            os.dup2(cf, 3)
            os.close(cf)
        if gf != 4:
            os.dup2(gf, 4)
            os.close(gf)
        os.close(0)
        os.closerange(5, 1 << 20)
        chan = _socket.socket(fileno=3)
        gctl = _socket.socket(fileno=4)
        os.setresgid(0, 0, 0)
        os.setgroups([])
        os.setresuid(0, 0, 0)
        check(libc.unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                           | CLONE_NEWPID), "unshare namespaces")
        if os.fork() == 0:
            try:
                g_main(chan, gctl)
            finally:
                os._exit(125)
        os._exit(0)

    def fork_one(slot, chan_fd, gctl_fd):
        chan = _socket.socket(fileno=chan_fd)
        gctl = _socket.socket(fileno=gctl_fd)
        a, b = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_STREAM)
        try:
            pid = os.fork()
        except OSError as e:
            for x in (chan, gctl, a, b):
                x.close()
            return "fork: " + e.strerror
        if pid == 0:
            a.close()
            try:
                c_main(slot, chan, gctl, b)
            except BaseException as e:
                try:
                    m = b"E" + str(e).encode("utf-8", "replace")[:400]
                    if b.fileno() >= 0:
                        b.send(m)
                    else:
                        gctl.send(m)
                finally:
                    os._exit(125)
            os._exit(125)
        b.close()
        chan.close()
        gctl.close()
        err = None
        try:
            a.settimeout(10)
            m = a.recv(512)
            if m != b"u":
                err = m[1:].decode("utf-8", "replace") if m[:1] == b"E" else "child ended"
            else:
                line = "0 %d 65536\n" % (slot * 65536)
                for f in ("uid_map", "gid_map"):
                    fd = os.open("/proc/%d/%s" % (pid, f), os.O_WRONLY)
                    try:
                        os.write(fd, line.encode())
                    finally:
                        os.close(fd)
                a.send(b"m")
        except OSError as e:
            err = "child set-up: %s" % e
        a.close()
        if err is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            os.waitpid(pid, 0)
        return err  # C itself is reaped with the others, below

    # Children of the forks (each G, once its C is gone) are ours to reap.
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    gc.collect()
    gc.freeze()
    gc.disable()
    me = os.pidfd_open(os.getpid())
    send_fd(ctl, b"R", me)
    os.close(me)
    while True:
        try:
            r, _, _ = select.select([ctl], [], [], 0.5)
        except InterruptedError:
            r = []
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] <= 0:
                    break
            except ChildProcessError:
                break
        if not r:
            continue
        data, fds = recv_fds(ctl, 2)
        if not data:
            os._exit(0)
        if data[:1] != b"F" or len(data) < 5 or len(fds) != 2:
            for f in fds:
                os.close(f)
            ctl.send(b"Emalformed fork request")
            continue
        slot = _struct.unpack_from("<I", data, 1)[0]
        err = fork_one(slot, fds[0], fds[1])
        ctl.send(b"K" if err is None else b"E" + err.encode("utf-8", "replace")[:400])


if sys.argv[1:2] == ["--sbx-zygote"]:
    _sbx_zygote()
