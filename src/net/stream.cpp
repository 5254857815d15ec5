// See include/eddy/net/stream.hpp for the reader/writer rules, stream_core.hpp for readiness.
#include "eddy/net/stream.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "eddy/detail/task_base.hpp"
#include "net/stream_core.hpp"

namespace eddy::net {

IncompleteReadError::IncompleteReadError(std::string p, std::size_t e)
    : Error(e ? "stream ended after " + std::to_string(p.size()) + " of " + std::to_string(e) +
                    " bytes"
              : "stream ended after " + std::to_string(p.size()) + " bytes without the separator"),
      partial(std::move(p)),
      expected(e) {}

LimitOverrunError::LimitOverrunError(const std::string& what, std::size_t c)
    : Error(what), consumed(c) {}

DnsError::DnsError(const std::string& what, bool not_found) : Error(what), not_found_(not_found) {}

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;  // one TLS record; the socket's usual batch
constexpr std::size_t kKeepBuffer = 64 * 1024;
constexpr std::uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
constexpr std::uint32_t kWriteEvents = EPOLLOUT | EPOLLHUP | EPOLLERR;
}  // namespace

namespace detail {

namespace {

[[noreturn]] void throw_closed(const char* what) {
  throw ConnectionError(EBADF, std::string(what) + ": the stream is closed");
}
}  // namespace

StreamCore::StreamCore(int f, const StreamLimits& l) : fd(f), limits(l) {
  eddy::detail::io_register(fd, this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

StreamCore::~StreamCore() {
  close_now();
}

void StreamCore::close_now() noexcept {
  if (fd < 0) return;
  eddy::detail::io_deregister(fd);
  ::close(fd);
  fd = -1;
  wbuf.clear();
  readers.wake_all();
  writers.wake_all();
}

void StreamCore::on_io(std::uint32_t ev) noexcept {
  if (ev & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) hup = true;
  if (ev & kReadEvents) {
    rd_ready = true;
    readers.wake_all();
  }
  if (ev & kWriteEvents) {
    wr_ready = true;
    if (!wbuf.empty()) flush_now();
    writers.wake_all();
  }
}

void StreamCore::flush_now() noexcept {
  while (!wbuf.empty() && wr_ready && fd >= 0) {
    std::string_view v = wbuf.view();
    ssize_t n = ::send(fd, v.data(), v.size(), MSG_NOSIGNAL);
    if (n > 0) {
      wbuf.consume(static_cast<std::size_t>(n));
      if (static_cast<std::size_t>(n) < v.size()) wr_ready = false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wr_ready = false;
    } else {
      write_error = n < 0 ? errno : EPIPE;
      wbuf.clear();
    }
  }
  if (wbuf.empty()) wbuf.shrink(kKeepBuffer);
}

void StreamCore::check_writable() const {
  if (fd < 0) throw_closed("write");
  if (write_error) throw_os_error(write_error, "write");
  if (write_closed) throw InvalidStateError("eddy: write after shutdown_write() or close()");
}

long StreamCore::try_read(std::span<char> dst) {
  if (fd < 0) throw_closed("read");
  if (tls) {
    long n = tls->read(dst, wbuf);
    if (!wbuf.empty()) flush_now();  // a TLS read may have to answer (key update, alerts)
    if (n < 0 && !hup) rd_ready = false;
    if (n == 0) eof = true;
    return n;
  }
  for (;;) {
    ssize_t n = ::recv(fd, dst.data(), dst.size(), 0);
    if (n > 0) {
      // A short read drained the socket: wait for the next edge rather than try again. Not
      // after a hang-up, whose edge has already come and gone.
      if (static_cast<std::size_t>(n) < dst.size() && !hup) rd_ready = false;
      return n;
    }
    if (n == 0) {
      eof = true;
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (!hup) rd_ready = false;
      // A hang-up with nothing to read and no EOF: an error is pending (RST); let recv
      // report it next time instead of spinning.
      if (hup) hup = false;
      return -1;
    }
    throw_os_error(errno, "read");
  }
}

void StreamCore::queue_write(std::string_view data) {
  check_writable();
  if (data.empty()) return;
  if (tls) {
    tls->write(data, wbuf);
    flush_now();
    return;
  }
  if (wbuf.empty() && wr_ready) {
    for (;;) {
      ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
      if (n >= 0) {
        if (static_cast<std::size_t>(n) == data.size()) return;
        data.remove_prefix(static_cast<std::size_t>(n));
        wr_ready = false;
        break;
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        wr_ready = false;
        break;
      }
      write_error = errno;
      throw_os_error(errno, "write");
    }
  }
  wbuf.append(data);
  if (wr_ready) flush_now();
}

void StreamCore::queue_writev(std::span<const std::string_view> pieces) {
  check_writable();
  if (tls || !wbuf.empty() || !wr_ready || pieces.size() == 1) {
    if (tls && pieces.size() > 1) {
      // One TLS record for small gathers instead of one per piece.
      std::size_t total = 0;
      for (auto p : pieces) total += p.size();
      if (total <= kReadChunk) {
        std::string joined;
        joined.reserve(total);
        for (auto p : pieces) joined += p;
        queue_write(joined);
        return;
      }
    }
    for (auto p : pieces) queue_write(p);
    return;
  }
  constexpr std::size_t kMaxIov = 64;
  iovec iov[kMaxIov];
  std::size_t i = 0;
  while (i < pieces.size()) {
    std::size_t cnt = 0;
    std::size_t total = 0;
    for (std::size_t j = i; j < pieces.size() && cnt < kMaxIov; ++j, ++cnt) {
      iov[cnt].iov_base = const_cast<char*>(pieces[j].data());
      iov[cnt].iov_len = pieces[j].size();
      total += pieces[j].size();
    }
    ssize_t n;
    do {
      n = ::writev(fd, iov, static_cast<int>(cnt));
    } while (n < 0 && errno == EINTR);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      write_error = errno;
      throw_os_error(errno, "write");
    }
    std::size_t sent = n > 0 ? static_cast<std::size_t>(n) : 0;
    if (sent == total) {
      i += cnt;
      continue;
    }
    // The socket is full: queue the rest, from the middle of the piece it stopped in.
    wr_ready = false;
    for (std::size_t j = i; j < pieces.size(); ++j) {
      std::string_view p = pieces[j];
      std::size_t skip = std::min(sent, p.size());
      sent -= skip;
      wbuf.append(p.substr(skip));
    }
    return;
  }
}

bool StreamCore::Readiness::await_ready() noexcept {
  eddy::detail::TaskBase* t = eddy::detail::current_task_or_null();
  if (t && t->is_cancelled()) return false;
  if (c_.fd < 0) return true;
  return write_ ? c_.wr_ready : c_.rd_ready;
}

bool StreamCore::Readiness::await_suspend(std::coroutine_handle<> h) {
  return suspend_in(write_ ? c_.writers : c_.readers, h);
}

}  // namespace detail

using detail::StreamCore;

namespace {

// One reader at a time, as asyncio's StreamReader insists: two tasks interleaving reads of
// one stream would each get a random half of the data.
class ReadGuard {
 public:
  explicit ReadGuard(StreamCore* c) : c_(c) {
    if (!c_) throw ConnectionError(EBADF, "read: the stream is closed");
    if (c_->reading) throw InvalidStateError("eddy: another task is already reading this stream");
    c_->reading = true;
  }
  ~ReadGuard() { c_->reading = false; }
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;

