// The server's per-connection loop (see connection.hpp).
#include "connection.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <charconv>
#include <ctime>

#include "eddy/http/date.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/status.hpp"
#include "file_response.hpp"
#include "gzip.hpp"
#include "net/stream_core.hpp"

namespace eddy::http::detail {
namespace {

constexpr std::size_t kBatchBytes = 64 * 1024;  // pipelined responses held before a send
constexpr std::size_t kBatchCount = 32;
constexpr std::uint64_t kMaxDiscard = 256 * 1024;  // unread body we read past; more: close

// "Date: Tue, 01 Dec 2026 10:00:00 GMT\r\n", formatted once a second per thread.
std::string_view date_line() {
  struct Cache {
    std::time_t sec = -1;
    std::string line;
  };
  thread_local Cache cache;
  std::time_t now = std::time(nullptr);
  if (now != cache.sec) {
    cache.sec = now;
    cache.line = "Date: " + format_http_date(std::chrono::system_clock::from_time_t(now)) + "\r\n";
  }
  return cache.line;
}

std::string_view status_line(int status) {
  switch (status) {
    case 200:
      return "HTTP/1.1 200 OK\r\n";
    case 201:
      return "HTTP/1.1 201 Created\r\n";
    case 204:
      return "HTTP/1.1 204 No Content\r\n";
    case 304:
      return "HTTP/1.1 304 Not Modified\r\n";
    case 400:
      return "HTTP/1.1 400 Bad Request\r\n";
    case 404:
      return "HTTP/1.1 404 Not Found\r\n";
    default:
      return {};
  }
}

void append_number(std::string& out, std::uint64_t n) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, static_cast<std::size_t>(r.ptr - buf));
}

bool body_allowed(int status) {
  return status >= 200 && status != 204 && status != 304;
}

// Framing the app must not set itself: the connection owns it.
bool framing_field(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Connection");
}

}  // namespace

Connection::Connection(HttpServerState& server, net::Stream& stream)
    : server_(server), s_(stream), parser_(server.opts.limits) {
  next = server_.conns;
  if (next) next->prev = this;
  server_.conns = this;
}

Connection::~Connection() {
  if (prev)
    prev->next = next;
  else
    server_.conns = next;
  if (next) next->prev = prev;
}

void Connection::stop_if_idle() noexcept {
  stop_requested_ = true;
  if (idle_scope_) idle_scope_->cancel();
  if (shutdown_hook_) std::exchange(shutdown_hook_, nullptr)();
}

const std::string& Connection::remote() {
  if (remote_.empty()) {
    try {
      remote_ = s_.peer_address().to_string();
    } catch (const std::exception&) {
      remote_ = "-";
    }
  }
  return remote_;
}

void Connection::flush_out() {
  if (out_.empty()) return;
  s_.write(out_);
  out_.clear();
  batched_ = 0;
}

// Waits for more input. `idle`: nothing of a request has arrived, so shutdown may end the
// wait. Responses held for batching go out first: the peer may be waiting for them.
Task<Connection::Wait> Connection::wait_bytes(TimePoint deadline, bool idle) {
  flush_out();
  if (idle && stop_requested_) co_return Wait::stopped;
  eddy::detail::ScopeGuard scope(deadline, false);
  if (idle) idle_scope_ = &scope;
  bool got = false;
  try {
    // Stream::fill written out, so that this frame does the waiting: a coroutine frame
    // less per message (this is the stream's only reader).
    if (net::detail::StreamCore* sc = s_.core()) {
      long n;
      do {
        n = co_await sc->fill();
      } while (n < 0);
      got = n > 0;
    }
  } catch (const Cancelled&) {
    idle_scope_ = nullptr;
    if (!eddy::detail::cancelled_by(scope)) throw;
    co_return stop_requested_&& idle ? Wait::stopped : Wait::timeout;
  }
  idle_scope_ = nullptr;
  co_return got ? Wait::bytes : Wait::eof;
}

// The rest of a head that is not all buffered yet: 0 when the connection should just close.
Task<std::size_t> Connection::read_head_slow(bool first) {
  const ServerOptions& o = server_.opts;
  TimePoint started = now();
  bool partial = !s_.buffered().empty();
  for (;;) {
    bool idle = s_.buffered().empty();
    if (!idle && !partial) {
      partial = true;
      started = now();  // the header timeout runs from a request's first byte
    }
    TimePoint deadline = idle ? started + (first ? o.header_timeout : o.keepalive_timeout)
                              : started + o.header_timeout;
    Wait w = co_await wait_bytes(deadline, idle);
    if (w == Wait::timeout && partial) {
      reply_error(Status::request_timeout, "timed out reading the request head");
      co_return 0;
    }
    if (w != Wait::bytes) co_return 0;  // EOF (mid-head: nothing to answer), idle, shutdown
    if (std::size_t n = parser_.parse_request(s_.buffered(), req_.head())) co_return n;
  }
}

