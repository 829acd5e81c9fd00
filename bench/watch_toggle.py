# SPDX-License-Identifier: Apache-2.0
# A container for bench/bench_watch.sh: listens on 127.0.0.1:PORT; SIGUSR1 closes the listener
# and writes the CLOCK_MONOTONIC time of the close (ns) to FILE (atomically), SIGUSR2 listens
# again. Its pid goes to FILE.pid. Run by /usr/bin/python3 (stdlib only).
import os
import select
import signal
import socket
import sys
import time

port, out = int(sys.argv[1]), sys.argv[2]
ls = None
want = {"close": False, "open": False}


def put(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def listen():
    global ls
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(128)


signal.signal(signal.SIGUSR1, lambda *_: want.__setitem__("close", True))
signal.signal(signal.SIGUSR2, lambda *_: want.__setitem__("open", True))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
listen()
put(out + ".pid", str(os.getpid()))
while True:
    if want["close"]:
        want["close"] = False
        if ls:
            ls.close()
            ls = None
            put(out, str(time.clock_gettime_ns(time.CLOCK_MONOTONIC)))
    if want["open"]:
        want["open"] = False
        if not ls:
            listen()
    try:
        r, _, _ = select.select([ls] if ls else [], [], [], 1.0)
    except InterruptedError:
        continue
    if ls and r:
        try:
            c, _ = ls.accept()
            c.close()
        except OSError:
            pass
