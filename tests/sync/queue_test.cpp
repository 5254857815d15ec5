// Queue, LifoQueue and PriorityQueue. User-visible rules pinned here:
//  - order: Queue is FIFO, LifoQueue LIFO, PriorityQueue smallest first (or by Compare);
//  - a bounded queue's put() waits while it is full; try_put()/try_get() never wait;
//  - direct handover, first come first served: a put() with a getter waiting gives it the
//    item, a get() that frees a slot moves the longest-waiting producer's item in, so
//    waiting getters and putters are served in arrival order and nobody can barge in;
//  - task_done()/join(): join() returns only once every item put was marked done; one
//    task_done() too many throws std::logic_error;
//  - shutdown(): put() throws QueueShutDown, get() drains what is left and then throws it,
//    blocked getters and putters are woken with it; shutdown(immediate=true) discards the
//    items and unblocks join();
//  - cancel-safety: a cancelled get() either took nothing or returns the item it was given;
//    a cancelled put() either enqueued its item (and returned normally) or did not (and
//    threw); across 1000 random cancellations nothing is lost or duplicated;
//  - the producer/consumer pipeline of the asyncio articles (bounded queue, sentinels or
//    shutdown, join).
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/group.hpp"
#include "eddy/queue.hpp"
#include "eddy/runtime.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

// --- order

EDDY_TEST(Queue, IsFifo) {
  eddy::Queue<int> q;
  for (int i : {3, 1, 2}) co_await q.put(i);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(co_await q.get(), 3);
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(co_await q.get(), 2);
  EXPECT_TRUE(q.empty());
}

EDDY_TEST(LifoQueue, IsLifo) {
  eddy::LifoQueue<int> q;
  for (int i : {3, 1, 2}) co_await q.put(i);
  EXPECT_EQ(co_await q.get(), 2);
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(co_await q.get(), 3);
}

EDDY_TEST(PriorityQueue, GivesSmallestFirst) {
  eddy::PriorityQueue<std::pair<int, std::string>> q;
  co_await q.put({5, "low"});
  co_await q.put({1, "urgent"});
  co_await q.put({3, "normal"});
  co_await q.put({1, "also urgent"});
  EXPECT_EQ((co_await q.get()).second, "also urgent");  // ties broken by the payload, as tuples
  EXPECT_EQ((co_await q.get()).second, "urgent");
  EXPECT_EQ((co_await q.get()).second, "normal");
  EXPECT_EQ((co_await q.get()).second, "low");
}

EDDY_TEST(PriorityQueue, HonoursCompare) {
  eddy::PriorityQueue<int, std::greater<int>> q;
  for (int i : {4, 9, 1, 7}) co_await q.put(i);
  std::vector<int> out;
  while (auto v = q.try_get()) out.push_back(*v);
  EXPECT_EQ(out, (std::vector<int>{9, 7, 4, 1}));
}

EDDY_TEST(PriorityQueue, RefillFromWaitingPutterKeepsPriorityOrder) {
  eddy::PriorityQueue<int> q(2);
  co_await q.put(5);
  co_await q.put(3);
  auto putter = eddy::spawn([&]() -> eddy::Task<> { co_await q.put(1); });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(co_await q.get(), 3);  // frees a slot: 1 moves in
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(co_await q.get(), 5);
  co_await putter;
}

EDDY_TEST(Queue, MoveOnlyItems) {
  eddy::Queue<std::unique_ptr<int>> q(1);
  co_await q.put(std::make_unique<int>(1));
  auto putter = eddy::spawn([&]() -> eddy::Task<> { co_await q.put(std::make_unique<int>(2)); });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(*co_await q.get(), 1);
  EXPECT_EQ(*co_await q.get(), 2);
  co_await putter;
}

// --- bounded queues, try_put / try_get

