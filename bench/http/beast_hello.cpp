// HTTP benchmark peer for eddy's examples/hello_server: the TechEmpower plaintext/json server on
// Boost.Beast + Asio C++20 coroutines (header-only Boost >= 1.81), one io_context on one thread.
//
//   beast_hello --port N     GET / or /plaintext: "Hello, World!" (text/plain)
//                            GET /json: {"message":"Hello, World!"} (application/json)
//
// Written the way the Beast examples write an HTTP/1.1 server (co_spawn per connection, one
// flat_buffer per connection reused across requests, http::async_read / http::async_write with
// use_awaitable), plus what a TechEmpower entry adds: TCP_NODELAY, a Date header cached per
// second, constant bodies sent without a copy (span_body), no exceptions on the hot path.
// Pipelined requests are served from the bytes already in the flat_buffer, one write each.
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string_view>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::ip::tcp;

namespace {

// Errors (EOF, reset) come back as values: a closing peer is routine, not an exception.
constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

constexpr std::string_view kPlain = "Hello, World!";
constexpr std::string_view kJson = R"({"message":"Hello, World!"})";

// RFC 9110 IMF-fixdate, re-formatted at most once a second (single thread: no locking).
std::string_view http_date() {
  static std::time_t cached = 0;
  static char buf[64];
  static std::size_t len = 0;
  std::time_t now = std::time(nullptr);
  if (now != cached) {
    std::tm tm;
    gmtime_r(&now, &tm);
    len = std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = now;
  }
  return {buf, len};
}

using Response = http::response<http::span_body<const char>>;

Response make_response(const http::request<http::string_body>& req) {
  std::string_view body = "Not Found";
  std::string_view type = "text/plain";
  http::status status = http::status::not_found;
  if (req.method() == http::verb::get) {
    std::string_view target = req.target();
    if (target == "/" || target == "/plaintext") {
      status = http::status::ok;
      body = kPlain;
    } else if (target == "/json") {
      status = http::status::ok;
      body = kJson;
      type = "application/json";
    }
  }
  Response res{status, req.version()};
  res.set(http::field::server, "beast");
  res.set(http::field::date, http_date());
  res.set(http::field::content_type, type);
  res.body() = {body.data(), body.size()};
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

awaitable<void> session(tcp::socket s) {
  beast::flat_buffer buffer;  // per connection, reused: leftover (pipelined) bytes stay in it
  for (;;) {
    http::request<http::string_body> req;
    auto [rec, nread] = co_await http::async_read(s, buffer, req, nothrow);
    if (rec) break;  // end_of_stream, reset or a malformed request: close
    Response res = make_response(req);
    auto [wec, nwritten] = co_await http::async_write(s, res, nothrow);
    if (wec || res.need_eof()) break;
  }
  boost::system::error_code ec;
  s.shutdown(tcp::socket::shutdown_send, ec);
}

awaitable<void> listen(tcp::acceptor& acceptor) {
  for (;;) {
    auto [ec, s] = co_await acceptor.async_accept(nothrow);
    if (ec) {
      if (ec == asio::error::operation_aborted) co_return;
      continue;  // e.g. EMFILE: keep serving the connections we have
    }
    s.set_option(tcp::no_delay(true));
    asio::co_spawn(acceptor.get_executor(), session(std::move(s)), asio::detached);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else
      port = -1;
  }
  if (port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s --port N\n", argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  asio::io_context ctx(1);  // concurrency hint 1: the single-threaded setup, no locking
  tcp::acceptor acceptor(ctx);
  tcp::endpoint ep{asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
  acceptor.open(ep.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(ep);
  acceptor.listen(asio::socket_base::max_listen_connections);
  asio::signal_set signals(ctx, SIGTERM, SIGINT);
  signals.async_wait([&](auto, int) { ctx.stop(); });
  asio::co_spawn(ctx, listen(acceptor), asio::detached);
  std::printf("listening on 127.0.0.1:%u\n", unsigned{acceptor.local_endpoint().port()});
  std::fflush(stdout);
  ctx.run();
  return 0;
}
