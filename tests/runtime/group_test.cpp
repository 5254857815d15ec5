// TaskGroup: structured concurrency. Sibling cancellation, error aggregation, the scoped
// form's body cancellation, cancellation of the joining task, and the unjoined-group guard.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;

namespace {

using eddy_test::after;
using eddy_test::fail_after;

std::vector<std::string> messages(const eddy::ExceptionGroup& eg) {
  std::vector<std::string> out;
  for (auto& e : eg.exceptions()) out.push_back(eddy::describe(e));
  return out;
}

EDDY_TEST(TaskGroup, JoinWaitsForEveryChild) {
  eddy::TaskGroup tg;
  auto t0 = eddy::now();
  auto a = tg.spawn(after(10ms, 1));
  auto b = tg.spawn(after(30ms, 2));
  auto c = tg.spawn(after(20ms, 3));
  EXPECT_EQ(tg.size(), 3u);
  co_await tg.join();
  EXPECT_EQ(eddy::now() - t0, 30ms);
  EXPECT_EQ(a.result() + b.result() + c.result(), 6);
  EXPECT_EQ(tg.size(), 0u);
  co_await tg.join();  // nothing left: returns at once
}

EDDY_TEST(TaskGroup, FirstFailureCancelsSiblingsAndEveryFailureIsKept) {
  eddy::TaskGroup tg;
  int sibling_cancelled = 0;
  auto sibling = [&]() -> eddy::Task<> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      ++sibling_cancelled;
      throw;
    }
  };
  tg.spawn(sibling());
  tg.spawn(fail_after(10ms, "first"));
  tg.spawn(sibling());
  // This one fails while being cancelled: its failure is kept too.
  tg.spawn([]() -> eddy::Task<> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
    }
    throw std::runtime_error("second");
  });
  auto t0 = eddy::now();
  try {
    co_await tg.join();
    ADD_FAILURE() << "expected ExceptionGroup";
  } catch (const eddy::ExceptionGroup& eg) {
    EXPECT_EQ(messages(eg), (std::vector<std::string>{"first", "second"}));
    EXPECT_NE(std::string(eg.what()).find("first"), std::string::npos);
  }
  EXPECT_EQ(sibling_cancelled, 2);
  EXPECT_EQ(eddy::now() - t0, 10ms) << "siblings were cancelled, not waited out";
}

EDDY_TEST(TaskGroup, ScopedFormReturnsWhenAllChildrenDone) {
  std::vector<int> done;
  co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
    for (int i = 3; i >= 1; --i)
      tg.spawn([&done, i]() -> eddy::Task<> {
        co_await eddy::sleep(i * 1ms);
        done.push_back(i);
      });
    co_return;
  });
  EXPECT_EQ(done, (std::vector<int>{1, 2, 3}));
}

EDDY_TEST(TaskGroup, ScopedBodyIsCancelledWhenAChildFails) {
  bool body_cancelled = false;
  try {
    co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
      tg.spawn(fail_after(5ms, "child broke"));
      try {
        co_await eddy::sleep(1h);
      } catch (const eddy::Cancelled&) {
        body_cancelled = true;
        throw;
      }
    });
    ADD_FAILURE() << "expected ExceptionGroup";
  } catch (const eddy::ExceptionGroup& eg) {
    EXPECT_EQ(messages(eg), (std::vector<std::string>{"child broke"}));
  }
  EXPECT_TRUE(body_cancelled);
}

EDDY_TEST(TaskGroup, ScopedBodyFailureCancelsChildren) {
  bool child_cancelled = false;
  try {
    co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
      tg.spawn([&]() -> eddy::Task<> {
        try {
          co_await eddy::sleep(1h);
        } catch (const eddy::Cancelled&) {
          child_cancelled = true;
          throw;
        }
      });
      co_await eddy::sleep(1ms);
      throw std::runtime_error("body broke");
    });
    ADD_FAILURE() << "expected ExceptionGroup";
  } catch (const eddy::ExceptionGroup& eg) {
    EXPECT_EQ(messages(eg), (std::vector<std::string>{"body broke"}));
  }
  EXPECT_TRUE(child_cancelled);
}

