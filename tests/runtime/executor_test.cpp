// to_thread, run_in and ThreadPool. User-visible rules pinned here:
//  - the awaited call returns the function's value (void and move-only results too) and
//    rethrows its exception with the type and message preserved;
//  - the function runs on another thread, and the loop keeps serving other tasks meanwhile;
//  - calls on a ThreadPool(n) run truly in parallel (two calls that each wait for the other
//    complete instead of deadlocking);
//  - cancelling the awaiting task (eddy::timeout, TaskHandle::cancel) resumes it at once with
//    TimeoutError / Cancelled while the thread is still busy; the call then finishes on its
//    own and its result is dropped: destroyed, not leaked, no crash.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/executor.hpp"
#include "eddy/runtime.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

namespace {

// Waits (really, on a thread) until `latch` opens, for at most `limit`. True if it opened.
bool wait_for_latch(std::latch& latch, std::chrono::milliseconds limit = 10s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!latch.try_wait()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(100us);
  }
  return true;
}

// A result object whose instances are counted, to see that a dropped result is destroyed.
struct Tracked {
  static inline std::atomic<int> alive{0};
  Tracked() { ++alive; }
  Tracked(const Tracked&) { ++alive; }
  Tracked(Tracked&&) noexcept { ++alive; }
  ~Tracked() { --alive; }
};

struct CustomError : std::runtime_error {
  explicit CustomError(int c) : std::runtime_error("custom"), code(c) {}
  int code;
};

eddy::RunOptions real_clock() {
  eddy::RunOptions o;
  o.handle_sigint = false;
  return o;
}

}  // namespace

// --- results and errors

EDDY_TEST(ToThread, ReturnsTheValue) {
  int v = co_await eddy::to_thread([] { return 6 * 7; });
  EXPECT_EQ(v, 42);
  std::string s = co_await eddy::to_thread([] { return std::string("from a thread"); });
  EXPECT_EQ(s, "from a thread");
}

// asyncio's to_thread(func, *args). Arguments are copied into the call, so short strings
// (kept inline by std::string) survive being passed across: the case GCC 12 breaks when the
// same is written as a capturing lambda inside the co_await expression.
std::size_t joined_size(const std::string& a, const std::string& b, int extra) {
  return a.size() + b.size() + static_cast<std::size_t>(extra);
}

EDDY_TEST(ToThread, PassesArgumentsLikeAsyncio) {
  std::string host = "localhost";
  std::size_t n = co_await eddy::to_thread(joined_size, host, std::string("ab"), 1);
  EXPECT_EQ(n, 12u);
  auto square = [](int x) { return x * x; };
  EXPECT_EQ(co_await eddy::to_thread(square, 9), 81);
}

EDDY_TEST(ToThread, VoidAndMoveOnlyResults) {
  std::atomic<bool> ran{false};
  co_await eddy::to_thread([&] { ran = true; });
  EXPECT_TRUE(ran);
  std::unique_ptr<int> p = co_await eddy::to_thread([] { return std::make_unique<int>(5); });
  EXPECT_TRUE(p && *p == 5);
}

EDDY_TEST(ToThread, RethrowsWithTypeAndMessage) {
  try {
    co_await eddy::to_thread([]() -> int { throw std::runtime_error("disk on fire"); });
    ADD_FAILURE() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk on fire");
  }
  try {
    co_await eddy::to_thread([] { throw CustomError(17); });
    ADD_FAILURE() << "no exception";
  } catch (const CustomError& e) {
    EXPECT_EQ(e.code, 17);
  }
  // Not even a std::exception: still delivered as is.
  EXPECT_THROW(co_await eddy::to_thread([] { throw 42; }), int);
}

EDDY_TEST(ToThread, RunsOnAnotherThread) {
  auto loop_thread = std::this_thread::get_id();
  auto worker = co_await eddy::to_thread([] { return std::this_thread::get_id(); });
  EXPECT_NE(worker, loop_thread);
  EXPECT_EQ(std::this_thread::get_id(), loop_thread);  // and we are back on the loop thread
}

EDDY_TEST(RunIn, UsesTheGivenPool) {
  eddy::ThreadPool pool(1);
  EXPECT_EQ(pool.size(), 1u);
  auto a = co_await eddy::run_in(pool, [] { return std::this_thread::get_id(); });
  auto b = co_await eddy::run_in(pool, [] { return std::this_thread::get_id(); });
  EXPECT_EQ(a, b);  // one thread only
  EXPECT_NE(a, std::this_thread::get_id());
  EXPECT_THROW(co_await eddy::run_in(pool, []() -> int { throw std::out_of_range("x"); }),
               std::out_of_range);
}

TEST(ThreadPool, ZeroMeansOneThreadPerCore) {
  eddy::ThreadPool pool(0);
  EXPECT_EQ(pool.size(), std::max(1u, std::thread::hardware_concurrency()));
}

