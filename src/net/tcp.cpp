// Connecting (with Happy Eyeballs) and listening. See include/eddy/net/tcp.hpp.
#include "eddy/net/tcp.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <cerrno>

#include "eddy/cancel.hpp"
#include "eddy/group.hpp"
#include "eddy/net/dns.hpp"
#include "eddy/sync/event.hpp"
#include "net/socket.hpp"
#include "net/stream_core.hpp"

namespace eddy::net {

using detail::StreamCore;

namespace detail {

// The listening socket, registered with the loop like a stream.
class ListenerCore final : public eddy::detail::IoSource {
 public:
  ListenerCore(int f, const ListenOptions& o, std::string unlink_path)
      : fd(f), options(o), unlink_path_(std::move(unlink_path)) {
    eddy::detail::io_register(fd, this, EPOLLIN | EPOLLET);
  }
  ~ListenerCore() { close(); }

  void on_io(std::uint32_t) noexcept override {
    ready = true;
    waiters.wake_all();
  }

  void close() noexcept {
    if (fd < 0) return;
    eddy::detail::io_deregister(fd);
    ::close(fd);
    fd = -1;
    if (!unlink_path_.empty()) ::unlink(unlink_path_.c_str());
    waiters.wake_all();
  }

  class Readiness final : public eddy::detail::WaitNode {
   public:
    explicit Readiness(ListenerCore& c) noexcept : c_(c) {}
    bool await_ready() noexcept {
      eddy::detail::TaskBase* t = eddy::detail::current_task_or_null();
      if (t && t->is_cancelled()) return false;
      return c_.ready || c_.fd < 0;
    }
    bool await_suspend(std::coroutine_handle<> h) { return suspend_in(c_.waiters, h); }
    void await_resume() const { throw_if_withdrawn(); }

   private:
    ListenerCore& c_;
  };

  int fd;
  ListenOptions options;
  bool ready = true;
  eddy::detail::WaitList waiters;

