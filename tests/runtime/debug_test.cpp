// Debug mode: slow-step warnings naming the task, task dumps with await chains, pending-at-
// exit reports. (Slow steps are about real CPU time, so that test spins on the real clock;
// it asserts only that a step far over the threshold is reported and a trivial one is not.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/virtual_clock.hpp"

using namespace std::chrono_literals;

namespace {

void spin_for(std::chrono::milliseconds d) {
  auto end = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < end) {
  }
}

bool contains(const std::vector<std::string>& lines, const std::string& what) {
  for (auto& l : lines)
    if (l.find(what) != std::string::npos) return true;
  return false;
}

TEST(Debug, SlowStepIsReportedWithTheTaskName) {
  std::vector<std::string> log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.slow_step = 20ms;
  opts.log = [&](std::string_view s) { log.emplace_back(s); };
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
  ASSERT_TRUE(contains(log, "slow step")) << "no slow-step warning";
  EXPECT_TRUE(contains(log, "blocking-worker"));
  EXPECT_TRUE(contains(log, "debug_test.cpp"));
}

TEST(Debug, FastStepsAreNotReported) {
  std::vector<std::string> log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.slow_step = 5000ms;
  opts.log = [&](std::string_view s) { log.emplace_back(s); };
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        for (int i = 0; i < 100; ++i) co_await eddy::yield_now();
      },
      opts);
  EXPECT_FALSE(contains(log, "slow step"));
}

TEST(Debug, SlowStepsAreNotMeasuredOutsideDebugMode) {
  std::vector<std::string> log;
  eddy::RunOptions opts;
  opts.debug = false;
  opts.slow_step = 1ms;
  opts.log = [&](std::string_view s) { log.emplace_back(s); };
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        spin_for(20ms);
        co_return;
      },
      opts);
  EXPECT_FALSE(contains(log, "slow step"));
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
  std::vector<std::string> log;
  eddy::RunOptions opts;
  opts.debug = true;
  opts.log = [&](std::string_view s) { log.emplace_back(s); };
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        eddy::spawn([]() -> eddy::Task<> { co_await eddy::sleep(1h); }, "forgotten");
        co_return;
      },
      opts);
  EXPECT_TRUE(contains(log, "forgotten"));
  EXPECT_TRUE(contains(log, "still pending"));
}

}  // namespace
