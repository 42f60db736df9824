"""Tornado web app implementing the contract of _contract.py; run with -k tornado.

/scope reports the request as tornado sees it (there is no ASGI scope).
"""
import json

import tornado.web
import tornado.websocket

import _contract


class Health(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("ok")


class Scope(tornado.web.RequestHandler):
    def get(self):
        r = self.request
        self.set_header("Content-Type", "application/json")
        self.write(json.dumps({
            "method": r.method, "path": r.path, "query_string": r.query,
            "http_version": r.version.split("/")[-1], "scheme": r.protocol,
            "headers": [[k.lower(), v] for k, v in r.headers.get_all()],
            "client": r.remote_ip, "host": r.host,
        }))


@tornado.web.stream_request_body
class Echo(tornado.web.RequestHandler):
    async def data_received(self, chunk):
        self.write(chunk)
        await self.flush()

    def post(self):
        self.finish()


class Sse(tornado.web.RequestHandler):
    async def get(self):
        n = int(self.get_argument("n", "5"))
        self.set_header("Content-Type", "text/event-stream")
        for event in _contract.sse_events(n):
            self.write(event)
            await self.flush()


class WsEcho(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


app = tornado.web.Application([
    (r"/health", Health),
    (r"/scope", Scope),
    (r"/echo", Echo),
    (r"/sse", Sse),
    (r"/ws/echo", WsEcho),
])
