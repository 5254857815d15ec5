// Raw HTTP/1.1 client pieces for server tests: write bytes exactly as a test wants them
// (malformed, pipelined, trickled) and read responses back with eddy's own strict parser.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "eddy/http.hpp"
#include "eddy/net.hpp"

namespace eddy_test {

struct Reply {
  int status = 0;
  eddy::http::Headers headers;
  std::string body;
  bool keep_alive = true;
  std::string header(std::string_view name) const { return std::string(headers.get_or(name, "")); }
};

// Reads one response (an interim 1xx too, when `interim` is set).
inline eddy::Task<Reply> read_reply(eddy::net::Stream& s, std::string_view method = "GET",
                                    bool interim = false) {
  eddy::http::HeadParser parser;
  eddy::http::ResponseHead head;
  std::size_t n = 0;
  for (;;) {
    while ((n = parser.parse_response(s.buffered(), head, method)) == 0) {
      if (!co_await s.fill()) throw std::runtime_error("EOF before a complete response head");
    }
    s.consume(n);
    if (interim || head.status >= 200 || head.status == 101) break;
  }
  eddy::http::BodyDecoder body(head.body, head.content_length);
  Reply r;
  bool eof = false;
  while (!body.done()) {
    auto step = body.next(s.buffered(), eof);
    if (step.consumed) {
      r.body.append(step.data);
      s.consume(step.consumed);
      continue;
    }
    if (!co_await s.fill()) eof = true;
  }
  r.status = head.status;
  r.headers = head.headers;
  r.keep_alive = head.keep_alive;
  co_return r;
}

// Server options for tests: loopback, a free port.
inline eddy::http::ServerOptions local_server() {
  eddy::http::ServerOptions o;
  o.port = 0;
  return o;
}

inline eddy::Task<eddy::net::Stream> connect_to(std::uint16_t port) {
  co_return co_await eddy::net::open_connection("127.0.0.1", port);
}

// One request on a fresh connection; the raw bytes are sent as given.
inline eddy::Task<Reply> exchange(std::uint16_t port, std::string request,
                                  std::string_view method = "GET") {
  auto s = co_await connect_to(port);
  s.write(request);
  co_return co_await read_reply(s, method);
}

// Whether the server has closed `s` (reads EOF with nothing more sent).
inline eddy::Task<bool> closed_by_server(eddy::net::Stream& s) {
  std::string rest = co_await s.read_to_eof();
  co_return rest.empty();
}

inline std::string get(std::string_view path, std::string_view extra = "") {
  return "GET " + std::string(path) + " HTTP/1.1\r\nHost: t\r\n" + std::string(extra) + "\r\n";
}

}  // namespace eddy_test
