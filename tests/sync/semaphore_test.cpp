// Semaphore and BoundedSemaphore. User-visible rules pinned here:
//  - at most `value` tasks hold a permit at once; acquire() waits for one;
//  - FIFO: waiters get permits in arrival order; a released permit is handed straight to the
//    longest waiter, so neither try_acquire() nor a fresh acquire() can barge in ahead of it;
//    try_acquire() refuses while others wait;
//  - Permit is RAII: released at scope exit, on an exception, by release(), and moves with
//    the guard; detach() + Semaphore::release() is the manual form;
//  - BoundedSemaphore throws std::logic_error when released more often than acquired;
//  - cancel-safety: a cancelled acquire() takes no permit, whether it was still queued or had
//    just been granted one (then the guard gives it back as the Cancelled unwinds), for
//    TaskHandle::cancel(), eddy::timeout and eddy::move_on_after, and under 1000 randomly
//    timed cancellations the permits are conserved.
#include <algorithm>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/group.hpp"
#include "eddy/runtime.hpp"
#include "eddy/sync.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

namespace {

// Counts how many tasks hold a permit right now, and the most there ever were.
struct Occupancy {
  int now = 0;
  int max = 0;
  void enter() { max = std::max(max, ++now); }
  void leave() { --now; }
};

}  // namespace

// --- limits and fairness

EDDY_TEST(Semaphore, LimitsConcurrencyToItsValue) {
  eddy::Semaphore sem(3);
  Occupancy occ;
  auto t0 = eddy::now();
  eddy::TaskGroup tg;
  for (int i = 0; i < 10; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      auto permit = co_await sem.acquire();
      occ.enter();
      co_await eddy::sleep(10ms);
      occ.leave();
    });
  }
  co_await tg.join();
  EXPECT_EQ(occ.max, 3);
  EXPECT_EQ(eddy::now() - t0, 40ms);  // 10 jobs in batches of 3: 4 rounds of 10 ms
  EXPECT_EQ(sem.value(), 3u);
}

EDDY_TEST(Semaphore, AcquireWithoutContentionDoesNotWait) {
  eddy::Semaphore sem(2);
  auto t0 = eddy::now();
  auto a = co_await sem.acquire();
  auto b = co_await sem.acquire();
  EXPECT_EQ(eddy::now(), t0);
  EXPECT_TRUE(a && b);
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_TRUE(sem.locked());
}

EDDY_TEST(Semaphore, WaitersAreServedInArrivalOrder) {
  eddy::Semaphore sem(1);
  auto holder = co_await sem.acquire();
  std::vector<int> order;
  eddy::TaskGroup tg;
  for (int i = 0; i < 5; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 1ms);  // arrive in order 0, 1, 2, ...
      auto p = co_await sem.acquire();
      order.push_back(i);
      co_await eddy::sleep(1ms);
    });
  }
  co_await eddy::sleep(10ms);
  EXPECT_EQ(sem.waiting(), 5u);
  holder.release();
  co_await tg.join();
  EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4}));
}

EDDY_TEST(Semaphore, ReleasedPermitIsHandedToTheWaiterNotToANewcomer) {
  eddy::Semaphore sem(1);
  auto mine = co_await sem.acquire();
  std::vector<std::string> order;
  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    order.push_back("waiter");
    co_await eddy::sleep(5ms);
  });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(sem.waiting(), 1u);

  mine.release();
  // The waiter has not run yet, but the permit is already its own: no barging.
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_FALSE(sem.try_acquire().has_value());
  auto again = co_await sem.acquire();  // queues behind the waiter
  order.push_back("newcomer");
  EXPECT_EQ(order, (std::vector<std::string>{"waiter", "newcomer"}));
  co_await waiter;
}

EDDY_TEST(Semaphore, TryAcquireRefusesWhileOthersWait) {
  eddy::Semaphore sem(1);
  std::optional<eddy::Semaphore::Permit> first = sem.try_acquire();
  EXPECT_TRUE(first.has_value());
  EXPECT_FALSE(sem.try_acquire().has_value());  // none left

  auto waiter = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    co_await eddy::sleep(5ms);
  });
  co_await eddy::sleep(1ms);
  first.reset();                                // permit goes to the waiter
  EXPECT_FALSE(sem.try_acquire().has_value());  // so there is none for us
  co_await waiter;
  EXPECT_TRUE(sem.try_acquire().has_value());  // free and nobody waits: granted
  EXPECT_EQ(sem.value(), 1u);                  // and released again by the temporary guard
}

// --- RAII permits

EDDY_TEST(Semaphore, PermitIsReleasedAtScopeExit) {
  eddy::Semaphore sem(2);
  {
    auto p = co_await sem.acquire();
    EXPECT_EQ(sem.value(), 1u);
  }
  EXPECT_EQ(sem.value(), 2u);
}