EDDY_TEST(Queue, BoundedPutWaitsWhileFull) {
  eddy::Queue<int> q(2);
  EXPECT_EQ(q.maxsize(), 2u);
  auto t0 = eddy::now();
  auto consumer = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(10ms);
    EXPECT_EQ(co_await q.get(), 1);
  });
  co_await q.put(1);
  co_await q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(eddy::now(), t0);
  co_await q.put(3);  // waits for the consumer
  EXPECT_EQ(eddy::now() - t0, 10ms);
  EXPECT_EQ(q.size(), 2u);
  co_await consumer;
  EXPECT_EQ(co_await q.get(), 2);
  EXPECT_EQ(co_await q.get(), 3);
}

EDDY_TEST(Queue, UnboundedNeverFull) {
  eddy::Queue<int> q;
  auto t0 = eddy::now();
  for (int i = 0; i < 10000; ++i) co_await q.put(i);
  EXPECT_FALSE(q.full());
  EXPECT_EQ(q.size(), 10000u);
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Queue, GetWaitsForAnItem) {
  eddy::Queue<int> q;
  auto t0 = eddy::now();
  auto producer = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(12ms);
    co_await q.put(42);
  });
  EXPECT_EQ(co_await q.get(), 42);
  EXPECT_EQ(eddy::now() - t0, 12ms);
  co_await producer;
}

EDDY_TEST(Queue, TryPutAndTryGet) {
  eddy::Queue<int> q(2);
  EXPECT_FALSE(q.try_get().has_value());
  EXPECT_TRUE(q.try_put(1));
  EXPECT_TRUE(q.try_put(2));
  EXPECT_FALSE(q.try_put(3));  // full: refused, not enqueued
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.try_get(), 1);
  EXPECT_EQ(q.try_get(), 2);
  EXPECT_FALSE(q.try_get().has_value());
  co_return;
}

EDDY_TEST(Queue, TryPutHandsTheItemToAWaitingGetter) {
  eddy::Queue<int> q(1);
  auto getter = eddy::spawn([&]() -> eddy::Task<int> { co_return co_await q.get(); });
  co_await eddy::sleep(1ms);
  EXPECT_TRUE(q.try_put(7));
  EXPECT_EQ(q.size(), 0u);  // given to the getter, not queued
  EXPECT_EQ(co_await getter, 7);
}

// --- handover and FIFO fairness

EDDY_TEST(Queue, PutToAWaitingGetterCannotBeStolen) {
  eddy::Queue<int> q;
  auto getter = eddy::spawn([&]() -> eddy::Task<int> { co_return co_await q.get(); });
  co_await eddy::sleep(1ms);
  co_await q.put(1);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.try_get().has_value());  // the item already belongs to the waiting getter
  EXPECT_EQ(co_await getter, 1);
}

EDDY_TEST(Queue, FreedSlotGoesToTheWaitingPutterNotANewcomer) {
  eddy::Queue<int> q(1);
  co_await q.put(1);
  auto putter = eddy::spawn([&]() -> eddy::Task<> { co_await q.put(2); });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(q.size(), 1u);      // the waiting putter's item moved in
  EXPECT_FALSE(q.try_put(99));  // so there is no room for a newcomer
  EXPECT_EQ(co_await q.get(), 2);
  co_await putter;
}

EDDY_TEST(Queue, GettersAreServedInArrivalOrder) {
  eddy::Queue<int> q;
  std::map<int, int> got;  // getter -> item
  eddy::TaskGroup tg;
  for (int i = 0; i < 5; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 1ms);
      got[i] = co_await q.get();
    });
  }
  co_await eddy::sleep(10ms);
  for (int v = 100; v < 105; ++v) co_await q.put(v);
  co_await tg.join();
  EXPECT_EQ(got, (std::map<int, int>{{0, 100}, {1, 101}, {2, 102}, {3, 103}, {4, 104}}));
}

