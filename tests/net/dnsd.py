# dnsd.py: a minimal authoritative UDP DNS server for the net tests (pure
# python3, no third-party modules). Runs on the host only, started by
# tests/integration/t_net.sh with the rootfs's python3.
#
#   python3 dnsd.py [--listen ADDR:PORT] [--ttl N] [--lifetime SECONDS]
#                   [--tag TEXT] NAME=IPV4...
#
# Answers A queries for the NAMEs of the table (case-insensitive, a trailing
# dot ignored) with their address; other types of a known name get an empty
# NOERROR answer (NODATA); unknown names get NXDOMAIN; anything that is not
# a standard query with one question gets FORMERR (or is dropped if even the
# header is short). Prints "READY <port>" once listening, then one line
# "QUERY <name> <type>" per query received (flushed), so a test can see
# which names reached it. Exits after --lifetime seconds (default 300) so it
# never outlives a killed test. --tag is ignored (it marks the command line).
import socket
import struct
import sys
import time

QTYPES = {1: "A", 28: "AAAA", 5: "CNAME", 15: "MX", 16: "TXT", 33: "SRV", 65: "HTTPS", 255: "ANY"}


def parse_args(argv):
    listen = ("127.0.0.1", 0)
    ttl = 60
    lifetime = 300.0
    table = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--listen", "--ttl", "--lifetime", "--tag"):
            if i + 1 >= len(argv):
                sys.exit("dnsd: %s needs a value" % a)
            v = argv[i + 1]
            if a == "--listen":
                host, port = v.rsplit(":", 1)
                listen = (host, int(port))
            elif a == "--ttl":
                ttl = int(v)
            elif a == "--lifetime":
                lifetime = float(v)
            i += 2
            continue
        if "=" not in a:
            sys.exit("dnsd: bad entry %r (want NAME=IPV4)" % a)
        name, ip = a.split("=", 1)
        table[name.lower().rstrip(".")] = socket.inet_aton(ip)
        i += 1
    return listen, ttl, lifetime, table


def read_name(msg, off):
    """The question's name (no compression in a question); (name, next offset)."""
    labels = []
    total = 0
    while True:
        if off >= len(msg):
            raise ValueError("short name")
        n = msg[off]
        off += 1
        if n == 0:
            break
        if n & 0xC0:
            raise ValueError("compressed or reserved label in a question")
        if off + n > len(msg):
            raise ValueError("short label")
        total += n + 1
        if total > 255:
            raise ValueError("name too long")
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), off


def answer(msg, ttl, table, log):
    if len(msg) < 12:
        return None
    qid, flags, qd, an, ns, ar = struct.unpack("!6H", msg[:12])
    if flags & 0x8000:
        return None  # a response: never answer those
    rd = flags & 0x0100
    opcode = flags & 0x7800

    def reply(rcode, question=b"", answers=b"", n_an=0):
        qd_out = 1 if question else 0
        hdr = struct.pack("!6H", qid, 0x8000 | opcode | 0x0400 | rd | rcode, qd_out, n_an, 0, 0)
        return hdr + question + answers

    if opcode != 0 or qd != 1 or an != 0 or ns != 0:
        return reply(1)
    try:
        name, off = read_name(msg, 12)
    except ValueError:
        return reply(1)
    if off + 4 > len(msg):
        return reply(1)
    qtype, qclass = struct.unpack("!HH", msg[off:off + 4])
    question = msg[12:off + 4]
    key = name.lower().rstrip(".")
    log.write("QUERY %s %s\n" % (key, QTYPES.get(qtype, str(qtype))))
    log.flush()
    if key not in table:
        return reply(3, question)
    if qtype == 1 and qclass == 1:
        rr = struct.pack("!HHHIH", 0xC00C, 1, 1, ttl, 4) + table[key]
        return reply(0, question, rr, 1)
    return reply(0, question)


def main():
    listen, ttl, lifetime, table = parse_args(sys.argv[1:])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(listen)
    print("READY %d" % s.getsockname()[1], flush=True)
    end = time.monotonic() + lifetime
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(min(left, 1.0))
        try:
            msg, peer = s.recvfrom(4096)
        except socket.timeout:
            continue
        out = answer(msg, ttl, table, sys.stdout)
        if out is not None:
            s.sendto(out, peer)


if __name__ == "__main__":
    main()
