// TCP and Unix-domain connections and servers (asyncio's open_connection / start_server).
//
//   // client
//   net::Stream s = co_await net::open_connection("db.internal", 5432, {.timeout = 3s});
//
//   // server: one task per connection; close() stops accepting, handlers run on
//   net::Server srv = co_await net::serve(
//       [](net::Stream& s) -> Task<> {
//         char buf[4096];
//         while (std::size_t n = co_await s.read_some(buf)) {
//           s.write({buf, n});
//           co_await s.drain();
//         }
//       },
//       "127.0.0.1", 8080);
//   co_await srv.serve_forever();   // cancelling this shuts the server down
//
// Connecting resolves the name (eddy/net/dns.hpp) and races the addresses with Happy Eyeballs
// (RFC 8305): IPv6 and IPv4 alternate, a new attempt starts every `happy_eyeballs_delay` or as
// soon as one fails, the first to connect wins and the rest are cancelled. Cancelling a
// connect closes every socket it opened.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "eddy/net/address.hpp"
#include "eddy/net/stream.hpp"
#include "eddy/net/tls.hpp"
#include "eddy/task.hpp"

namespace eddy::net {

class Resolver;

struct ConnectOptions {
  // Limit on the whole connect: resolving, every attempt, and waiting between them.
  // Zero means none. Exceeding it throws eddy::TimeoutError naming the host.
  std::chrono::milliseconds timeout{0};
  // RFC 8305's "Connection Attempt Delay".
  std::chrono::milliseconds happy_eyeballs_delay{250};
  bool nodelay = true;
  std::optional<KeepAlive> keepalive{};
  std::optional<SocketAddress> local_address{};  // bind to this before connecting
  int family = AF_UNSPEC;                        // AF_INET or AF_INET6 to use only one
  StreamLimits limits{};
  Resolver* resolver = nullptr;  // null: the loop's default resolver
};

// Resolves `host` (an IP literal skips DNS) and connects to one of its addresses.
Task<Stream> open_connection(std::string host, std::uint16_t port, ConnectOptions options = {});
// Connects to the given addresses, in the order given, with Happy Eyeballs.
Task<Stream> connect(std::vector<SocketAddress> addresses, ConnectOptions options = {});
Task<Stream> connect(SocketAddress address, ConnectOptions options = {});
Task<Stream> open_unix_connection(std::string path, StreamLimits limits = {});
// Connects and handshakes TLS (eddy/net/tls.hpp): SNI and verification against `host`
// unless tls.server_name says otherwise. options.timeout covers the connect; the handshake
// has tls.handshake_timeout.
Task<Stream> open_tls_connection(std::string host, std::uint16_t port, TlsConnectOptions tls = {},
                                 ConnectOptions options = {});

struct ListenOptions {
  int backlog = 511;
  bool reuse_address = true;  // SO_REUSEADDR: rebind at once after a restart
  bool reuse_port = false;    // SO_REUSEPORT: several sockets (processes, loops) share a port
  bool dual_stack = true;     // an IPv6 wildcard ("::") accepts IPv4 too
  bool nodelay = true;        // for accepted connections
  std::optional<KeepAlive> keepalive{};
  StreamLimits limits{};
};

namespace detail {
class ListenerCore;
struct ServerState;
}  // namespace detail

// A listening socket. accept() is a cancellation point; close() makes pending and later
// accepts throw ConnectionError.
class Listener {
 public:
  Listener() noexcept;
  Listener(Listener&&) noexcept;
  Listener& operator=(Listener&&) noexcept;
  ~Listener();

  static Listener bind(const SocketAddress& address, const ListenOptions& options = {});
  // A Unix socket at `path`; a stale socket file left there by a dead process is replaced.
  static Listener bind_unix(const std::string& path, const ListenOptions& options = {});

  Task<Stream> accept();
  SocketAddress local_address() const;
  std::uint16_t port() const { return local_address().port(); }
  bool is_open() const noexcept;
  void close() noexcept;

 private:
  std::unique_ptr<detail::ListenerCore> core_;
};

// Gets the connection by reference: when the handler returns, the server flushes what it
// queued and closes the stream (give it `close_timeout`), so a handler that writes a reply and
// returns loses nothing. Move the stream out to keep it beyond the handler.
using ConnectionHandler = std::function<Task<>(Stream&)>;

// Not an aggregate, for the reason TlsConnectOptions is not (it holds a TlsContext): set
// fields after construction.
struct ServeOptions : ListenOptions {
  ServeOptions() noexcept {}

  // Connections handled at once; at the limit the server stops accepting (the kernel's
  // backlog holds the rest). Zero: unlimited.
  std::size_t max_connections = 0;
  // How long the closing flush after a handler returns may take before the connection is
  // dropped.
  std::chrono::milliseconds close_timeout{5000};
  // Serve TLS: each accepted connection handshakes (within tls_handshake_timeout) before the
  // handler sees it; a client that fails the handshake is dropped without calling it.
  TlsContext tls{};
  std::chrono::milliseconds tls_handshake_timeout{10'000};
};

// A running server (asyncio.Server): it accepts in the background from the moment serve()
// returns. A handler that throws is reported through the loop's exception handler and its
// connection closed; the server goes on. A ConnectionError (the peer reset or vanished) is
// routine and only logged in debug mode.
class Server {
 public:
  Server() noexcept;
  Server(Server&&) noexcept;
  Server& operator=(Server&&) noexcept;
  // Stops accepting and cancels running handlers (without waiting for them).
  ~Server();

  std::uint16_t port() const;
  std::vector<SocketAddress> addresses() const;
  std::size_t connections() const noexcept;  // handlers running now
  bool is_serving() const noexcept;

  // Stops accepting; handlers already running go on. Idempotent.
  void close() noexcept;
  // Until closed and every handler has finished.
  Task<> wait_closed();
  // Graceful stop: close, give handlers `grace` to finish, cancel the rest, wait for them.
  Task<> shutdown(std::chrono::milliseconds grace);
  // Until close() is called; if the awaiting task is cancelled, the server shuts down
  // (handlers cancelled) before the cancellation propagates.
  Task<> serve_forever();

  explicit Server(std::shared_ptr<detail::ServerState> s) noexcept;

 private:
  std::shared_ptr<detail::ServerState> s_;
};

// Listens on `host` (an IP, a name, or "" for every interface: IPv6 and IPv4) and `port`
// (0: a free port, the same one on every address) and serves each connection in its own task.
Task<Server> serve(ConnectionHandler handler, std::string host, std::uint16_t port,
                   ServeOptions options = {});
Task<Server> serve_unix(ConnectionHandler handler, std::string path, ServeOptions options = {});
// Serves on listeners the caller made (for SO_REUSEPORT workers, inherited sockets, ...).
Server serve_listeners(ConnectionHandler handler, std::vector<Listener> listeners,
                       ServeOptions options = {});

}  // namespace eddy::net
