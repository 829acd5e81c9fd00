# SPDX-License-Identifier: Apache-2.0
# bench/bench_watch.sh's timer: watches pod NAME through SOCK (podprobe run's api.sock) and,
# TRIALS times, closes the pod's listener (SIGUSR1 to bench/watch_toggle.py), waits for the
# MODIFIED event whose condition podprobe.io/ready is False, and records the time from the
# close (the toggle's CLOCK_MONOTONIC stamp) to reading that event; then SIGUSR2 and waits for
# True again. Prints one "bench=watch_gate ..." line with p50/p90/p99/max in ms.
import json
import os
import signal
import socket
import sys
import time

sock_path, name, closed_file, trials = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
s.sendall(
    (
        "GET /api/v1/namespaces/default/pods?watch=true&timeoutSeconds=3600&"
        "fieldSelector=metadata.name%%3D%s HTTP/1.1\r\nHost: x\r\n\r\n" % name
    ).encode()
)
buf = b""
head_done = False
lines = []


def fill():
    """Read more of the chunked body; append complete JSON lines to <lines>."""
    global buf, head_done
    data = s.recv(65536)
    if not data:
        raise SystemExit("bench=watch_gate error=stream_closed")
    buf += data
    if not head_done:
        i = buf.find(b"\r\n\r\n")
        if i < 0:
            return
        buf = buf[i + 4 :]
        head_done = True
    body = b""
    while True:
        i = buf.find(b"\r\n")
        if i < 0:
            break
        size = int(buf[:i].split(b";")[0], 16)
        if len(buf) < i + 2 + size + 2:
            break
        body += buf[i + 2 : i + 2 + size]
        buf = buf[i + 2 + size + 2 :]
    fill.rest += body
    while b"\n" in fill.rest:
        line, fill.rest = fill.rest.split(b"\n", 1)
        if line.strip():
            lines.append(json.loads(line))


fill.rest = b""


def gate_of(ev):
    for c in ev.get("object", {}).get("status", {}).get("conditions", []):
        if c.get("type") == "podprobe.io/ready":
            return c.get("status")
    return None


def wait_gate(want, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        while lines:
            ev = lines.pop(0)
            if gate_of(ev) == want:
                return time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        fill()
    raise SystemExit("bench=watch_gate error=timeout_waiting_for_%s" % want)


pid = int(open(closed_file + ".pid").read())
wait_gate("True", 60)
lat = []
for i in range(trials):
    try:
        os.unlink(closed_file)
    except FileNotFoundError:
        pass
    os.kill(pid, signal.SIGUSR1)
    t1 = wait_gate("False", 30)
    # The gate can turn False before the toggle has written down when it closed.
    for _ in range(5000):
        if os.path.exists(closed_file):
            break
        time.sleep(0.001)
    t0 = int(open(closed_file).read())
    lat.append((t1 - t0) / 1e6)
    os.kill(pid, signal.SIGUSR2)
    wait_gate("True", 30)
lat.sort()


def pct(p):
    return lat[min(len(lat) - 1, int(p * len(lat)))]


print(
    "bench=watch_gate trials=%d p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f"
    % (len(lat), pct(0.5), pct(0.9), pct(0.99), lat[-1])
)
