// eddy's side of the core-runtime comparison (bench/run_core runs it beside the asyncio,
// uvloop and Boost.Asio peers, which implement the very same workloads).
//
// Prints `RESULT <workload> <value> <unit>` lines; `--only <workload>` runs one. Each
// workload runs inside a fresh eddy::run, timed from inside the main task, after a warm-up
// at N/100 (as the peers do), except the memory workloads, which must start cold.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTasks = 1'000'000;
constexpr int kSwitches = 1'000'000;
constexpr int kSleepers = 100'000;
constexpr int kMillion = 1'000'000;
constexpr int kItems = 1'000'000;
constexpr std::size_t kQueueCap = 1024;
constexpr int kSemOps = 1'000'000;
constexpr int kContTasks = 1'000;
constexpr int kContIters = 1'000;
constexpr int kWarmupDiv = 100;

double since_ns(Clock::time_point t0) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

long rss_bytes() {
  std::ifstream f("/proc/self/statm");
  long size = 0, resident = 0;
  f >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

eddy::Task<int> trivial(int i) {
  co_return i;
}

eddy::Task<double> spawn_taskgroup(int n) {
  auto t0 = Clock::now();
  co_await eddy::task_group([n](eddy::TaskGroup& tg) -> eddy::Task<> {
    for (int i = 0; i < n; ++i) tg.spawn(trivial(i));
    co_return;
  });
  co_return since_ns(t0);
}

eddy::Task<double> spawn_gather(int n) {
  auto t0 = Clock::now();
  std::vector<eddy::Task<int>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(trivial(i));
  auto results = co_await eddy::gather(std::move(tasks));
  double dt = since_ns(t0);
  if (results.size() != static_cast<std::size_t>(n)) std::abort();
  co_return dt;
}

eddy::Task<double> yield_switch(int n) {
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) co_await eddy::yield_now();
  co_return since_ns(t0);
}

eddy::Task<> sleeper(int& started) {
  ++started;
  co_await eddy::sleep(1h);
}

// RSS growth while n tasks sleep, including the vector of handles (as the peers keep a list).
eddy::Task<double> sleep_mem(int n) {
  int started = 0;
  long before = rss_bytes();
  std::vector<eddy::TaskHandle<>> tasks;
  tasks.reserve(n);
  for (int i = 0; i < n; ++i) tasks.push_back(eddy::spawn(sleeper(started)));
  while (started < n) co_await eddy::yield_now();
  long after = rss_bytes();
  for (auto& t : tasks) t.cancel();
  for (auto& t : tasks) {
    try {
      co_await t;
    } catch (const eddy::TaskCancelled&) {
    }
  }
  co_return static_cast<double>(after - before);
}

eddy::Task<double> queue_putget(int n) {
  eddy::Queue<int> q(kQueueCap);
  auto producer = [&]() -> eddy::Task<> {
    for (int i = 0; i < n; ++i) co_await q.put(i);
  };
  auto consumer = [&]() -> eddy::Task<long> {
    long total = 0;
    for (int i = 0; i < n; ++i) total += co_await q.get();
    co_return total;
  };
  auto t0 = Clock::now();
  auto [unused, total] = co_await eddy::gather(producer(), consumer());
  double dt = since_ns(t0);
  if (total != static_cast<long>(n) * (n - 1) / 2) std::abort();
  co_return dt;
}

eddy::Task<double> semaphore(int n) {
  eddy::Semaphore sem(10);
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) {
    auto permit = co_await sem.acquire();
  }
  co_return since_ns(t0);
}

eddy::Task<> contended_worker(eddy::Semaphore& sem, int iters) {
  for (int i = 0; i < iters; ++i) {
    auto permit = co_await sem.acquire();
    co_await eddy::yield_now();
  }
}

eddy::Task<double> semaphore_contended(int tasks, int iters) {
  eddy::Semaphore sem(10);
  auto t0 = Clock::now();
  co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
    for (int i = 0; i < tasks; ++i) tg.spawn(contended_worker(sem, iters));
    co_return;
  });
  co_return since_ns(t0);
}

struct Workload {
  std::function<eddy::Task<double>(int scale)> make;
  double divisor;
  const char* unit;
  bool warm_up;
};

const std::map<std::string, Workload>& workloads() {
  static const std::map<std::string, Workload> w = {
      {"spawn_taskgroup",
       {[](int s) { return spawn_taskgroup(kTasks / s); }, kTasks, "ns/task", true}},
      {"spawn_gather", {[](int s) { return spawn_gather(kTasks / s); }, kTasks, "ns/task", true}},
      {"yield_switch",
       {[](int s) { return yield_switch(kSwitches / s); }, kSwitches, "ns/switch", true}},
      {"sleep_mem", {[](int) { return sleep_mem(kSleepers); }, kSleepers, "bytes/task", false}},
      {"sleep_1m_rss", {[](int) { return sleep_mem(kMillion); }, 1024.0 * 1024.0, "MiB", false}},
      {"queue_putget", {[](int s) { return queue_putget(kItems / s); }, kItems, "ns/item", true}},
      {"semaphore", {[](int s) { return semaphore(kSemOps / s); }, kSemOps, "ns/op", true}},
      {"semaphore_contended",
       {[](int s) { return semaphore_contended(kContTasks / s, kContIters); },
        double(kContTasks) * kContIters, "ns/op", true}},
  };
  return w;
}

void run_one(const std::string& name, const Workload& w) {
  double value = eddy::run([&]() -> eddy::Task<double> {
    if (w.warm_up) co_await w.make(kWarmupDiv);
    co_return co_await w.make(1);
  }());
  std::printf("RESULT %s %.1f %s\n", name.c_str(), value / w.divisor, w.unit);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
  }
  if (!only.empty()) {
    auto it = workloads().find(only);
    if (it == workloads().end()) {
      std::fprintf(stderr, "unknown workload %s\n", only.c_str());
      return 2;
    }
    run_one(it->first, it->second);
    return 0;
  }
  for (auto& [name, w] : workloads()) run_one(name, w);
}
