// net::Server: accept loops plus one task per connection. See include/eddy/net/tcp.hpp.
#include <fmt/format.h>

#include <list>

#include "eddy/cancel.hpp"
#include "eddy/net/dns.hpp"
#include "eddy/net/tcp.hpp"
#include "eddy/runtime.hpp"
#include "eddy/sync/event.hpp"
#include "eddy/sync/semaphore.hpp"
#include "eddy/time.hpp"
#include "runtime/loop.hpp"

namespace eddy::net {

namespace detail {

// Shared by the Server object, its accept loops and its connection tasks, so whichever
// finishes last frees it.
struct ServerState : std::enable_shared_from_this<ServerState> {
  ConnectionHandler handler;
  ServeOptions options;
  std::vector<Listener> listeners;
  std::vector<TaskHandle<>> accept_loops;
  std::list<TaskHandle<>> connections;
  std::size_t accepting = 0;  // accept loops still running
  std::optional<Semaphore> slots;
  bool closed = false;
  Event closed_event;  // close() was called
  Event idle;          // closed, and every accept loop and connection has finished

  void update_idle() {
    if (closed && accepting == 0 && connections.empty()) idle.set();
  }

  void close() noexcept {
    if (closed) return;
    closed = true;
    for (auto& l : listeners) l.close();  // pending accepts throw and their loops end
    closed_event.set();
    update_idle();
  }

  void cancel_connections() noexcept {
    for (auto& h : connections) h.cancel();
  }
};

}  // namespace detail

namespace {

using detail::ServerState;

void report(const std::string& message, std::exception_ptr e) {
  if (auto* loop = eddy::detail::current_loop())
    loop->report(ExceptionContext{message, std::move(e), {}});
}

// A connection's entry in the server's list, removed when the connection's frame goes away.
// It is a coroutine parameter, not a local, because parameters are destroyed with the frame
// even when the task is cancelled before its first step (a local would never be built, the
// entry would stay, and shutdown would wait for it forever).
class ConnectionSlot {
 public:
  ConnectionSlot(std::shared_ptr<ServerState> st, std::list<TaskHandle<>>::iterator it) noexcept
      : st_(std::move(st)), it_(it) {}
  ConnectionSlot(ConnectionSlot&& o) noexcept : st_(std::move(o.st_)), it_(o.it_) {}
  ConnectionSlot(const ConnectionSlot&) = delete;
  ConnectionSlot& operator=(const ConnectionSlot&) = delete;
  ~ConnectionSlot() {
    if (!st_) return;
    st_->connections.erase(it_);
    st_->update_idle();
  }

