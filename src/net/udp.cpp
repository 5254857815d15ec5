// Datagram sockets: each call is one recvmsg/sendto, retried after the socket's next edge.
#include "eddy/net/udp.hpp"

#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/un.h>

#include <cerrno>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/error.hpp"
#include "net/socket.hpp"

namespace eddy::net {

namespace detail {

// Readiness flags as in StreamCore: an edge sets them, EAGAIN clears them, so a receive on a
// socket with datagrams queued never waits for an edge that already happened.
class DatagramCore final : public eddy::detail::IoSource {
 public:
  explicit DatagramCore(int f) : fd(f) {
    eddy::detail::io_register(fd, this, EPOLLIN | EPOLLOUT | EPOLLET);
  }
  ~DatagramCore() { close_now(); }

  void on_io(std::uint32_t ev) noexcept override {
    if (ev & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
      rd_ready = true;
      readers.wake_all();
    }
    if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      wr_ready = true;
      writers.wake_all();
    }
  }

  void close_now() noexcept {
    if (fd < 0) return;
    eddy::detail::io_deregister(fd);
    ::close(fd);
    fd = -1;
    readers.wake_all();
    writers.wake_all();
  }

  void check_open(const char* what) const {
    if (fd < 0) throw ConnectionError(EBADF, std::string(what) + ": the socket is closed");
  }

  class Readiness final : public eddy::detail::WaitNode {
   public:
    Readiness(DatagramCore& c, bool write) noexcept : c_(c), write_(write) {}
    bool await_ready() noexcept {
      eddy::detail::TaskBase* t = eddy::detail::current_task_or_null();
      if (t && t->is_cancelled()) return false;
      return c_.fd < 0 || (write_ ? c_.wr_ready : c_.rd_ready);
    }
    bool await_suspend(std::coroutine_handle<> h) {
      return suspend_in(write_ ? c_.writers : c_.readers, h);
    }
    void await_resume() const { throw_if_withdrawn(); }

   private:
    DatagramCore& c_;
    bool write_;
  };

  int fd;
  bool rd_ready = true;
  bool wr_ready = true;
  eddy::detail::WaitList readers;
  eddy::detail::WaitList writers;
};

}  // namespace detail

namespace {

int make_socket(int family, const DatagramOptions& o) {
  Fd fd(open_socket(family, SOCK_DGRAM));
  if (o.reuse_address) set_int_option(fd.get(), SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (o.reuse_port) set_int_option(fd.get(), SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  if (o.broadcast) set_int_option(fd.get(), SOL_SOCKET, SO_BROADCAST, 1, "SO_BROADCAST");
  if (family == AF_INET6)
    set_int_option(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, o.dual_stack ? 0 : 1, "IPV6_V6ONLY");
  if (o.receive_buffer > 0)
    set_int_option(fd.get(), SOL_SOCKET, SO_RCVBUF, o.receive_buffer, "SO_RCVBUF");
  if (o.send_buffer > 0)
    set_int_option(fd.get(), SOL_SOCKET, SO_SNDBUF, o.send_buffer, "SO_SNDBUF");
  return fd.release();
}

bool would_block(int e) {
  return e == EAGAIN || e == EWOULDBLOCK;
}

}  // namespace

DatagramSocket::DatagramSocket() noexcept = default;
DatagramSocket::DatagramSocket(DatagramSocket&&) noexcept = default;
DatagramSocket& DatagramSocket::operator=(DatagramSocket&&) noexcept = default;
DatagramSocket::~DatagramSocket() = default;

DatagramSocket::DatagramSocket(int fd) {
  Fd owner(fd);
  core_ = std::make_unique<detail::DatagramCore>(fd);
  owner.release();
}

DatagramSocket DatagramSocket::bind(const SocketAddress& local, const DatagramOptions& options) {
  Fd fd(make_socket(local.family(), options));
  if (::bind(fd.get(), local.data(), local.size()) < 0)
    throw_os_error(errno, "bind " + local.to_string());
  return DatagramSocket(fd.release());
}

DatagramSocket DatagramSocket::connect(const SocketAddress& remote, const SocketAddress& local,
                                       const DatagramOptions& options) {
  Fd fd(make_socket(remote.family(), options));
  if (!local.empty() && ::bind(fd.get(), local.data(), local.size()) < 0)
    throw_os_error(errno, "bind " + local.to_string());
  // A datagram connect only records the peer; it never blocks.
  if (::connect(fd.get(), remote.data(), remote.size()) < 0)
    throw_os_error(errno, "connect " + remote.to_string());
  return DatagramSocket(fd.release());
}

DatagramSocket DatagramSocket::open(int family, const DatagramOptions& options) {
  return DatagramSocket(make_socket(family, options));
}

Task<Received> DatagramSocket::receive_from(std::span<char> buffer) {
  detail::DatagramCore* c = core_.get();
  for (;;) {
    if (!c) throw ConnectionError(EBADF, "receive_from: the socket is closed");
    c->check_open("receive_from");
    Received r;
    iovec iov{buffer.data(), buffer.size()};
    msghdr msg{};
    msg.msg_name = r.from.data();
    msg.msg_namelen = SocketAddress::capacity();
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(c->fd, &msg, 0);
    if (n >= 0) {
      r.from.set_size(msg.msg_namelen);
      r.size = static_cast<std::size_t>(n);
      r.truncated = (msg.msg_flags & MSG_TRUNC) != 0;
      co_return r;
    }
    if (errno == EINTR) continue;
    // ECONNREFUSED: an ICMP error for an earlier send on a connected socket; report it.
    if (!would_block(errno)) throw_os_error(errno, "recvmsg");
    c->rd_ready = false;
    co_await detail::DatagramCore::Readiness(*c, false);
  }
}

Task<std::size_t> DatagramSocket::receive(std::span<char> buffer) {
  Received r = co_await receive_from(buffer);
  co_return r.size;
}

Task<> DatagramSocket::send_to(std::string_view data, SocketAddress to) {
  detail::DatagramCore* c = core_.get();
  for (;;) {
    if (!c) throw ConnectionError(EBADF, "send_to: the socket is closed");
    c->check_open("send_to");
    ssize_t n = to.empty()
                    ? ::send(c->fd, data.data(), data.size(), MSG_NOSIGNAL)
                    : ::sendto(c->fd, data.data(), data.size(), MSG_NOSIGNAL, to.data(), to.size());
    if (n >= 0) co_return;
    if (errno == EINTR) continue;
    if (!would_block(errno))
      throw_os_error(errno, to.empty() ? std::string("send") : "sendto " + to.to_string());
    c->wr_ready = false;
    co_await detail::DatagramCore::Readiness(*c, true);
  }
}

Task<> DatagramSocket::send(std::string_view data) {
  return send_to(data, SocketAddress{});
}

SocketAddress DatagramSocket::local_address() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (!core_ || core_->fd < 0 || ::getsockname(core_->fd, a.data(), &len) < 0) return {};
  a.set_size(len);
  return a;
}

SocketAddress DatagramSocket::peer_address() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (!core_ || core_->fd < 0 || ::getpeername(core_->fd, a.data(), &len) < 0) return {};
  a.set_size(len);
  return a;
}

int DatagramSocket::native_handle() const noexcept {
  return core_ ? core_->fd : -1;
}

bool DatagramSocket::is_open() const noexcept {
  return core_ && core_->fd >= 0;
}

void DatagramSocket::close() noexcept {
  if (core_) core_->close_now();
}

}  // namespace eddy::net
