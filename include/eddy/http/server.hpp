// The HTTP/1.1 server: http::App (aiohttp's web.Application) and how to run it.
//
//   http::App app;
//   app.get("/", [](http::Request&) -> Task<http::Response> {
//     co_return http::Response::text("Hello, World!");
//   });
//   app.get("/users/{id}", get_user);                 // req.match("id")
//   app.get("/static/{path:.*}", serve_static);       // a tail wildcard: the rest of the path
//   app.use(http::middleware::access_control("*"));   // middleware wraps every handler
//   app.on_startup([](http::App& a) -> Task<> { a.emplace<Db>(co_await Db::connect()); co_return;
//   }); http::run_app(app, {.port = 8080});               // until SIGINT/SIGTERM, then graceful
//
// Routing: the method and the percent-decoded path pick the handler; a path that matches
// with another method gets 405 with Allow, no match 404. GET routes answer HEAD too (the body
// is left out). Sub-applications mount under a prefix with their own middleware.
//
// Connections: keep-alive and pipelining (responses in request order, written in batches),
// a cached Date header, Expect: 100-continue answered when the handler first reads the body.
// Timeouts: `header_timeout` from a request's first byte to its blank line (slowloris gets
// 408 and is closed), `keepalive_timeout` for an idle connection, `body_timeout` for each
// wait for body bytes, and an optional `handler_timeout` (503 when it passes).
// A handler that throws HttpException answers with its status; any other exception is
// logged with the request line and answered 500, and the connection stays open when the
// request was read completely. Bad requests never reach handlers: they get 400/413/414/431/
// 501/505 and the connection closes.
// Shutdown (SIGINT/SIGTERM under run_app, or Server::shutdown): stop accepting, close idle
// connections, let requests in flight finish within `shutdown_timeout` (each answered with
// Connection: close), cancel what is left, then run the cleanup hooks.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <typeindex>
#include <unordered_map>
#include <vector>

#include "eddy/http/message.hpp"
#include "eddy/http/parser.hpp"
#include "eddy/http/websocket.hpp"
#include "eddy/net/tcp.hpp"
#include "eddy/task.hpp"

namespace eddy::http {

using Handler = std::function<Task<Response>(Request&)>;
// Middleware gets the request and the next handler in the chain; it may answer itself,
// change the request, or call `next(req)` and change the response.
using Middleware = std::function<Task<Response>(Request&, const Handler& next)>;
using Hook = std::function<Task<>(App&)>;

namespace detail {
struct Router;
}

struct StaticOptions {
  StaticOptions() noexcept {}
  std::string index_file{};  // served for a directory if present ("index.html"); empty: none
  bool show_index = false;   // list a directory's entries (dot-files left out), as aiohttp does
};

class App {
 public:
  App();
  ~App();
  App(App&&) noexcept;
  App& operator=(App&&) noexcept;

  App& route(std::string_view method, std::string_view pattern, Handler handler);
  App& get(std::string_view pattern, Handler h) { return route("GET", pattern, std::move(h)); }
  App& post(std::string_view pattern, Handler h) { return route("POST", pattern, std::move(h)); }
  App& put(std::string_view pattern, Handler h) { return route("PUT", pattern, std::move(h)); }
  App& patch(std::string_view pattern, Handler h) { return route("PATCH", pattern, std::move(h)); }
  App& del(std::string_view pattern, Handler h) { return route("DELETE", pattern, std::move(h)); }
  // A WebSocket endpoint: GET `pattern` with a valid handshake is answered 101 and
  // `handler` runs on the open socket (see eddy/http/websocket.hpp); anything else is 400.
  App& ws(std::string_view pattern, WsHandler handler, WebSocketOptions options = {});
  // Every method not routed otherwise for this pattern.
  App& any(std::string_view pattern, Handler h) { return route("*", pattern, std::move(h)); }
  // Serves the files under `directory` at `prefix` ("/static/app.js" -> directory/app.js), for
  // GET and HEAD, as Response::file does (ETag, 304, ranges, sendfile). A path that would
  // leave the directory (.., a symlink pointing out) or names a dot-file is 404. A directory
  // (see StaticOptions) is redirected to its name with a trailing slash, then answered with
  // its index file or, with show_index, an HTML listing; otherwise 404.
  App& add_static(std::string_view prefix, std::string directory, StaticOptions options = {});
  // Mounts `sub` under `prefix` ("/api"): its patterns are taken below the prefix and its
  // middleware wraps only its own routes (inside this app's); its hooks and state join this
  // app's, so handlers reach them through req.app() as usual.
  App& add_subapp(std::string_view prefix, App sub);

