"""Interop client for internal/websocket's TestInterop: drives a Go echo server with
the `websockets` library and exits non-zero on the first mismatch."""

import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

URL = sys.argv[1]


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)


async def echo(ws, msg):
    await ws.send(msg)
    got = await ws.recv()
    check(got == msg, "echo of %r... (%d) came back as %r... (%d)" % (msg[:20], len(msg), got[:20], len(got)))


async def exchange(ws):
    await echo(ws, "hello")
    await echo(ws, "héllo wörld ✓")
    await echo(ws, b"\x00\x01\x02\xff")
    await echo(ws, "")
    await echo(ws, b"")
    await echo(ws, "x" * 200)
    big = ("lorem ipsum dolor sit amet " * 40000)[:1 << 20]
    await echo(ws, big)
    await echo(ws, big.encode())
    await echo(ws, bytes(range(256)) * 300)  # 76 KiB, over the 64-bit length threshold
    await ws.send(["frag", "men", "ted"])
    check(await ws.recv() == "fragmented", "fragmented text")
    await ws.send([b"ab", b"cd"])
    check(await ws.recv() == b"abcd", "fragmented binary")
    pong = await ws.ping(b"ping!")
    await asyncio.wait_for(pong, 5)
    for i in range(50):  # context takeover over many messages
        await echo(ws, "message number %d, repeated content repeated content" % i)


def ext_header(ws):
    return ws.response.headers.get("Sec-WebSocket-Extensions")


async def main():
    async with connect(URL, subprotocols=["superchat", "chat"], max_size=None) as ws:
        check(ws.subprotocol == "superchat", "subprotocol %r" % ws.subprotocol)
        check(ext_header(ws) == "permessage-deflate", "extensions %r" % ext_header(ws))
        await exchange(ws)
        await ws.close(4000, "bye")
        check(ws.close_code == 4000 and ws.close_reason == "bye", "close echo %r %r" % (ws.close_code, ws.close_reason))

    nocontext = ClientPerMessageDeflateFactory(server_no_context_takeover=True, client_no_context_takeover=True)
    async with connect(URL, extensions=[nocontext], compression=None, max_size=None) as ws:
        h = ext_header(ws)
        check(h == "permessage-deflate; server_no_context_takeover; client_no_context_takeover", "extensions %r" % h)
        await exchange(ws)

    bits15 = ClientPerMessageDeflateFactory(server_max_window_bits=15, client_max_window_bits=12)
    async with connect(URL, extensions=[bits15], compression=None, max_size=None) as ws:
        h = ext_header(ws)
        check(h == "permessage-deflate; server_max_window_bits=15", "extensions %r" % h)
        await exchange(ws)

    small = ClientPerMessageDeflateFactory(server_max_window_bits=10)
    async with connect(URL, extensions=[small], compression=None, max_size=None) as ws:
        check(ext_header(ws) is None, "server window 10 must be declined, got %r" % ext_header(ws))
        await exchange(ws)

    async with connect(URL, compression=None, max_size=None) as ws:
        check(ext_header(ws) is None, "no offer, got %r" % ext_header(ws))
        await exchange(ws)

    async with connect(URL, compression=None, max_size=None) as ws:
        try:
            await ws.send(b"z" * (3 << 20))  # over the server's 2 MiB limit
            await asyncio.wait_for(ws.recv(), 5)
            raise SystemExit("FAIL: oversized message was echoed")
        except ConnectionClosed as e:
            check(e.rcvd is not None and e.rcvd.code == 1009, "oversized: close %r" % e.rcvd)
    print("ok")


asyncio.run(main())
