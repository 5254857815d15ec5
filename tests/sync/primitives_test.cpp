// Lock, Event, Condition and Barrier. User-visible rules pinned here:
//  - Lock: mutual exclusion, FIFO order, a cancelled acquire() never leaves it locked (queued
//    or already granted);
//  - Event: set() wakes every waiter (even if cleared again before they run), wait() on a set
//    event returns at once, clear() re-arms it, wait() is a cancellation point;
//  - Condition: wait() releases the lock while waiting and holds it again on return;
//    notify(n) wakes n waiters, notify_all() all; wait_for(pred) loops until pred holds; a
//    cancelled wait still returns holding the lock (guard valid, lock.locked()) and throws
//    Cancelled; a waiter notified and then cancelled keeps the notification (wait returns
//    normally, Cancelled comes at the next await);
//  - Barrier: nobody passes until all parties arrived, then all pass together; indices
//    0..parties-1 are distinct; it is cyclic; abort() breaks it for present and future
//    waiters until reset(); a cancelled waiter leaves (n_waiting drops).
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/group.hpp"
#include "eddy/runtime.hpp"
#include "eddy/sync.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

// --- Lock

EDDY_TEST(Lock, MutualExclusion) {
  eddy::Lock lock;
  int inside = 0;
  int max_inside = 0;
  int counter = 0;
  eddy::TaskGroup tg;
  for (int i = 0; i < 5; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      for (int k = 0; k < 3; ++k) {
        auto guard = co_await lock.acquire();
        max_inside = std::max(max_inside, ++inside);
        int read = counter;  // read-modify-write across an await: racy without the lock
        co_await eddy::sleep(1ms);
        counter = read + 1;
        --inside;
      }
    });
  }
  co_await tg.join();
  EXPECT_EQ(max_inside, 1);
  EXPECT_EQ(counter, 15);
  EXPECT_FALSE(lock.locked());
}

EDDY_TEST(Lock, WaitersAcquireInArrivalOrder) {
  eddy::Lock lock;
  auto mine = co_await lock.acquire();
  EXPECT_TRUE(lock.locked());
  std::vector<int> order;
  eddy::TaskGroup tg;
  for (int i = 0; i < 5; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 1ms);
      auto g = co_await lock.acquire();
      order.push_back(i);
      co_await eddy::yield_now();
    });
  }
  co_await eddy::sleep(10ms);
  mine.release();
  EXPECT_FALSE(lock.try_acquire().has_value());  // handed over, not up for grabs
  co_await tg.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

EDDY_TEST(Lock, TryAcquire) {
  eddy::Lock lock;
  auto g = lock.try_acquire();
  EXPECT_TRUE(g.has_value());
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.try_acquire().has_value());
  g.reset();
  EXPECT_FALSE(lock.locked());
  co_return;
}

EDDY_TEST(Lock, TimedOutAcquireDoesNotLeaveItLocked) {
  eddy::Lock lock;
  {
    auto mine = co_await lock.acquire();
    EXPECT_THROW(co_await eddy::timeout(10ms, lock.acquire()), eddy::TimeoutError);
  }
  EXPECT_FALSE(lock.locked());
  auto t0 = eddy::now();
  auto again = co_await lock.acquire();  // free at once: no ghost waiter ahead of us
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Lock, CancelledWaiterDoesNotLeaveItLocked) {
  eddy::Lock lock;
  auto mine = co_await lock.acquire();
  auto queued = eddy::spawn([&]() -> eddy::Task<> { auto g = co_await lock.acquire(); });
  co_await eddy::sleep(1ms);
  queued.cancel();
  EXPECT_THROW(co_await queued, eddy::TaskCancelled);
  mine.release();
  EXPECT_FALSE(lock.locked());
}

