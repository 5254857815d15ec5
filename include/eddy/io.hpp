// AsyncFd: wait for readiness of a non-blocking file descriptor you own (tokio's AsyncFd).
//
// eddy's own sockets are built on it, and it lets a third-party library's descriptor (a
// database driver's socket, an inotify fd) join the loop:
//
//   eddy::AsyncFd afd(fd);
//   for (;;) {
//     ssize_t n = ::read(fd, buf, sizeof buf);
//     if (n >= 0 || errno != EAGAIN) break;
//     co_await afd.readable();
//   }
//
// Readiness is edge-triggered: an edge that arrives while nobody waits is remembered, so the
// pattern above (try, and on EAGAIN wait) never misses a wake-up. Waits are cancellation
// points. AsyncFd does not close the descriptor.
#pragma once

#include <coroutine>
#include <cstdint>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

class AsyncFd final : detail::IoSource {
 public:
  explicit AsyncFd(int fd);
  ~AsyncFd();
  AsyncFd(const AsyncFd&) = delete;
  AsyncFd& operator=(const AsyncFd&) = delete;

  int fd() const noexcept { return fd_; }

  class ReadyAwaiter final : public detail::WaitNode {
   public:
    ReadyAwaiter(AsyncFd& f, bool write) noexcept : f_(f), write_(write) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const { throw_if_withdrawn(); }

   private:
    AsyncFd& f_;
    bool write_;
  };

  // Until the descriptor is (or may be) readable: data, EOF, hang-up or an error.
  ReadyAwaiter readable(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return ReadyAwaiter(*this, false);
  }
  // Until it is (or may be) writable.
  ReadyAwaiter writable(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return ReadyAwaiter(*this, true);
  }

 private:
  void on_io(std::uint32_t events) noexcept override;
  int fd_;
  bool readable_ = false;
  bool writable_ = false;
  detail::WaitList readers_;
  detail::WaitList writers_;
};

}  // namespace eddy
