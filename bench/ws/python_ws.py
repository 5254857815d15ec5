#!/usr/bin/python3
"""WebSocket benchmark peers in Python: aiohttp and websockets, as echo servers or load clients.

  python_ws.py server aiohttp|websockets PORT [--uvloop]
      echo at ws://127.0.0.1:PORT/ws, no compression
  python_ws.py client aiohttp|websockets URL CONNECTIONS MESSAGES [--uvloop]
      ping-pong MESSAGES 16-byte texts in all over CONNECTIONS connections; prints the RESULT
      lines of bench/ws/ws_load.cpp
"""
import asyncio
import resource
import sys
import time


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def aiohttp_server(port):
    from aiohttp import web, WSMsgType

    async def echo(request):
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
            elif msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
        return ws

    app = web.Application()
    app.add_routes([web.get("/ws", echo)])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    await asyncio.Future()


async def websockets_server(port):
    import websockets

    async def echo(ws, *args):
        async for msg in ws:
            await ws.send(msg)

    async with websockets.serve(echo, "127.0.0.1", port, compression=None, max_queue=None):
        await asyncio.Future()


async def client(kind, url, connections, messages):
    lat = []
    remaining = messages
    errors = 0
    msg = "x" * 16

    async def one_aiohttp(session):
        nonlocal remaining, errors
        async with session.ws_connect(url, compress=0) as ws:
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                await ws.send_str(msg)
                r = await ws.receive()
                if r.data != msg:
                    errors += 1
                    return
                lat.append(time.perf_counter() - t0)

    async def one_websockets():
        nonlocal remaining, errors
        import websockets
        async with websockets.connect(url, compression=None) as ws:
            while remaining > 0:
                remaining -= 1
                t0 = time.perf_counter()
                await ws.send(msg)
                if await ws.recv() != msg:
                    errors += 1
                    return
                lat.append(time.perf_counter() - t0)

    cpu0, t0 = cpu_seconds(), time.perf_counter()
    if kind == "aiohttp":
        import aiohttp
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            await asyncio.gather(*(one_aiohttp(session) for _ in range(connections)))
    else:
        await asyncio.gather(*(one_websockets() for _ in range(connections)))
    secs, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    lat.sort()
    p99 = lat[int(0.99 * (len(lat) - 1))] * 1e6 if lat else 0
    print(f"python_ws {kind} client: {len(lat)} messages in {secs:.2f} s, {errors} errors")
    print(f"RESULT msgs_per_s {len(lat) / secs:.0f}")
    print(f"RESULT p99_us {p99:.0f}")
    print(f"RESULT client_cpu_per_msg_us {cpu * 1e6 / max(len(lat), 1):.2f}")
    return 1 if errors else 0


def main():
    args = [a for a in sys.argv[1:] if a != "--uvloop"]
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    if args[0] == "server":
        coro = aiohttp_server(int(args[2])) if args[1] == "aiohttp" else websockets_server(int(args[2]))
        try:
            asyncio.run(coro)
        except KeyboardInterrupt:
            pass
        return 0
    return asyncio.run(client(args[1], args[2], int(args[3]), int(args[4])))


if __name__ == "__main__":
    sys.exit(main())