EDDY_TEST(Lock, GrantedThenCancelledWaiterUnlocksAsItUnwinds) {
  eddy::Lock lock;
  auto mine = co_await lock.acquire();
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    auto g = co_await lock.acquire();
    co_await eddy::sleep(1h);
  });
  co_await eddy::sleep(1ms);
  mine.release();   // handed to the victim...
  victim.cancel();  // ...which is cancelled before it runs
  EXPECT_TRUE(lock.locked());
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_FALSE(lock.locked());
}

// --- Event

EDDY_TEST(Event, SetWakesEveryWaiter) {
  eddy::Event ev;
  auto t0 = eddy::now();
  std::vector<eddy::Duration> woke;
  eddy::TaskGroup tg;
  for (int i = 0; i < 4; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      co_await ev.wait();
      woke.push_back(eddy::now() - t0);
    });
  }
  co_await eddy::sleep(25ms);
  EXPECT_TRUE(woke.empty());
  ev.set();
  co_await tg.join();
  EXPECT_EQ(woke, (std::vector<eddy::Duration>(4, 25ms)));
  EXPECT_TRUE(ev.is_set());
}

EDDY_TEST(Event, WaitOnASetEventReturnsAtOnce) {
  eddy::Event ev;
  ev.set();
  auto t0 = eddy::now();
  co_await ev.wait();
  co_await ev.wait();
  EXPECT_EQ(eddy::now(), t0);
  EXPECT_TRUE(ev.is_set());  // waiting does not consume it
}

EDDY_TEST(Event, ClearMakesWaitBlockAgain) {
  eddy::Event ev;
  ev.set();
  ev.clear();
  EXPECT_FALSE(ev.is_set());
  EXPECT_FALSE(co_await eddy::move_on_after(10ms, ev.wait()));
}

EDDY_TEST(Event, WaitersWokenBySetReturnEvenIfClearedBeforeTheyRun) {
  eddy::Event ev;
  int woke = 0;
  eddy::TaskGroup tg;
  for (int i = 0; i < 3; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      co_await ev.wait();
      ++woke;
    });
  }
  co_await eddy::sleep(1ms);
  ev.set();
  ev.clear();
  co_await tg.join();
  EXPECT_EQ(woke, 3);
}

EDDY_TEST(Event, CancelledWaitRaisesAndLaterSetIsHarmless) {
  eddy::Event ev;
  bool saw_cancelled = false;
  bool returned = false;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    try {
      co_await ev.wait();
      returned = true;
    } catch (const eddy::Cancelled&) {
      saw_cancelled = true;
      throw;
    }
  });
  co_await eddy::sleep(1ms);
  waiter.cancel();
  EXPECT_THROW(co_await waiter, eddy::TaskCancelled);
  EXPECT_TRUE(saw_cancelled);
  EXPECT_FALSE(returned);
  ev.set();  // must not touch the withdrawn waiter
  co_await eddy::yield_now();
  EXPECT_TRUE(ev.is_set());
}

EDDY_TEST(Event, TimeoutAroundWait) {
  eddy::Event ev;
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(30ms, ev.wait()), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 30ms);
  ev.set();
  co_await eddy::timeout(30ms, ev.wait());  // set: completes, no timeout
  EXPECT_EQ(eddy::now() - t0, 30ms);
}

// --- Condition

EDDY_TEST(Condition, WaitForPredicateWithProducer) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  std::vector<int> items;
  auto t0 = eddy::now();
  auto consumer = eddy::spawn([&]() -> eddy::Task<int> {
    auto guard = co_await lock.acquire();
    co_await cond.wait_for(guard, [&] { return items.size() >= 3; });
    EXPECT_TRUE(guard);
    EXPECT_TRUE(lock.locked());
    EXPECT_EQ(eddy::now() - t0, 30ms);
    co_return items[0] + items[1] + items[2];
  });
  for (int i = 1; i <= 3; ++i) {
    co_await eddy::sleep(10ms);
    auto guard = co_await lock.acquire();
    items.push_back(i);
    cond.notify();  // wakes the consumer each time; it re-checks and waits again
  }
  EXPECT_EQ(co_await consumer, 6);
}

