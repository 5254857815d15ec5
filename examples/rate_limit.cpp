// Articles 1 and 2: a Semaphore bounds concurrency against a rate-limited API. 20 calls with
// at most 5 in flight: never more than 5 at once, and 4 waves of 50 ms.
#include <algorithm>
#include <cstdio>
#include <vector>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

struct Api {
  int in_flight = 0;
  int max_in_flight = 0;
  eddy::Task<int> call(int i) {
    max_in_flight = std::max(max_in_flight, ++in_flight);
    co_await eddy::sleep(50ms);
    --in_flight;
    co_return i* i;
  }
};

eddy::Task<int> amain() {
  Api api;
  eddy::Semaphore api_semaphore(5);  // max 5 concurrent calls
  auto limited = [&](int i) -> eddy::Task<int> {
    auto permit = co_await api_semaphore.acquire();  // released at scope exit
    co_return co_await api.call(i);
  };
  std::vector<eddy::Task<int>> calls;
  for (int i = 0; i < 20; ++i) calls.push_back(limited(i));
  auto t0 = std::chrono::steady_clock::now();
  auto results = co_await eddy::gather(std::move(calls));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  std::printf("%zu calls, at most %d in flight, %lld ms\n", results.size(), api.max_in_flight,
              static_cast<long long>(ms.count()));
  co_return api.max_in_flight == 5 ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
