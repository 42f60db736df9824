"""Microbenchmark of the asgi worker: hello-world ASGI over a socketpair (no tests here).

    PYTHONPATH=runtime/python python3 runtime/python/tests/test_asgi_bench.py [N] [--uvloop]

Like bench_sync.py: a forked driver plays Go and keeps WINDOW requests in flight; the
worker runs in this process. Prints requests/s and µs of worker CPU per request, for
the asgi worker and, to compare, the sync worker with the same hello-world in WSGI.
"""

import marshal
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gonicorn_runtime import _log, _server, _wire  # noqa: E402
from tests.test_asgi_support import head as asgi_head  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 20000
WINDOW = 16


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"13")]})
    await send({"type": "http.response.body", "body": b"Hello, World!"})


def request_frame(stream):
    head = asgi_head({
        "type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
        "path": "/", "raw_path": b"/", "query_string": b"", "root_path": "",
        "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"),
                    (b"accept", b"*/*")],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000)})
    return _wire.encode_frame(_wire.REQUEST, _wire.FLAG_END, stream,
                              struct.pack("<I", len(head)) + head)


def driver(sock):
    from gonicorn_runtime._asgi import FrameReader
    frames = [request_frame(i + 1) for i in range(N)]
    reader = FrameReader()
    sent = done = 0
    sock.sendall(b"".join(frames[:WINDOW]))
    sent = min(WINDOW, N)
    while done < N:
        data = sock.recv(262144)
        if not data:
            break
        reader.feed(data)
        batch = []
        for typ, flags, stream, payload in reader:
            if typ == _wire.RESPONSE and flags & _wire.FLAG_END:
                done += 1
                if sent < N:
                    batch.append(frames[sent])
                    sent += 1
        if batch:
            sock.sendall(b"".join(batch))
    sock.close()
    os._exit(0)


def main():
    from gonicorn_runtime._asgi import ASGIWorker
    go, w = socket.socketpair()
    loop = "uvloop" if "--uvloop" in sys.argv else "asyncio"
    cfg = _server.Config({"errorlog": "-", "workers": 1, "asgi_lifespan": "off",
                          "asgi_loop": loop})
    log = _log.Logger(cfg)
    application = _server.Application(cfg, "bench:app")
    application.callable = app
    worker = ASGIWorker(1, os.getpid(), w, application, 15, cfg, log)
    worker.load_wsgi()
    worker.prepare()
    pid = os.fork()
    if pid == 0:
        w.close()
        driver(go)
    go.close()
    t0 = time.perf_counter()
    c0 = time.process_time()
    worker.run()  # ends at EOF: the driver closes after the last response
    cpu = time.process_time() - c0
    wall = time.perf_counter() - t0
    os.waitpid(pid, 0)
    print("asgi worker (%s), hello world, N=%d: %.0f req/s wall, %.2f us/request CPU "
          "in the worker" % (loop, N, N / wall, cpu / N * 1e6))


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        cProfile.run("main()", sort="tottime")
    else:
        main()