 private:
  std::string unlink_path_;
};

}  // namespace detail

namespace {

void configure_tcp(int fd, bool nodelay, const std::optional<KeepAlive>& ka) {
  if (nodelay) set_int_option(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
  if (ka) {
    set_int_option(fd, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE");
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE, static_cast<int>(ka->idle.count()),
                   "TCP_KEEPIDLE");
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL, static_cast<int>(ka->interval.count()),
                   "TCP_KEEPINTVL");
    set_int_option(fd, IPPROTO_TCP, TCP_KEEPCNT, ka->probes, "TCP_KEEPCNT");
  }
}

// One attempt. The socket belongs to a StreamCore from the start, so a cancelled or failed
// attempt closes it on the way out.
Task<Stream> connect_one(SocketAddress addr, const ConnectOptions& o) {
  auto core = std::make_unique<StreamCore>(open_socket(addr.family(), SOCK_STREAM), o.limits);
  int fd = core->fd;
  if (!addr.is_unix()) configure_tcp(fd, o.nodelay, o.keepalive);
  if (o.local_address && ::bind(fd, o.local_address->data(), o.local_address->size()) < 0)
    throw_os_error(errno, "bind to " + o.local_address->to_string());
  int r;
  do {
    r = ::connect(fd, addr.data(), addr.size());
  } while (r < 0 && errno == EINTR);
  if (r < 0) {
    if (errno != EINPROGRESS) throw_os_error(errno, "connect to " + addr.to_string());
    core->wr_ready = false;
    for (;;) {
      co_await core->writable();
      int err = socket_error(fd);
      if (err != 0) throw_os_error(err, "connect to " + addr.to_string());
      if (is_connected(fd)) break;
      core->wr_ready = false;  // woken without a result: wait for the real one
    }
  }
  core->wr_ready = true;
  co_return Stream(std::move(core));
}

// Happy Eyeballs (RFC 8305 section 5): start the next attempt after `delay`, or at once when
// one fails; the first to connect wins and the others are cancelled.
Task<Stream> race(const std::vector<SocketAddress>& addrs, const ConnectOptions& o) {
  std::optional<Stream> winner;
  std::vector<std::exception_ptr> errors;
  Event progress;
  TaskGroup tg;
  std::exception_ptr body_error;
  try {
    for (std::size_t i = 0; i < addrs.size() && !winner; ++i) {
      tg.spawn([&, i]() -> Task<> {
        try {
          Stream s = co_await connect_one(addrs[i], o);
          if (!winner) {
            winner.emplace(std::move(s));
            tg.cancel();
          }
        } catch (const std::exception&) {
          errors.push_back(std::current_exception());
        }
        progress.set();
      });
      if (i + 1 == addrs.size()) break;
      progress.clear();
      co_await move_on_after(o.happy_eyeballs_delay, progress.wait());
    }
  } catch (...) {
    body_error = std::current_exception();
    tg.cancel();
  }
  co_await tg.join();
  if (body_error) std::rethrow_exception(body_error);
  if (winner) co_return std::move(*winner);
  if (errors.size() == 1) std::rethrow_exception(errors.front());
  // asyncio's rule: one error for every address with the same cause, else a summary.
  std::string msg;
  int code = 0;
  bool same = true;
  for (auto& e : errors) {
    try {
      std::rethrow_exception(e);
    } catch (const OSError& ex) {
      if (code && code != ex.code()) same = false;
      code = ex.code();
      msg += msg.empty() ? "" : "; ";
      msg += ex.what();
    } catch (const std::exception& ex) {
      same = false;
      msg += msg.empty() ? "" : "; ";
      msg += ex.what();
    }
  }
  if (same) std::rethrow_exception(errors.front());
  throw ConnectionError(code, fmt::format("all {} addresses failed: {}", errors.size(), msg));
}

Task<Stream> connect_all(std::vector<SocketAddress> addrs, ConnectOptions o) {
  if (addrs.empty()) throw ConnectionError(EADDRNOTAVAIL, "connect: no address to connect to");
  if (addrs.size() == 1) co_return co_await connect_one(addrs.front(), o);
  co_return co_await race(addrs, o);
}

Task<Stream> resolve_and_connect(std::string host, std::uint16_t port, ConnectOptions o) {
  std::vector<SocketAddress> addrs;
  if (auto ip = SocketAddress::parse(host, port)) {
    addrs.push_back(*ip);
  } else {
    Resolver& r = o.resolver ? *o.resolver : default_resolver();
    addrs = co_await r.resolve(host, port, o.family);
  }
  co_return co_await connect_all(std::move(addrs), o);
}

}  // namespace

Task<Stream> open_connection(std::string host, std::uint16_t port, ConnectOptions options) {
  if (options.timeout.count() <= 0)
    co_return co_await resolve_and_connect(std::move(host), port, options);
  std::string what = fmt::format("connect to {}:{}", host, port);
  try {
    co_return co_await timeout(options.timeout,
                               resolve_and_connect(std::move(host), port, options));
  } catch (const TimeoutError&) {
    throw TimeoutError(fmt::format("{} timed out after {} ms", what, options.timeout.count()));
  }
}

Task<Stream> connect(std::vector<SocketAddress> addresses, ConnectOptions options) {
  if (options.timeout.count() <= 0) co_return co_await connect_all(std::move(addresses), options);
  try {
    co_return co_await timeout(options.timeout, connect_all(std::move(addresses), options));
  } catch (const TimeoutError&) {
    throw TimeoutError(fmt::format("connect timed out after {} ms", options.timeout.count()));
  }
}

Task<Stream> connect(SocketAddress address, ConnectOptions options) {
  std::vector<SocketAddress> one{address};
  co_return co_await connect(std::move(one), options);
}

Task<Stream> open_unix_connection(std::string path, StreamLimits limits) {
  ConnectOptions o;
  o.limits = limits;
  co_return co_await connect_one(SocketAddress::unix_path(path), o);
}

// --- Listener

Listener::Listener() noexcept = default;
Listener::Listener(Listener&&) noexcept = default;
Listener& Listener::operator=(Listener&&) noexcept = default;
Listener::~Listener() = default;

Listener Listener::bind(const SocketAddress& addr, const ListenOptions& o) {
  Fd fd(open_socket(addr.family(), SOCK_STREAM));
  if (o.reuse_address && !addr.is_unix())
    set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (o.reuse_port) set_int_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  if (addr.is_ipv6())
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, o.dual_stack ? 0 : 1, "IPV6_V6ONLY");
  if (::bind(fd.get(), addr.data(), addr.size()) < 0)
    throw_os_error(errno, "bind to " + addr.to_string());
  if (::listen(fd.get(), o.backlog) < 0) throw_os_error(errno, "listen on " + addr.to_string());
  Listener l;
  l.core_ = std::make_unique<detail::ListenerCore>(fd.get(), o, std::string());
  fd.release();
  return l;
}

