// Core-runtime benchmark peer for eddy: the same workloads on Boost.Asio
// C++20 coroutines (header-only Boost >= 1.81).
//
// Prints one `RESULT <workload> <value> <unit>` line per workload and nothing
// else on stdout.  `--only <workload>` runs a single one.  Asio has no async
// semaphore, so `semaphore` and `semaphore_contended` are not implemented.
//
// Every workload runs in a fresh single-threaded io_context (concurrency hint
// 1, the idiomatic one-thread setup), timed from inside a parent coroutine
// the way the asyncio peer times from inside its main task.

#include <boost/asio.hpp>
#include <boost/asio/experimental/channel.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string_view>
#include <unistd.h>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kTasks = 1'000'000;
constexpr int kSwitches = 1'000'000;
constexpr int kSleepers = 100'000;
constexpr int kItems = 1'000'000;
constexpr std::size_t kQueueCap = 1024;
constexpr int kWarmupDiv = 100;  // warm-up at N/100 fills allocator free lists

double elapsed_ns(Clock::time_point t0) {
  return static_cast<double>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
}

// Asio has no task group / join: a never-expiring timer serves as the event
// that the last completion handler fires, so the parent can co_await it.
class Latch {
 public:
  Latch(asio::any_io_executor ex, int count) : timer_(ex, Clock::time_point::max()), left_(count) {}
  void count_down() {
    if (--left_ == 0) timer_.cancel();
  }
  awaitable<void> wait() {
    if (left_ == 0) co_return;
    boost::system::error_code ec;
    co_await timer_.async_wait(asio::redirect_error(use_awaitable, ec));
  }

 private:
  asio::steady_timer timer_;
  int left_;
};

awaitable<int> trivial(int i) { co_return i; }

// TaskGroup equivalent: co_spawn every task with a handler that counts it done.
awaitable<double> spawn_taskgroup(int n) {
  auto ex = co_await asio::this_coro::executor;
  auto t0 = Clock::now();
  Latch done(ex, n);
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ex, trivial(i), [&done](std::exception_ptr, int) { done.count_down(); });
  co_await done.wait();
  co_return elapsed_ns(t0);
}

// gather equivalent: make_parallel_group is too heavy for 1M operations, so
// this is the taskgroup loop plus each handler storing its result in a slot.
awaitable<double> spawn_gather(int n) {
  auto ex = co_await asio::this_coro::executor;
  auto t0 = Clock::now();
  std::vector<int> results(static_cast<std::size_t>(n));
  Latch done(ex, n);
  for (int i = 0; i < n; ++i)
    asio::co_spawn(ex, trivial(i), [&done, &results, i](std::exception_ptr, int v) {
      results[static_cast<std::size_t>(i)] = v;
      done.count_down();
    });
  co_await done.wait();
  double dt = elapsed_ns(t0);
  if (results.back() != n - 1) std::abort();
  co_return dt;
}

awaitable<double> yield_switch(int n) {
  auto ex = co_await asio::this_coro::executor;
  auto t0 = Clock::now();
  for (int i = 0; i < n; ++i) co_await asio::post(ex, use_awaitable);
  co_return elapsed_ns(t0);
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// The timer lives in the coroutine frame, as asyncio's sleep state lives in
// its task; the parent keeps only a pointer to cancel it.
awaitable<void> sleeper(asio::steady_timer** slot, int& started, Latch& finished) {
  asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::hours(1));
  *slot = &timer;
  ++started;
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
  finished.count_down();
}

awaitable<double> sleep_mem(int n) {
  auto ex = co_await asio::this_coro::executor;
  long before = rss_bytes();
  std::vector<asio::steady_timer*> timers(static_cast<std::size_t>(n));
  int started = 0;
  Latch finished(ex, n);
  for (auto& slot : timers) asio::co_spawn(ex, sleeper(&slot, started, finished), asio::detached);
  while (started < n) co_await asio::post(ex, use_awaitable);
  long after = rss_bytes();
  for (auto* t : timers) t->cancel();
  co_await finished.wait();
  co_return static_cast<double>(after - before);
}

using Channel = asio::experimental::channel<void(boost::system::error_code, int)>;

awaitable<void> producer(Channel& ch, int n) {
  for (int i = 0; i < n; ++i) co_await ch.async_send(boost::system::error_code{}, i, use_awaitable);
}

awaitable<void> consumer(Channel& ch, int n, long long& total) {
  for (int i = 0; i < n; ++i) total += co_await ch.async_receive(use_awaitable);
}

awaitable<double> queue_putget(int n) {
  auto ex = co_await asio::this_coro::executor;
  Channel ch(ex, kQueueCap);
  long long total = 0;
  auto t0 = Clock::now();
  Latch done(ex, 2);
  auto on_done = [&done](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
    done.count_down();
  };
  asio::co_spawn(ex, producer(ch, n), on_done);
  asio::co_spawn(ex, consumer(ch, n, total), on_done);
  co_await done.wait();
  double dt = elapsed_ns(t0);
  if (total != static_cast<long long>(n) * (n - 1) / 2) std::abort();
  co_return dt;
}

struct Workload {
  const char* name;
  std::function<awaitable<double>(int scale)> run;  // scale 1 = measured run
  int divisor;
  const char* unit;
  bool warmup;
};

const Workload kWorkloads[] = {
    {"spawn_taskgroup", [](int s) { return spawn_taskgroup(kTasks / s); }, kTasks, "ns/task", true},
    {"spawn_gather", [](int s) { return spawn_gather(kTasks / s); }, kTasks, "ns/task", true},
    {"yield_switch", [](int s) { return yield_switch(kSwitches / s); }, kSwitches, "ns/switch", true},
    // No warm-up: it would only pre-grow the heap being measured.
    {"sleep_mem", [](int) { return sleep_mem(kSleepers); }, kSleepers, "bytes/task", false},
    {"queue_putget", [](int s) { return queue_putget(kItems / s); }, kItems, "ns/item", true},
};

awaitable<double> run_one(const Workload& w) {
  if (w.warmup) co_await w.run(kWarmupDiv);
  co_return co_await w.run(1) / w.divisor;
}

}  // namespace

int main(int argc, char** argv) {
  std::string_view only;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--only WORKLOAD]\n", argv[0]);
      return 2;
    }
  }
  bool matched = false;
  for (const auto& w : kWorkloads) {
    if (!only.empty() && only != w.name) continue;
    matched = true;
    asio::io_context ctx(1);
    double value = 0;
    asio::co_spawn(ctx, run_one(w), [&value](std::exception_ptr e, double v) {
      if (e) std::rethrow_exception(e);
      value = v;
    });
    ctx.run();
    std::printf("RESULT %s %.1f %s\n", w.name, value, w.unit);
    std::fflush(stdout);
  }
  if (!matched) {
    // The semaphore workloads are known but skipped: no RESULT line, no error.
    if (only == "semaphore" || only == "semaphore_contended") return 0;
    std::fprintf(stderr, "asio_core: unknown workload '%.*s'\n", static_cast<int>(only.size()),
                 only.data());
    return 2;
  }
}