EDDY_TEST(Semaphore, PermitIsReleasedWhenAnExceptionUnwinds) {
  eddy::Semaphore sem(1);
  auto work = [&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    co_await eddy::sleep(1ms);
    throw std::runtime_error("boom");
  };
  EXPECT_THROW(co_await work(), std::runtime_error);
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(Semaphore, PermitMovesAndReleasesOnce) {
  eddy::Semaphore sem(1);
  eddy::Semaphore::Permit outer;
  EXPECT_FALSE(outer);
  {
    auto p = co_await sem.acquire();
    outer = std::move(p);
    EXPECT_FALSE(p);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  }
  EXPECT_EQ(sem.value(), 0u);  // still held, by `outer`
  outer.release();
  EXPECT_EQ(sem.value(), 1u);
  outer.release();  // a second release is a no-op
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(Semaphore, DetachedPermitIsReturnedByRelease) {
  eddy::Semaphore sem(1);
  auto p = co_await sem.acquire();
  p.detach();
  EXPECT_EQ(sem.value(), 0u);
  sem.release();
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(Semaphore, ManualReleaseWakesAWaiter) {
  eddy::Semaphore sem(0);
  auto t0 = eddy::now();
  auto waiter = eddy::spawn([&]() -> eddy::Task<eddy::Duration> {
    auto p = co_await sem.acquire();
    co_return eddy::now() - t0;
  });
  co_await eddy::sleep(7ms);
  sem.release();
  EXPECT_EQ(co_await waiter, 7ms);
  EXPECT_EQ(sem.value(), 1u);  // the waiter's guard returned the permit
}

EDDY_TEST(Semaphore, UnboundedSemaphoreMayGrowPastItsInitialValue) {
  eddy::Semaphore sem(1);
  sem.release();
  EXPECT_EQ(sem.value(), 2u);
  co_return;
}

EDDY_TEST(BoundedSemaphore, OverReleaseThrowsLogicError) {
  eddy::BoundedSemaphore sem(1);
  EXPECT_THROW(sem.release(), std::logic_error);
  EXPECT_EQ(sem.value(), 1u);

  auto p = co_await sem.acquire();
  p.detach();
  EXPECT_NO_THROW(sem.release());  // matches the acquire
  EXPECT_THROW(sem.release(), std::logic_error);
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(BoundedSemaphore, GuardedUseNeverTrips) {
  eddy::BoundedSemaphore sem(2);
  eddy::TaskGroup tg;
  for (int i = 0; i < 6; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      auto p = co_await sem.acquire();
      co_await eddy::sleep(3ms);
    });
  }
  co_await tg.join();  // would throw ExceptionGroup(logic_error) if a release overflowed
  EXPECT_EQ(sem.value(), 2u);
}

// --- cancel-safety

EDDY_TEST(SemaphoreCancel, CancelledWhileQueuedTakesNoPermit) {
  eddy::Semaphore sem(1);
  auto holder = co_await sem.acquire();
  bool victim_got_permit = false;
  bool next_got_permit = false;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    victim_got_permit = true;
  });
  co_await eddy::sleep(1ms);
  auto next = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    next_got_permit = true;
  });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(sem.waiting(), 2u);

  victim.cancel();
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_EQ(sem.waiting(), 1u);  // left the queue
  EXPECT_EQ(sem.value(), 0u);    // and took nothing

  holder.release();
  co_await next;
  EXPECT_FALSE(victim_got_permit);
  EXPECT_TRUE(next_got_permit);  // the permit went to the next waiter in line
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(SemaphoreCancel, GrantedThenCancelledBeforeItRanGivesThePermitBack) {
  eddy::Semaphore sem(1);
  auto holder = co_await sem.acquire();
  bool acquire_returned = false;
  bool reached_after_next_await = false;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    acquire_returned = true;  // the grant stands...
    co_await eddy::yield_now();
    reached_after_next_await = true;  // ...but the next await raises Cancelled
  });
  co_await eddy::sleep(1ms);

  holder.release();  // handed to the victim, which has not run yet
  victim.cancel();   // in the same step
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_TRUE(acquire_returned);
  EXPECT_FALSE(reached_after_next_await);
  EXPECT_EQ(sem.value(), 1u);  // restored once the victim unwound
  EXPECT_EQ(sem.waiting(), 0u);
}

EDDY_TEST(SemaphoreCancel, GrantedThenCancelledPassesThePermitOnToTheNextWaiter) {
  eddy::Semaphore sem(1);
  auto holder = co_await sem.acquire();
  std::vector<int> got;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    got.push_back(1);
    co_await eddy::sleep(1h);
  });
  co_await eddy::sleep(1ms);
  auto next = eddy::spawn([&]() -> eddy::Task<> {
    auto p = co_await sem.acquire();
    got.push_back(2);
  });
  co_await eddy::sleep(1ms);
  holder.release();
  victim.cancel();
  co_await next;
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_EQ(got, (std::vector<int>{1, 2}));
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(SemaphoreCancel, TimeoutAroundAcquireTakesNoPermit) {
  eddy::Semaphore sem(1);
  auto holder = co_await sem.acquire();
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(20ms, sem.acquire()), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 20ms);
  EXPECT_EQ(sem.value(), 0u);
  EXPECT_EQ(sem.waiting(), 0u);
  holder.release();
  EXPECT_EQ(sem.value(), 1u);  // nobody phantom-queued to swallow it
}