EDDY_TEST(Queue, PuttersAreServedInArrivalOrder) {
  eddy::Queue<int> q(1);
  co_await q.put(0);
  eddy::TaskGroup tg;
  for (int i = 1; i <= 5; ++i) {
    tg.spawn([&, i]() -> eddy::Task<> {
      co_await eddy::sleep(i * 1ms);
      co_await q.put(i);
    });
  }
  co_await eddy::sleep(10ms);
  std::vector<int> out;
  for (int k = 0; k < 6; ++k) out.push_back(co_await q.get());
  co_await tg.join();
  EXPECT_EQ(out, (std::vector<int>{0, 1, 2, 3, 4, 5}));
}

// --- task_done / join

EDDY_TEST(Queue, JoinOnAFreshQueueReturnsAtOnce) {
  eddy::Queue<int> q;
  auto t0 = eddy::now();
  co_await q.join();
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Queue, JoinWaitsForEveryTaskDone) {
  eddy::Queue<int> q;
  for (int i = 0; i < 3; ++i) co_await q.put(i);
  auto t0 = eddy::now();
  auto worker = eddy::spawn([&]() -> eddy::Task<> {
    for (int i = 0; i < 3; ++i) {
      co_await q.get();
      co_await eddy::sleep(10ms);  // processing
      q.task_done();
    }
  });
  co_await eddy::sleep(25ms);
  EXPECT_TRUE(q.empty());  // everything was taken, but not all of it is done
  EXPECT_FALSE(co_await eddy::move_on_after(1ms, q.join()));
  co_await q.join();
  EXPECT_EQ(eddy::now() - t0, 30ms);
  co_await worker;
}

EDDY_TEST(Queue, TaskDoneTooManyTimesIsALogicError) {
  eddy::Queue<int> q;
  EXPECT_THROW(q.task_done(), std::logic_error);
  co_await q.put(1);
  co_await q.get();
  q.task_done();
  EXPECT_THROW(q.task_done(), std::logic_error);
}

EDDY_TEST(Queue, JoinCountsItemsPutAgainAfterItReturned) {
  eddy::Queue<int> q;
  co_await q.put(1);
  co_await q.get();
  q.task_done();
  co_await q.join();
  co_await q.put(2);
  EXPECT_FALSE(co_await eddy::move_on_after(5ms, q.join()));
}

// --- shutdown

EDDY_TEST(QueueShutdown, PutThrowsAfterShutdown) {
  eddy::Queue<int> q;
  q.shutdown();
  EXPECT_TRUE(q.is_shutdown());
  EXPECT_THROW(co_await q.put(1), eddy::QueueShutDown);
  EXPECT_THROW(q.try_put(1), eddy::QueueShutDown);
  EXPECT_TRUE(q.empty());
}

EDDY_TEST(QueueShutdown, GetDrainsRemainingItemsThenThrows) {
  eddy::Queue<int> q;
  co_await q.put(1);
  co_await q.put(2);
  q.shutdown();
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_EQ(q.try_get(), 2);
  EXPECT_THROW(co_await q.get(), eddy::QueueShutDown);
  EXPECT_FALSE(q.try_get().has_value());
}

EDDY_TEST(QueueShutdown, WakesBlockedGetters) {
  eddy::Queue<int> q;
  auto t0 = eddy::now();
  std::vector<eddy::Duration> woke;
  eddy::TaskGroup tg;
  for (int i = 0; i < 3; ++i) {
    tg.spawn([&]() -> eddy::Task<> {
      try {
        co_await q.get();
      } catch (const eddy::QueueShutDown&) {
        woke.push_back(eddy::now() - t0);
      }
    });
  }
  co_await eddy::sleep(8ms);
  q.shutdown();
  co_await tg.join();
  EXPECT_EQ(woke, (std::vector<eddy::Duration>(3, 8ms)));
}

EDDY_TEST(QueueShutdown, WakesBlockedPuttersWithoutEnqueueing) {
  eddy::Queue<int> q(1);
  co_await q.put(1);
  auto putter = eddy::spawn([&]() -> eddy::Task<> { co_await q.put(2); });
  co_await eddy::sleep(1ms);
  q.shutdown();
  EXPECT_THROW(co_await putter, eddy::QueueShutDown);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(co_await q.get(), 1);  // only the item that was really put
  EXPECT_THROW(co_await q.get(), eddy::QueueShutDown);
}

