#!/usr/bin/python3
"""Core-runtime benchmark peer for eddy: the same workloads on asyncio / uvloop.

Prints one `RESULT <workload> <value> <unit>` line per workload, nothing else
on stdout.  Each workload runs in its own fresh event loop.  Must run under
Debian's /usr/bin/python3, which has python3-uvloop.
"""
import argparse
import asyncio
import os
import sys
import time

N_TASKS = 1_000_000
N_SWITCH = 1_000_000
N_SLEEPERS = 100_000
N_ITEMS = 1_000_000
QUEUE_CAP = 1024
N_SEM_OPS = 1_000_000
CONT_TASKS = 1_000
CONT_ITERS = 1_000
SEM_PERMITS = 10
WARMUP_DIV = 100  # warm-up runs N / WARMUP_DIV to fill allocator free lists


async def trivial(i):
    return i


async def spawn_taskgroup(n):
    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for i in range(n):
            tg.create_task(trivial(i))
    return time.perf_counter_ns() - t0


async def spawn_gather(n):
    t0 = time.perf_counter_ns()
    results = await asyncio.gather(*[trivial(i) for i in range(n)])
    dt = time.perf_counter_ns() - t0
    assert len(results) == n
    return dt


async def yield_switch(n):
    t0 = time.perf_counter_ns()
    for _ in range(n):
        await asyncio.sleep(0)
    return time.perf_counter_ns() - t0


async def queue_putget(n):
    q = asyncio.Queue(maxsize=QUEUE_CAP)

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        total = 0
        for _ in range(n):
            total += await q.get()
        return total

    t0 = time.perf_counter_ns()
    _, total = await asyncio.gather(producer(), consumer())
    dt = time.perf_counter_ns() - t0
    assert total == n * (n - 1) // 2
    return dt


async def semaphore(n):
    sem = asyncio.Semaphore(SEM_PERMITS)
    t0 = time.perf_counter_ns()
    for _ in range(n):
        async with sem:
            pass
    return time.perf_counter_ns() - t0


async def semaphore_contended(tasks, iters):
    sem = asyncio.Semaphore(SEM_PERMITS)

    async def worker():
        for _ in range(iters):
            async with sem:
                await asyncio.sleep(0)

    t0 = time.perf_counter_ns()
    async with asyncio.TaskGroup() as tg:
        for _ in range(tasks):
            tg.create_task(worker())
    return time.perf_counter_ns() - t0


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


async def sleep_mem(n):
    started = 0

    async def sleeper():
        nonlocal started
        started += 1
        await asyncio.sleep(3600)

    before = rss_bytes()
    tasks = [asyncio.create_task(sleeper()) for _ in range(n)]
    while started < n:  # one pass normally suffices; loop in case it doesn't
        await asyncio.sleep(0)
    after = rss_bytes()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert all(t.cancelled() for t in tasks)
    return after - before


# name -> (coroutine factory(scale), divisor, unit). scale=1 is the measured
# run, scale=WARMUP_DIV the warm-up.
WORKLOADS = {
    "spawn_taskgroup": (lambda s: spawn_taskgroup(N_TASKS // s), N_TASKS, "ns/task"),
    "spawn_gather": (lambda s: spawn_gather(N_TASKS // s), N_TASKS, "ns/task"),
    "yield_switch": (lambda s: yield_switch(N_SWITCH // s), N_SWITCH, "ns/switch"),
    "sleep_mem": (lambda s: sleep_mem(N_SLEEPERS), N_SLEEPERS, "bytes/task"),
    "queue_putget": (lambda s: queue_putget(N_ITEMS // s), N_ITEMS, "ns/item"),
    "semaphore": (lambda s: semaphore(N_SEM_OPS // s), N_SEM_OPS, "ns/op"),
    "semaphore_contended": (
        lambda s: semaphore_contended(CONT_TASKS // s, CONT_ITERS), CONT_TASKS * CONT_ITERS, "ns/op"),
}


async def run_one(name):
    make, divisor, _ = WORKLOADS[name]
    if name != "sleep_mem":  # a warm-up would only pre-grow the heap being measured
        await make(WARMUP_DIV)
    return await make(1) / divisor


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--loop", choices=("asyncio", "uvloop"), default="asyncio")
    ap.add_argument("--only", choices=tuple(WORKLOADS))
    args = ap.parse_args()

    factory = None
    if args.loop == "uvloop":
        import uvloop  # Python 3.11 asyncio.run has no loop_factory; Runner does
        factory = uvloop.new_event_loop

    for name in [args.only] if args.only else WORKLOADS:
        with asyncio.Runner(loop_factory=factory) as runner:
            value = runner.run(run_one(name))
        print(f"RESULT {name} {value:.1f} {WORKLOADS[name][2]}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