EDDY_TEST(SemaphoreCancel, MoveOnAfterAroundAcquire) {
  eddy::Semaphore sem(1);
  {
    auto holder = co_await sem.acquire();
    auto t0 = eddy::now();
    std::optional<eddy::Semaphore::Permit> p = co_await eddy::move_on_after(15ms, sem.acquire());
    EXPECT_FALSE(p.has_value());
    EXPECT_EQ(eddy::now() - t0, 15ms);
    EXPECT_EQ(sem.waiting(), 0u);
  }
  // With a free permit the same call gets one, and the guard still works through the optional.
  {
    std::optional<eddy::Semaphore::Permit> p = co_await eddy::move_on_after(15ms, sem.acquire());
    EXPECT_TRUE(p.has_value() && *p);
    EXPECT_EQ(sem.value(), 0u);
  }
  EXPECT_EQ(sem.value(), 1u);
}

EDDY_TEST(SemaphoreCancel, AcquireInAlreadyCancelledTaskRaisesEvenIfAPermitIsFree) {
  eddy::Semaphore sem(1);
  bool got = false;
  auto t = eddy::spawn([&]() -> eddy::Task<> {
    eddy::current_task().cancel();
    auto p = co_await sem.acquire();
    got = true;
  });
  EXPECT_THROW(co_await t, eddy::TaskCancelled);
  EXPECT_FALSE(got);
  EXPECT_EQ(sem.value(), 1u);
}

// Workers acquire (plainly, or through timeout / move_on_after), hold for a random time, and
// are cancelled at random moments: before they start, while queued, right after the grant,
// while holding. At every point the permits in use plus the free ones never exceed the
// initial value, and once everything has unwound they are all back.
EDDY_TEST(SemaphoreCancel, RandomCancellationsConservePermits) {
  constexpr std::size_t kPermits = 3;
  eddy::Semaphore sem(kPermits);
  std::mt19937 rng(12345);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::size_t held = 0;
  int acquired = 0;
  int cancelled = 0;
  bool over = false;
  auto check = [&] {
    if (sem.value() + held > kPermits) over = true;
  };

  struct Holding {
    std::size_t& held;
    explicit Holding(std::size_t& h) : held(h) { ++held; }
    ~Holding() { --held; }
  };

  for (int round = 0; round < 1000; ++round) {
    std::vector<eddy::TaskHandle<>> workers;
    int n = pick(1, 6);
    for (int i = 0; i < n; ++i) {
      int mode = pick(0, 2);
      int hold_ms = pick(0, 3);
      int limit_ms = pick(0, 3);
      workers.push_back(eddy::spawn([&, mode, hold_ms, limit_ms]() -> eddy::Task<> {
        std::optional<eddy::Semaphore::Permit> p;
        if (mode == 0) {
          p = co_await sem.acquire();
        } else if (mode == 1) {
          try {
            p = co_await eddy::timeout(limit_ms * 1ms, sem.acquire());
          } catch (const eddy::TimeoutError&) {
            check();
            co_return;
          }
        } else {
          p = co_await eddy::move_on_after(limit_ms * 1ms, sem.acquire());
          if (!p) {
            check();
            co_return;
          }
        }
        Holding h(held);
        ++acquired;
        check();
        if (hold_ms == 0) {
          co_await eddy::yield_now();
        } else {
          co_await eddy::sleep(hold_ms * 1ms);
        }
        check();
      }));
    }
    // Cancel a random subset at a random moment: immediately, after some yields, or later.
    int when = pick(0, 3);
    if (when == 1) {
      for (int k = pick(1, 4); k > 0; --k) co_await eddy::yield_now();
    } else if (when >= 2) {
      co_await eddy::sleep(pick(0, 4) * 1ms);
    }
    check();
    for (auto& w : workers) {
      if (pick(0, 1) == 1 && w.cancel()) ++cancelled;
    }
    check();
    for (auto& w : workers) {
      try {
        co_await w;
      } catch (const eddy::TaskCancelled&) {
      }
      check();
    }
    if (sem.value() != kPermits || held != 0 || sem.waiting() != 0) {
      ADD_FAILURE() << "round " << round << ": value " << sem.value() << ", held " << held
                    << ", waiting " << sem.waiting();
      co_return;
    }
  }
  EXPECT_FALSE(over) << "more permits in use than the semaphore has";
  // The mix really exercised both paths.
  EXPECT_GT(acquired, 500);
  EXPECT_GT(cancelled, 500);
}
