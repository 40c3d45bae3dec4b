# netsrv.py: a tiny TCP responder for the net tests (pure python3). Runs on
# the host, inside network namespaces the tests create, or inside a
# sandbox (published ports).
#
#   python3 netsrv.py [--lifetime SECONDS] [--tag TEXT] ADDR:PORT...
#
# Listens on every ADDR:PORT (PORT 0: a free one) and prints
# "LISTEN <addr> <port>" for each, then "READY". For each connection it
# prints "ACCEPT <addr>:<port> <peer-addr>" (flushed), reads what the
# client sends for up to 2 s (until a blank line, i.e. the end of an HTTP
# request's head, or 4 KiB or EOF) and answers with an HTTP/1.0 200 whose
# body is the line "sbxt <addr>:<port>", then closes. Exits after
# --lifetime seconds (default 300) so it never outlives a killed test.
# --tag is ignored (it marks the command line).
import selectors
import socket
import sys
import threading
import time


def serve(conn, where):
    try:
        conn.settimeout(2)
        got = b""
        try:
            while len(got) < 4096 and b"\r\n\r\n" not in got and b"\n\n" not in got:
                b = conn.recv(4096)
                if not b:
                    break
                got += b
        except OSError:
            pass
        body = ("sbxt %s\n" % where).encode()
        head = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
        conn.sendall(head.encode() + body)
    except OSError:
        pass
    finally:
        conn.close()


def main():
    lifetime = 300.0
    specs = []
    argv = sys.argv[1:]
    i = 0
    while i < len(argv):
        if argv[i] in ("--lifetime", "--tag"):
            if i + 1 >= len(argv):
                sys.exit("netsrv: %s needs a value" % argv[i])
            if argv[i] == "--lifetime":
                lifetime = float(argv[i + 1])
            i += 2
            continue
        host, port = argv[i].rsplit(":", 1)
        specs.append((host, int(port)))
        i += 1
    if not specs:
        sys.exit("netsrv: no ADDR:PORT given")
    sel = selectors.DefaultSelector()
    for host, port in specs:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        s.listen(64)
        s.setblocking(False)
        where = "%s:%d" % (host, s.getsockname()[1])
        sel.register(s, selectors.EVENT_READ, where)
        print("LISTEN %s %d" % (host, s.getsockname()[1]), flush=True)
    print("READY", flush=True)
    end = time.monotonic() + lifetime
    while True:
        left = end - time.monotonic()
        if left <= 0:
            break
        for key, _ in sel.select(min(left, 1.0)):
            try:
                conn, peer = key.fileobj.accept()
            except OSError:
                continue
            print("ACCEPT %s %s" % (key.data, peer[0]), flush=True)
            threading.Thread(target=serve, args=(conn, key.data), daemon=True).start()


if __name__ == "__main__":
    main()
