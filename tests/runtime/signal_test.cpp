// eddy::signal. User-visible rules pinned here:
//  - co_await eddy::signal(SIGUSR2) completes when the process receives SIGUSR2;
//  - a delivery that arrives while no task waits is counted, not lost: the next wait
//    returns at once (one wait per delivery);
//  - each wait is for its own signal number;
//  - the wait is a cancellation point: cancelled, it throws Cancelled (TimeoutError under
//    eddy::timeout), and a later delivery is kept for the next wait;
//  - when the loop ends, the previous handler is restored.
// Only SIGUSR2 and SIGHUP are used; signals are sent to our own pid. The first wait installs
// eddy's handler, so every test waits before it sends anything.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/runtime.hpp"
#include "eddy/signal.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;

namespace {

void send(int signo) {
  ASSERT_EQ(::kill(::getpid(), signo), 0);
}

}  // namespace

EDDY_TEST(Signal, WaitCompletesWhenTheSignalArrives) {
  auto t0 = eddy::now();
  auto waiter = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
  co_await eddy::sleep(3ms);
  EXPECT_FALSE(waiter.done());
  send(SIGUSR2);
  co_await eddy::timeout(1s, waiter);
  EXPECT_EQ(eddy::now() - t0, 3ms);
}

// A busy loop with no sockets skips epoll_wait: signals must still get through.
EDDY_TEST(Signal, BusyLoopStillSeesSignals) {
  auto waiter = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
  co_await eddy::yield_now();
  std::thread th([] { send(SIGUSR2); });
  auto start = std::chrono::steady_clock::now();
  while (!waiter.done() && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
    co_await eddy::yield_now();
  th.join();
  EXPECT_TRUE(waiter.done()) << "the signal reached the waiter while the loop stayed busy";
}

EDDY_TEST(Signal, DeliveryWhileNobodyWaitsIsNotLost) {
  auto first = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
  co_await eddy::sleep(1ms);
  send(SIGUSR2);
  co_await eddy::timeout(1s, first);

  send(SIGUSR2);  // nobody is waiting now
  send(SIGUSR2);
  co_await eddy::sleep(5ms);
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, eddy::signal(SIGUSR2)));
  EXPECT_TRUE(co_await eddy::move_on_after(1s, eddy::signal(SIGUSR2)));
  EXPECT_EQ(eddy::now(), t0);                                               // both returned at once
  EXPECT_FALSE(co_await eddy::move_on_after(10ms, eddy::signal(SIGUSR2)));  // one per delivery
}

EDDY_TEST(Signal, DeliveryBeforeTheLoopSeesItIsNotLost) {
  // Sent and immediately awaited, before the loop has read the signal's wake-up.
  auto first = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
  co_await eddy::sleep(1ms);
  send(SIGUSR2);
  co_await eddy::timeout(1s, first);
  send(SIGUSR2);
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, eddy::signal(SIGUSR2)));
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Signal, WaitsAreForTheirOwnSignalNumber) {
  auto usr2 = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
  auto hup = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGHUP); });
  co_await eddy::sleep(1ms);
  send(SIGHUP);
  co_await eddy::timeout(1s, hup);
  co_await eddy::sleep(5ms);
  EXPECT_FALSE(usr2.done());
  send(SIGUSR2);
  co_await eddy::timeout(1s, usr2);
}

EDDY_TEST(Signal, CancelledWaitThrowsCancelled) {
  bool saw_cancelled = false;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    try {
      co_await eddy::signal(SIGUSR2);
    } catch (const eddy::Cancelled&) {
      saw_cancelled = true;
      throw;
    }
  });
  co_await eddy::sleep(1ms);
  waiter.cancel();
  EXPECT_THROW(co_await waiter, eddy::TaskCancelled);
  EXPECT_TRUE(saw_cancelled);

  // The withdrawn wait does not swallow the next delivery.
  send(SIGUSR2);
  co_await eddy::sleep(1ms);
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, eddy::signal(SIGUSR2)));
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Signal, TimeoutAroundWait) {
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(20ms, eddy::signal(SIGUSR2)), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 20ms);
  send(SIGUSR2);  // the handler stays installed after the timed-out wait
  EXPECT_TRUE(co_await eddy::move_on_after(1s, eddy::signal(SIGUSR2)));
}

namespace {
std::atomic<int> g_own_handler_calls{0};
void own_handler(int) {
  ++g_own_handler_calls;
}
}  // namespace

TEST(Signal, PreviousHandlerIsRestoredWhenTheLoopEnds) {
  struct sigaction mine {
  }, saved{};
  mine.sa_handler = &own_handler;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(::sigaction(SIGUSR2, &mine, &saved), 0);
  g_own_handler_calls = 0;

  eddy::testing::run_virtual([]() -> eddy::Task<> {
    auto waiter = eddy::spawn([]() -> eddy::Task<> { co_await eddy::signal(SIGUSR2); });
    co_await eddy::sleep(1ms);
    send(SIGUSR2);  // goes to eddy, not to our handler
    co_await eddy::timeout(1s, waiter);
  });
  EXPECT_EQ(g_own_handler_calls, 0);

  ::raise(SIGUSR2);  // the loop is gone: our handler is back
  EXPECT_EQ(g_own_handler_calls, 1);
  ::sigaction(SIGUSR2, &saved, nullptr);
}

// A delivery the previous loop never read belongs to that loop: it must not complete a wait
// in the next one.
TEST(Signal, UnreadDeliveryDoesNotLeakIntoTheNextLoop) {
  eddy::testing::run_virtual([]() -> eddy::Task<> {
    co_await eddy::move_on_after(1ms, eddy::signal(SIGUSR2));  // installs the handler
    ::kill(::getpid(), SIGUSR2);                               // the loop ends before reading it
  });
  bool got = eddy::testing::run_virtual([]() -> eddy::Task<bool> {
    co_return co_await eddy::move_on_after(10ms, eddy::signal(SIGUSR2));
  });
  EXPECT_FALSE(got);
}

// Ctrl-C: SIGINT cancels the main task, which unwinds normally; run() then throws Interrupted.
TEST(Signal, SigintCancelsTheMainTaskAndRunThrowsInterrupted) {
  bool unwound = false;
  auto main_task = [&]() -> eddy::Task<> {
    struct Cleanup {
      bool& flag;
      ~Cleanup() { flag = true; }
    } cleanup{unwound};
    ::kill(::getpid(), SIGINT);
    co_await eddy::sleep(1h);
  };
  EXPECT_THROW(eddy::run(main_task()), eddy::Interrupted);
  EXPECT_TRUE(unwound);
  struct sigaction after {};
  ::sigaction(SIGINT, nullptr, &after);
  EXPECT_EQ(after.sa_handler, SIG_DFL) << "run() restores the default SIGINT action";
}

// Debug mode: SIGUSR1 makes the loop log a task dump (for a hung service).
TEST(Signal, SigusrOneLogsATaskDumpInDebugMode) {
  eddy_test::LogCapture log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.log = log.sink();
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        auto h = eddy::spawn([]() -> eddy::Task<> { co_await eddy::sleep(1h); }, "sleepy");
        co_await eddy::yield_now();
        ::kill(::getpid(), SIGUSR1);
        co_await eddy::sleep(1ms);
        h.cancel();
      },
      opts);
  EXPECT_TRUE(log.has({"live task", "sleepy"}));
}
