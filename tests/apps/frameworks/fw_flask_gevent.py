"""Flask app for -k gevent: the contract of _contract.py over WSGI (no WebSocket), plus
/sleep?s=S, which blocks in time.sleep (cooperative only when gevent patched it)."""
import json
import time

from flask import Flask, Response, request

import _contract

app = Flask(__name__)


@app.route("/health")
def health():
    return Response("ok", mimetype="text/plain")


@app.route("/scope")
def scope():
    environ = {k: v for k, v in request.environ.items() if isinstance(v, (str, int, bool, tuple))}
    return Response(json.dumps(_contract.jsonable(environ)), mimetype="application/json")


@app.route("/echo", methods=["POST"])
def echo():
    stream = request.environ["wsgi.input"]

    def body():
        while True:
            chunk = stream.read(8192)
            if not chunk:
                return
            yield chunk

    return Response(body(), mimetype="application/octet-stream")


@app.route("/sse")
def sse():
    n = int(request.args.get("n", "5"))
    return Response(iter(_contract.sse_events(n)), mimetype="text/event-stream")


@app.route("/sleep")
def sleep():
    time.sleep(float(request.args.get("s", "1")))
    return Response("slept", mimetype="text/plain")


@app.route("/patched")
def patched():
    import socket
    import threading
    return {"socket": socket.socket.__module__, "threading_sleep": time.sleep.__module__,
            "thread": threading.Thread.__module__}
