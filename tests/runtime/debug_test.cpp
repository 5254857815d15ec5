// Debug mode: slow-step warnings naming the task, task dumps with await chains, pending-at-
// exit reports. (Slow steps are about real CPU time, so that test spins on the real clock;
// it asserts only that a step far over the threshold is reported and a trivial one is not.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/virtual_clock.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;

namespace {

void spin_for(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

TEST(Debug, SlowStepIsReportedWithTheTaskName) {
  eddy_test::LogCapture log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.slow_step = 20ms;
  opts.log = log.sink();
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        auto h = eddy::spawn(
            []() -> eddy::Task<> {
              co_await eddy::yield_now();
              spin_for(80ms);  // blocks the loop, as a sync call in async code would
              co_await eddy::yield_now();
            },
            "blocking-worker");
        co_await h;
      },
      opts);
  ASSERT_TRUE(log.has({"slow step"})) << "no slow-step warning";
  EXPECT_TRUE(log.has({"blocking-worker"}));
  EXPECT_TRUE(log.has({"debug_test.cpp"}));
}

TEST(Debug, FastStepsAreNotReported) {
  eddy_test::LogCapture log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.slow_step = 5000ms;
  opts.log = log.sink();
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        for (int i = 0; i < 100; ++i) co_await eddy::yield_now();
      },
      opts);
  EXPECT_FALSE(log.has({"slow step"}));
}

TEST(Debug, SlowStepsAreNotMeasuredOutsideDebugMode) {
  eddy_test::LogCapture log;
  eddy::RunOptions opts;
  opts.debug = false;
  opts.slow_step = 1ms;
  opts.log = log.sink();
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        spin_for(20ms);
        co_return;
      },
      opts);
  EXPECT_FALSE(log.has({"slow step"}));
}

}  // namespace

// External linkage: with -rdynamic their names show in the dump.
namespace debug_test {
eddy::Task<> innermost(eddy::Event& e) {
  co_await e.wait();
}
eddy::Task<> middle(eddy::Event& e) {
  co_await innermost(e);
}
}  // namespace debug_test

namespace {
using debug_test::middle;

TEST(Debug, DumpShowsEveryTaskWithItsAwaitChain) {
  std::string dump;
  eddy::testing::run_virtual([&]() -> eddy::Task<> {
    eddy::Event e;
    auto h = eddy::spawn(middle(e), "stuck-consumer");
    co_await eddy::yield_now();
    dump = eddy::dump_tasks();
    e.set();
    co_await h;
  });
  EXPECT_NE(dump.find("stuck-consumer"), std::string::npos) << dump;
  EXPECT_NE(dump.find("suspended"), std::string::npos) << dump;
  EXPECT_NE(dump.find("blocked at"), std::string::npos) << dump;
  EXPECT_NE(dump.find("debug_test.cpp"), std::string::npos) << dump;
  // innermost coroutine first, then the one that awaited it
  auto inner = dump.find("in debug_test::innermost(");
  auto outer = dump.find("awaited by debug_test::middle(");
  ASSERT_NE(inner, std::string::npos) << dump;
  ASSERT_NE(outer, std::string::npos) << dump;
  EXPECT_LT(inner, outer);
  EXPECT_NE(dump.find("main"), std::string::npos) << dump;
}

TEST(Debug, TasksPendingAtExitAreListed) {
  eddy_test::LogCapture log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.log = log.sink();
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        eddy::spawn([]() -> eddy::Task<> { co_await eddy::sleep(1h); }, "forgotten");
        co_return;
      },
      opts);
  EXPECT_TRUE(log.has({"forgotten"}));
  EXPECT_TRUE(log.has({"still pending"}));
}

}  // namespace