void Connection::reply_error(int status, std::string_view message) {
  Response r(status, std::string(message.empty() ? reason_phrase(status) : message));
  serialize(r, false, false, Framing::length);
  flush_out();
}

Task<> Connection::run() {
  bool first = true;
  for (;;) {
    std::size_t head_len = 0;
    int error = 0;
    std::string error_text;
    try {
      pending_consume_ = 0;
      head_len = parser_.parse_request(s_.buffered(), req_.head());
      if (!head_len) head_len = co_await read_head_slow(first);
    } catch (const ProtocolError& e) {
      error = e.status();
      error_text = e.what();
    }
    if (error) {
      reply_error(error, error_text);
      co_return;
    }
    if (!head_len) co_return;
    first = false;
    s_.consume(head_len);

    Request& req = req_;
    req.bind(this, server_.app);
    body_ = BodyDecoder(req.head().body, req.head().content_length, server_.opts.limits,
                        server_.opts.max_body_size);
    eof_ = false;
    continue_sent_ = false;
    body_cached_ = false;
    body_cache_.clear();
    bool head_only = req.method() == "HEAD";
    if (batched_ >= kBatchCount || out_.size() >= kBatchBytes) flush_out();

    Response resp = co_await respond(req);

    bool keep = req.keep_alive() && !server_.shutting_down && !req.body_failed();
    if (auto c = resp.headers.get("Connection"); c && has_token(*c, "close")) keep = false;
    if (keep && !body_.done()) keep = co_await discard_body();
    if (pending_consume_) {
      s_.consume(pending_consume_);
      pending_consume_ = 0;
    }
    if (resp.upgrade_fn && resp.status == 101) {
      co_await run_upgrade(resp);
      co_return;
    }
    if (resp.stream_fn) {
      co_await send_stream(resp, keep, head_only);
    } else if (!resp.file_path.empty()) {
      co_await send_file(resp, keep, head_only);
    } else {
      if (resp.compress) compress_body(resp);
      serialize(resp, keep, head_only, Framing::length);
      ++batched_;
      if (server_.opts.access_log) log_access(resp, head_only ? 0 : resp.body.size());
    }
    if (!keep) {
      flush_out();
      co_return;  // net::serve flushes what is queued and closes
    }
    if (s_.write_buffer_size() > s_.limits().write_high_water) {
      flush_out();
      co_await s_.drain();
    }
  }
}

Task<Response> Connection::respond(Request& req) {
  int bad = 0;
  try {
    req.prepare();
  } catch (const HttpException& e) {
    bad = e.status();
  }
  if (bad) {
    req.set_body_failed();  // do not trust the rest of the stream either
    co_return Response(bad, std::string(reason_phrase(bad)));
  }
  auto limit = server_.opts.handler_timeout;
  if (limit.count() == 0) co_return co_await server_.app->handle(req);
  std::optional<Response> r = co_await move_on_after(limit, server_.app->handle(req));
  if (r) co_return std::move(*r);
  req.set_body_failed();  // the body may be half read
  co_return Response(Status::service_unavailable, "handler timed out");
}

void Connection::send_continue() {
  if (continue_sent_ || !req_.head().expect_continue) return;
  continue_sent_ = true;
  out_.append("HTTP/1.1 100 Continue\r\n\r\n");
  flush_out();
}

Task<std::string_view> Connection::read_chunk() {
  if (pending_consume_) {
    s_.consume(pending_consume_);
    pending_consume_ = 0;
  }
  if (body_.done()) co_return std::string_view();
  send_continue();
  for (;;) {
    BodyDecoder::Step step;
    std::exception_ptr failed;
    try {
      step = body_.next(s_.buffered(), eof_);
    } catch (const ProtocolError&) {
      failed = std::current_exception();
    }
    if (failed) {
      req_.set_body_failed();
      std::rethrow_exception(failed);
    }
    if (step.consumed) {
      if (!step.data.empty()) {
        pending_consume_ = step.consumed;
        co_return step.data;
      }
      s_.consume(step.consumed);
      if (body_.done()) co_return std::string_view();
      continue;
    }
    if (body_.done()) co_return std::string_view();
    Wait w = co_await wait_bytes(eddy::detail::deadline_after(server_.opts.body_timeout), false);
    if (w == Wait::timeout) {
      req_.set_body_failed();
      throw ProtocolError(Status::request_timeout, "timed out reading the request body");
    }
    if (w == Wait::eof) eof_ = true;
  }
}