EDDY_TEST(Condition, WaitReleasesTheLockAndReacquiresIt) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  bool notified = false;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    auto guard = co_await lock.acquire();
    co_await cond.wait(guard);
    EXPECT_TRUE(guard);
    EXPECT_TRUE(lock.locked());
    EXPECT_TRUE(notified);
  });
  co_await eddy::sleep(1ms);
  EXPECT_FALSE(lock.locked());  // released while waiting
  auto t0 = eddy::now();
  {
    auto guard = co_await lock.acquire();  // so others can take it
    EXPECT_EQ(eddy::now(), t0);
    notified = true;
    cond.notify();
    co_await eddy::sleep(5ms);  // the woken waiter cannot return while we hold the lock
    EXPECT_FALSE(waiter.done());
  }
  co_await waiter;
  EXPECT_FALSE(lock.locked());
}

EDDY_TEST(Condition, NotifyWakesTheLongestWaitersAndNotifyAllTheRest) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  std::vector<int> woke;
  eddy::TaskGroup tg;
  for (int i = 0; i < 5; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 1ms);
      auto guard = co_await lock.acquire();
      co_await cond.wait(guard);
      woke.push_back(i);
    });
  }
  co_await eddy::sleep(10ms);
  {
    auto guard = co_await lock.acquire();
    cond.notify();
  }
  co_await eddy::sleep(1ms);
  EXPECT_EQ(woke, (std::vector<int>{0}));
  {
    auto guard = co_await lock.acquire();
    cond.notify(2);
  }
  co_await eddy::sleep(1ms);
  // The two longest waiters; they were woken together, so they may re-acquire in any order.
  std::sort(woke.begin(), woke.end());
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2}));
  {
    auto guard = co_await lock.acquire();
    cond.notify_all();
  }
  co_await tg.join();
  std::sort(woke.begin(), woke.end());
  EXPECT_EQ(woke, (std::vector<int>{0, 1, 2, 3, 4}));
}

EDDY_TEST(Condition, NotifyWithNoWaitersIsNotRemembered) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  {
    auto guard = co_await lock.acquire();
    cond.notify_all();
  }
  auto guard = co_await lock.acquire();
  EXPECT_THROW(co_await eddy::timeout(10ms, cond.wait(guard)), eddy::TimeoutError);
}

EDDY_TEST(Condition, WaitWithoutTheLockIsALogicError) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  eddy::Lock::Guard empty;
  EXPECT_THROW(co_await cond.wait(empty), std::logic_error);
}

EDDY_TEST(Condition, CancelledWaitThrowsButStillHoldsTheLock) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  bool held_in_handler = false;
  bool guard_valid_in_handler = false;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    auto guard = co_await lock.acquire();
    try {
      co_await cond.wait(guard);
    } catch (const eddy::Cancelled&) {
      guard_valid_in_handler = static_cast<bool>(guard);
      held_in_handler = lock.locked();
      throw;
    }
  });
  co_await eddy::sleep(1ms);
  {
    // Cancel while we hold the lock: the waiter must wait for it before it can unwind.
    auto mine = co_await lock.acquire();
    waiter.cancel();
    co_await eddy::sleep(5ms);
    EXPECT_FALSE(waiter.done());
  }
  EXPECT_THROW(co_await waiter, eddy::TaskCancelled);
  EXPECT_TRUE(guard_valid_in_handler);
  EXPECT_TRUE(held_in_handler);
  EXPECT_FALSE(lock.locked());  // and the guard released it as the task unwound
}

EDDY_TEST(Condition, TimeoutAroundWaitReturnsHoldingTheLock) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  auto guard = co_await lock.acquire();
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(10ms, cond.wait(guard)), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 10ms);
  EXPECT_TRUE(guard);
  EXPECT_TRUE(lock.locked());
  guard.release();
  EXPECT_FALSE(lock.locked());
}

