// A timer registration, embedded in whatever waits on it (a sleep, a cancel scope's deadline).
//
// Deadlines are kept in whole milliseconds ("ticks") since the loop started, rounded up so a
// timer never fires early. Arming and cancelling are O(1): most timeouts are cancelled long
// before they fire, so the wheel never sorts anything.
#pragma once

#include <chrono>
#include <cstdint>

#include "eddy/detail/wait.hpp"

namespace eddy::detail {

// A timer is a Waiter too, so an awaiter that waits on a timer (sleep) carries a single
// vtable pointer for both `withdraw` and `on_timer`: 16 bytes less in every frame that sleeps.
class TimerEntry : public Waiter {
 public:
  virtual void on_timer() noexcept = 0;
  bool withdraw() noexcept override { return false; }

  // Ticks fit in 48 bits (deadlines are capped at 2^47 ms, thousands of years), so the tick,
  // the wheel position and the flags share one word. That keeps a sleep's awaiter at 40 bytes
  // and a sleeping Task's frame inside GCC 12's 128-byte class (see docs/benchmarks.md).
  static constexpr std::uint64_t kMaxWhen = std::uint64_t{1} << 47;
  static constexpr unsigned kExpiredLevel = 7;

  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
  std::uint64_t when : 48 = 0;  // tick
  std::uint64_t level : 3 = 0;  // kExpiredLevel: in the wheel's list of already-due entries
  std::uint64_t slot : 6 = 0;
  std::uint64_t armed : 1 = 0;

 protected:
  std::uint64_t aux_ : 6 = 0;  // spare bits for the awaiter that embeds the entry

 public:
 protected:
  TimerEntry() = default;
  TimerEntry(const TimerEntry&) = default;
  ~TimerEntry() = default;
};

// Arms `e` on the current thread's loop to fire at `deadline` (steady_clock, or the virtual
// clock in tests). The entry must be disarmed before it is destroyed.
void timer_arm(TimerEntry* e, std::chrono::steady_clock::time_point deadline);
// The tick `deadline` falls in on the current loop, or 0 if it has already passed.
std::uint64_t timer_tick_for(std::chrono::steady_clock::time_point deadline);
// Arms `e` at the tick already stored in e->when.
void timer_arm_at_tick(TimerEntry* e);
void timer_disarm(TimerEntry* e) noexcept;

}  // namespace eddy::detail
