// Signal delivery into a loop: a self-pipe written by an async-signal-safe handler and read by
// the loop like any other file descriptor. Handles awaited signals, SIGINT-cancels-main for
// eddy::run, and SIGUSR1 task dumps in debug mode.
#pragma once

#include <csignal>
#include <functional>
#include <map>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/wait.hpp"

namespace eddy::detail {

class Loop;
class TaskBase;

class SignalHub final : public IoSource {
 public:
  explicit SignalHub(Loop& loop);
  ~SignalHub();

  void watch(int signo);
  bool consume_pending(int signo) noexcept;
  // True (once) if a handled signal arrived since the last call; lets a busy loop that skips
  // epoll_wait still notice signals.
  static bool take_delivered() noexcept;
  WaitList& waiters(int signo) { return slots_[signo].waiters; }
  bool has_waiters() const noexcept;
  // Makes SIGINT cancel `main` (if on the main thread and SIGINT is at its default action).
  bool install_sigint(TaskBase* main);
  // Debug mode: SIGUSR1 logs dump_tasks() (main thread, SIGUSR1 at its default action).
  void install_dump_signal();
  bool interrupted() const noexcept { return interrupted_; }
  void on_io(std::uint32_t events) noexcept override;

 private:
  struct Slot {
    WaitList waiters;
    unsigned pending = 0;
    bool installed = false;
    struct sigaction previous {};
    std::function<void()> internal;  // loop's own reaction (runs as a callback)
  };
  void install(int signo, Slot& s);

  Loop& loop_;
  std::map<int, Slot> slots_;
  TaskBase* main_ = nullptr;
  bool interrupted_ = false;
  bool registered_ = false;
};

}  // namespace eddy::detail