// --- concurrency

EDDY_TEST(ToThread, LoopKeepsServingWhileACallBlocks) {
  std::atomic<bool> flag{false};
  // The thread waits for something only another task of the loop can do.
  auto blocked = eddy::spawn([&]() -> eddy::Task<bool> {
    co_return co_await eddy::to_thread([&] {
      auto deadline = std::chrono::steady_clock::now() + 10s;
      while (!flag.load()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(100us);
      }
      return true;
    });
  });
  auto other = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::yield_now();
    flag = true;
  });
  co_await other;
  EXPECT_TRUE(co_await blocked);
}

EDDY_TEST(RunIn, CallsRunInParallelOnAPoolOfTwo) {
  eddy::ThreadPool pool(2);
  std::latch both(2);
  // Each call arrives and waits for the other: serially run, the first would time out.
  auto rendezvous = [&] {
    both.count_down();
    return wait_for_latch(both);
  };
  auto a =
      eddy::spawn([&]() -> eddy::Task<bool> { co_return co_await eddy::run_in(pool, rendezvous); });
  auto b =
      eddy::spawn([&]() -> eddy::Task<bool> { co_return co_await eddy::run_in(pool, rendezvous); });
  EXPECT_TRUE(co_await a);
  EXPECT_TRUE(co_await b);
}

// --- cancellation (real clock: while a thread call is in flight, virtual time waits for it)

TEST(ToThreadCancel, TimeoutResumesTheTaskWhileTheThreadFinishesLater) {
  eddy::ThreadPool pool(1);
  std::latch release(1);
  std::atomic<bool> finished{false};
  Tracked::alive = 0;
  std::vector<std::string> events;
  eddy::run(
      [&]() -> eddy::Task<> {
        try {
          co_await eddy::timeout(20ms, eddy::run_in(pool, [&] {
                                   Tracked result;  // alive from before `finished` is set
                                   EXPECT_TRUE(wait_for_latch(release));
                                   finished = true;
                                   return result;
                                 }));
          events.push_back("returned");
        } catch (const eddy::TimeoutError&) {
          events.push_back(finished ? "timeout after finish" : "timeout while busy");
        }
        release.count_down();
        // The late result arrives and is dropped; wait (bounded) until it has been destroyed.
        for (int i = 0; i < 10000 && !(finished && Tracked::alive == 0); ++i)
          co_await eddy::sleep(1ms);
        events.push_back(finished ? "finished" : "still busy");
        EXPECT_EQ(Tracked::alive, 0);
      }(),
      real_clock());
  EXPECT_EQ(events, (std::vector<std::string>{"timeout while busy", "finished"}));
  EXPECT_EQ(Tracked::alive, 0);
}

TEST(ToThreadCancel, CancellingTheAwaitingTaskResumesItWithCancelled) {
  eddy::ThreadPool pool(1);
  std::latch release(1);
  std::atomic<bool> finished{false};
  eddy::run(
      [&]() -> eddy::Task<> {
        bool saw_cancelled = false;
        auto caller = eddy::spawn([&]() -> eddy::Task<int> {
          try {
            co_return co_await eddy::run_in(pool, [&] {
              wait_for_latch(release);
              finished = true;
              return 1;
            });
          } catch (const eddy::Cancelled&) {
            saw_cancelled = true;
            throw;
          }
        });
        co_await eddy::sleep(5ms);
        caller.cancel();
        EXPECT_THROW(co_await caller, eddy::TaskCancelled);
        EXPECT_TRUE(saw_cancelled);
        EXPECT_FALSE(finished);  // resumed before the thread was done
        release.count_down();
        // The loop stays healthy: later thread calls still work on the same pool.
        EXPECT_EQ(co_await eddy::run_in(pool, [] { return 7; }), 7);
        EXPECT_TRUE(finished);  // the pool has one thread: the dropped call ran first
      }(),
      real_clock());
}

TEST(ToThreadCancel, LoopMayEndBeforeTheDroppedCallFinishes) {
  eddy::ThreadPool pool(1);
  std::latch release(1);
  std::atomic<bool> finished{false};
  Tracked::alive = 0;
  eddy::run(
      [&]() -> eddy::Task<> {
        EXPECT_FALSE(co_await eddy::move_on_after(10ms, eddy::run_in(pool, [&] {
                                                    Tracked result;
                                                    wait_for_latch(release);
                                                    finished = true;
                                                    return result;
                                                  })));
      }(),
      real_clock());
  EXPECT_FALSE(finished);
  release.count_down();  // the loop is gone when the result comes back
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!(finished && Tracked::alive == 0) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  EXPECT_TRUE(finished);
  EXPECT_EQ(Tracked::alive, 0);
}
