// Testing timing logic without waiting: a virtual clock (trio's autojump MockClock, tokio's
// time::pause).
//
//   TEST(Timeouts, FireAfterTwoSeconds) {
//     eddy::testing::run_virtual([]() -> eddy::Task<> {
//       auto t0 = eddy::now();
//       EXPECT_FALSE(co_await eddy::move_on_after(2s, eddy::sleep(1h)));
//       EXPECT_EQ(eddy::now() - t0, 2s);         // exact, and the test takes microseconds
//     });
//   }
//
// Time stands still while any task can run; when every task is waiting, it jumps straight to
// the next timer. While a thread-pool call is in flight, or a task waits on real I/O with no
// timer armed, it waits for that real event instead of jumping. If nothing at all can wake
// any task, `run_virtual` throws a deadlock error with a task dump instead of hanging.
#pragma once

#include <type_traits>
#include <utility>

#include "eddy/runtime.hpp"

namespace eddy::testing {

template <class T>
T run_virtual(Task<T> main, RunOptions options = {}) {
  options.virtual_clock = true;
  options.handle_sigint = false;
  return run(std::move(main), std::move(options));
}

// Runs a callable returning a Task (a coroutine lambda), keeping the lambda alive throughout.
template <detail::TaskFactory F>
auto run_virtual(F factory, RunOptions options = {}) {
  return run_virtual(detail::invoke_stored(std::move(factory)), std::move(options));
}

}  // namespace eddy::testing