 private:
  std::shared_ptr<ServerState> st_;
  std::list<TaskHandle<>>::iterator it_;
};

Task<> run_connection(std::shared_ptr<ServerState> st, Stream stream, ConnectionSlot slot,
                      std::optional<Semaphore::Permit> permit) {
  (void)slot;
  (void)permit;  // held until the connection ends
  SocketAddress peer = stream.peer_address();
  if (st->options.tls) {
    bool ok = true;
    try {
      co_await accept_tls(stream, st->options.tls, st->options.tls_handshake_timeout);
    } catch (const std::exception& e) {
      // Scanners and clients that distrust us are routine on the internet: not a server error.
      if (auto* loop = eddy::detail::current_loop(); loop && loop->debug())
        loop->log(
            fmt::format("eddy: TLS handshake with {} failed: {}", peer.to_string(), e.what()));
      ok = false;
    }
    if (!ok) co_return;
  }
  try {
    co_await st->handler(stream);
  } catch (const ConnectionError& e) {
    // The peer reset or vanished mid-conversation: routine on any network, not a server bug.
    if (auto* loop = eddy::detail::current_loop(); loop && loop->debug())
      loop->log(fmt::format("eddy: connection from {} lost: {}", peer.to_string(), e.what()));
    stream.abort();
  } catch (const std::exception&) {
    report(fmt::format("connection handler for {} failed: {}", peer.to_string(),
                       describe(std::current_exception())),
           std::current_exception());
    stream.abort();
  }
  if (stream.is_open()) co_await move_on_after(st->options.close_timeout, stream.close());
}

Task<> accept_loop(std::shared_ptr<ServerState> st, std::size_t index) {
  struct Leave {
    ServerState& st;
    ~Leave() {
      --st.accepting;
      st.update_idle();
    }
  } leave{*st};
  Listener& listener = st->listeners[index];
  while (!st->closed) {
    std::optional<Semaphore::Permit> permit;
    if (st->slots) permit.emplace(co_await st->slots->acquire());
    std::optional<Stream> s;
    try {
      s.emplace(co_await listener.accept());
    } catch (const OSError& e) {
      if (st->closed || !listener.is_open()) co_return;
      // Out of descriptors or memory: keep the server alive, retry after a pause (asyncio
      // waits a second; a shorter pause recovers sooner once descriptors free up).
      report(fmt::format("accept on {} failed: {}", listener.local_address().to_string(), e.what()),
             std::current_exception());
    }
    if (!s) {
      co_await sleep(std::chrono::milliseconds(100));
      continue;
    }
    auto it = st->connections.emplace(st->connections.end());
    *it = spawn(run_connection(st, std::move(*s), ConnectionSlot(st, it), std::move(permit)));
  }
}

Server start(ConnectionHandler handler, std::vector<Listener> listeners, ServeOptions options) {
  auto st = std::make_shared<ServerState>();
  st->handler = std::move(handler);
  st->options = std::move(options);
  st->listeners = std::move(listeners);
  if (st->options.max_connections) st->slots.emplace(st->options.max_connections);
  for (std::size_t i = 0; i < st->listeners.size(); ++i) {
    ++st->accepting;
    st->accept_loops.push_back(spawn(accept_loop(st, i)));
  }
  return Server(st);
}

}  // namespace

Server::Server() noexcept = default;
Server::Server(std::shared_ptr<detail::ServerState> s) noexcept : s_(std::move(s)) {}
Server::Server(Server&&) noexcept = default;
Server& Server::operator=(Server&& o) noexcept {
  if (this != &o) {
    if (s_) {
      s_->close();
      s_->cancel_connections();
    }
    s_ = std::move(o.s_);
  }
  return *this;
}
Server::~Server() {
  if (s_) {
    s_->close();
    s_->cancel_connections();
  }
}

std::uint16_t Server::port() const {
  if (!s_) return 0;
  for (auto& l : s_->listeners)
    if (l.is_open()) return l.port();
  return 0;
}

std::vector<SocketAddress> Server::addresses() const {
  std::vector<SocketAddress> out;
  if (s_)
    for (auto& l : s_->listeners)
      if (l.is_open()) out.push_back(l.local_address());
  return out;
}

std::size_t Server::connections() const noexcept {
  return s_ ? s_->connections.size() : 0;
}

bool Server::is_serving() const noexcept {
  return s_ && !s_->closed;
}

void Server::close() noexcept {
  if (s_) s_->close();
}

Task<> Server::wait_closed() {
  if (!s_) co_return;
  auto st = s_;
  co_await st->idle.wait();
}

Task<> Server::shutdown(std::chrono::milliseconds grace) {
  if (!s_) co_return;
  auto st = s_;
  st->close();
  if (!co_await move_on_after(grace, st->idle.wait())) {
    st->cancel_connections();
    co_await st->idle.wait();
  }
}

Task<> Server::serve_forever() {
  if (!s_) co_return;
  auto st = s_;
  std::exception_ptr cancelled;
  try {
    co_await st->closed_event.wait();
  } catch (const Cancelled&) {
    cancelled = std::current_exception();
  }
  if (cancelled) {
    st->close();
    st->cancel_connections();
    co_await shield(st->idle.wait());
    std::rethrow_exception(cancelled);
  }
}

Server serve_listeners(ConnectionHandler handler, std::vector<Listener> listeners,
                       ServeOptions options) {
  return start(std::move(handler), std::move(listeners), std::move(options));
}

Task<Server> serve(ConnectionHandler handler, std::string host, std::uint16_t port,
                   ServeOptions options) {
  std::vector<SocketAddress> addrs;
  if (host.empty()) {
    addrs.push_back(SocketAddress::ipv6_any(port));  // dual-stack: IPv4 too
  } else if (auto ip = SocketAddress::parse(host, port)) {
    addrs.push_back(*ip);
  } else {
    addrs = co_await default_resolver().resolve(host, port);
  }
  std::vector<Listener> listeners;
  for (auto& a : addrs) {
    // Port 0 means "pick one": the same one on every address, as a user would expect.
    if (port == 0 && !listeners.empty()) {
      auto p = SocketAddress::parse(a.ip(), listeners.front().port());
      if (p) a = *p;
    }
    try {
      listeners.push_back(Listener::bind(a, options));
    } catch (const OSError& e) {
      // No IPv6 on this host: an empty host falls back to IPv4.
      if (host.empty() && e.code() == EAFNOSUPPORT) {
        listeners.push_back(Listener::bind(SocketAddress::ipv4_any(port), options));
        continue;
      }
      throw;
    }
  }
  co_return start(std::move(handler), std::move(listeners), std::move(options));
}

Task<Server> serve_unix(ConnectionHandler handler, std::string path, ServeOptions options) {
  std::vector<Listener> listeners;
  listeners.push_back(Listener::bind_unix(path, options));
  co_return start(std::move(handler), std::move(listeners), std::move(options));
}

}  // namespace eddy::net