 private:
  StreamCore* c_;
};

bool can_try(const StreamCore& c) {
  return c.rd_ready || c.fd < 0 || (c.tls && c.tls->has_buffered_plaintext());
}

}  // namespace

__thread detail::ByteBuffer::Pool detail::ByteBuffer::tl_pool;

void detail::ByteBuffer::register_reaper() noexcept {
  struct Reaper {
    ~Reaper() {
      Pool& p = tl_pool;
      while (p.count) delete[] p.blocks[--p.count];
      p.closed = true;
    }
  };
  thread_local Reaper reaper;
  (void)reaper;
  tl_pool.reaper = true;
}

long StreamCore::fill_now() {
  if (eof) return 0;
  if (can_try(*this)) {
    auto space = rbuf.prepare(kReadChunk);
    long n = try_read(space);
    if (n > 0) {
      rbuf.commit(static_cast<std::size_t>(n));
      return n;
    }
    if (n == 0) return 0;
  }
  rbuf.release();  // nothing buffered: an idle connection holds no read buffer
  return -1;
}

namespace {

// Reads more into the buffer; false at EOF. With `guard`, the call takes the stream's
// one-reader lock itself (Stream::fill), so a fill costs one coroutine frame, not two.
Task<bool> fill_buffer(StreamCore* core, bool guard) {
  std::optional<ReadGuard> lock;
  if (guard) lock.emplace(core);
  for (;;) {
    long n = co_await core->fill();
    if (n >= 0) co_return n > 0;
  }
}

std::string take(StreamCore& c, std::size_t n) {
  std::string out(c.rbuf.view().substr(0, n));
  c.rbuf.consume(out.size());
  return out;
}

}  // namespace

Stream::Stream() noexcept = default;
Stream::Stream(std::unique_ptr<StreamCore> core) noexcept : core_(std::move(core)) {}
Stream::Stream(Stream&&) noexcept = default;
Stream& Stream::operator=(Stream&&) noexcept = default;
Stream::~Stream() = default;

Stream Stream::adopt(int fd, StreamLimits limits) {
  int type = 0;
  socklen_t len = sizeof type;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0) throw_os_error(errno, "adopt");
  int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) throw_os_error(errno, "adopt");
  return Stream(std::make_unique<StreamCore>(fd, limits));
}

