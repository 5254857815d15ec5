// Article 1's benchmark warning: CPU-bound work blocks the loop. Offload it with to_thread
// (there is no GIL: the pool's threads really run in parallel) while the loop keeps ticking.
#include <cstdio>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

long fib(int n) {
  return n <= 1 ? n : fib(n - 1) + fib(n - 2);
}

eddy::Task<int> amain() {
  int ticks = 0;
  eddy::Event done;
  auto heartbeat = eddy::spawn([&]() -> eddy::Task<> {
    while (!done.is_set()) {
      co_await eddy::sleep(10ms);
      ++ticks;
    }
  });
  auto [a, b] = co_await eddy::gather(eddy::timeout(60s, eddy::to_thread([] { return fib(30); })),
                                      eddy::timeout(60s, eddy::to_thread([] { return fib(31); })));
  done.set();
  co_await heartbeat;
  std::printf(
      "fib(30)=%ld fib(31)=%ld computed on the thread pool; the loop ticked %d times meanwhile\n",
      a, b, ticks);
  co_return (a == 832040 && b == 1346269) ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
