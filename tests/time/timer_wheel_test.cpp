// The timer wheel never fires a timer early, never loses one, cancels in O(1), and reports
// the next expiry correctly across levels: checked against a brute-force model.
#include "time/timer_wheel.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>
#include <vector>

namespace {

using eddy::detail::TimerEntry;
using eddy::detail::TimerWheel;

struct Probe final : TimerEntry {
  std::uint64_t fired_at = 0;
  bool fired = false;
  static inline std::uint64_t now = 0;
  void on_timer() noexcept override {
    fired = true;
    fired_at = now;
  }
  explicit Probe(std::uint64_t w = 0) { when = w; }
};

TEST(TimerWheel, FiresAtDeadlineNotBefore) {
  TimerWheel w;
  Probe a(5), b(70), c(5000);
  w.insert(&a);
  w.insert(&b);
  w.insert(&c);
  EXPECT_EQ(w.next_expiration(), 5u);
  Probe::now = 4;
  w.advance(4);
  EXPECT_FALSE(a.fired);
  Probe::now = 5;
  w.advance(5);
  EXPECT_TRUE(a.fired);
  EXPECT_FALSE(b.fired);
  // Higher levels report their slot start; advancing there cascades without firing early.
  Probe::now = 69;
  w.advance(69);
  EXPECT_FALSE(b.fired);
  EXPECT_EQ(w.next_expiration(), 70u);
  Probe::now = 70;
  w.advance(70);
  EXPECT_TRUE(b.fired);
  Probe::now = 4999;
  w.advance(4999);
  EXPECT_FALSE(c.fired);
  Probe::now = 5000;
  w.advance(5000);
  EXPECT_TRUE(c.fired);
  EXPECT_TRUE(w.empty());
}

TEST(TimerWheel, RemovedTimersNeverFire) {
  TimerWheel w;
  Probe a(10), b(10), c(100000);
  w.insert(&a);
  w.insert(&b);
  w.insert(&c);
  w.remove(&a);
  w.remove(&c);
  w.remove(&c);  // idempotent
  EXPECT_EQ(w.size(), 1u);
  w.advance(200000);
  EXPECT_FALSE(a.fired);
  EXPECT_TRUE(b.fired);
  EXPECT_FALSE(c.fired);
}

TEST(TimerWheel, PastDeadlineFiresOnNextAdvance) {
  TimerWheel w;
  w.advance(1000);
  Probe late(10);
  w.insert(&late);
  EXPECT_EQ(w.next_expiration(), 1000u);
  w.advance(1000);
  EXPECT_TRUE(late.fired);
}

TEST(TimerWheel, FarFutureIsClampedNotLost) {
  TimerWheel w;
  Probe far(~std::uint64_t{0});
  w.insert(&far);
  EXPECT_EQ(far.when, TimerWheel::kMaxTick);
  w.remove(&far);
  EXPECT_TRUE(w.empty());
}

// Random inserts, removes and advances against a model: at every step, exactly the timers
// whose deadline has passed have fired, and next_expiration() is the true minimum.
TEST(TimerWheel, MatchesModelUnderRandomOperations) {
  std::mt19937_64 rng(42);
  TimerWheel w;
  std::vector<std::unique_ptr<Probe>> probes;
  std::uint64_t now = 0;
  for (int step = 0; step < 20000; ++step) {
    int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      std::uint64_t span = std::uint64_t{1} << (rng() % 24);
      auto p = std::make_unique<Probe>(now + 1 + rng() % span);
      w.insert(p.get());
      probes.push_back(std::move(p));
    } else if (op < 7 && !probes.empty()) {
      auto& p = probes[rng() % probes.size()];
      if (p->armed) w.remove(p.get());
    } else {
      now += rng() % 3000;
      Probe::now = now;
      w.advance(now);
    }
    std::uint64_t min_armed = ~std::uint64_t{0};
    for (auto& p : probes) {
      if (p->armed) {
        ASSERT_GT(p->when, now) << "an armed timer is overdue";
        min_armed = std::min(min_armed, p->when);
      }
      if (p->fired) {
        ASSERT_GE(p->fired_at, p->when) << "a timer fired early";
      }
    }
    if (min_armed != ~std::uint64_t{0}) {
      auto next = w.next_expiration();
      ASSERT_TRUE(next.has_value());
      ASSERT_LE(*next, min_armed);  // a slot start, never after the true minimum
    }
  }
}

}  // namespace
