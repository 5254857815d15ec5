// WebSocket benchmark peer: Boost.Beast's websocket on Asio C++20 coroutines, one
// io_context on one thread, as a server (the echo) or as the load client.
//
//   beast_ws server --port N
//       echoes every message at ws://127.0.0.1:N/ (any path), no compression
//   beast_ws client --port N --connections C --messages M [--size 16]
//       C connections ping-pong M messages in all (text, --size bytes each, one in flight per
//       connection); prints the same RESULT lines as ws_load (msgs/s, p99, client CPU)
//
// Written as Beast's own websocket examples write it (co_spawn per connection, one
// flat_buffer each, async_read / async_write with use_awaitable, errors as values), plus
// TCP_NODELAY and compression off (permessage_deflate is off unless enabled in Beast).
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "load_report.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ws = beast::websocket;
using asio::awaitable;
using asio::ip::tcp;

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

awaitable<void> echo_session(tcp::socket s) {
  s.set_option(tcp::no_delay(true));
  ws::stream<tcp::socket> w(std::move(s));
  w.set_option(ws::stream_base::timeout::suggested(beast::role_type::server));
  auto [aec] = co_await w.async_accept(nothrow);
  if (aec) co_return;
  beast::flat_buffer buffer;
  for (;;) {
    auto [rec, n] = co_await w.async_read(buffer, nothrow);
    if (rec) break;
    w.text(w.got_text());
    auto [wec, m] = co_await w.async_write(buffer.data(), nothrow);
    if (wec) break;
    buffer.consume(buffer.size());
  }
}

awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;
    }
    asio::co_spawn(acceptor.get_executor(), echo_session(std::move(s)), asio::detached);
  }
}

struct Load {
  int remaining;
  std::vector<double> lat;  // microseconds
  int errors = 0;
};

awaitable<void> client_session(int port, std::size_t size, Load& load) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket s(ex);
  auto [cec] = co_await s.async_connect(
      {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)}, nothrow);
  if (cec) {
    ++load.errors;
    co_return;
  }
  s.set_option(tcp::no_delay(true));
  ws::stream<tcp::socket> w(std::move(s));
  auto [hec] = co_await w.async_handshake("127.0.0.1", "/ws", nothrow);
  if (hec) {
    ++load.errors;
    co_return;
  }
  w.text(true);
  std::string msg(size, 'x');
  beast::flat_buffer buffer;
  while (load.remaining > 0) {
    --load.remaining;
    auto t0 = std::chrono::steady_clock::now();
    auto [wec, n] = co_await w.async_write(asio::buffer(msg), nothrow);
    if (wec) {
      ++load.errors;
      break;
    }
    auto [rec, m] = co_await w.async_read(buffer, nothrow);
    if (rec || buffer.size() != size) {
      ++load.errors;
      break;
    }
    buffer.consume(buffer.size());
    load.lat.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
  }
  auto [xec] = co_await w.async_close(ws::close_code::normal, nothrow);
  (void)xec;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s server --port N | client --port N --connections C --messages M\n",
                 argv[0]);
    return 2;
  }
  bool server = !std::strcmp(argv[1], "server");
  int port = -1, connections = 64, messages = 100000;
  std::size_t size = 16;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--port"))
      port = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--connections"))
      connections = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--messages"))
      messages = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--size"))
      size = static_cast<std::size_t>(std::atoi(argv[i + 1]));
  }
  if (port < 0 || port > 65535) return 2;
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context ctx(1);
  if (server) {
    tcp::acceptor acceptor(
        ctx, {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
    asio::signal_set stop(ctx, SIGINT, SIGTERM);
    stop.async_wait([&](auto, int) { ctx.stop(); });
    asio::co_spawn(ctx, listen(acceptor), asio::detached);
    ctx.run();
    return 0;
  }
  Load load{messages, {}, 0};
  load.lat.reserve(static_cast<std::size_t>(messages));
  double cpu0 = bench::cpu_seconds();
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < connections; ++i)
    asio::co_spawn(ctx, client_session(port, size, load), asio::detached);
  ctx.run();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double cpu = bench::cpu_seconds() - cpu0;
  double p99 = bench::percentile(load.lat, 0.99);
  std::size_t done = load.lat.size();
  std::printf("beast_ws client: %zu messages in %.2f s, %d errors\n", done, secs, load.errors);
  std::printf("RESULT msgs_per_s %.0f\n", double(done) / secs);
  std::printf("RESULT p99_us %.0f\n", p99);
  std::printf("RESULT client_cpu_per_msg_us %.2f\n",
              cpu * 1e6 / double(std::max<std::size_t>(done, 1)));
  return load.errors ? 1 : 0;
}
