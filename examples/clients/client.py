#!/usr/bin/env python3
"""Run a Python script in a warm sbx sandbox, through `sbx pool serve`.

    sbx pool serve --socket /tmp/sbx.sock &
    python3 client.py /tmp/sbx.sock [SCRIPT.py]

Python 3 standard library only. The protocol is in docs/protocol.md: one
JSON object per line each way, over a Unix stream socket.
"""
import json
import os
import socket
import sys

HELLO = 'print("Hello from the sandbox")\n'


def call(sock_path, request):
    """Send one request, return the decoded response line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(sock_path)
        s.sendall(json.dumps(request).encode("utf-8") + b"\n")
        line = s.makefile("rb").readline()
    if not line.endswith(b"\n"):
        raise ConnectionError("the daemon closed the connection")
    return json.loads(line)


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: client.py SOCKET [SCRIPT.py]")
    source, name = HELLO, "hello.py"
    if len(sys.argv) == 3:
        with open(sys.argv[2], encoding="utf-8") as f:
            source, name = f.read(), os.path.basename(sys.argv[2])
    request = {"v": 1, "id": 1, "op": "python", "source": source,
               "filename": name, "args": [], "timeout_ms": 10000}
    try:
        resp = call(sys.argv[1], request)
    except (OSError, ValueError) as e:  # no daemon there, or it went away
        print("sbx pool %s: %s" % (sys.argv[1], e), file=sys.stderr)
        sys.exit(125)
    if not resp["ok"]:  # sbx itself failed (bad request, no sandbox, ...)
        print("sbx: " + resp["error"], file=sys.stderr)
        sys.exit(resp.get("code", 125))
    result = resp["result"]  # the same object as `sbx run --json`
    sys.stdout.write(result["stdout"])
    sys.stderr.write(result["stderr"])
    if result["stdout"] and not result["stdout"].endswith("\n"):
        print()
    print("exit_code: %d" % result["exit_code"])
    sys.exit(result["exit_code"])


if __name__ == "__main__":
    main()
