// AsyncGenerator<T>. User-visible rules pinned here:
//  - next() yields the values in order, then nullopt (and keeps returning nullopt);
//  - the generator is lazy and runs one step per next(), nothing ahead;
//  - it may await (sleeps, other tasks) between values, inside the consuming task: the
//    paginated-API pattern;
//  - an exception inside it is rethrown from next(), after the values yielded before it;
//  - a timeout around next() cancels the generator's pending await;
//  - destroying a generator early (suspended at a co_yield, or never started) is safe and
//    runs the destructors of its locals.
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/generator.hpp"
#include "eddy/runtime.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

namespace {

eddy::AsyncGenerator<int> count_to(int n, int* steps = nullptr) {
  for (int i = 1; i <= n; ++i) {
    if (steps) ++*steps;
    co_yield i;
  }
}

// A fake paginated API: each page takes 10 ms to "fetch"; page 4 is empty.
struct FakeApi {
  int fetches = 0;
  eddy::Task<std::vector<std::string>> fetch_page(int page) {
    ++fetches;
    co_await eddy::sleep(10ms);
    if (page > 3) co_return std::vector<std::string>{};
    co_return std::vector<std::string>{"p" + std::to_string(page) + "a",
                                       "p" + std::to_string(page) + "b"};
  }
};

eddy::AsyncGenerator<std::string> all_items(FakeApi& api) {
  for (int page = 1;; ++page) {
    auto batch = co_await api.fetch_page(page);
    if (batch.empty()) co_return;
    for (auto& item : batch) co_yield item;
  }
}

struct SetOnDestroy {
  bool* flag;
  ~SetOnDestroy() { *flag = true; }
};

}  // namespace

EDDY_TEST(AsyncGenerator, YieldsInOrderThenNullopt) {
  auto gen = count_to(3);
  std::vector<int> got;
  while (auto v = co_await gen.next()) got.push_back(*v);
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
  EXPECT_FALSE((co_await gen.next()).has_value());  // stays finished
}

EDDY_TEST(AsyncGenerator, EmptyGeneratorGivesNulloptAtOnce) {
  auto gen = count_to(0);
  EXPECT_FALSE((co_await gen.next()).has_value());
}

EDDY_TEST(AsyncGenerator, RunsOneStepPerNext) {
  int steps = 0;
  auto gen = count_to(5, &steps);
  EXPECT_EQ(steps, 0);  // lazy: nothing ran yet
  EXPECT_EQ(co_await gen.next(), 1);
  EXPECT_EQ(steps, 1);
  EXPECT_EQ(co_await gen.next(), 2);
  EXPECT_EQ(steps, 2);  // did not run ahead to produce 3
}

EDDY_TEST(AsyncGenerator, PaginatedApiWithSleeps) {
  FakeApi api;
  auto t0 = eddy::now();
  std::vector<std::string> items;
  std::vector<eddy::Duration> at;
  auto gen = all_items(api);
  while (auto item = co_await gen.next()) {
    items.push_back(*item);
    at.push_back(eddy::now() - t0);
  }
  EXPECT_EQ(items, (std::vector<std::string>{"p1a", "p1b", "p2a", "p2b", "p3a", "p3b"}));
  EXPECT_EQ(at, (std::vector<eddy::Duration>{10ms, 10ms, 20ms, 20ms, 30ms, 30ms}));
  EXPECT_EQ(api.fetches, 4);  // pages fetched on demand, up to the empty one
  EXPECT_EQ(eddy::now() - t0, 40ms);
}

EDDY_TEST(AsyncGenerator, ConsumerStoppingEarlyFetchesNoMorePages) {
  FakeApi api;
  {
    auto gen = all_items(api);
    EXPECT_EQ(co_await gen.next(), "p1a");
    EXPECT_EQ(co_await gen.next(), "p1b");
  }
  EXPECT_EQ(api.fetches, 1);
}

EDDY_TEST(AsyncGenerator, ExceptionIsRethrownFromNextAfterEarlierValues) {
  auto gen = []() -> eddy::AsyncGenerator<int> {
    co_yield 1;
    co_await eddy::sleep(1ms);
    throw std::runtime_error("page 2 failed");
  }();
  EXPECT_EQ(co_await gen.next(), 1);
  try {
    co_await gen.next();
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "page 2 failed");
  }
  EXPECT_FALSE((co_await gen.next()).has_value());  // finished after the failure
}

EDDY_TEST(AsyncGenerator, RunsInsideTheConsumingTask) {
  auto me = eddy::current_task();
  auto gen = [](eddy::TaskRef* out) -> eddy::AsyncGenerator<int> {
    *out = eddy::current_task();
    co_yield 0;
  };
  eddy::TaskRef seen;
  auto g = gen(&seen);
  co_await g.next();
  EXPECT_EQ(seen.id(), me.id());
}

EDDY_TEST(AsyncGenerator, TimeoutAroundNextCancelsThePendingAwait) {
  bool cleaned_up = false;
  auto gen = [](bool* flag) -> eddy::AsyncGenerator<int> {
    SetOnDestroy guard{flag};
    co_yield 1;
    co_await eddy::sleep(1h);  // a page that never comes
    co_yield 2;
  }(&cleaned_up);
  EXPECT_EQ(co_await gen.next(), 1);
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(50ms, gen.next()), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 50ms);
  EXPECT_TRUE(cleaned_up);  // the Cancelled unwound the generator's frame
}

EDDY_TEST(AsyncGenerator, EarlyDestructionRunsLocalDestructors) {
  bool destroyed = false;
  {
    auto gen = [](bool* flag) -> eddy::AsyncGenerator<int> {
      SetOnDestroy guard{flag};
      for (int i = 0;; ++i) {
        co_await eddy::sleep(1ms);
        co_yield i;
      }
    }(&destroyed);
    EXPECT_EQ(co_await gen.next(), 0);
    EXPECT_EQ(co_await gen.next(), 1);
    EXPECT_FALSE(destroyed);
  }  // suspended at co_yield: dropped here
  EXPECT_TRUE(destroyed);
  co_await eddy::sleep(5ms);  // and nothing of it is left armed or scheduled
}

EDDY_TEST(AsyncGenerator, NeverStartedGeneratorCanBeDestroyed) {
  int steps = 0;
  { auto gen = count_to(3, &steps); }
  EXPECT_EQ(steps, 0);
  co_return;
}

EDDY_TEST(AsyncGenerator, MoveTransfersTheStream) {
  auto a = count_to(3);
  EXPECT_EQ(co_await a.next(), 1);
  auto b = std::move(a);
  EXPECT_EQ(co_await b.next(), 2);
  EXPECT_EQ(co_await b.next(), 3);
  EXPECT_FALSE((co_await b.next()).has_value());
}