bool Stream::is_open() const noexcept {
  return core_ && core_->fd >= 0;
}

Task<std::size_t> Stream::read_some(std::span<char> buf) {
  ReadGuard guard(core_.get());
  StreamCore& c = *core_;
  if (!c.rbuf.empty()) {
    std::size_t n = std::min(buf.size(), c.rbuf.size());
    std::memcpy(buf.data(), c.rbuf.view().data(), n);
    c.rbuf.consume(n);
    co_return n;
  }
  if (buf.empty() || c.eof) co_return 0;
  for (;;) {
    if (can_try(c)) {
      long n = c.try_read(buf);  // straight into the caller's buffer: no copy
      if (n >= 0) co_return static_cast<std::size_t>(n);
    }
    co_await c.readable();
  }
}

Task<std::string> Stream::read(std::size_t max) {
  ReadGuard guard(core_.get());
  StreamCore& c = *core_;
  if (max == 0) co_return std::string();
  if (c.rbuf.empty() && !co_await fill_buffer(&c, false)) co_return std::string();
  co_return take(c, max);
}

Task<std::string> Stream::read_exactly(std::size_t n) {
  ReadGuard guard(core_.get());
  StreamCore& c = *core_;
  while (c.rbuf.size() < n) {
    if (!co_await fill_buffer(&c, false)) throw IncompleteReadError(take(c, c.rbuf.size()), n);
  }
  co_return take(c, n);
}

namespace {
Task<std::string> read_until_impl(StreamCore& c, std::string_view sep, bool partial_at_eof) {
  std::size_t scanned = 0;  // bytes already searched, so each byte is looked at once
  for (;;) {
    std::string_view v = c.rbuf.view();
    std::size_t from = scanned >= sep.size() ? scanned - sep.size() + 1 : 0;
    std::size_t pos = v.find(sep, from);
    if (pos != std::string_view::npos) {
      std::size_t end = pos + sep.size();
      if (end > c.limits.read_limit)
        throw LimitOverrunError("eddy: separator found beyond the stream's read limit", end);
      co_return take(c, end);
    }
    scanned = v.size();
    if (v.size() > c.limits.read_limit)
      throw LimitOverrunError("eddy: separator not found within the stream's read limit", v.size());
    if (!co_await fill_buffer(&c, false)) {
      if (partial_at_eof) co_return take(c, c.rbuf.size());
      throw IncompleteReadError(take(c, c.rbuf.size()), 0);
    }
  }
}
}  // namespace

