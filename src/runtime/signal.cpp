#include <fcntl.h>
#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <system_error>

#include "eddy/signal.hpp"
#include "runtime/loop.hpp"
#include "runtime/signal_hub.hpp"

namespace eddy::detail {

namespace {

int g_pipe[2] = {-1, -1};
std::atomic<SignalHub*> g_owner{nullptr};

std::atomic<bool> g_delivered{false};  // lock-free: safe to store from a handler

void on_signal(int signo) {
  int saved = errno;
  g_delivered.store(true, std::memory_order_release);
  unsigned char b = static_cast<unsigned char>(signo);
  [[maybe_unused]] auto r = ::write(g_pipe[1], &b, 1);
  errno = saved;
}

void ensure_pipe() {
  if (g_pipe[0] >= 0) return;
  if (::pipe2(g_pipe, O_NONBLOCK | O_CLOEXEC) < 0)
    throw std::system_error(errno, std::generic_category(), "pipe2");
}

// Discards deliveries a previous loop left unread: they belong to that loop, not the next.
void drain_pipe() {
  unsigned char buf[64];
  while (::read(g_pipe[0], buf, sizeof buf) > 0) {
  }
}

}  // namespace

SignalHub::SignalHub(Loop& loop) : loop_(loop) {}

SignalHub::~SignalHub() {
  for (auto& [signo, s] : slots_) {
    if (s.installed) ::sigaction(signo, &s.previous, nullptr);
  }
  if (registered_) {
    io_deregister(g_pipe[0], false);
    drain_pipe();
    g_owner.store(nullptr);
  }
}

void SignalHub::install(int signo, Slot& s) {
  if (s.installed) return;
  if (!registered_) {
    SignalHub* expected = nullptr;
    if (!g_owner.compare_exchange_strong(expected, this))
      throw std::logic_error("eddy: another loop is already handling signals");
    ensure_pipe();
    drain_pipe();
    loop_.io_add(g_pipe[0], this, EPOLLIN | EPOLLET, false);
    registered_ = true;
  }
  struct sigaction sa {};
  sa.sa_handler = &on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  if (::sigaction(signo, &sa, &s.previous) < 0)
    throw std::system_error(errno, std::generic_category(), "sigaction");
  s.installed = true;
}

void SignalHub::watch(int signo) {
  if (signo <= 0 || signo >= NSIG) throw std::invalid_argument("eddy::signal: bad signal number");
  install(signo, slots_[signo]);
}

bool SignalHub::consume_pending(int signo) noexcept {
  auto it = slots_.find(signo);
  if (it == slots_.end() || it->second.pending == 0) return false;
  --it->second.pending;
  return true;
}

bool SignalHub::has_waiters() const noexcept {
  for (const auto& [signo, s] : slots_)
    if (!s.waiters.empty()) return true;
  return false;
}

bool SignalHub::take_delivered() noexcept {
  return g_delivered.exchange(false, std::memory_order_acq_rel);
}

void SignalHub::on_io(std::uint32_t) noexcept {
  unsigned char buf[64];
  ssize_t n;
  while ((n = ::read(g_pipe[0], buf, sizeof buf)) > 0) {
    for (ssize_t i = 0; i < n; ++i) {
      auto it = slots_.find(buf[i]);
      if (it == slots_.end()) continue;
      Slot& s = it->second;
      if (s.internal) loop_.call_soon(s.internal);
      if (!s.waiters.wake_one()) {
        ++s.pending;
      } else {
        s.waiters.wake_all();  // one delivery releases everyone waiting for it
      }
    }
  }
}

namespace {
// The loop's own signal reactions are only for the main thread, and only where the program
// has not chosen a handler of its own.
bool may_take_over(int signo) {
  if (::getpid() != static_cast<pid_t>(::syscall(SYS_gettid))) return false;
  struct sigaction current {};
  return ::sigaction(signo, nullptr, &current) == 0 && current.sa_handler == SIG_DFL;
}
}  // namespace

bool SignalHub::install_sigint(TaskBase* main) {
  if (!may_take_over(SIGINT) || (g_owner.load() && g_owner.load() != this)) return false;
  main_ = main;
  Slot& s = slots_[SIGINT];
  install(SIGINT, s);
  s.internal = [this] {
    if (interrupted_) {  // second Ctrl-C: give up on a clean exit
      ::signal(SIGINT, SIG_DFL);
      ::raise(SIGINT);
      return;
    }
    interrupted_ = true;
    if (main_ && !main_->done()) main_->cancel();
  };
  return true;
}

void SignalHub::install_dump_signal() {
  if (!may_take_over(SIGUSR1) || (g_owner.load() && g_owner.load() != this)) return;
  Slot& u = slots_[SIGUSR1];
  install(SIGUSR1, u);
  u.internal = [this] { loop_.log(loop_.dump_tasks()); };
}

bool SignalAwaiter::await_ready() {
  SignalHub& hub = current_loop_checked().signals();
  hub.watch(signo_);
  TaskBase* t = current_task_or_null();
  if (t && t->is_cancelled()) return false;
  return hub.consume_pending(signo_);
}

bool SignalAwaiter::await_suspend(std::coroutine_handle<> h) {
  return suspend_in(current_loop_checked().signals().waiters(signo_), h);
}

}  // namespace eddy::detail