EDDY_TEST(Condition, NotifiedThenCancelledWaiterKeepsTheNotification) {
  eddy::Lock lock;
  eddy::Condition cond(lock);
  bool wait_returned = false;
  bool held_after_wait = false;
  bool after_next_await = false;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    auto guard = co_await lock.acquire();
    co_await cond.wait(guard);
    wait_returned = true;  // the notification was delivered...
    held_after_wait = static_cast<bool>(guard) && lock.locked();
    guard.release();
    co_await eddy::yield_now();  // ...and the cancellation shows up here
    after_next_await = true;
  });
  auto other = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(1ms);
    auto guard = co_await lock.acquire();
    co_await cond.wait(guard);
  });
  co_await eddy::sleep(2ms);
  {
    auto guard = co_await lock.acquire();
    cond.notify(1);   // reaches `waiter` (first in line)
    waiter.cancel();  // and then it is cancelled
  }
  EXPECT_THROW(co_await waiter, eddy::TaskCancelled);
  EXPECT_TRUE(wait_returned);
  EXPECT_TRUE(held_after_wait);
  EXPECT_FALSE(after_next_await);
  // The notification was consumed by `waiter`, not passed on twice nor lost: `other` is still
  // waiting for its own.
  co_await eddy::sleep(5ms);
  EXPECT_FALSE(other.done());
  {
    auto guard = co_await lock.acquire();
    cond.notify(1);
  }
  co_await other;
  EXPECT_FALSE(lock.locked());
}

// --- Barrier

EDDY_TEST(Barrier, AllPartiesPassTogetherWithDistinctIndices) {
  eddy::Barrier barrier(3);
  EXPECT_EQ(barrier.parties(), 3u);
  auto t0 = eddy::now();
  std::vector<std::size_t> indices;
  std::vector<eddy::Duration> passed;
  eddy::TaskGroup tg;
  for (int i = 0; i < 3; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 10ms);
      indices.push_back(co_await barrier.wait());
      passed.push_back(eddy::now() - t0);
    });
  }
  co_await eddy::sleep(15ms);
  EXPECT_EQ(barrier.n_waiting(), 2u);
  EXPECT_TRUE(passed.empty());
  co_await tg.join();
  EXPECT_EQ(passed, (std::vector<eddy::Duration>(3, 20ms)));
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

EDDY_TEST(Barrier, IsCyclic) {
  eddy::Barrier barrier(3);
  std::vector<std::vector<std::size_t>> rounds(4);
  eddy::TaskGroup tg;
  for (int i = 0; i < 3; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      for (int r = 0; r < 4; ++r) {
        co_await eddy::sleep((i + r) % 3 * 1ms);
        rounds[r].push_back(co_await barrier.wait());
      }
    });
  }
  co_await tg.join();
  for (auto& r : rounds) {
    std::sort(r.begin(), r.end());
    EXPECT_EQ(r, (std::vector<std::size_t>{0, 1, 2}));
  }
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

EDDY_TEST(Barrier, SinglePartyPassesAtOnce) {
  eddy::Barrier barrier(1);
  auto t0 = eddy::now();
  EXPECT_EQ(co_await barrier.wait(), 0u);
  EXPECT_EQ(co_await barrier.wait(), 0u);
  EXPECT_EQ(eddy::now(), t0);
}

TEST(Barrier, ZeroPartiesIsInvalid) {
  EXPECT_THROW(eddy::Barrier(0), std::invalid_argument);
}

EDDY_TEST(Barrier, AbortBreaksPresentAndFutureWaitersUntilReset) {
  eddy::Barrier barrier(3);
  int broken = 0;
  eddy::TaskGroup tg;
  for (int i = 0; i < 2; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      try {
        co_await barrier.wait();
      } catch (const eddy::BrokenBarrierError&) {
        ++broken;
      }
    });
  }
  co_await eddy::sleep(1ms);
  barrier.abort();
  co_await tg.join();
  EXPECT_EQ(broken, 2);
  EXPECT_TRUE(barrier.broken());
  EXPECT_THROW(co_await barrier.wait(), eddy::BrokenBarrierError);  // future waiter

  barrier.reset();
  EXPECT_FALSE(barrier.broken());
  std::vector<std::size_t> indices;
  eddy::TaskGroup again;
  for (int i = 0; i < 3; ++i) {
    again.spawn([&]() -> eddy::Task<> { indices.push_back(co_await barrier.wait()); });
  }
  co_await again.join();
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
}

