// Cancellation and time: timeout, move_on_after, nesting, outer-vs-inner attribution,
// level-triggered delivery, shield, deadlines. All on the virtual clock, with exact times.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/gtest.hpp"

using namespace std::chrono_literals;

namespace {

struct SetOnDestroy {
  bool& flag;
  ~SetOnDestroy() { flag = true; }
};

eddy::Task<int> slow_value(eddy::Duration d, int v) {
  co_await eddy::sleep(d);
  co_return v;
}

EDDY_TEST(Timeout, FiresAtTheDeadlineAndUnwindsTheOperation) {
  bool cleaned = false;
  auto op = [&]() -> eddy::Task<int> {
    SetOnDestroy guard{cleaned};
    co_await eddy::sleep(10s);
    co_return 1;
  };
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(2s, op()), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 2s);
  EXPECT_TRUE(cleaned);
}

EDDY_TEST(Timeout, PassesTheValueThroughWhenInTime) {
  EXPECT_EQ(co_await eddy::timeout(2s, slow_value(1s, 5)), 5);
  EXPECT_EQ(co_await eddy::wait_for(slow_value(1s, 6), 2s), 6);
  // Works around any awaitable, not only tasks.
  co_await eddy::timeout(2s, eddy::sleep(1s));
}

EDDY_TEST(Timeout, TimeoutErrorIsAStdException) {
  try {
    co_await eddy::timeout(1ms, eddy::sleep(1h));
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("timed out"), std::string::npos);
  }
}

EDDY_TEST(MoveOn, ReturnsEmptyInsteadOfThrowing) {
  auto t0 = eddy::now();
  auto r = co_await eddy::move_on_after(1s, slow_value(5s, 1));
  EXPECT_FALSE(r.has_value());
  EXPECT_EQ(eddy::now() - t0, 1s);
  auto ok = co_await eddy::move_on_after(5s, slow_value(1s, 2));
  EXPECT_EQ(ok, 2);
  bool done = co_await eddy::move_on_after(1s, eddy::sleep(2s));
  EXPECT_FALSE(done);
  done = co_await eddy::move_on_at(eddy::now() + 2s, eddy::sleep(1s));
  EXPECT_TRUE(done);
}

EDDY_TEST(Nesting, InnerTimeoutFiresFirstAndOuterGoesOn) {
  auto t0 = eddy::now();
  auto outer = [&]() -> eddy::Task<std::string> {
    try {
      co_await eddy::timeout(1s, eddy::sleep(1h));
    } catch (const eddy::TimeoutError&) {
    }
    co_await eddy::sleep(1s);  // the outer scope is not cancelled
    co_return "outer finished";
  };
  EXPECT_EQ(co_await eddy::timeout(5s, outer()), "outer finished");
  EXPECT_EQ(eddy::now() - t0, 2s);
}

EDDY_TEST(Nesting, OuterDeadlineStaysCancelledInsideInnerScope) {
  std::string inner_saw;
  auto inner = [&]() -> eddy::Task<> {
    try {
      co_await eddy::timeout(10s, eddy::sleep(1h));
    } catch (const eddy::TimeoutError&) {
      inner_saw = "TimeoutError";  // would be wrong: the inner deadline did not fire
      throw;
    } catch (const eddy::Cancelled&) {
      inner_saw = "Cancelled";
      throw;
    }
  };
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(1s, inner()), eddy::TimeoutError);
  EXPECT_EQ(inner_saw, "Cancelled");
  EXPECT_EQ(eddy::now() - t0, 1s);
}

EDDY_TEST(Nesting, BothDeadlinesTogetherAreAttributedToTheOuter) {
  std::string inner_saw;
  auto inner = [&]() -> eddy::Task<> {
    try {
      co_await eddy::timeout(1s, eddy::sleep(1h));
    } catch (const eddy::TimeoutError&) {
      inner_saw = "TimeoutError";
      throw;
    } catch (const eddy::Cancelled&) {
      inner_saw = "Cancelled";
      throw;
    }
  };
  EXPECT_THROW(co_await eddy::timeout(1s, inner()), eddy::TimeoutError);
  EXPECT_EQ(inner_saw, "Cancelled")
      << "an enclosing cancellation is never turned into an inner timeout";
}

EDDY_TEST(Nesting, NearestDeadlineIsVisible) {
  EXPECT_FALSE(eddy::current_deadline().has_value());
  auto t0 = eddy::now();
  auto probe = []() -> eddy::Task<eddy::TimePoint> { co_return *eddy::current_deadline(); };
  auto inner = [&]() -> eddy::Task<eddy::TimePoint> {
    co_return co_await eddy::timeout(5s, probe());
  };
  EXPECT_EQ(co_await eddy::timeout(2s, inner()), t0 + 2s);
  EXPECT_EQ(co_await eddy::timeout(9s, eddy::timeout(3s, probe())), t0 + 3s);
}

EDDY_TEST(ExternalCancel, InsideATimeoutStaysCancelled) {
  std::string seen;
  auto h = eddy::spawn([&]() -> eddy::Task<> {
    try {
      co_await eddy::timeout(10s, eddy::sleep(1h));
    } catch (const eddy::TimeoutError&) {
      seen = "TimeoutError";
      throw;
    } catch (const eddy::Cancelled&) {
      seen = "Cancelled";
      throw;
    }
  });
  co_await eddy::sleep(1s);
  h.cancel();
  EXPECT_THROW(co_await h, eddy::TaskCancelled);
  EXPECT_EQ(seen, "Cancelled");
}

