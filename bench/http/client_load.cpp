// eddy's HTTP client as a load generator: N GET requests, C at a time over one Session's
// kept-alive pool, then requests/s, latency percentiles and the client's own CPU per request.
// The client side of the client benchmark (peers: wrk, aiohttp's ClientSession).
//
//   client_load --url http://127.0.0.1:8080/ --requests 20000 --concurrency 64
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <string>
#include <vector>

#include "load_report.hpp"

namespace http = eddy::http;
using eddy::Task;

Task<int> run(std::string url, int requests, int concurrency) {
  http::SessionOptions o;
  o.connector.limit = static_cast<std::size_t>(concurrency);
  http::Session s(o);
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(requests));
  int next = 0, errors = 0;
  auto worker = [&]() -> Task<> {
    while (next < requests) {
      ++next;
      auto t0 = std::chrono::steady_clock::now();
      try {
        auto r = co_await s.get(url);
        std::string body = co_await r.read();
        if (r.status() != 200) ++errors;
      } catch (const std::exception&) {
        ++errors;
      }
      lat.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
  };
  double cpu0 = bench::cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  {
    eddy::TaskGroup tg;
    for (int i = 0; i < concurrency; ++i) tg.spawn(worker());
    co_await tg.join();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = bench::cpu_seconds() - cpu0;
  auto pct = [&](double p) { return bench::percentile(lat, p); };
  std::printf("client_load: %d requests in %.2f s, %d errors, p50 %.0f us, p99 %.0f us\n", requests,
              secs, errors, pct(0.5), pct(0.99));
  std::printf("RESULT client_rps %.0f req/s\n", requests / secs);
  std::printf("RESULT client_cpu_per_req %.2f us/req\n", cpu * 1e6 / requests);
  std::printf("RESULT client_p99 %.0f us\n", pct(0.99));
  co_await s.close();
  co_return errors == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  std::string url = "http://127.0.0.1:8080/";
  int requests = 20000, concurrency = 64;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--url"))
      url = argv[i + 1];
    else if (!std::strcmp(argv[i], "--requests"))
      requests = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--concurrency"))
      concurrency = std::atoi(argv[i + 1]);
  }
  return eddy::run(run(url, requests, concurrency));
}