EDDY_TEST(Barrier, ResetBreaksCurrentWaiters) {
  eddy::Barrier barrier(2);
  auto waiter = eddy::spawn([&]() -> eddy::Task<> { co_await barrier.wait(); });
  co_await eddy::sleep(1ms);
  barrier.reset();
  EXPECT_THROW(co_await waiter, eddy::BrokenBarrierError);
  EXPECT_FALSE(barrier.broken());
}

EDDY_TEST(Barrier, CancelledWaiterLeaves) {
  eddy::Barrier barrier(3);
  auto a = eddy::spawn([&]() -> eddy::Task<> { co_await barrier.wait(); });
  auto b = eddy::spawn([&]() -> eddy::Task<std::size_t> { co_return co_await barrier.wait(); });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(barrier.n_waiting(), 2u);
  a.cancel();
  EXPECT_THROW(co_await a, eddy::TaskCancelled);
  EXPECT_EQ(barrier.n_waiting(), 1u);

  // One more arrival is not enough any more: the cancelled one does not count.
  auto c = eddy::spawn([&]() -> eddy::Task<std::size_t> { co_return co_await barrier.wait(); });
  co_await eddy::sleep(5ms);
  EXPECT_FALSE(b.done());
  EXPECT_FALSE(c.done());
  EXPECT_EQ(barrier.n_waiting(), 2u);
  co_await barrier.wait();  // the third party: everyone passes
  co_await b;
  co_await c;
  EXPECT_EQ(barrier.n_waiting(), 0u);
}

// The arrival index is how one task is picked for once-per-round work (`if (i == 0)`), so
// after a waiter leaves, the ones who pass must still get 0, 1, 2 exactly once each.
TEST(Barrier, IndicesStayDistinctAfterAWaiterLeaves) {
  eddy::testing::run_virtual([]() -> eddy::Task<> {
    eddy::Barrier barrier(3);
    std::vector<std::size_t> indices;
    auto first = eddy::spawn([&]() -> eddy::Task<> { co_await barrier.wait(); });
    co_await eddy::sleep(1ms);
    eddy::TaskGroup tg;
    tg.spawn([&]() -> eddy::Task<> { indices.push_back(co_await barrier.wait()); });
    co_await eddy::sleep(1ms);
    first.cancel();  // index 0 leaves; index 1 stays
    EXPECT_THROW(co_await first, eddy::TaskCancelled);
    for (int i = 0; i < 2; ++i) {
      tg.spawn([&]() -> eddy::Task<> { indices.push_back(co_await barrier.wait()); });
    }
    co_await tg.join();
    std::sort(indices.begin(), indices.end());
    EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1, 2}));
  });
}

EDDY_TEST(Barrier, TimeoutAroundWaitWithdrawsTheArrival) {
  eddy::Barrier barrier(2);
  EXPECT_THROW(co_await eddy::timeout(10ms, barrier.wait()), eddy::TimeoutError);
  EXPECT_EQ(barrier.n_waiting(), 0u);
  EXPECT_FALSE(barrier.broken());  // leaving does not break it (unlike threading.Barrier)
  std::vector<std::size_t> indices;
  eddy::TaskGroup tg;
  for (int i = 0; i < 2; ++i) {
    tg.spawn([&]() -> eddy::Task<> { indices.push_back(co_await barrier.wait()); });
  }
  co_await tg.join();
  std::sort(indices.begin(), indices.end());
  EXPECT_EQ(indices, (std::vector<std::size_t>{0, 1}));
}
