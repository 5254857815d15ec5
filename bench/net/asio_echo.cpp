// Echo / bulk benchmark peer for eddy's examples/echo_server: the same server on Boost.Asio
// C++20 coroutines (header-only Boost >= 1.81), single-threaded io_context.
//
//   asio_echo --port N           echo every byte on each connection until SIGTERM/SIGINT
//   asio_echo --port N --sink    read each connection until EOF and count the bytes
//
// Written the way the Asio examples write it (co_spawn per connection, async_read_some +
// async_write with use_awaitable), so it measures idiomatic Asio, not a tuned variant.
#include <boost/asio.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace asio = boost::asio;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;

namespace {

unsigned long long g_sunk = 0;

// Same 64 KiB buffer as eddy's echo handler.
awaitable<void> echo(tcp::socket s) {
  char buf[64 * 1024];
  try {
    for (;;) {
      std::size_t n = co_await s.async_read_some(asio::buffer(buf), use_awaitable);
      co_await asio::async_write(s, asio::buffer(buf, n), use_awaitable);
    }
  } catch (const boost::system::system_error&) {
    // EOF or reset: the connection is done.
  }
}

// Same 256 KiB buffer as eddy's sink and blocking_sink; heap, not frame, so the frame stays small.
awaitable<void> sink(tcp::socket s) {
  std::vector<char> buf(256 * 1024);
  boost::system::error_code ec;
  while (!ec)
    g_sunk +=
        co_await s.async_read_some(asio::buffer(buf), asio::redirect_error(use_awaitable, ec));
}

awaitable<void> listen(tcp::acceptor& acceptor, bool sink_mode) {
  for (;;) {
    tcp::socket s = co_await acceptor.async_accept(use_awaitable);
    s.set_option(tcp::no_delay(true));  // as eddy and asyncio do for every TCP socket
    asio::co_spawn(acceptor.get_executor(), sink_mode ? sink(std::move(s)) : echo(std::move(s)),
                   asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  bool sink_mode = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--sink"))
      sink_mode = true;
    else
      port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "usage: %s --port N [--sink]\n", argv[0]);
    return 2;
  }
  asio::io_context ctx(1);  // concurrency hint 1: the single-threaded setup, no locking
  tcp::acceptor acceptor(ctx,
                         {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::signal_set signals(ctx, SIGTERM, SIGINT);
  signals.async_wait([&](auto, int) { ctx.stop(); });
  asio::co_spawn(ctx, listen(acceptor, sink_mode), asio::detached);
  std::printf("listening on 127.0.0.1:%u (%s)\n", unsigned{acceptor.local_endpoint().port()},
              sink_mode ? "sink" : "echo");
  std::fflush(stdout);
  ctx.run();
  if (sink_mode) std::printf("received %llu bytes\n", g_sunk);
  return 0;
}