  // Middleware runs in the order added: the first added is the outermost.
  App& use(Middleware m);
  App& on_startup(Hook h);
  App& on_cleanup(Hook h);

  // App state, one object per type (a database pool, a cache): set it in a startup hook,
  // reach it from handlers as req.app().get<T>().
  template <class T, class... Args>
  T& emplace(Args&&... args) {
    auto p = std::make_shared<T>(std::forward<Args>(args)...);
    T& ref = *p;
    state_[std::type_index(typeid(T))] = std::move(p);
    return ref;
  }
  template <class T>
  T& get() const {
    auto it = state_.find(std::type_index(typeid(T)));
    if (it == state_.end()) throw std::out_of_range("eddy::http::App has no state of that type");
    return *std::static_pointer_cast<T>(it->second);
  }
  template <class T>
  T* find() const noexcept {
    auto it = state_.find(std::type_index(typeid(T)));
    return it == state_.end() ? nullptr : static_cast<T*>(it->second.get());
  }

  // Runs the request through middleware and routing (what the server calls; also handy in
  // tests that need no socket). An HttpException becomes its response; any other exception
  // is logged with the request line and becomes a 500.
  Task<Response> handle(Request& req);
  // Where handler failures are logged (default: a line on stderr).
  App& on_error(std::function<void(const Request&, std::exception_ptr)> log);
  Task<> startup();
  Task<> cleanup();
  // Builds the routing tables and middleware chains; routes cannot be added afterwards.
  void freeze();

 private:
  std::unique_ptr<detail::Router> router_;
  std::function<void(const Request&, std::exception_ptr)> on_error_;
  std::vector<Hook> startup_, cleanup_;
  std::unordered_map<std::type_index, std::shared_ptr<void>> state_;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // "" or "::" for every interface
  std::uint16_t port = 8080;       // 0: a free port (Server::port() says which)
  // Loops on as many threads, sharing the port with SO_REUSEPORT (run_app with a factory).
  int workers = 1;
  std::size_t max_connections = 0;  // 0: unlimited; at the limit the server stops accepting
  ParseLimits limits{};
  std::uint64_t client_max_size = 1 << 20;   // body()/json()/form(): more is 413
  std::uint64_t max_body_size = 1ull << 32;  // read_chunk() streaming: more is 413
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds keepalive_timeout{75'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds handler_timeout{0};  // 0: none
  std::chrono::milliseconds shutdown_timeout{30'000};
  // A line per request in the common log format with referer and user agent (aiohttp's
  // default): `127.0.0.1:5123 - - [30/Nov/2026:19:40:00 +0000] "GET / HTTP/1.1" 200 13 "-"
  // "curl/7.88.1"`. Off by default (it costs a write per request). `access_log_writer`
  // receives each line (without the newline); unset: stderr.
  bool access_log = false;
  std::function<void(std::string_view line)> access_log_writer{};
  std::string server_header = "eddy";  // the Server field; empty: none
  int backlog = 1024;
  bool reuse_port = false;
  // Serve HTTPS: net::TlsContext::server({.cert_file = ..., .key_file = ..., .alpn =
  // {"http/1.1"}}).
  net::TlsContext tls{};
  std::chrono::milliseconds tls_handshake_timeout{10'000};
};

namespace detail {
struct HttpServerState;
}

// A running server: serve() starts it and returns at once (the app's startup hooks have run).
class Server {
 public:
  Server() noexcept;
  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  ~Server();

  std::uint16_t port() const;
  std::size_t connections() const noexcept;
  // Graceful stop (see the header comment); then the cleanup hooks. Idempotent.
  Task<> shutdown();
  // Until shutdown() finishes; cancelling the waiting task shuts the server down first.
  Task<> serve_forever();

  explicit Server(std::shared_ptr<detail::HttpServerState> s) noexcept;

 private:
  std::shared_ptr<detail::HttpServerState> s_;
};

// Starts serving `app` (which must outlive the server) on this thread's loop.
Task<Server> serve(App& app, ServerOptions options = {});
// Serves on a listener the caller made (workers, inherited sockets, tests).
Task<Server> serve(App& app, net::Listener listener, ServerOptions options = {});

// Runs a loop serving `app` until SIGINT or SIGTERM, then shuts down gracefully.
void run_app(App& app, ServerOptions options = {});
// With options.workers loops on as many threads, each with its own App from `make_app`
// (apps hold per-loop state such as connection pools).
void run_app(const std::function<App()>& make_app, ServerOptions options = {});

}  // namespace eddy::http