Task<std::string> Stream::read_until(std::string_view sep) {
  if (sep.empty()) throw std::invalid_argument("eddy: read_until needs a separator");
  ReadGuard guard(core_.get());
  co_return co_await read_until_impl(*core_, sep, false);
}

Task<std::string> Stream::read_line() {
  ReadGuard guard(core_.get());
  co_return co_await read_until_impl(*core_, "\n", true);
}

Task<std::string> Stream::read_to_eof(std::size_t max) {
  ReadGuard guard(core_.get());
  StreamCore& c = *core_;
  while (co_await fill_buffer(&c, false)) {
    if (c.rbuf.size() > max)
      throw LimitOverrunError("eddy: more than the allowed bytes before EOF", c.rbuf.size());
  }
  co_return take(c, c.rbuf.size());
}

std::string_view Stream::buffered() const noexcept {
  return core_ ? core_->rbuf.view() : std::string_view();
}

Task<bool> Stream::fill() {
  return fill_buffer(core_.get(), true);
}

void Stream::consume(std::size_t n) noexcept {
  if (core_) core_->rbuf.consume(std::min(n, core_->rbuf.size()));
}

bool Stream::at_eof() const noexcept {
  return !core_ || (core_->eof && core_->rbuf.empty());
}

void Stream::write(std::string_view data) {
  if (!core_) throw ConnectionError(EBADF, "write: the stream is closed");
  core_->queue_write(data);
}

void Stream::write(std::span<const std::string_view> pieces) {
  if (!core_) throw ConnectionError(EBADF, "write: the stream is closed");
  core_->queue_writev(pieces);
}

namespace {
// Waits until at most `target` bytes are queued; throws the send error if one happens.
Task<> wait_queue_below(StreamCore& c, std::size_t target) {
  for (;;) {
    if (c.fd < 0) throw ConnectionError(EBADF, "write: the stream is closed");
    if (c.write_error) throw_os_error(c.write_error, "write");
    if (c.wbuf.size() <= target) co_return;
    if (c.wr_ready) {
      c.flush_now();
      continue;
    }
    co_await c.writable();
  }
}
}  // namespace

Task<> Stream::drain() {
  if (!core_) throw ConnectionError(EBADF, "drain: the stream is closed");
  StreamCore& c = *core_;
  if (c.write_error) throw_os_error(c.write_error, "write");
  if (c.wbuf.size() <= c.limits.write_high_water) co_return;
  co_await wait_queue_below(c, c.limits.write_low_water);
}

Task<> Stream::write_all(std::string_view data) {
  write(data);
  co_await drain();
}

Task<> Stream::flush() {
  if (!core_) throw ConnectionError(EBADF, "flush: the stream is closed");
  co_await wait_queue_below(*core_, 0);
}

std::size_t Stream::write_buffer_size() const noexcept {
  return core_ ? core_->wbuf.size() : 0;
}

