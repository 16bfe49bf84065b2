#!/usr/bin/env python3
"""A minimal HTTP proxy for the CLI's end-to-end test: it answers CONNECT host:port by opening a
tunnel to it (anything else: 405) and writes each request line to LOG.

  connect_proxy.py PORT LOG      (listens on 127.0.0.1:PORT until killed)
"""
import socket, sys, threading
log = open(sys.argv[2], "a", buffering=1)
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", int(sys.argv[1]))); srv.listen(16)
def pipe(a, b):
    try:
        while (d := a.recv(65536)):
            b.sendall(d)
    except OSError:
        pass
    finally:
        for s in (a, b):
            try: s.shutdown(socket.SHUT_RDWR)
            except OSError: pass
def serve(c):
    head = b""
    while b"\r\n\r\n" not in head:
        d = c.recv(4096)
        if not d: return c.close()
        head += d
    line = head.split(b"\r\n")[0].decode()
    method, target, _ = line.split(" ", 2)
    log.write(line + "\n")
    if method != "CONNECT":
        c.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"); return c.close()
    host, port = target.rsplit(":", 1)
    up = socket.create_connection((host, int(port)))
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    threading.Thread(target=pipe, args=(c, up), daemon=True).start()
    pipe(up, c)
while True:
    c, _ = srv.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
