// http::serve, http::Server and run_app: wiring an App to net::serve, graceful shutdown,
// and SO_REUSEPORT workers.
#include <fmt/format.h>
#include <signal.h>

#include <future>
#include <thread>

#include "connection.hpp"
#include "eddy/group.hpp"
#include "eddy/http/server.hpp"
#include "eddy/runtime.hpp"
#include "eddy/signal.hpp"

namespace eddy::http {
namespace {

net::ServeOptions net_options(const ServerOptions& o) {
  net::ServeOptions so;
  so.backlog = o.backlog;
  so.reuse_port = o.reuse_port || o.workers > 1;
  so.max_connections = o.max_connections;
  // After the last response, what is queued gets this long to reach a slow client.
  so.close_timeout = o.body_timeout;
  so.tls = o.tls;
  so.tls_handshake_timeout = o.tls_handshake_timeout;
  return so;
}

std::shared_ptr<detail::HttpServerState> make_state(App& app, const ServerOptions& o) {
  auto st = std::make_shared<detail::HttpServerState>();
  st->app = &app;
  st->opts = o;
  if (!o.server_header.empty()) st->server_line = "Server: " + o.server_header + "\r\n";
  return st;
}

net::ConnectionHandler connection_handler(detail::HttpServerState* st) {
  return [st](net::Stream& s) -> Task<> {
    detail::Connection c(*st, s);
    co_await c.run();
  };
}

}  // namespace

Server::Server() noexcept = default;
Server::Server(std::shared_ptr<detail::HttpServerState> s) noexcept : s_(std::move(s)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&&) noexcept = default;
Server::~Server() = default;

std::uint16_t Server::port() const {
  return s_->net.port();
}
std::size_t Server::connections() const noexcept {
  return s_ ? s_->net.connections() : 0;
}

Task<> Server::shutdown() {
  auto st = s_;
  if (!st) co_return;
  if (st->shutting_down) {
    co_await st->done.wait();
    co_return;
  }
  st->shutting_down = true;
  st->net.close();
  for (detail::Connection* c = st->conns; c; c = c->next) c->stop_if_idle();
  bool finished = co_await move_on_after(st->opts.shutdown_timeout, st->net.wait_closed());
  if (!finished) co_await st->net.shutdown(std::chrono::milliseconds(0));
  std::exception_ptr cleanup_failed;
  try {
    co_await st->app->cleanup();
  } catch (const Cancelled&) {
    throw;
  } catch (...) {
    cleanup_failed = std::current_exception();
  }
  st->done.set();
  if (cleanup_failed) std::rethrow_exception(cleanup_failed);
}

Task<> Server::serve_forever() {
  auto st = s_;
  bool cancelled = false;
  try {
    co_await st->done.wait();
  } catch (const Cancelled&) {
    cancelled = true;
  }
  if (cancelled) {
    co_await shield(shutdown());
    throw Cancelled{};
  }
}

Task<Server> serve(App& app, ServerOptions options) {
  co_await app.startup();
  auto st = make_state(app, options);
  net::ConnectionHandler handler = connection_handler(st.get());
  net::ServeOptions so = net_options(options);
  st->net = co_await net::serve(std::move(handler), options.host, options.port, so);
  co_return Server(std::move(st));
}

Task<Server> serve(App& app, net::Listener listener, ServerOptions options) {
  co_await app.startup();
  auto st = make_state(app, options);
  std::vector<net::Listener> ls;
  ls.push_back(std::move(listener));
  st->net = net::serve_listeners(connection_handler(st.get()), std::move(ls), net_options(options));
  co_return Server(std::move(st));
}

namespace {

// Until SIGINT or SIGTERM.
Task<> wait_for_stop(Event& stop) {
  TaskGroup tg;
  tg.spawn([&stop]() -> Task<> {
    co_await eddy::signal(SIGINT);
    stop.set();
  });
  tg.spawn([&stop]() -> Task<> {
    co_await eddy::signal(SIGTERM);
    stop.set();
  });
  co_await stop.wait();
  tg.cancel();
  co_await tg.join();
}

struct Worker {
  LoopHandle loop;
  Event* stop = nullptr;
};

void banner(const ServerOptions& o, std::uint16_t port) {
  fmt::print("======== Running on http://{}:{} ({} worker{}) ========\n",
             o.host.empty() ? "0.0.0.0" : o.host, port, o.workers, o.workers == 1 ? "" : "s");
  std::fflush(stdout);
}

}  // namespace

void run_app(App& app, ServerOptions options) {
  if (options.workers > 1)
    throw std::invalid_argument(
        "eddy::http::run_app: workers > 1 needs an app factory (one App per worker loop)");
  RunOptions ro;
  ro.handle_sigint = false;  // SIGINT shuts down gracefully instead of cancelling main
  eddy::run(
      [&]() -> Task<> {
        Server srv = co_await serve(app, options);
        banner(options, srv.port());
        Event stop;
        co_await wait_for_stop(stop);
        co_await srv.shutdown();
      }(),
      ro);
}

void run_app(const std::function<App()>& make_app, ServerOptions options) {
  if (options.workers <= 1) {
    App app = make_app();
    run_app(app, options);
    return;
  }
  options.reuse_port = true;
  int n = options.workers;
  // Worker 0 (this thread) binds first, so a port of 0 becomes one port all workers share.
  std::vector<std::promise<Worker>> ready(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  auto worker_main = [&](std::size_t i, std::uint16_t port) {
    ServerOptions o = options;
    o.port = port;
    App app = make_app();
    RunOptions ro;
    ro.handle_sigint = false;
    eddy::run(
        [&]() -> Task<> {
          Server srv = co_await serve(app, o);
          Event stop;
          ready[i].set_value(Worker{loop_handle(), &stop});
          co_await stop.wait();
          co_await srv.shutdown();
        }(),
        ro);
  };
  App app0 = make_app();
  RunOptions ro;
  ro.handle_sigint = false;
  eddy::run(
      [&]() -> Task<> {
        Server srv = co_await serve(app0, options);
        std::uint16_t port = srv.port();
        for (std::size_t i = 1; i < ready.size(); ++i) threads.emplace_back(worker_main, i, port);
        // Blocks this loop briefly, at startup only: until every worker is serving.
        std::vector<Worker> others;
        for (std::size_t i = 1; i < ready.size(); ++i)
          others.push_back(ready[i].get_future().get());
        banner(options, port);
        Event stop;
        co_await wait_for_stop(stop);
        for (Worker& w : others) w.loop.call_soon_threadsafe([s = w.stop] { s->set(); });
        co_await srv.shutdown();
      }(),
      ro);
  for (auto& t : threads) t.join();
}

}  // namespace eddy::http
