#include <sys/epoll.h>

#include "eddy/io.hpp"

namespace eddy {

AsyncFd::AsyncFd(int fd) : fd_(fd) {
  detail::io_register(fd, this, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET);
}

AsyncFd::~AsyncFd() {
  detail::io_deregister(fd_);
}

void AsyncFd::on_io(std::uint32_t ev) noexcept {
  constexpr std::uint32_t kRead = EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR;
  constexpr std::uint32_t kWrite = EPOLLOUT | EPOLLHUP | EPOLLERR;
  // Waking a waiter hands it the edge; with nobody waiting, remember it.
  if (ev & kRead) {
    if (readers_.empty()) {
      readable_ = true;
    } else {
      readers_.wake_all();
    }
  }
  if (ev & kWrite) {
    if (writers_.empty()) {
      writable_ = true;
    } else {
      writers_.wake_all();
    }
  }
}

bool AsyncFd::ReadyAwaiter::await_ready() noexcept {
  detail::TaskBase* t = detail::current_task_or_null();
  if (t && t->is_cancelled()) return false;
  bool& flag = write_ ? f_.writable_ : f_.readable_;
  if (!flag) return false;
  flag = false;  // consumed: the caller retries its syscall
  return true;
}

bool AsyncFd::ReadyAwaiter::await_suspend(std::coroutine_handle<> h) {
  return suspend_in(write_ ? f_.writers_ : f_.readers_, h);
}

}  // namespace eddy