Task<std::string> Connection::read_body() {
  if (body_cached_) co_return body_cache_;
  std::uint64_t limit = server_.opts.client_max_size;
  if (auto len = req_.content_length(); len && *len > limit) {
    req_.set_body_failed();
    throw ProtocolError(Status::content_too_large, "request body larger than client_max_size");
  }
  std::string out;
  if (auto len = req_.content_length()) out.reserve(static_cast<std::size_t>(*len));
  for (;;) {
    std::string_view piece = co_await read_chunk();
    if (piece.empty()) break;
    if (out.size() + piece.size() > limit) {
      req_.set_body_failed();
      throw ProtocolError(Status::content_too_large, "request body larger than client_max_size");
    }
    out.append(piece);
  }
  body_cached_ = true;
  body_cache_ = out;
  co_return out;
}

// Reads past a body the handler did not read, so the next request can be parsed. False: the
// connection should close instead (too much of it, too slow, malformed, or a client waiting
// for a 100 Continue that never came and so might never send it).
Task<bool> Connection::discard_body() {
  if (req_.head().expect_continue && !continue_sent_) co_return false;
  std::uint64_t start = body_.received();
  bool ok = true;
  try {
    while (body_.received() - start <= kMaxDiscard) {
      if ((co_await read_chunk()).empty()) break;
    }
  } catch (const Cancelled&) {
    throw;
  } catch (...) {
    ok = false;
  }
  co_return ok&& body_.done();
}

void Connection::serialize(const Response& resp, bool keep, bool head_only, Framing framing,
                           const std::uint64_t* length) {
  std::string& o = out_;
  std::string_view line = resp.reason.empty() ? status_line(resp.status) : std::string_view();
  if (!line.empty()) {
    o.append(line);
  } else {
    o.append("HTTP/1.1 ");
    append_number(o, static_cast<std::uint64_t>(resp.status));
    o.push_back(' ');
    o.append(resp.reason.empty() ? reason_phrase(resp.status) : resp.reason);
    o.append("\r\n");
  }
  bool own_date = false, own_server = false;
  for (auto [name, value] : resp.headers) {
    if (framing_field(name)) continue;
    if (name.size() == 4 && iequals(name, "Date")) own_date = true;
    if (name.size() == 6 && iequals(name, "Server")) own_server = true;
    o.append(name);
    o.append(": ");
    o.append(value);
    o.append("\r\n");
  }
  if (!own_date) o.append(date_line());
  if (!own_server) o.append(server_.server_line);
  bool has_body = body_allowed(resp.status);
  if (framing == Framing::chunked) {
    o.append("Transfer-Encoding: chunked\r\n");
  } else if (has_body && framing == Framing::length) {
    o.append("Content-Length: ");
    append_number(o, length ? *length : resp.body.size());
    o.append("\r\n");
  }
  if (resp.status == 101)
    o.append("Connection: Upgrade\r\n");
  else if (!keep)
    o.append("Connection: close\r\n");
  else if (req_.version_minor() == 0)
    o.append("Connection: keep-alive\r\n");
  o.append("\r\n");
  if (has_body && !head_only && framing == Framing::length && !length) o.append(resp.body);
}

// 101: the head goes out, then the stream is the upgrade's (a WebSocket) until it returns.
// Bytes the client sent after the head stay buffered for it.
Task<> Connection::run_upgrade(Response& resp) {
  serialize(resp, true, false, Framing::length);
  flush_out();
  if (server_.opts.access_log) log_access(resp, 0);
  Response::UpgradeFn fn = std::move(resp.upgrade_fn);
  co_await fn(s_);
  shutdown_hook_ = nullptr;
}

namespace {
// The body of a Response::stream, chunked for HTTP/1.1 (HTTP/1.0 has no chunking: the body
// then ends when the connection closes).
class ChunkWriter final : public BodyWriter {
 public:
  ChunkWriter(net::Stream& s, bool chunked, bool gzip) : s_(s), chunked_(chunked) {
    if (gzip) gz_ = std::make_unique<GzipStream>();
  }
  Task<> write(std::string_view data) override {
    if (data.empty()) co_return;
    if (!gz_) {
      co_await send(data);
      co_return;
    }
    std::string z = gz_->write(data, true);  // flushed: each write reaches the client now
    co_await send(z);
  }
  Task<> flush() override { co_await s_.flush(); }
  // The gzip trailer, then the last chunk.
  void finish() {
    if (gz_) {
      std::string z = gz_->finish();
      queue(z);
    }
    if (chunked_) s_.write(std::string_view("0\r\n\r\n"));
  }
  std::uint64_t bytes = 0;

 private:
  Task<> send(std::string_view data) {
    queue(data);
    co_await s_.drain();
  }
  void queue(std::string_view data) {
    if (data.empty()) return;  // an empty chunk would end the body
    bytes += data.size();
    if (chunked_) {
      char size[20];
      auto r = std::to_chars(size, size + sizeof size - 2, data.size(), 16);
      *r.ptr++ = '\r';
      *r.ptr++ = '\n';
      std::string_view pieces[3] = {{size, static_cast<std::size_t>(r.ptr - size)}, data, "\r\n"};
      s_.write(pieces);
    } else {
      s_.write(data);
    }
  }

