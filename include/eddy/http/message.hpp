// Request and Response: what an http::App handler receives and returns (aiohttp's
// web.Request and web.Response).
//
//   app.get("/users/{id}", [](http::Request& req) -> Task<http::Response> {
//     auto id = req.match("id");                       // from the route pattern
//     auto verbose = req.query().get("verbose");       // ?verbose=1
//     if (!req.header("Authorization")) throw http::HttpException(401);
//     co_return http::Response::json({{"id", id}});
//   });
//   app.post("/users", [](http::Request& req) -> Task<http::Response> {
//     nlohmann::json user = co_await req.json();       // 400 if it is not JSON, 413 if too big
//     co_return http::Response::json(user, 201);
//   });
//
// A Request lives for one exchange on its connection: views it returns (headers, path,
// match values, read_chunk's data) are valid until the handler's Task finishes. The body is
// read on demand: body()/text()/json()/form() buffer all of it (up to
// ServerOptions::client_max_size, else 413), read_chunk() streams it piece by piece. A body
// the handler leaves unread is discarded (or the connection closed if it is large).
#pragma once

#include <any>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eddy/http/headers.hpp"
#include "eddy/http/parser.hpp"
#include "eddy/http/url.hpp"
#include "eddy/task.hpp"

namespace eddy::net {
class Stream;
}

namespace eddy::http {

class App;
class Response;
struct SetCookie;

namespace detail {
class Connection;
struct Router;
}  // namespace detail

class Request {
 public:
  Request();
  ~Request();
  Request(const Request&) = delete;
  Request& operator=(const Request&) = delete;

  std::string_view method() const noexcept { return head_.method(); }
  std::string_view target() const noexcept { return head_.target(); }  // as sent
  // The path, percent-decoded ("/a b" for "/a%20b"); raw_path() as sent.
  std::string_view path() const noexcept { return path_; }
  std::string_view raw_path() const noexcept { return raw_path_; }
  std::string_view query_string() const noexcept { return query_string_; }
  const QueryParams& query() const;  // parsed on first use
  int version_minor() const noexcept { return head_.version_minor; }
  bool keep_alive() const noexcept { return head_.keep_alive; }

  const Headers& headers() const noexcept { return head_.headers; }
  std::optional<std::string_view> header(std::string_view name) const noexcept {
    return head_.headers.get(name);
  }
  std::string_view host() const noexcept { return head_.headers.get_or("Host", ""); }
  std::string_view content_type() const noexcept;  // without parameters ("; charset=...")
  std::optional<std::string_view> cookie(std::string_view name) const;
  // The peer's address, "ip:port" (or the socket path for Unix sockets).
  const std::string& remote() const;

  // A `{name}` segment of the matched route ("" if the route has none of that name).
  std::string_view match(std::string_view name) const noexcept;
  const std::vector<std::pair<std::string, std::string>>& match_info() const noexcept {
    return match_;
  }
  App& app() const noexcept { return *app_; }

  // Values middleware hands on to handlers (aiohttp's request["user"]).
  void set(std::string key, std::any value) { values_[std::move(key)] = std::move(value); }
  template <class T>
  T* get(std::string_view key) {
    auto it = values_.find(key);
    return it == values_.end() ? nullptr : std::any_cast<T>(&it->second);
  }

  // --- the body
  bool has_body() const noexcept { return head_.body != BodyKind::none; }
  std::optional<std::uint64_t> content_length() const noexcept;
  Task<std::string> body();  // all of it
  Task<std::string> text() { return body(); }
  Task<nlohmann::json> json();  // 400 if it does not parse
  // application/x-www-form-urlencoded (multipart/form-data: see eddy/http/multipart.hpp).
  Task<QueryParams> form();
  // The next piece of the body as it arrives; empty once it has all been read. The view is
  // valid until the next call.
  Task<std::string_view> read_chunk();
  const Headers& trailers() const noexcept;
  // For long-lived answers (WebSockets, event streams): `fn` runs once, synchronously, when
  // the server begins a graceful shutdown, so the handler can say goodbye and return.
  void on_shutdown(std::function<void()> fn);