EDDY_TEST(QueueShutdown, ImmediateDiscardsItemsAndUnblocksJoin) {
  eddy::Queue<int> q;
  for (int i = 0; i < 3; ++i) co_await q.put(i);
  auto t0 = eddy::now();
  auto joiner = eddy::spawn([&]() -> eddy::Task<eddy::Duration> {
    co_await q.join();
    co_return eddy::now() - t0;
  });
  co_await eddy::sleep(4ms);
  EXPECT_FALSE(joiner.done());
  q.shutdown(true);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(co_await joiner, 4ms);
  EXPECT_THROW(co_await q.get(), eddy::QueueShutDown);
}

EDDY_TEST(QueueShutdown, ImmediateStillWaitsForItemsAlreadyTaken) {
  eddy::Queue<int> q;
  co_await q.put(1);
  co_await q.put(2);
  co_await q.get();  // taken, not yet done
  q.shutdown(true);  // discards 2 only
  EXPECT_FALSE(co_await eddy::move_on_after(5ms, q.join()));
  q.task_done();
  co_await q.join();
}

// --- cancel-safety

EDDY_TEST(QueueCancel, CancelledWaitingGetTakesNothing) {
  eddy::Queue<int> q;
  auto victim = eddy::spawn([&]() -> eddy::Task<int> { co_return co_await q.get(); });
  auto next = eddy::spawn([&]() -> eddy::Task<int> {
    co_await eddy::sleep(1ms);
    co_return co_await q.get();
  });
  co_await eddy::sleep(2ms);
  victim.cancel();
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  co_await q.put(5);
  EXPECT_EQ(co_await next, 5);  // went to the next getter, not to the cancelled one
}

EDDY_TEST(QueueCancel, TimedOutGetLeavesLaterItemsInTheQueue) {
  eddy::Queue<int> q;
  EXPECT_THROW(co_await eddy::timeout(10ms, q.get()), eddy::TimeoutError);
  EXPECT_FALSE((co_await eddy::move_on_after(10ms, q.get())).has_value());
  co_await q.put(1);
  EXPECT_EQ(q.size(), 1u);
  EXPECT_EQ(q.try_get(), 1);
}

EDDY_TEST(QueueCancel, GetGivenAnItemThenCancelledStillReturnsIt) {
  eddy::Queue<int> q;
  std::optional<int> got;
  bool after_next_await = false;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    got = co_await q.get();
    co_await eddy::yield_now();
    after_next_await = true;
  });
  co_await eddy::sleep(1ms);
  co_await q.put(9);  // handed to the victim...
  victim.cancel();    // ...which is cancelled before it runs
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_EQ(got, 9);  // the item was delivered, not lost
  EXPECT_FALSE(after_next_await);
  EXPECT_TRUE(q.empty());
}

EDDY_TEST(QueueCancel, TimedOutPutDoesNotEnqueue) {
  eddy::Queue<int> q(1);
  co_await q.put(1);
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(10ms, q.put(2)), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 10ms);
  EXPECT_FALSE(co_await eddy::move_on_after(10ms, q.put(3)));
  EXPECT_EQ(co_await q.get(), 1);
  EXPECT_TRUE(q.empty());  // 2 and 3 were not put, and nothing waits to put them
  EXPECT_TRUE(q.try_put(4));
}

EDDY_TEST(QueueCancel, PutAcceptedThenCancelledReturnsNormally) {
  eddy::Queue<int> q(1);
  co_await q.put(1);
  bool put_returned = false;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    co_await q.put(2);
    put_returned = true;
    co_await eddy::yield_now();
  });
  co_await eddy::sleep(1ms);
  EXPECT_EQ(co_await q.get(), 1);  // moves 2 in and wakes the victim...
  victim.cancel();                 // ...which is cancelled before it runs
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  EXPECT_TRUE(put_returned);  // the producer knows its item went in
  EXPECT_EQ(q.try_get(), 2);
}