  net::Stream& s_;
  bool chunked_;
  std::unique_ptr<GzipStream> gz_;
};
}  // namespace

Task<> Connection::send_stream(Response& resp, bool& keep, bool head_only) {
  bool chunked = req_.version_minor() >= 1 && body_allowed(resp.status);
  if (!chunked) keep = false;
  bool gz = wants_gzip(resp);
  serialize(resp, keep, head_only, chunked ? Framing::chunked : Framing::close);
  flush_out();
  if (head_only || !body_allowed(resp.status)) co_return;
  ChunkWriter w(s_, chunked, gz);
  std::exception_ptr failed;
  try {
    co_await resp.stream_fn(w);
  } catch (const Cancelled&) {
    throw;
  } catch (...) {
    failed = std::current_exception();
  }
  if (server_.opts.access_log) log_access(resp, w.bytes);
  if (failed) {
    // The head is out: no status can say it failed. Closing without the last chunk tells
    // the client the body is incomplete.
    try {
      std::rethrow_exception(failed);
    } catch (const std::exception& e) {
      fmt::print(stderr, "eddy.http: streamed response to \"{} {}\" failed: {}\n", req_.method(),
                 req_.target(), e.what());
    } catch (...) {
    }
    keep = false;
    s_.abort();
    co_return;
  }
  w.finish();
}

bool Connection::wants_gzip(Response& resp) {
  if (!resp.compress || !body_allowed(resp.status) || resp.headers.contains("Content-Encoding"))
    return false;
  // Whatever the answer, caches must know it depended on Accept-Encoding.
  resp.headers.add("Vary", "Accept-Encoding");
  if (!accepts_gzip(req_.headers().get_or("Accept-Encoding", ""))) return false;
  resp.headers.add("Content-Encoding", "gzip");
  return true;
}

void Connection::compress_body(Response& resp) {
  if (wants_gzip(resp)) resp.body = gzip(resp.body);
}

Task<> Connection::send_file(Response& resp, bool& keep, bool head_only) {
  auto ct = resp.headers.get("Content-Type");
  FilePlan plan = plan_file(req_, resp.file_path, ct ? std::string(*ct) : std::string());
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) ::close(fd);
    }
  } closer{plan.fd};
  Response out(plan.status);
  for (auto [n, v] : resp.headers)
    if (!iequals(n, "Content-Type")) out.headers.add(n, v);
  for (auto [n, v] : plan.headers) out.headers.add(n, v);
  if (plan.fd < 0) {  // 304, 404, 412, 416: a small answer of our own
    if (plan.status != 304) out.body = std::string(reason_phrase(plan.status));
    serialize(out, keep, head_only, Framing::length);
    if (server_.opts.access_log) log_access(out, head_only ? 0 : out.body.size());
    co_return;
  }
  serialize(out, keep, head_only, Framing::length, &plan.length);
  flush_out();
  if (!head_only) co_await s_.send_file(plan.fd, plan.offset, plan.length);
  if (server_.opts.access_log) log_access(out, head_only ? 0 : plan.length);
}

void Connection::log_access(const Response& resp, std::uint64_t bytes) {
  // The common log format with referer and user agent (aiohttp's default access log).
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::string line = fmt::format(
      "{} - - [{:02}/{}/{}:{:02}:{:02}:{:02} +0000] \"{} {} HTTP/1.{}\" {} {} \"{}\" \"{}\"",
      remote(), tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec,
      req_.method(), req_.target(), req_.version_minor(), resp.status, bytes,
      req_.headers().get_or("Referer", "-"), req_.headers().get_or("User-Agent", "-"));
  if (server_.opts.access_log_writer)
    server_.opts.access_log_writer(line);
  else
    fmt::print(stderr, "{}\n", line);
}

}  // namespace eddy::http::detail

namespace eddy::http {

Task<std::string> Request::body() {
  if (!conn_) co_return std::string();
  co_return co_await conn_->read_body();
}

void Request::on_shutdown(std::function<void()> fn) {
  if (conn_) conn_->on_shutdown(std::move(fn));
}

Task<std::string_view> Request::read_chunk() {
  if (!conn_) co_return std::string_view();
  co_return co_await conn_->read_chunk();
}

const Headers& Request::trailers() const noexcept {
  static const Headers kNone;
  return conn_ ? conn_->trailers() : kNone;
}

const std::string& Request::remote() const {
  static const std::string kUnknown = "-";
  return conn_ ? conn_->remote() : kUnknown;
}

}  // namespace eddy::http