Listener Listener::bind_unix(const std::string& path, const ListenOptions& o) {
  SocketAddress addr = SocketAddress::unix_path(path);
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
    // Replace the file only if nobody listens there any more.
    Fd probe(open_socket(AF_UNIX, SOCK_STREAM));
    if (::connect(probe.get(), addr.data(), addr.size()) == 0 || errno == EAGAIN)
      throw OSError(EADDRINUSE, "bind to unix:" + path + ": a server is listening there");
    ::unlink(path.c_str());
  }
  Fd fd(open_socket(AF_UNIX, SOCK_STREAM));
  if (::bind(fd.get(), addr.data(), addr.size()) < 0) throw_os_error(errno, "bind to unix:" + path);
  if (::listen(fd.get(), o.backlog) < 0) {
    int err = errno;
    ::unlink(path.c_str());
    throw_os_error(err, "listen on unix:" + path);
  }
  Listener l;
  l.core_ = std::make_unique<detail::ListenerCore>(fd.get(), o, path);
  fd.release();
  return l;
}

Task<Stream> Listener::accept() {
  if (!core_) throw ConnectionError(EBADF, "accept: the listener is closed");
  detail::ListenerCore& c = *core_;
  for (;;) {
    if (c.fd < 0) throw ConnectionError(EBADF, "accept: the listener is closed");
    if (c.ready) {
      int s = ::accept4(c.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (s >= 0) {
        Fd owned(s);
        int domain = 0;
        socklen_t len = sizeof domain;
        ::getsockopt(s, SOL_SOCKET, SO_DOMAIN, &domain, &len);
        if (domain != AF_UNIX) configure_tcp(s, c.options.nodelay, c.options.keepalive);
        auto core = std::make_unique<StreamCore>(s, c.options.limits);
        owned.release();
        co_return Stream(std::move(core));
      }
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        c.ready = false;
      } else if (err == EINTR || err == ECONNABORTED || err == EPROTO) {
        continue;  // that connection died in the queue; take the next
      } else {
        throw_os_error(err, "accept");  // EMFILE and friends: the caller decides to back off
      }
    }
    co_await detail::ListenerCore::Readiness(c);
  }
}

SocketAddress Listener::local_address() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (!is_open() || ::getsockname(core_->fd, a.data(), &len) < 0) return {};
  a.set_size(len);
  return a;
}

bool Listener::is_open() const noexcept {
  return core_ && core_->fd >= 0;
}

void Listener::close() noexcept {
  if (core_) core_->close();
}

}  // namespace eddy::net

namespace eddy::net {

// ConnectOptions and ListenOptions stay aggregates (designated initializers read well) only
// because every member is trivially copyable: GCC 12 copies aggregate temporaries in co_await
// expressions bitwise, which is harmless for these and fatal for a std::string member.
static_assert(std::is_trivially_copyable_v<ConnectOptions>);
static_assert(std::is_trivially_copyable_v<ListenOptions>);

Task<Stream> open_tls_connection(std::string host, std::uint16_t port, TlsConnectOptions tls,
                                 ConnectOptions options) {
  Stream s = co_await open_connection(host, port, std::move(options));
  co_await start_tls(s, std::move(host), std::move(tls));
  co_return s;
}

}  // namespace eddy::net
