#!/usr/bin/python3
"""HTTP benchmark peer for eddy's examples/hello_server: the same two routes on aiohttp.

  aiohttp_hello.py --port N [--uvloop]   GET / or /plaintext: "Hello, World!" (text/plain)
                                         GET /json: {"message":"Hello, World!"}

One process, one event loop (asyncio's, or uvloop's with --uvloop), access log off: the
setup of aiohttp's TechEmpower entry minus its worker processes.
"""
import argparse
import asyncio
import json

from aiohttp import web


async def plaintext(request):
    return web.Response(text="Hello, World!")


async def json_route(request):
    # json.dumps per request, as aiohttp's json_response would do (and TechEmpower asks for).
    return web.Response(text=json.dumps({"message": "Hello, World!"}, separators=(",", ":")),
                        content_type="application/json")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--uvloop", action="store_true", help="run on uvloop's event loop")
    args = ap.parse_args()
    if args.uvloop:
        import uvloop
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = web.Application()
    app.router.add_get("/", plaintext)
    app.router.add_get("/plaintext", plaintext)
    app.router.add_get("/json", json_route)
    # run_app handles SIGTERM/SIGINT with a clean shutdown; print= is its banner.
    web.run_app(app, host=args.host, port=args.port, access_log=None,
                print=lambda *_: print(f"listening on {args.host}:{args.port}", flush=True))


if __name__ == "__main__":
    main()