EDDY_TEST(TaskGroup, CancellingTheJoinerCancelsAndAwaitsChildren) {
  bool child_cleanup_done = false;
  auto parent = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
      tg.spawn([&]() -> eddy::Task<> {
        std::exception_ptr cancelled;
        try {
          co_await eddy::sleep(1h);
        } catch (const eddy::Cancelled&) {
          cancelled = std::current_exception();
        }
        // slow cleanup; the parent must not return before it ends
        co_await eddy::shield(eddy::sleep(2s));
        child_cleanup_done = true;
        std::rethrow_exception(cancelled);
      });
      co_return;
    });
  });
  co_await eddy::sleep(1s);
  auto t0 = eddy::now();
  parent.cancel();
  EXPECT_THROW(co_await parent, eddy::TaskCancelled);
  EXPECT_TRUE(child_cleanup_done);
  EXPECT_EQ(eddy::now() - t0, 2s);
}

TEST(TaskGroup, ChildFailingWhileParentIsCancelledIsReportedNotLost) {
  std::vector<std::string> reports;
  eddy::RunOptions opts;
  opts.exception_handler = [&](const eddy::ExceptionContext& c) { reports.push_back(c.message); };
  eddy::testing::run_virtual(
      []() -> eddy::Task<> {
        auto parent = eddy::spawn([]() -> eddy::Task<> {
          eddy::TaskGroup tg;
          tg.spawn([]() -> eddy::Task<> {
            try {
              co_await eddy::sleep(1h);
            } catch (const eddy::Cancelled&) {
            }
            throw std::runtime_error("failed during cancellation");
          });
          co_await tg.join();
        });
        co_await eddy::sleep(1ms);
        parent.cancel();
        // Cancelled wins: the parent ends cancelled, not with an ExceptionGroup.
        EXPECT_THROW(co_await parent, eddy::TaskCancelled);
      },
      opts);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("failed during cancellation"), std::string::npos);
}

EDDY_TEST(TaskGroup, CancelledChildrenAreNotFailures) {
  eddy::TaskGroup tg;
  auto h = tg.spawn(after(1h, 1));
  tg.spawn(after(1ms, 2));
  co_await eddy::yield_now();
  h.cancel();
  co_await tg.join();  // no ExceptionGroup
  EXPECT_TRUE(h.cancelled());
}

EDDY_TEST(TaskGroup, SpawnIntoACancellingGroupNeverRuns) {
  eddy::TaskGroup tg;
  tg.spawn(after(1h, 1));
  tg.cancel();
  bool ran = false;
  tg.spawn([&]() -> eddy::Task<> {
    ran = true;
    co_return;
  });
  co_await tg.join();
  EXPECT_FALSE(ran);
}

TEST(TaskGroup, DestroyedUnjoinedGroupIsReportedAndChildrenDestroyed) {
  std::vector<std::string> reports;
  bool child_local_destroyed = false;
  eddy::RunOptions opts;
  opts.exception_handler = [&](const eddy::ExceptionContext& c) { reports.push_back(c.message); };
  eddy::testing::run_virtual(
      [&]() -> eddy::Task<> {
        {
          eddy::TaskGroup tg;
          tg.spawn([&]() -> eddy::Task<> {
            struct Local {
              bool& f;
              ~Local() { f = true; }
            } l{child_local_destroyed};
            co_await eddy::sleep(1h);
          });
          co_await eddy::sleep(1ms);  // the child is now suspended in its sleep
        }                             // oops: no join
        EXPECT_TRUE(child_local_destroyed);
      },
      opts);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("never joined"), std::string::npos);
}

EDDY_TEST(TaskGroup, TenThousandChildren) {
  long sum = 0;
  co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
    for (int i = 0; i < 10000; ++i)
      tg.spawn([&sum, i]() -> eddy::Task<> {
        co_await eddy::sleep(std::chrono::milliseconds(i % 7));
        sum += i;
      });
    co_return;
  });
  EXPECT_EQ(sum, 10000L * 9999 / 2);
}

// The first article's fetch_all_users: results collected after the group, all cleaned up.
eddy::Task<std::string> fetch_user(int id) {
  co_await eddy::sleep(100ms);
  co_return "User-" + std::to_string(id);
}

EDDY_TEST(TaskGroup, FetchAllUsersPattern) {
  eddy::TaskGroup tg;
  std::vector<eddy::TaskHandle<std::string>> tasks;
  for (int id = 0; id < 5; ++id) tasks.push_back(tg.spawn(fetch_user(id)));
  auto t0 = eddy::now();
  co_await tg.join();
  EXPECT_EQ(eddy::now() - t0, 100ms);
  std::vector<std::string> names;
  for (auto& t : tasks) names.push_back(t.result());
  EXPECT_EQ(names.front(), "User-0");
  EXPECT_EQ(names.back(), "User-4");
}

}  // namespace
