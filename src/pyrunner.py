# sbx's pre-started interpreter (see src/pyrun.c). Started in a pool sandbox
# as `python3 -c THIS [MODULE...]`: imports the modules, tells the pool it is
# ready, then waits on fd 0 (a Unix socket) for one request: a 4-byte length
# and a JSON object {source, filename, args, env, cwd}, with the script's
# stdin, stdout and stderr attached as fds. It runs the script as __main__
# the way `python3 FILE ARGS...` would, and exits with its status.
import sys, os, socket, struct, json, types, builtins, atexit, linecache, resource


def _sbx_runner():
    for m in sys.argv[1:]:
        if m:
            try:
                __import__(m)
            except Exception:
                pass
    # The first compile() in a process initialises the AST types (~1 ms):
    # pay that now, not in the script's time.
    compile("pass", "<sbx-warm-up>", "exec")
    s = socket.socket(fileno=0)
    s.sendall(b"R")
    data, fds, _, _ = socket.recv_fds(s, 65536, 3)
    if len(data) < 4 or len(fds) != 3:
        os._exit(0)
    n = struct.unpack(">I", data[:4])[0]
    buf = bytearray(data[4:])
    while len(buf) < n:
        chunk = s.recv(min(1 << 20, n - len(buf)))
        if not chunk:
            os._exit(0)
        buf += chunk
    req = json.loads(bytes(buf[:n]).decode("utf-8"))
    # The channel stays open for the early "done" report (see below).
    chan = os.dup(0)
    os.set_inheritable(chan, False)
    s.close()
    for i in range(3):
        os.dup2(fds[i], i)
    for f in fds:
        if f > 2:
            os.close(f)
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False, buffering=1 if os.isatty(1) else -1)
    sys.stderr = sys.__stderr__ = open(2, "w", closefd=False, errors="backslashreplace", buffering=1)
    os.environ.clear()
    for kv in req["env"]:
        k, _, v = kv.partition("=")
        os.environ[k] = v
    try:
        os.chdir(req["cwd"])
    except OSError as e:
        sys.stderr.write("python3: can't change directory to %r: %s\n" % (req["cwd"], e.strerror))
        os._exit(2)
    filename = req["filename"]
    sys.argv = [filename] + req["args"]
    sys.path[0] = "" if filename in ("-", "<stdin>", "-c") else os.path.dirname(filename)
    shown = "<stdin>" if filename == "-" else filename
    # Tracebacks show source lines, as they would from a file.
    linecache.cache[shown] = (len(req["source"]), None, req["source"].splitlines(True), shown)
    main = types.ModuleType("__main__")
    main.__builtins__ = builtins
    if filename not in ("-", "<stdin>", "-c"):
        main.__file__ = filename
    sys.modules["__main__"] = main
    rc = 0
    try:
        code = compile(req["source"], shown, "exec")
        del req, buf, data
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
        if tb is not None and tb.tb_frame.f_code is _sbx_runner.__code__:
            tb = tb.tb_next
        e.__traceback__ = tb
        try:
            if sys.excepthook is sys.__excepthook__:
                # The traceback module reads source lines from linecache.
                import traceback
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
        cpu = int((me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime) * 1e6)
        rss = max(me.ru_maxrss, kids.ru_maxrss)
        os.write(chan, b"D" + struct.pack("<iqq", rc, cpu, rss))
    except OSError:
        pass
    os._exit(rc)


_sbx_runner()
