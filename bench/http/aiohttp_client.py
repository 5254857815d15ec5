#!/usr/bin/python3
"""aiohttp's ClientSession as a load client: the peer of bench/http/client_load.cpp.

N GET requests, C at a time over one session (TCPConnector(limit=C), kept alive), then the same
RESULT lines as client_load: requests/s, the client's own CPU per request, p99 latency.

  aiohttp_client.py URL REQUESTS CONCURRENCY [--uvloop]
"""
import asyncio
import resource
import sys
import time

import aiohttp


def cpu_seconds():
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


async def main(url, requests, concurrency):
    lat = []
    errors = 0
    started = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker():
            nonlocal errors, started
            while started < requests:
                started += 1
                t0 = time.perf_counter()
                try:
                    async with session.get(url) as r:
                        await r.read()
                        if r.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                lat.append(time.perf_counter() - t0)

        cpu0, t0 = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        secs, cpu = time.perf_counter() - t0, cpu_seconds() - cpu0
    lat.sort()
    p99 = lat[int(0.99 * (len(lat) - 1))] * 1e6 if lat else 0
    print(f"aiohttp_client: {requests} requests in {secs:.2f} s, {errors} errors")
    print(f"RESULT client_rps {requests / secs:.0f} req/s")
    print(f"RESULT client_cpu_per_req {cpu * 1e6 / requests:.2f} us/req")
    print(f"RESULT client_p99 {p99:.0f} us")
    return 1 if errors else 0


if __name__ == "__main__":
    url, n, c = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    if "--uvloop" in sys.argv:
        import uvloop
        uvloop.install()
    sys.exit(asyncio.run(main(url, n, c)))
