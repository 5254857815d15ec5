// Article 3: "Sequential: takes 3 seconds. Concurrent: takes 1 second." -- with gather.
#include <cstdio>
#include <string>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

eddy::Task<std::string> fetch_data(std::string url) {
  std::printf("Starting fetch: %s\n", url.c_str());
  co_await eddy::sleep(200ms);  // simulate I/O
  std::printf("Completed fetch: %s\n", url.c_str());
  co_return "response from " + url;
}

eddy::Task<int> amain() {
  using clock = std::chrono::steady_clock;
  auto ms = [](clock::duration d) {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
  };

  auto t0 = clock::now();
  auto r1 = co_await fetch_data("url1");
  auto r2 = co_await fetch_data("url2");
  auto r3 = co_await fetch_data("url3");
  auto sequential = clock::now() - t0;

  t0 = clock::now();
  auto [c1, c2, c3] =
      co_await eddy::gather(fetch_data("url1"), fetch_data("url2"), fetch_data("url3"));
  auto concurrent = clock::now() - t0;

  std::printf("sequential: %lld ms, gather: %lld ms\n", ms(sequential), ms(concurrent));
  co_return (r1 == c1 && r2 == c2 && r3 == c3 && concurrent * 2 < sequential) ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
