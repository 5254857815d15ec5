// TLS benchmark peer for eddy's `echo_server --tls`: asio_echo.cpp over asio::ssl (OpenSSL),
// C++20 coroutines, single-threaded io_context.
//
//   asio_tls --port N --tls CERTDIR           echo every byte on each connection until SIGTERM
//   asio_tls --port N --tls CERTDIR --sink    read each connection until EOF, count the bytes
//
// CERTDIR/server.pem and CERTDIR/server.key as tests/net/make_certs.sh makes them. Written the
// way the Asio SSL examples write it (handshake, read/write loop, async_shutdown), so it
// measures idiomatic Asio + OpenSSL, not a tuned variant.
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::awaitable;
using asio::use_awaitable;
using asio::ip::tcp;
using tls_stream = ssl::stream<tcp::socket>;

namespace {

unsigned long long g_sunk = 0;

// A peer's close_notify reads as asio::error::eof; a TCP close without one as
// ssl::error::stream_truncated. Either way the conversation is over. (The stream is built
// here, not passed in: an ssl::stream argument trips GCC 12's -Wmismatched-new-delete.)
awaitable<void> serve(tcp::socket sock, ssl::context& tls, bool sink_mode) {
  tls_stream s(std::move(sock), tls);
  boost::system::error_code ec;
  auto token = asio::redirect_error(use_awaitable, ec);
  co_await s.async_handshake(ssl::stream_base::server, token);
  if (ec) co_return;  // a client that gave up mid-handshake: nothing to report
  if (sink_mode) {
    // Same 256 KiB buffer as eddy's sink; heap, not frame. (asio::ssl reads the socket in
    // 17 KiB pieces and returns at most one record per read, whatever the buffer size.)
    std::vector<char> buf(256 * 1024);
    while (!ec) g_sunk += co_await s.async_read_some(asio::buffer(buf), token);
  } else {
    char buf[64 * 1024];  // same 64 KiB buffer as eddy's echo handler
    for (;;) {
      std::size_t n = co_await s.async_read_some(asio::buffer(buf), token);
      if (ec) break;
      co_await asio::async_write(s, asio::buffer(buf, n), token);
      if (ec) break;
    }
  }
  // Our close_notify after the peer's, as eddy's close does; after a truncation it would fail.
  if (ec == asio::error::eof) co_await s.async_shutdown(token);
}

awaitable<void> listen(tcp::acceptor& acceptor, ssl::context& tls, bool sink_mode) {
  for (;;) {
    tcp::socket s = co_await acceptor.async_accept(use_awaitable);
    s.set_option(tcp::no_delay(true));  // as eddy and asyncio do for every TCP socket
    asio::co_spawn(acceptor.get_executor(), serve(std::move(s), tls, sink_mode), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  bool sink_mode = false;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--tls") && i + 1 < argc)
      dir = argv[++i];
    else if (!std::strcmp(argv[i], "--sink"))
      sink_mode = true;
    else
      port = -1;
  }
  if (port < 0 || dir.empty()) {
    std::fprintf(stderr, "usage: %s --port N --tls CERTDIR [--sink]\n", argv[0]);
    return 2;
  }
  // OpenSSL defaults otherwise (TLS 1.3 session tickets included), as eddy's server context.
  ssl::context tls(ssl::context::tls_server);
  tls.set_options(
      ssl::context::default_workarounds | ssl::context::no_tlsv1 |
      ssl::context::no_tlsv1_1);  // TLS 1.2 and 1.3, as eddy's server (the clients ask 1.3)
  tls.use_certificate_chain_file(dir + "/server.pem");
  tls.use_private_key_file(dir + "/server.key", ssl::context::pem);

  asio::io_context ctx(1);  // concurrency hint 1: the single-threaded setup, no locking
  tcp::acceptor acceptor(ctx,
                         {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)});
  asio::signal_set signals(ctx, SIGTERM, SIGINT);
  signals.async_wait([&](auto, int) { ctx.stop(); });
  asio::co_spawn(ctx, listen(acceptor, tls, sink_mode), asio::detached);
  std::printf("listening on 127.0.0.1:%u (%s, tls)\n", unsigned{acceptor.local_endpoint().port()},
              sink_mode ? "sink" : "echo");
  std::fflush(stdout);
  ctx.run();
  if (sink_mode) std::printf("received %llu bytes\n", g_sunk);
  return 0;
}