// Producers put unique ids into a small bounded queue, consumers take them, and a random
// subset of both is cancelled at random moments, directly or by timeout / move_on_after.
// A put() that returned normally means "enqueued", one that threw means "not enqueued"; a
// get() that returned has the item in hand. Afterwards every accepted id was received or is
// still queued, exactly once, and no rejected id shows up anywhere.
EDDY_TEST(QueueCancel, RandomCancellationsLoseAndDuplicateNothing) {
  eddy::Queue<int> q(3);
  std::mt19937 rng(2026);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  std::set<int> accepted;
  std::set<int> rejected;
  std::vector<int> received;
  std::vector<int> remaining;
  int next_id = 0;
  int cancels = 0;

  // Runs `aw` plainly, through timeout, or through move_on_after; false if it did not finish.
  auto attempt = [](int mode, int limit_ms, auto aw) -> eddy::Task<bool> {
    if (mode == 0) {
      co_await std::move(aw);
      co_return true;
    }
    if (mode == 1) {
      try {
        co_await eddy::timeout(limit_ms * 1ms, std::move(aw));
        co_return true;
      } catch (const eddy::TimeoutError&) {
        co_return false;
      }
    }
    co_return static_cast<bool>(co_await eddy::move_on_after(limit_ms * 1ms, std::move(aw)));
  };

  for (int round = 0; round < 1000; ++round) {
    std::vector<eddy::TaskHandle<>> tasks;
    for (int i = pick(1, 5); i > 0; --i) {
      int id = next_id++;
      int mode = pick(0, 2);
      int limit = pick(0, 3);
      int delay = pick(0, 2);
      tasks.push_back(eddy::spawn([&, id, mode, limit, delay]() -> eddy::Task<> {
        co_await eddy::sleep(delay * 1ms);
        bool ok = false;
        try {
          ok = co_await attempt(mode, limit, q.put(id));
        } catch (const eddy::Cancelled&) {
          rejected.insert(id);
          throw;
        }
        (ok ? accepted : rejected).insert(id);
      }));
    }
    for (int i = pick(1, 5); i > 0; --i) {
      int mode = pick(0, 2);
      int limit = pick(0, 3);
      int delay = pick(0, 2);
      tasks.push_back(eddy::spawn([&, mode, limit, delay]() -> eddy::Task<> {
        co_await eddy::sleep(delay * 1ms);
        std::optional<int> item;
        if (mode == 0) {
          item = co_await q.get();
        } else if (mode == 1) {
          try {
            item = co_await eddy::timeout(limit * 1ms, q.get());
          } catch (const eddy::TimeoutError&) {
          }
        } else {
          item = co_await eddy::move_on_after(limit * 1ms, q.get());
        }
        if (item) received.push_back(*item);  // recorded before any further await
        co_await eddy::yield_now();
      }));
    }
    int when = pick(0, 3);
    if (when == 1) {
      for (int k = pick(1, 3); k > 0; --k) co_await eddy::yield_now();
    } else if (when >= 2) {
      co_await eddy::sleep(pick(0, 3) * 1ms);
    }
    for (auto& t : tasks) {
      if (pick(0, 2) != 0 && t.cancel()) ++cancels;
    }
    // Plain puts and gets may have no counterpart left: give them a moment, then cancel them.
    co_await eddy::sleep(pick(0, 4) * 1ms);
    for (auto& t : tasks) {
      if (t.cancel()) ++cancels;
    }
    for (auto& t : tasks) {
      try {
        co_await t;
      } catch (const eddy::TaskCancelled&) {
      }
    }
    while (auto v = q.try_get()) remaining.push_back(*v);
  }

  std::vector<int> seen = received;
  seen.insert(seen.end(), remaining.begin(), remaining.end());
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(std::adjacent_find(seen.begin(), seen.end()), seen.end()) << "an item was duplicated";
  EXPECT_EQ(std::set<int>(seen.begin(), seen.end()), accepted) << "an item was lost or invented";
  for (int id : rejected) EXPECT_EQ(accepted.count(id), 0u) << id;
  EXPECT_GT(cancels, 1000);
  EXPECT_GT(received.size(), 500u);
  EXPECT_GT(rejected.size(), 100u);
}

