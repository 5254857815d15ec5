#!/usr/bin/python3
"""Echo / bulk benchmark peer for eddy's examples/echo_server: asyncio streams.

    asyncio_echo.py --port N [--sink] [--uvloop]

Echo mode writes back whatever arrives (read(65536) / write / drain, the streams
idiom); sink mode reads each connection until EOF and counts the bytes.  Prints
"listening on 127.0.0.1:N (echo|sink)" when ready and exits on SIGTERM/SIGINT.
asyncio and uvloop both set TCP_NODELAY on every TCP transport themselves.
Must run under Debian's /usr/bin/python3, which has python3-uvloop.
"""
import argparse
import asyncio
import signal
import sys

sunk = 0


async def echo(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()  # backpressure, as eddy's handler does
    except ConnectionError:
        pass
    finally:
        writer.close()


async def sink(reader, writer):
    global sunk
    try:
        # 256 KiB like the other sinks; the transport itself reads at most 256 KiB a time.
        while data := await reader.read(256 * 1024):
            sunk += len(data)
    except ConnectionError:
        pass
    finally:
        writer.close()  # our close is what tells bulk_send the transfer is complete


async def serve(port, sink_mode):
    server = await asyncio.start_server(sink if sink_mode else echo, "127.0.0.1", port)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening on 127.0.0.1:{bound} ({'sink' if sink_mode else 'echo'})", flush=True)
    await stop.wait()
    server.close()
    if sink_mode:
        print(f"received {sunk} bytes", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--sink", action="store_true")
    ap.add_argument("--uvloop", action="store_true")
    args = ap.parse_args()
    factory = None
    if args.uvloop:
        import uvloop  # Python 3.11 asyncio.run has no loop_factory; Runner does
        factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(serve(args.port, args.sink))


if __name__ == "__main__":
    sys.exit(main())
