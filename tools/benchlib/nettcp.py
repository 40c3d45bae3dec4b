# tools/benchlib/nettcp.py: the TCP sender and sink of tools/bench's net
# section (tools/benchlib/net.sh), run as `python3 -c "$(cat nettcp.py)" ...`
# by the rootfs's python3, on the host (chroot), in the bench's network
# namespace and inside sandboxes.
#
#   sink HOST PORT MAXCONN DEADLINE_S
#       listen on HOST:PORT, print "ready"; then serve one connection after
#       another: read it to EOF, counting the bytes, answer "COUNT\n" and
#       close.  Exits after MAXCONN connections (0: no limit) or DEADLINE_S
#       seconds.  Every read and write has a 60 s deadline.
#   send HOST PORT BYTES
#       connect, send BYTES bytes, shut the write side, read the sink's
#       "COUNT\n"; print "BYTES USEC": the microseconds from just before
#       connect() to the count (the sink has every byte).  Exit 1 if the
#       count differs or anything fails or takes more than 60 s.
import socket
import sys
import time

CHUNK = 1 << 20
IO_TIMEOUT = 60


def sink(host, port, maxconn, deadline):
    end = time.monotonic() + deadline
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(8)
    print("ready", flush=True)
    buf = bytearray(CHUNK)
    served = 0
    while maxconn == 0 or served < maxconn:
        left = end - time.monotonic()
        if left <= 0:
            return 0
        srv.settimeout(left)
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return 0
        served += 1
        with conn:
            conn.settimeout(IO_TIMEOUT)
            count = 0
            try:
                while True:
                    n = conn.recv_into(buf)
                    if n == 0:
                        break
                    count += n
                conn.sendall(b"%d\n" % count)
            except OSError as e:
                print("sink: connection %d: %s" % (served, e), file=sys.stderr, flush=True)
    return 0


def send(host, port, total):
    data = memoryview(bytes(CHUNK))
    t0 = time.perf_counter_ns()
    s = socket.create_connection((host, port), timeout=IO_TIMEOUT)
    with s:
        s.settimeout(IO_TIMEOUT)
        left = total
        while left > 0:
            n = min(left, CHUNK)
            s.sendall(data[:n])
            left -= n
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while not answer.endswith(b"\n") and len(answer) < 32:
            part = s.recv(32)
            if not part:
                break
            answer += part
    t1 = time.perf_counter_ns()
    if answer.strip() != b"%d" % total:
        print("send: the sink counted %r, not %d bytes" % (answer[:32], total), file=sys.stderr)
        return 1
    print("%d %d" % (total, (t1 - t0) // 1000), flush=True)
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[0] == "sink":
            return sink(argv[1], int(argv[2]), int(argv[3]), float(argv[4]))
        if len(argv) == 4 and argv[0] == "send":
            return send(argv[1], int(argv[2]), int(argv[3]))
    except (OSError, ValueError) as e:
        print("nettcp %s: %s" % (argv[0], e), file=sys.stderr)
        return 1
    print("usage: nettcp sink HOST PORT MAXCONN DEADLINE_S | send HOST PORT BYTES", file=sys.stderr)
    return 2


sys.exit(main(sys.argv[1:]))
