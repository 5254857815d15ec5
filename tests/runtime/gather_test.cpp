// gather, gather_settled, as_completed, wait_any: results in input order, fail-fast with the
// original exception, nothing left running, outcomes and completion order.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;

namespace {

using eddy_test::after;
eddy::Task<int> fail_after(eddy::Duration d, std::string msg) {
  return eddy_test::fail_after<std::invalid_argument>(d, std::move(msg));
}
eddy::Task<> nothing_after(eddy::Duration d) {
  co_await eddy::sleep(d);
}

EDDY_TEST(Gather, TupleOfResultsConcurrently) {
  auto t0 = eddy::now();
  auto [a, b, c] = co_await eddy::gather(after(1s, 1), after(3s, 2), nothing_after(2s));
  EXPECT_EQ(a, 1);
  EXPECT_EQ(b, 2);
  static_assert(std::is_same_v<decltype(c), std::monostate>);
  EXPECT_EQ(eddy::now() - t0, 3s) << "concurrent: the slowest decides, not the sum";
}

EDDY_TEST(Gather, VectorKeepsInputOrder) {
  std::vector<eddy::Task<int>> tasks;
  for (int i = 0; i < 10; ++i) tasks.push_back(after(std::chrono::milliseconds(10 - i), i));
  auto r = co_await eddy::gather(std::move(tasks));
  EXPECT_EQ(r, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

EDDY_TEST(Gather, FailureCancelsTheRestAndRethrowsTheOriginal) {
  bool other_cancelled = false;
  auto other = [&]() -> eddy::Task<int> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      other_cancelled = true;
      throw;
    }
    co_return 0;
  };
  auto t0 = eddy::now();
  try {
    co_await eddy::gather(other(), fail_after(5ms, "bad input"));
    ADD_FAILURE() << "expected invalid_argument";
  } catch (const std::invalid_argument& e) {  // the original type, not a group
    EXPECT_STREQ(e.what(), "bad input");
  }
  EXPECT_TRUE(other_cancelled);
  EXPECT_EQ(eddy::now() - t0, 5ms);
}

EDDY_TEST(GatherSettled, EveryOutcomeNoCancellation) {
  std::vector<eddy::Task<int>> tasks;
  tasks.push_back(after(3ms, 1));
  tasks.push_back(fail_after(1ms, "two"));
  tasks.push_back(after(2ms, 3));
  auto out = co_await eddy::gather_settled(std::move(tasks));
  EDDY_CO_ASSERT(out.size() == 3u);
  EXPECT_TRUE(out[0].ok());
  EXPECT_EQ(out[0].value(), 1);
  EXPECT_FALSE(out[1].ok());
  EXPECT_EQ(eddy::describe(out[1].error()), "two");
  EXPECT_THROW(out[1].value(), std::invalid_argument);
  EXPECT_EQ(out[2].value(), 3) << "a failure does not cancel the others";
  auto [x, y] = co_await eddy::gather_settled(after(1ms, 5), fail_after(1ms, "y"));
  EXPECT_EQ(x.value(), 5);
  EXPECT_FALSE(y.ok());
}

EDDY_TEST(AsCompleted, YieldsInCompletionOrderWithIndices) {
  std::vector<eddy::Task<int>> tasks;
  tasks.push_back(after(30ms, 100));
  tasks.push_back(fail_after(10ms, "mid"));
  tasks.push_back(after(20ms, 300));
  auto ac = eddy::as_completed(std::move(tasks));
  std::vector<std::size_t> order;
  while (auto f = co_await ac.next()) {
    order.push_back(f->index);
    if (f->index == 1) {
      EXPECT_FALSE(f->outcome.ok());
    } else {
      EXPECT_EQ(f->outcome.value(), f->index == 0 ? 100 : 300);
    }
  }
  EXPECT_EQ(order, (std::vector<std::size_t>{1, 2, 0}));
}

EDDY_TEST(AsCompleted, CancelRestStopsTheStragglers) {
  bool straggler_cancelled = false;
  // Named, so the lambda (holding the captures) outlives the coroutine it creates.
  auto straggler = [&]() -> eddy::Task<int> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      straggler_cancelled = true;
      throw;
    }
    co_return 2;
  };
  std::vector<eddy::Task<int>> tasks;
  tasks.push_back(after(1ms, 1));
  tasks.push_back(straggler());
  auto ac = eddy::as_completed(std::move(tasks));
  auto first = co_await ac.next();
  EXPECT_EQ(first->index, 0u);
  auto t0 = eddy::now();
  co_await ac.cancel_rest();
  EXPECT_TRUE(straggler_cancelled);
  EXPECT_EQ(eddy::now(), t0);
  EXPECT_FALSE((co_await ac.next()).has_value());
}

EDDY_TEST(WaitAny, FirstToFinishWinsOthersAreCancelled) {
  int cancelled = 0;
  auto loser = [&](eddy::Duration d) -> eddy::Task<int> {
    try {
      co_await eddy::sleep(d);
    } catch (const eddy::Cancelled&) {
      ++cancelled;
      throw;
    }
    co_return -1;
  };
  std::vector<eddy::Task<int>> tasks;
  tasks.push_back(loser(1h));
  tasks.push_back(after(5ms, 42));
  tasks.push_back(loser(2h));
  auto [index, value] = co_await eddy::wait_any(std::move(tasks));
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(value, 42);
  EXPECT_EQ(cancelled, 2) << "losers are cancelled and awaited before wait_any returns";

  auto v = co_await eddy::wait_any(after(2ms, 1), nothing_after(1ms));
  EXPECT_EQ(v.index(), 1u);

  std::vector<eddy::Task<int>> failing;
  failing.push_back(after(1h, 0));
  failing.push_back(fail_after(1ms, "fast failure"));
  EXPECT_THROW(co_await eddy::wait_any(std::move(failing)), std::invalid_argument);
}

// The article's "gather vs sequential": 3 one-second fetches take 3 s in sequence, 1 s at once.
EDDY_TEST(Gather, ConcurrentVersusSequential) {
  auto t0 = eddy::now();
  co_await after(1s, 1);
  co_await after(1s, 2);
  co_await after(1s, 3);
  EXPECT_EQ(eddy::now() - t0, 3s);
  t0 = eddy::now();
  co_await eddy::gather(after(1s, 1), after(1s, 2), after(1s, 3));
  EXPECT_EQ(eddy::now() - t0, 1s);
}

}  // namespace
