// Awaiting POSIX signals: `co_await eddy::signal(SIGTERM);` (asyncio's loop.add_signal_handler,
// as an await). The first wait for a signal installs eddy's handler for it; deliveries that
// arrive while no task waits are counted, so the next wait returns at once instead of losing
// them. The handler is removed and the previous one restored when the loop ends. Signals are
// process-wide: only one loop at a time may wait for them. A cancellation point.
#pragma once

#include <coroutine>

#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

namespace detail {

class SignalAwaiter : public WaitNode {
 public:
  explicit SignalAwaiter(int signo) : signo_(signo) {}
  bool await_ready();
  bool await_suspend(std::coroutine_handle<> h);
  void await_resume() const { throw_if_withdrawn(); }

 private:
  int signo_;
};

}  // namespace detail

inline detail::SignalAwaiter signal(int signo, detail::Where w = {}) {
  detail::note_where(w);
  return detail::SignalAwaiter(signo);
}

}  // namespace eddy