  // For the server and tests.
  RequestHead& head() noexcept { return head_; }
  const RequestHead& head() const noexcept { return head_; }
  void bind(detail::Connection* conn, App* app) noexcept {
    conn_ = conn;
    app_ = app;
  }
  bool has_app() const noexcept { return app_ != nullptr; }
  void set_app(App* app) noexcept { app_ = app; }
  // Whether reading the body failed (malformed, too large, too slow): the answer is the
  // error's status and the connection closes.
  bool body_failed() const noexcept { return body_failed_; }
  void set_body_failed() noexcept { body_failed_ = true; }
  // Sets path, query and the rest from head(); throws HttpException(400) on a bad target.
  void prepare();
  std::vector<std::pair<std::string, std::string>>& match_info_mut() noexcept { return match_; }

 private:
  RequestHead head_;
  std::string_view raw_path_, query_string_, path_;
  std::string decoded_path_;
  mutable std::optional<QueryParams> query_;
  mutable std::optional<std::vector<std::pair<std::string_view, std::string_view>>> cookies_;
  std::vector<std::pair<std::string, std::string>> match_;
  std::string allow_;  // for a 405: the methods the path has routes for
  friend struct detail::Router;
  std::map<std::string, std::any, std::less<>> values_;
  detail::Connection* conn_ = nullptr;
  App* app_ = nullptr;
  bool body_failed_ = false;
};

// Writes a streamed response's body over time (Response::stream).
class BodyWriter {
 public:
  virtual ~BodyWriter() = default;
  // Sends `data` as one chunk and waits for the socket when the client reads slowly.
  virtual Task<> write(std::string_view data) = 0;
  // Makes sure what was written so far is on the wire (server-sent events flush each event).
  virtual Task<> flush() = 0;
};

class Response {
 public:
  using StreamFn = std::function<Task<>(BodyWriter&)>;
  using UpgradeFn = std::function<Task<>(net::Stream&)>;

  Response() = default;
  explicit Response(int status_code) : status(status_code) {}
  Response(int status_code, std::string body_text,
           std::string_view content_type = "text/plain; charset=utf-8");

  static Response text(std::string body, int status = 200);
  static Response html(std::string body, int status = 200);
  static Response json(const nlohmann::json& value, int status = 200);
  static Response bytes(std::string body,
                        std::string_view content_type = "application/octet-stream",
                        int status = 200);
  static Response redirect(std::string_view location, int status = 302);
  // A body produced over time, sent chunked: `fn` runs after the head is sent.
  static Response stream(StreamFn fn, std::string_view content_type = "application/octet-stream",
                         int status = 200);
  // Server-sent events: text/event-stream, no caching; `fn` writes "data: ...\n\n" events.
  static Response event_stream(StreamFn fn);
  // The file at `path`, sent with sendfile(2) when it is sent: Content-Type from the
  // extension (unless given), ETag and Last-Modified, conditional requests (If-None-Match,
  // If-Modified-Since -> 304; If-Match, If-Unmodified-Since -> 412), a single byte Range
  // (206, or 416 when unsatisfiable). 404 if it is missing or not a regular file.
  static Response file(std::string path, std::string_view content_type = {});

  void set_cookie(const SetCookie& cookie);
  void delete_cookie(std::string_view name, std::string_view path = "/");

  int status = 200;
  std::string reason;  // empty: the standard phrase
  Headers headers;
  std::string body;
  // gzip the body (or a stream, write by write) if the request's Accept-Encoding allows it
  // (aiohttp's enable_compression). Files are sent as they are.
  bool compress = false;
  // What kind of body this is (for the server).
  StreamFn stream_fn;
  std::string file_path;
  // 101 Switching Protocols (websocket_upgrade makes these): once the head is sent, the
  // connection's stream belongs to `upgrade_fn` until it returns; then the connection closes.
  UpgradeFn upgrade_fn;
};

}  // namespace eddy::http
