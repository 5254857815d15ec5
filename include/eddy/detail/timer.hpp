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

  TimerEntry* prev = nullptr;
  TimerEntry* next = nullptr;
  std::uint64_t when = 0;  // tick
  std::uint8_t level = 0;
  std::uint8_t slot = 0;
  bool armed = false;

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
