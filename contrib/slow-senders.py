#!/usr/bin/env python3
"""Slow senders against a running `provhook serve`: the memory they hold, and whether the body timeout ends them.

Opens --connections connections to the webhook listener; each sends a webhook's head announcing a body of
--body-bytes, then one body byte every --interval seconds, never the whole body. Reads the server's resident set size
(VmRSS in /proc/PID/status) before, while all the connections are held (the peak over --hold seconds), and once the
server has closed them (or --wait seconds have passed). Prints one JSON object; exits 1 when a connection is still
open at the end. Used by contrib/slow-senders.sh, which starts provhook for it.
"""
import argparse
import json
import socket
import time


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def is_open(sock):
    """Whether the server has not closed the connection: a read that would block means open."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True, help="the webhook listener's port on 127.0.0.1")
    parser.add_argument("--pid", type=int, required=True, help="provhook serve's process id")
    parser.add_argument("--tenant", default="pbx", help="the tenant the requests name")
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--body-bytes", type=int, default=1000, help="the body length each head announces")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between two body bytes")
    parser.add_argument("--hold", type=float, default=20.0, help="seconds the RSS is sampled while all are held")
    parser.add_argument("--wait", type=float, default=90.0, help="the longest wait for the server to close them")
    args = parser.parse_args()

    head = (
        f"POST /v1/tenants/{args.tenant}/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"webhook-id: msg_slow\r\nwebhook-timestamp: {int(time.time())}\r\nwebhook-signature: v1,AAAA\r\n"
        f"Content-Length: {args.body_bytes}\r\n\r\n{{"
    ).encode()

    time.sleep(1)
    before = rss_mib(args.pid)
    started = time.monotonic()
    socks = []
    for _ in range(args.connections):
        sock = socket.create_connection(("127.0.0.1", args.port))
        sock.sendall(head)
        sock.setblocking(False)
        socks.append(sock)
    opened = time.monotonic()

    def trickle():
        for sock in socks:
            try:
                sock.send(b" ")
            except OSError:
                pass

    # Held: one byte on each every `interval` s, far more often than the 60 s idle time.
    held_peak = rss_mib(args.pid)
    next_byte = time.monotonic() + args.interval
    while time.monotonic() - opened < args.hold:
        if time.monotonic() >= next_byte:
            trickle()
            next_byte += args.interval
        held_peak = max(held_peak, rss_mib(args.pid))
        time.sleep(0.25)
    open_after_hold = sum(is_open(sock) for sock in socks)

    # Trickling on until the server has closed every one, or `wait` has passed.
    while time.monotonic() - started < args.wait and any(is_open(sock) for sock in socks):
        if time.monotonic() >= next_byte:
            trickle()
            next_byte += args.interval
        time.sleep(0.25)
    still_open = sum(is_open(sock) for sock in socks)
    all_closed_after = time.monotonic() - started
    time.sleep(2)
    after = rss_mib(args.pid)
    for sock in socks:
        sock.close()

    print(json.dumps({
        "connections": args.connections,
        "seconds_to_open_all": round(opened - started, 2),
        "rss_before_mib": round(before, 1),
        "rss_held_peak_mib": round(held_peak, 1),
        "held_kib_per_connection": round((held_peak - before) * 1024 / args.connections, 1),
        "open_after_hold": open_after_hold,
        "still_open_at_end": still_open,
        "seconds_until_all_closed": round(all_closed_after, 1) if still_open == 0 else None,
        "rss_after_close_mib": round(after, 1),
    }))
    return 1 if still_open else 0


if __name__ == "__main__":
    raise SystemExit(main())
