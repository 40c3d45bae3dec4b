# probe.py: connection and name-resolution attempts, run INSIDE a sandbox by
# the net tests (python3 -c "$(cat probe.py)" ACTION...). One line per
# action, in order:
#   tcp:HOST:PORT    connect (5 s timeout), send an HTTP/1.0 GET, read the
#                    answer (5 s):
#                    "TCP HOST:PORT <outcome> <ms> <body's first line>"
#   dns:NAME         getaddrinfo(NAME, AF_INET, TCP), bounded to 15 s:
#                    "DNS NAME ok <ip,ip...> <ms>" or
#                    "DNS NAME <EAI_x|timeout> - <ms>"
#   sleep:SECONDS    sleep (for tests that act between two probes)
# <outcome> is "ok" (an HTTP 200 came back), "badresp" (connected, but no
# HTTP 200), "timeout", or the errno's name (ECONNREFUSED, EHOSTUNREACH...).
import errno
import socket
import sys
import threading
import time


def errname(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    if e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def tcp(target):
    host, port = target.rsplit(":", 1)
    t0 = time.monotonic()
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.settimeout(5)
    body = "-"
    try:
        c.connect((host, int(port)))
        c.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        got = b""
        while len(got) < 65536:
            b = c.recv(4096)
            if not b:
                break
            got += b
        if got.startswith(b"HTTP/1.0 200") or got.startswith(b"HTTP/1.1 200"):
            outcome = "ok"
            parts = got.split(b"\r\n\r\n", 1)
            if len(parts) == 2 and parts[1].strip():
                body = parts[1].decode("ascii", "replace").splitlines()[0]
        else:
            outcome = "badresp"
    except OSError as e:
        outcome = errname(e)
    finally:
        c.close()
    ms = int((time.monotonic() - t0) * 1000)
    print("TCP %s %s %d %s" % (target, outcome, ms, body), flush=True)


def dns(name):
    res = {}

    def work():
        try:
            infos = socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)
            res["ok"] = sorted(set(i[4][0] for i in infos))
        except socket.gaierror as e:
            res["err"] = {getattr(socket, n): n for n in dir(socket) if n.startswith("EAI_")}.get(e.errno, "EAI_%s" % e.errno)
        except OSError as e:
            res["err"] = errname(e)

    t0 = time.monotonic()
    th = threading.Thread(target=work, daemon=True)
    th.start()
    th.join(15)
    ms = int((time.monotonic() - t0) * 1000)
    if "ok" in res:
        print("DNS %s ok %s %d" % (name, ",".join(res["ok"]), ms), flush=True)
    else:
        print("DNS %s %s - %d" % (name, res.get("err", "timeout"), ms), flush=True)


for arg in sys.argv[1:]:
    kind, _, rest = arg.partition(":")
    if kind == "tcp":
        tcp(rest)
    elif kind == "dns":
        dns(rest)
    elif kind == "sleep":
        time.sleep(float(rest))
    else:
        print("BADARG %s" % arg, flush=True)
