# sbx's pre-started interpreter (see src/drivers/native_python.c). Started in a pool sandbox
# as `python3 -c THIS [MODULE...]`: imports the modules, tells the pool it is
# ready, then waits on fd 0 (a Unix socket) for one request, with the
# script's stdin, stdout and stderr attached as fds:
#   u32 length, then u32 nargs, u32 nenv, then length-prefixed (u32) fields:
#   source, filename, cwd, args..., env ("K=V")...   (all big-endian)
# It runs the script as __main__ the way `python3 FILE ARGS...` would, and
# exits with its status. Only cheap C modules are imported here: everything
# a single-use sandbox imports ahead is paid by every sandbox.
import sys, os, _socket, _struct, atexit, resource


def _sbx_warm(mods):
    for m in mods:
        if m:
            try:
                __import__(m)
            except Exception:
                pass
    # The first compile() in a process initialises the AST types (~1 ms):
    # pay that now, not in the script's time.
    compile("pass", "<sbx-warm-up>", "exec")


def _sbx_serve(fd):
    s = _socket.socket(fileno=fd)
    s.send(b"R")
    data, anc, _, _ = s.recvmsg(65536, _socket.CMSG_SPACE(3 * 4))
    fds = []
    for level, kind, blob in anc:
        if level == _socket.SOL_SOCKET and kind == _socket.SCM_RIGHTS:
            fds += _struct.unpack("%di" % (len(blob) // 4), blob[: len(blob) // 4 * 4])
    if len(data) < 4 or len(fds) != 3:
        os._exit(0)
    n = _struct.unpack_from(">I", data)[0]
    buf = bytearray(data[4:])
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            os._exit(0)
        buf += chunk
    start = resource.getrusage(resource.RUSAGE_SELF)
    nargs, nenv = _struct.unpack_from(">II", buf)
    off = 8
    fields = []
    for _ in range(3 + nargs + nenv):
        k = _struct.unpack_from(">I", buf, off)[0]
        fields.append(bytes(buf[off + 4 : off + 4 + k]))
        off += 4 + k
    del buf, data
    source = fields[0]
    filename, cwd = fields[1].decode("utf-8", "surrogateescape"), fields[2]
    args = [os.fsdecode(a) for a in fields[3 : 3 + nargs]]
    env = fields[3 + nargs :]
    if filename == "\x01exec":  # a command, not a script: args are its argv
        _sbx_exec(s, fds, cwd, [fields[3 + i] for i in range(nargs)], env)
    # The channel stays open for the early "done" report (see below).
    chan = os.dup(0)
    os.set_inheritable(chan, False)
    _sbx_stdio(s, fds)
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False, buffering=1 if os.isatty(1) else -1)
    sys.stderr = sys.__stderr__ = open(2, "w", closefd=False, errors="backslashreplace", buffering=1)
    os.environ.clear()
    for kv in env:
        k, _, v = kv.partition(b"=")
        os.environb[k] = v
    try:
        os.chdir(cwd)
    except OSError as e:
        sys.stderr.write("python3: can't change directory to %r: %s\n" % (os.fsdecode(cwd), e.strerror))
        os._exit(2)
    stdin_script = filename in ("-", "<stdin>")
    shown = "<stdin>" if stdin_script else filename
    sys.argv = [filename] + args
    sys.path[0] = "" if stdin_script else os.path.dirname(filename)
    main = type(sys)("__main__")
    main.__builtins__ = __builtins__
    if not stdin_script:
        main.__file__ = filename
    sys.modules["__main__"] = main
    rc = 0
    try:
        code = compile(source, shown, "exec")
        del source
        exec(code, main.__dict__)
    except SystemExit as e:
        c = e.code
        if c is None:
            rc = 0
        elif isinstance(c, int):
            rc = c & 0xFF
        else:
            try:
                print(c, file=sys.stderr)
            except Exception:
                pass
            rc = 1
    except BaseException as e:
        tb = e.__traceback__
        if tb is not None and tb.tb_frame.f_code is _sbx_serve.__code__:
            tb = tb.tb_next
        e.__traceback__ = tb
        try:
            if sys.excepthook is sys.__excepthook__:
                # Source lines from the script's text, as from a file.
                import linecache, traceback
                src = fields[0].decode("utf-8", "replace")
                linecache.cache[shown] = (len(src), None, src.splitlines(True), shown)
                traceback.print_exception(type(e), e, tb)
            else:
                sys.excepthook(type(e), e, tb)
        except Exception:
            pass
        rc = 1
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for f in (sys.stdout, sys.stderr):
        try:
            f.flush()
        except Exception:
            if rc == 0:
                rc = 120
    # Report before exiting: the caller need not wait for the process to be
    # torn down. Its output ends here (children holding it may go on).
    try:
        os.close(1)
        os.close(2)
        me = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = me.ru_utime + me.ru_stime - start.ru_utime - start.ru_stime
        cpu = int((used + kids.ru_utime + kids.ru_stime) * 1e6)
        rss = max(me.ru_maxrss, kids.ru_maxrss)
        os.write(chan, b"D" + _struct.pack("<iqq", rc, cpu, rss))
    except OSError:
        pass
    os._exit(rc)


def _sbx_stdio(s, fds):
    """The request's channel closed, its fds made 0, 1 and 2."""
    s.close()
    for i in range(3):
        os.dup2(fds[i], i)
    for f in fds:
        if f > 2:
            os.close(f)


def _sbx_exec(s, fds, cwd, argv, env):
    """Run argv in place of this process (a pre-forked sandbox's `run`),
    the way the sandbox's exec shim would: stdio, cwd, env, execvp."""
    _sbx_stdio(s, fds)
    envd = {}
    for kv in env:
        k, _, v = kv.partition(b"=")
        envd[k] = v
    try:
        os.chdir(cwd)
    except OSError as e:
        os.write(2, b"sbx: cannot change directory to %s: %s\n" % (cwd, e.strerror.encode()))
        os._exit(125)
    try:
        os.execvpe(argv[0], argv, envd)
    except OSError as e:
        what = b"command not found" if e.errno == 2 else e.strerror.encode()
        os.write(2, b"sbx: %s: %s\n" % (argv[0], what))
        os._exit(127 if e.errno == 2 else 126)


if sys.argv[1:2] != ["--sbx-zygote"]:
    _sbx_warm(sys.argv[1:])
    _sbx_serve(0)
