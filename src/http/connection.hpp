// One HTTP/1.1 connection on the server: reads requests, runs the app, writes responses.
//
// The loop per request: parse a head from what is buffered (a pipelined request is usually
// there already, and costs no wait and no timer), wait for bytes only when it is not, run the
// handler, discard whatever body it left unread, and append the response to `out_`. Responses
// are written when the connection is about to wait for input, or when a batch grows large,
// so a pipelined burst is answered with one send.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/cancel.hpp"
#include "eddy/http/message.hpp"
#include "eddy/http/parser.hpp"
#include "eddy/http/server.hpp"
#include "eddy/net/stream.hpp"
#include "eddy/sync/event.hpp"
#include "eddy/time.hpp"

namespace eddy::http::detail {

class Connection;

struct HttpServerState {
  App* app = nullptr;
  ServerOptions opts;
  net::Server net;
  std::string server_line;  // "Server: eddy\r\n", or empty
  bool shutting_down = false;
  Event done;                   // shutdown finished
  Connection* conns = nullptr;  // every live connection, for shutdown
};

class Connection {
 public:
  Connection(HttpServerState& server, net::Stream& stream);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Task<> run();

  // For Request's body methods.
  Task<std::string_view> read_chunk();
  Task<std::string> read_body();
  const Headers& trailers() const noexcept { return body_.trailers(); }
  const std::string& remote();

  // Shutdown: a connection waiting for its next request stops waiting; a long-lived answer
  // that asked to hear of it (Request::on_shutdown) is told.
  void stop_if_idle() noexcept;
  void on_shutdown(std::function<void()> fn) { shutdown_hook_ = std::move(fn); }

  Connection* prev = nullptr;
  Connection* next = nullptr;

 private:
  enum class Wait : std::uint8_t { bytes, eof, timeout, stopped };
  Task<Wait> wait_bytes(TimePoint deadline, bool idle);
  Task<std::size_t> read_head_slow(bool first);
  Task<Response> respond(Request& req);
  Task<bool> discard_body();
  Task<> send_stream(Response& resp, bool& keep, bool head_only);
  void send_continue();
  // How the body's end is marked: Content-Length, chunked, or closing the connection.
  enum class Framing : std::uint8_t { length, chunked, close };
  // `length`: the Content-Length of a body sent separately (a file), instead of resp.body's.
  void serialize(const Response& resp, bool keep, bool head_only, Framing framing,
                 const std::uint64_t* length = nullptr);
  Task<> send_file(Response& resp, bool& keep, bool head_only);
  Task<> run_upgrade(Response& resp);
  // Whether to gzip `resp` for this request (adding Vary and Content-Encoding as needed).
  bool wants_gzip(Response& resp);
  void compress_body(Response& resp);
  void reply_error(int status, std::string_view message);
  void log_access(const Response& resp, std::uint64_t bytes);
  void flush_out();

  HttpServerState& server_;
  net::Stream& s_;
  HeadParser parser_;
  Request req_;
  BodyDecoder body_;
  std::size_t pending_consume_ = 0;  // body data handed out by read_chunk, consumed next call
  bool eof_ = false;
  bool continue_sent_ = false;
  bool body_cached_ = false;
  std::string body_cache_;
  std::string out_;
  std::size_t batched_ = 0;  // responses in out_
  std::string remote_;
  eddy::detail::ScopeGuard* idle_scope_ = nullptr;
  bool stop_requested_ = false;
  std::function<void()> shutdown_hook_;
};

}  // namespace eddy::http::detail
