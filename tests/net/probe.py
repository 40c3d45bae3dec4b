# probe.py: connection and name-resolution attempts, run INSIDE a sandbox by
# the net tests (python3 -c "$(cat probe.py)" ACTION...). One line per
# action, in order:
#   tcp:HOST:PORT    connect (5 s timeout), send an HTTP/1.0 GET, read the
#                    answer (5 s):
#                    "TCP HOST:PORT <outcome> <ms> <body's first line>"
#   dns:NAME         getaddrinfo(NAME, AF_INET, TCP), bounded to 15 s:
#                    "DNS NAME ok <ip,ip...> <ms>" or
#                    "DNS NAME <EAI_x|timeout> - <ms>"
#   udpdns:HOST:PORT:NAME  a DNS query for NAME's A record sent by the
#                    sandbox itself to HOST:PORT over UDP (connected socket,
#                    3 s): "UDPDNS HOST:PORT:NAME ok <ip|NXDOMAIN|rcodeN> <ms>"
#                    or "UDPDNS HOST:PORT:NAME <errno|timeout> - <ms>"
#   bind:udp|tcp:ADDR:PORT  bind a socket there:
#                    "BIND udp|tcp:ADDR:PORT <ok|errno>"
#   junk:HOST:PORT   send malformed DNS messages over UDP (no answer awaited):
#                    "JUNK HOST:PORT sent <n>"
#   sleep:SECONDS    sleep (for tests that act between two probes)
# A tcp HOST in brackets ("tcp:[::ffff:198.51.100.2]:8080") is IPv6.
# <outcome> is "ok" (an HTTP 200 came back), "badresp" (connected, but no
# HTTP 200), "timeout", or the errno's name (ECONNREFUSED, EHOSTUNREACH...).
import errno
import os
import socket
import struct
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
    fam = socket.AF_INET
    if host.startswith("["):
        host, fam = host[1:-1], socket.AF_INET6
    t0 = time.monotonic()
    c = socket.socket(fam, socket.SOCK_STREAM)
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


def dns_query(name, qid):
    q = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", 1, 1)


def udpdns(target):
    host, port, name = target.rsplit(":", 2)
    t0 = time.monotonic()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    qid = int.from_bytes(os.urandom(2), "big")
    try:
        s.connect((host, int(port)))
        s.send(dns_query(name, qid))
        r = s.recv(4096)
        rcode = r[3] & 15 if len(r) >= 12 else -1
        if len(r) < 12 or struct.unpack("!H", r[:2])[0] != qid:
            res = "ok badanswer"
        elif rcode == 3:
            res = "ok NXDOMAIN"
        elif rcode != 0:
            res = "ok rcode%d" % rcode
        elif struct.unpack("!H", r[6:8])[0] >= 1 and len(r) >= 4 and r[-6:-4] == b"\0\4":
            res = "ok " + socket.inet_ntoa(r[-4:])
        else:
            res = "ok noaddr"
    except OSError as e:
        res = errname(e) + " -"
    finally:
        s.close()
    print("UDPDNS %s %s %d" % (target, res, int((time.monotonic() - t0) * 1000)), flush=True)


def bind(target):
    proto, host, port = target.split(":", 2)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM)
    try:
        s.bind((host, int(port)))
        res = "ok"
    except OSError as e:
        res = errname(e)
    finally:
        s.close()
    print("BIND %s %s" % (target, res), flush=True)


def junk(target):
    host, port = target.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    msgs = [
        b"",
        b"\x12",
        b"\x12\x34\x01\x00\x00\x01",  # header cut short
        struct.pack("!6H", 1, 0x8100, 1, 0, 0, 0) + b"\3srv\4test\0\0\1\0\1",  # a response
        struct.pack("!6H", 2, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c\0\1\0\1",  # pointer to itself
        struct.pack("!6H", 3, 0x0100, 1, 0, 0, 0) + b"\x3f" + b"a" * 10,  # label past the end
        struct.pack("!6H", 4, 0x0100, 2, 0, 0, 0) + (b"\3srv\4test\0\0\1\0\1" * 2),  # 2 questions
        struct.pack("!6H", 5, 0x0100, 1, 0, 0, 0) + b"\1a" * 200 + b"\0\0\1\0\1",  # name > 255
        struct.pack("!6H", 6, 0x0100, 1, 0, 0, 0) + b"\3srv\4test\0\0\1\0\1" + b"\0" * 4000,
        os.urandom(512),
        os.urandom(65000),
    ]
    n = 0
    for m in msgs * 3:
        try:
            s.sendto(m, (host, int(port)))
            n += 1
        except OSError:
            pass
    s.close()
    print("JUNK %s sent %d" % (target, n), flush=True)


for arg in sys.argv[1:]:
    kind, _, rest = arg.partition(":")
    if kind == "tcp":
        tcp(rest)
    elif kind == "dns":
        dns(rest)
    elif kind == "udpdns":
        udpdns(rest)
    elif kind == "bind":
        bind(rest)
    elif kind == "junk":
        junk(rest)
    elif kind == "sleep":
        time.sleep(float(rest))
    else:
        print("BADARG %s" % arg, flush=True)