Task<> Stream::send_file(int file_fd, std::uint64_t offset, std::uint64_t count) {
  if (!core_) throw ConnectionError(EBADF, "send_file: the stream is closed");
  StreamCore& c = *core_;
  c.check_writable();
  if (c.tls) {
    std::string buf;
    while (count > 0) {
      buf.resize(static_cast<std::size_t>(std::min<std::uint64_t>(count, 64 * 1024)));
      ssize_t n = ::pread(file_fd, buf.data(), buf.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_os_error(errno, "send_file: pread");
      if (n == 0) throw Error("send_file: the file is shorter than the range to send");
      c.queue_write({buf.data(), static_cast<std::size_t>(n)});
      offset += static_cast<std::uint64_t>(n);
      count -= static_cast<std::uint64_t>(n);
      co_await wait_queue_below(c, c.limits.write_high_water);
    }
    co_return;
  }
  co_await wait_queue_below(c, 0);  // what was queued before goes first
  off_t off = static_cast<off_t>(offset);
  while (count > 0) {
    if (c.fd < 0) throw ConnectionError(EBADF, "send_file: the stream is closed");
    if (c.wr_ready) {
      ssize_t n = ::sendfile(c.fd, file_fd, &off,
                             static_cast<std::size_t>(std::min<std::uint64_t>(count, 1u << 30)));
      if (n > 0) {
        count -= static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) throw Error("send_file: the file is shorter than the range to send");
      if (errno == EINTR) continue;
      if (errno != EAGAIN) throw_os_error(errno, "send_file");
      c.wr_ready = false;
    }
    co_await c.writable();
  }
}

Task<> Stream::shutdown_write() {
  if (!core_) throw ConnectionError(EBADF, "shutdown_write: the stream is closed");
  StreamCore& c = *core_;
  c.check_writable();
  c.write_closed = true;
  if (c.tls) c.tls->shutdown(c.wbuf);
  co_await wait_queue_below(c, 0);
  if (::shutdown(c.fd, SHUT_WR) < 0 && errno != ENOTCONN) throw_os_error(errno, "shutdown");
}

Task<> Stream::close() {
  if (!core_) co_return;
  StreamCore& c = *core_;
  std::exception_ptr cancelled;
  if (c.fd >= 0 && !c.write_error) {
    if (c.tls && !c.write_closed) c.tls->shutdown(c.wbuf);
    c.write_closed = true;
    try {
      co_await wait_queue_below(c, 0);
    } catch (const Cancelled&) {
      cancelled = std::current_exception();
    } catch (const std::exception&) {
      // The peer is gone: there is nothing left to flush to. Closing still succeeds.
    }
  }
  // The core stays until ~Stream: readers and writers that close_now() just woke still use
  // it, and find fd < 0.
  c.close_now();
  if (cancelled) std::rethrow_exception(cancelled);
}

void Stream::abort() noexcept {
  if (core_) core_->close_now();
}

SocketAddress Stream::local_address() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (!is_open() || ::getsockname(core_->fd, a.data(), &len) < 0) return {};
  a.set_size(len);
  return a;
}

SocketAddress Stream::peer_address() const {
  SocketAddress a;
  socklen_t len = SocketAddress::capacity();
  if (!is_open() || ::getpeername(core_->fd, a.data(), &len) < 0) return {};
  a.set_size(len);
  return a;
}

int Stream::native_handle() const noexcept {
  return core_ ? core_->fd : -1;
}

void Stream::set_nodelay(bool on) {
  int v = on ? 1 : 0;
  if (is_open() && ::setsockopt(core_->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
    throw_os_error(errno, "setsockopt(TCP_NODELAY)");
}

void Stream::set_keepalive(std::optional<KeepAlive> ka) {
  if (!is_open()) return;
  int fd = core_->fd;
  int on = ka ? 1 : 0;
  if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) < 0)
    throw_os_error(errno, "setsockopt(SO_KEEPALIVE)");
  if (!ka) return;
  int idle = static_cast<int>(ka->idle.count());
  int intvl = static_cast<int>(ka->interval.count());
  int cnt = ka->probes;
  if (::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) < 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) < 0 ||
      ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) < 0)
    throw_os_error(errno, "setsockopt(TCP_KEEP*)");
}

const StreamLimits& Stream::limits() const noexcept {
  static const StreamLimits defaults;
  return core_ ? core_->limits : defaults;
}

void Stream::set_limits(const StreamLimits& limits) noexcept {
  if (core_) core_->limits = limits;
}

bool Stream::is_tls() const noexcept {
  return core_ && core_->tls;
}

std::optional<PeerCertificate> Stream::peer_certificate() const {
  if (!is_tls()) return std::nullopt;
  return core_->tls->peer_certificate();
}

std::string Stream::tls_version() const {
  return is_tls() ? core_->tls->version() : std::string();
}

std::string Stream::alpn_protocol() const {
  return is_tls() ? core_->tls->alpn() : std::string();
}

}  // namespace eddy::net
