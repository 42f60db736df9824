"""WebSocket echo tornado app for `bench/run --ws` (-k tornado): a WebSocket on any path
but / (the client uses /ws) gets every message back; GET / answers like asgi_hello for the
readiness check. tornado speaks RFC 6455 itself, so under gonicorn this measures the byte
tunnel (docs/protocol.md "Tunnels")."""

import tornado.web
import tornado.websocket

BODY = b"Hello, World!"


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write(BODY)


class Echo(tornado.websocket.WebSocketHandler):
    def on_message(self, message):
        self.write_message(message, binary=isinstance(message, bytes))


app = tornado.web.Application([
    (r"/", Hello),
    (r"/.+", Echo),
])