// --- the producer/consumer pipeline

EDDY_TEST(QueuePipeline, BoundedQueueTwoConsumersWithSentinels) {
  constexpr int kItems = 20;
  constexpr int kSentinel = -1;
  eddy::Queue<int> q(10);
  std::vector<int> consumed;
  std::map<int, int> per_consumer;
  std::size_t max_size = 0;
  auto t0 = eddy::now();
  eddy::TaskGroup tg;
  tg.spawn([&]() -> eddy::Task<> {
    for (int i = 0; i < kItems; ++i) {
      co_await q.put(i);
      max_size = std::max(max_size, q.size());
    }
    for (int c = 0; c < 2; ++c) co_await q.put(kSentinel);
  });
  for (int c = 0; c < 2; ++c) {
    tg.spawn([&, c]() -> eddy::Task<> {
      for (;;) {
        int item = co_await q.get();
        if (item == kSentinel) break;
        co_await eddy::sleep(5ms);  // the work
        consumed.push_back(item);
        ++per_consumer[c];
      }
    });
  }
  co_await tg.join();
  EXPECT_EQ(max_size, 10u);  // the producer ran ahead until the queue was full
  std::sort(consumed.begin(), consumed.end());
  std::vector<int> expected(kItems);
  for (int i = 0; i < kItems; ++i) expected[i] = i;
  EXPECT_EQ(consumed, expected);
  EXPECT_EQ(per_consumer[0], 10);  // both worked, in parallel:
  EXPECT_EQ(per_consumer[1], 10);
  EXPECT_EQ(eddy::now() - t0, 50ms);  // 20 items x 5 ms / 2 consumers
  EXPECT_TRUE(q.empty());
}

EDDY_TEST(QueuePipeline, ShutdownEndsConsumersAfterTheLastItemAndJoinTracksWork) {
  constexpr int kItems = 20;
  eddy::Queue<int> q(10);
  int sum = 0;
  int consumed = 0;
  auto t0 = eddy::now();
  eddy::TaskGroup tg;
  for (int c = 0; c < 2; ++c) {
    tg.spawn([&]() -> eddy::Task<> {
      for (;;) {
        int item;
        try {
          item = co_await q.get();
        } catch (const eddy::QueueShutDown&) {
          co_return;
        }
        co_await eddy::sleep(5ms);
        sum += item;
        ++consumed;
        q.task_done();
      }
    });
  }
  for (int i = 1; i <= kItems; ++i) co_await q.put(i);
  co_await q.join();  // every item processed
  EXPECT_EQ(consumed, kItems);
  EXPECT_EQ(eddy::now() - t0, 50ms);
  q.shutdown();  // consumers blocked in get() now leave
  co_await tg.join();
  EXPECT_EQ(sum, kItems * (kItems + 1) / 2);
}

EDDY_TEST(QueuePipeline, ShutdownBeforeConsumersFinishStillDeliversEverything) {
  eddy::Queue<int> q(10);
  std::vector<int> consumed;
  eddy::TaskGroup tg;
  for (int c = 0; c < 2; ++c) {
    tg.spawn([&]() -> eddy::Task<> {
      try {
        for (;;) {
          int item = co_await q.get();
          co_await eddy::sleep(5ms);
          consumed.push_back(item);
        }
      } catch (const eddy::QueueShutDown&) {
      }
    });
  }
  for (int i = 0; i < 20; ++i) co_await q.put(i);
  q.shutdown();  // items still queued are drained before get() throws
  EXPECT_FALSE(q.empty());
  co_await tg.join();
  std::sort(consumed.begin(), consumed.end());
  EXPECT_EQ(consumed.size(), 20u);
  EXPECT_EQ(consumed.front(), 0);
  EXPECT_EQ(consumed.back(), 19);
}
