// eddy's WebSocket load client for bench/run_ws: C connections ping-pong M messages in all
// (text, --size bytes, one in flight per connection), then messages/s, p99 round trip and
// the client's own CPU per message, as RESULT lines (the same as beast_ws client and the
// Python clients print).
//
//   ws_load --url ws://127.0.0.1:8080/ws --connections 64 --messages 100000 [--size 16]
//   ws_load --url ws://127.0.0.1:8080/ws --idle 10000 --hold 5
//       opens 10,000 connections, holds them idle for 5 s (for the memory benchmark),
//       printing "RESULT idle_open N" once they are all open
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

Task<int> load(std::string url, int connections, int messages, std::size_t size) {
  http::SessionOptions so;
  so.connector.limit = 0;
  http::Session s(so);
  http::WebSocketOptions wo;
  wo.compress = false;
  int remaining = messages, errors = 0;
  std::vector<double> lat;
  lat.reserve(static_cast<std::size_t>(messages));
  std::string msg(size, 'x');
  auto client = [&]() -> Task<> {
    http::WebSocket ws;
    try {
      ws = co_await s.ws_connect(url, wo);
    } catch (const std::exception&) {
      ++errors;
      co_return;
    }
    while (remaining > 0) {
      --remaining;
      auto t0 = std::chrono::steady_clock::now();
      co_await ws.send_text(msg);
      auto m = co_await ws.receive();
      if (!m || m->data.size() != size) {
        ++errors;
        break;
      }
      lat.push_back(
          std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    co_await ws.close();
  };
  double cpu0 = bench::cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  {
    eddy::TaskGroup tg;
    for (int i = 0; i < connections; ++i) tg.spawn(client());
    co_await tg.join();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = bench::cpu_seconds() - cpu0;
  double p99 = bench::percentile(lat, 0.99);
  std::printf("ws_load: %zu messages in %.2f s, %d errors\n", lat.size(), secs, errors);
  std::printf("RESULT msgs_per_s %.0f\n", double(lat.size()) / secs);
  std::printf("RESULT p99_us %.0f\n", p99);
  std::printf("RESULT client_cpu_per_msg_us %.2f\n",
              cpu * 1e6 / double(std::max<std::size_t>(lat.size(), 1)));
  co_await s.close();
  co_return errors ? 1 : 0;
}

Task<int> idle(std::string url, int connections, int hold_seconds) {
  http::SessionOptions so;
  so.connector.limit = 0;
  http::Session s(so);
  http::WebSocketOptions wo;
  wo.compress = false;
  std::vector<http::WebSocket> open;
  open.reserve(static_cast<std::size_t>(connections));
  for (int i = 0; i < connections; ++i) open.push_back(co_await s.ws_connect(url, wo));
  std::printf("RESULT idle_open %zu\n", open.size());
  std::fflush(stdout);
  co_await eddy::sleep(std::chrono::seconds(hold_seconds));
  for (auto& ws : open) ws.try_close();
  co_await eddy::sleep(std::chrono::milliseconds(200));
  co_return 0;
}

int main(int argc, char** argv) {
  std::string url = "ws://127.0.0.1:8080/ws";
  int connections = 64, messages = 100000, idle_conns = 0, hold = 5;
  std::size_t size = 16;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--url"))
      url = argv[i + 1];
    else if (!std::strcmp(argv[i], "--connections"))
      connections = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--messages"))
      messages = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--size"))
      size = static_cast<std::size_t>(std::atoi(argv[i + 1]));
    else if (!std::strcmp(argv[i], "--idle"))
      idle_conns = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--hold"))
      hold = std::atoi(argv[i + 1]);
  }
  if (idle_conns) return eddy::run(idle(url, idle_conns, hold));
  return eddy::run(load(url, connections, messages, size));
}
