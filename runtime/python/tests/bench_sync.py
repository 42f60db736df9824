"""Microbenchmark of the sync worker loop: hello-world WSGI over a socketpair.

    PYTHONPATH=runtime/python python3 runtime/python/tests/bench_sync.py [N]

A forked driver plays Go (keeps WINDOW requests in flight, so Python never waits on
it); the worker runs in this process. Prints requests/s and µs per request.
"""

import marshal
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from gonicorn_runtime import _log, _server, _wire  # noqa: E402
from gonicorn_runtime._sync import SyncWorker  # noqa: E402

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
WINDOW = 16


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "13")])
    return [b"Hello, World!"]


def request_frame(stream):
    env = {"REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/", "QUERY_STRING": "",
           "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1", "SERVER_NAME": "127.0.0.1",
           "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
           "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8000",
           "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*", "gonicorn.body": 0}
    head = marshal.dumps(env)
    return _wire.encode_frame(_wire.REQUEST, _wire.FLAG_END, stream,
                              struct.pack("<I", len(head)) + head)


def driver(sock):
    frames = [request_frame(i + 1) for i in range(N)]
    reader = _wire.FrameReader()
    sent = done = 0
    while sent < min(WINDOW, N):
        sock.sendall(frames[sent])
        sent += 1
    while done < N:
        reader.feed(sock.recv(262144))
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
    go, w = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        w.close()
        driver(go)
    go.close()
    cfg = _server.Config({"errorlog": "-", "workers": 1})
    log = _log.Logger(cfg)
    application = _server.Application(cfg, "bench:app")
    application.callable = app
    worker = SyncWorker(1, os.getpid(), w, application, 15, cfg, log)
    worker.load_wsgi()
    worker.prepare()
    t0 = time.perf_counter()
    c0 = time.process_time()
    worker.run()
    cpu = time.process_time() - c0
    wall = time.perf_counter() - t0
    os.waitpid(pid, 0)
    print("sync worker, hello world, N=%d: %.0f req/s wall, %.2f us/request CPU in the worker"
          % (N, N / wall, cpu / N * 1e6))


if __name__ == "__main__":
    if "--profile" in sys.argv:
        import cProfile
        sys.argv.remove("--profile")
        cProfile.run("main()", sort="tottime")
    else:
        main()
