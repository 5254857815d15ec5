// Google Benchmark micro benchmarks of the runtime's hot paths, for tracking regressions
// (the peer comparisons live in core_bench + bench/run_core).
#include <benchmark/benchmark.h>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

namespace {

eddy::Task<int> trivial(int i) {
  co_return i;
}

// Runs `body(state)` inside one eddy::run, so loop setup is outside the timed region.
template <class F>
void in_loop(benchmark::State& state, F body) {
  eddy::run([&]() -> eddy::Task<> { co_await body(state); }());
}

void BM_AwaitTask(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    for (auto _ : s) benchmark::DoNotOptimize(co_await trivial(1));
  });
}
BENCHMARK(BM_AwaitTask);

void BM_SpawnAndJoin(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    for (auto _ : s) benchmark::DoNotOptimize(co_await eddy::spawn(trivial(1)));
  });
}
BENCHMARK(BM_SpawnAndJoin);

void BM_YieldNow(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    for (auto _ : s) co_await eddy::yield_now();
  });
}
BENCHMARK(BM_YieldNow);

// A timeout that never fires: arm and cancel a timer around an await.
void BM_TimeoutNotFiring(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    for (auto _ : s) benchmark::DoNotOptimize(co_await eddy::timeout(30s, trivial(1)));
  });
}
BENCHMARK(BM_TimeoutNotFiring);

void BM_SemaphoreUncontended(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    eddy::Semaphore sem(1);
    for (auto _ : s) {
      auto p = co_await sem.acquire();
      benchmark::DoNotOptimize(p);
    }
  });
}
BENCHMARK(BM_SemaphoreUncontended);

void BM_QueuePutGet(benchmark::State& state) {
  in_loop(state, [](benchmark::State& s) -> eddy::Task<> {
    eddy::Queue<int> q;
    for (auto _ : s) {
      co_await q.put(1);
      benchmark::DoNotOptimize(co_await q.get());
    }
  });
}
BENCHMARK(BM_QueuePutGet);

}  // namespace

BENCHMARK_MAIN();