EDDY_TEST(ExternalCancel, ArrivingWhileATimeoutUnwindsStaysCancelled) {
  // The inner deadline fires at 1 s; the operation takes until 2 s to unwind (shielded
  // cleanup); an outer cancel lands at 1.5 s. When the Cancelled reaches the timeout scope,
  // both causes hold, and the outer one wins: the task ends cancelled, not timed out.
  std::string seen;
  auto op = []() -> eddy::Task<> {
    std::exception_ptr cancelled;
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      cancelled = std::current_exception();  // C++ cannot co_await inside a handler
    }
    co_await eddy::shield(eddy::sleep(1s));
    std::rethrow_exception(cancelled);
  };
  auto h = eddy::spawn([&]() -> eddy::Task<> {
    try {
      co_await eddy::timeout(1s, op());
    } catch (const eddy::TimeoutError&) {
      seen = "TimeoutError";
    } catch (const eddy::Cancelled&) {
      seen = "Cancelled";
      throw;
    }
  });
  co_await eddy::sleep(1500ms);
  h.cancel();
  EXPECT_THROW(co_await h, eddy::TaskCancelled);
  EXPECT_EQ(seen, "Cancelled");
}

EDDY_TEST(Cancellation, IsLevelTriggeredAndCannotBeSwallowed) {
  int cancels_seen = 0;
  auto h = eddy::spawn([&]() -> eddy::Task<> {
    for (int i = 0; i < 3; ++i) {
      try {
        co_await eddy::sleep(1h);
      } catch (const eddy::Cancelled&) {
        ++cancels_seen;  // a careless handler that swallows it...
      }
    }
  });
  co_await eddy::sleep(1ms);
  h.cancel();
  co_await eddy::sleep(1ms);
  // ...gets Cancelled again at every later await, and the task still ends.
  EXPECT_EQ(cancels_seen, 3);
  EXPECT_TRUE(h.done());
}

EDDY_TEST(Cancellation, EveryPrimitiveIsACancellationPoint) {
  eddy::Semaphore sem(0);
  eddy::Event ev;
  eddy::Queue<int> q;
  eddy::Lock lock;
  auto held = co_await lock.acquire();
  std::vector<eddy::TaskHandle<>> hs;
  hs.push_back(eddy::spawn([&]() -> eddy::Task<> { co_await sem.acquire(); }));
  hs.push_back(eddy::spawn([&]() -> eddy::Task<> { co_await ev.wait(); }));
  hs.push_back(eddy::spawn([&]() -> eddy::Task<> { co_await q.get(); }));
  hs.push_back(eddy::spawn([&]() -> eddy::Task<> { co_await lock.acquire(); }));
  hs.push_back(eddy::spawn([&]() -> eddy::Task<> { co_await eddy::sleep(1h); }));
  co_await eddy::sleep(1ms);
  auto t0 = eddy::now();
  for (auto& h : hs) h.cancel();
  for (auto& h : hs) EXPECT_THROW(co_await h, eddy::TaskCancelled);
  EXPECT_EQ(eddy::now(), t0) << "cancellation is immediate, no timer involved";
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_EQ(q.size(), 0u);
}

EDDY_TEST(Shield, HoldsOffOuterCancellationUntilTheShieldedWorkEnds) {
  bool cleanup_finished = false;
  bool cancelled_after = false;
  auto h = eddy::spawn([&]() -> eddy::Task<> {
    std::exception_ptr cancelled;
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      cancelled = std::current_exception();
    }
    // Cleanup needs to await: shield it, or the first await would raise again.
    co_await eddy::shield([&]() -> eddy::Task<> {
      co_await eddy::sleep(2s);
      cleanup_finished = true;
    }());
    try {
      co_await eddy::yield_now();
    } catch (const eddy::Cancelled&) {
      cancelled_after = true;
    }
    std::rethrow_exception(cancelled);
  });
  co_await eddy::sleep(1ms);
  auto t0 = eddy::now();
  h.cancel();
  EXPECT_THROW(co_await h, eddy::TaskCancelled);
  EXPECT_TRUE(cleanup_finished);
  EXPECT_TRUE(cancelled_after) << "the held-off cancellation arrives at the next await";
  EXPECT_EQ(eddy::now() - t0, 2s);
}

EDDY_TEST(Shield, TimeoutsInsideAShieldStillWork) {
  auto h = eddy::spawn([&]() -> eddy::Task<int> {
    co_return co_await eddy::shield([]() -> eddy::Task<int> {
      auto r = co_await eddy::move_on_after(1s, eddy::sleep(1h));
      co_return r ? 1 : 2;
    }());
  });
  co_await eddy::yield_now();
  h.cancel();
  // The shielded part runs to completion (its own move_on fires) despite the cancel; the
  // cancellation then lands when the task next awaits -- it does not, so it returns 2.
  EXPECT_EQ(co_await h, 2);
}

EDDY_TEST(Deadline, AlreadyExpiredCancelsAtTheFirstAwait) {
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout_at(t0 - 1s, eddy::sleep(1s)), eddy::TimeoutError);
  EXPECT_EQ(eddy::now(), t0);
  // Work without an await point completes: there is nowhere to deliver the cancellation.
  EXPECT_EQ(co_await eddy::timeout(0s, []() -> eddy::Task<int> { co_return 3; }()), 3);
}

EDDY_TEST(Deadline, ManyTimeoutsThatNeverFireCostNothingLater) {
  auto t0 = eddy::now();
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(co_await eddy::timeout(1h, slow_value(0ms, i)), i);
  // Had any of those timers stayed armed, the next sleep would wake early or time would jump.
  co_await eddy::sleep(10ms);
  EXPECT_EQ(eddy::now() - t0, 10ms);
}

}  // namespace
