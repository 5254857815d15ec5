// eddy bench: a load generator in the spirit of wrk and oha, on eddy's own client. Each
// thread runs a loop with one Session whose pool holds its share of the connections; each
// connection's worker sends a request, reads the whole response, and sends the next, until
// the duration is over or -n requests have been started, whichever comes first. As with wrk,
// requests still in flight at the end of the duration are cancelled and not counted.
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <eddy/eddy.hpp>

#include "commands.hpp"

namespace eddy::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct Shared {
  const BenchArgs* args;
  Clock::time_point end;
  std::atomic<std::uint64_t> started{0}, completed{0}, bytes{0};
  std::atomic<std::uint64_t> connect_errors{0}, read_errors{0}, timeouts{0}, bad_status{0};
  std::atomic<std::uint64_t> connections{0};
  std::mutex merge;
  Histogram latency;  // microseconds, merged from every thread at its end
};

bool take_one(Shared& sh) {
  if (Clock::now() >= sh.end) return false;
  if (!sh.args->requests) return true;
  return sh.started.fetch_add(1, std::memory_order_relaxed) < sh.args->requests;
}

Task<> thread_main(Shared& sh, int connections) {
  const BenchArgs& a = *sh.args;
  http::SessionOptions so = a.client.session_options();
  so.connector.limit = static_cast<std::size_t>(connections);
  so.cookies = false;
  http::Session session(so);
  Histogram latency;
  http::RequestOptions proto;
  if (!a.data.empty()) proto.body = http::Body{a.data, "application/octet-stream"};

  auto worker = [&]() -> Task<> {
    bool refused = false;
    while (take_one(sh)) {
      auto t0 = Clock::now();
      try {
        http::RequestOptions o = proto;
        http::ClientResponse r = co_await session.request(a.method, a.url, std::move(o));
        std::uint64_t n = 0;
        for (;;) {
          std::string_view piece = co_await r.read_chunk();
          if (piece.empty()) break;
          n += piece.size();
        }
        sh.bytes.fetch_add(n, std::memory_order_relaxed);
        if (r.status() >= 400) sh.bad_status.fetch_add(1, std::memory_order_relaxed);
      } catch (const TimeoutError&) {
        sh.timeouts.fetch_add(1, std::memory_order_relaxed);
        continue;
      } catch (const ConnectionRefusedError&) {
        sh.connect_errors.fetch_add(1, std::memory_order_relaxed);
        refused = true;
      } catch (const Error&) {
        sh.read_errors.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (refused) {  // no busy loop against a port nobody listens on
        refused = false;
        co_await sleep(std::chrono::milliseconds(10));
        continue;
      }
      latency.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
      sh.completed.fetch_add(1, std::memory_order_relaxed);
    }
  };
  auto all = [&]() -> Task<> {
    TaskGroup tg;
    for (int i = 0; i < connections; ++i) tg.spawn(worker());
    co_await tg.join();
  };
  co_await move_on_at(sh.end, all());
  sh.connections.fetch_add(session.connections_opened(), std::memory_order_relaxed);
  co_await session.close();
  std::lock_guard lock(sh.merge);
  sh.latency.merge(latency);
}

void pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

std::string human_bytes(double b) {
  if (b >= 1 << 30) return fmt::format("{:.2f} GiB", b / (1 << 30));
  if (b >= 1 << 20) return fmt::format("{:.2f} MiB", b / (1 << 20));
  return fmt::format("{:.2f} KiB", b / 1024);
}

}  // namespace

int run_bench(const BenchArgs& a) {
  http::Url::parse(a.url);  // a bad URL is a usage error, before any thread starts
  if (a.connections < a.threads) throw UsageError("need at least one connection per thread");
  Shared sh;
  sh.args = &a;
  auto begin = Clock::now();
  sh.end = begin + a.duration;
  std::printf("Running %s test @ %s\n  %d thread%s and %d connections\n",
              format_us(double(a.duration.count())).c_str(), a.url.c_str(), a.threads,
              a.threads == 1 ? "" : "s", a.connections);
  std::fflush(stdout);

  std::vector<std::thread> threads;
  std::vector<std::exception_ptr> failures(static_cast<std::size_t>(a.threads));
  for (int i = 0; i < a.threads; ++i) {
    int share = a.connections / a.threads + (i < a.connections % a.threads ? 1 : 0);
    threads.emplace_back([&, i, share] {
      if (!a.cpus.empty()) pin(a.cpus[static_cast<std::size_t>(i) % a.cpus.size()]);
      try {
        eddy::run(thread_main(sh, share));
      } catch (...) {
        failures[static_cast<std::size_t>(i)] = std::current_exception();
      }
    });
  }

  // The live line: once a second, on a terminal only.
  StatusLine status;
  std::uint64_t last = 0;
  auto tick = begin;
  while (status.enabled() && Clock::now() < sh.end) {
    tick += std::chrono::seconds(1);
    std::this_thread::sleep_until(std::min(tick, sh.end));
    if (a.requests && sh.started.load() >= a.requests) break;
    std::uint64_t done = sh.completed.load(std::memory_order_relaxed);
    auto errors = sh.connect_errors.load() + sh.read_errors.load() + sh.timeouts.load();
    status.show(fmt::format("[{:>4.0f}s] {} requests  {} req/s  {} errors",
                            std::chrono::duration<double>(Clock::now() - begin).count(), done,
                            done - last, errors));
    last = done;
  }
  for (auto& t : threads) t.join();
  status.clear();
  for (auto& f : failures)
    if (f) std::rethrow_exception(f);

  double secs = std::chrono::duration<double>(Clock::now() - begin).count();
  std::uint64_t done = sh.completed.load();
  std::printf("Requests      %llu in %.2fs, %s of bodies read, %llu connections opened\n",
              static_cast<unsigned long long>(done), secs, human_bytes(double(sh.bytes)).c_str(),
              static_cast<unsigned long long>(sh.connections.load()));
  std::printf("Requests/sec: %.2f\n", double(done) / secs);
  std::printf("Transfer/sec: %s\n", human_bytes(double(sh.bytes) / secs).c_str());
  std::printf("Errors        connect %llu, read %llu, timeout %llu; status >= 400: %llu\n",
              static_cast<unsigned long long>(sh.connect_errors.load()),
              static_cast<unsigned long long>(sh.read_errors.load()),
              static_cast<unsigned long long>(sh.timeouts.load()),
              static_cast<unsigned long long>(sh.bad_status.load()));
  std::printf("\n");
  print_latency(stdout, sh.latency);
  return done > 0 ? 0 : 1;
}

}  // namespace eddy::cli
