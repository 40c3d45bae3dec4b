"""Demo for sbx: run with
    sbx run --workspace examples:ro -- python3 /workspace/hello.py
Prints a few facts about the sandbox it runs in (standard library only)."""
import os
import platform
import socket


def workspace_writable(path="/workspace"):
    """Try to create a file: os.access() ignores read-only mounts for root."""
    try:
        fd = os.open(os.path.join(path, ".sbx-write-test"),
                     os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except OSError:
        return False
    os.close(fd)
    os.unlink(os.path.join(path, ".sbx-write-test"))
    return True


print("Hello from inside the sandbox!")
print("python   :", platform.python_version())
print("hostname :", socket.gethostname())
print("pid      :", os.getpid())
print("uid      :", os.getuid())
print("/workspace writable:", "yes" if workspace_writable() else "no")
