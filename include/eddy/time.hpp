// Time: the loop's monotonic clock, sleep and sleep_until.
//
// `eddy::now()` is the loop's clock: steady_clock normally, a virtual clock under
// eddy::testing (time jumps to the next timer when every task is idle). Timers have a
// resolution of one millisecond and never fire early. `sleep(0)` (or any past deadline) is a
// pure yield, like asyncio.sleep(0). Every sleep is a cancellation point.
#pragma once

#include <chrono>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/timer.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

using Clock = std::chrono::steady_clock;
using Duration = Clock::duration;
using TimePoint = Clock::time_point;

// The running loop's current time (cached per loop iteration, like asyncio's loop.time()).
TimePoint now();

namespace detail {

void schedule_yield(TaskBase* t) noexcept;

// The deadline is turned into a timer tick when the awaiter is made (`sleep()` is called in
// the co_await expression itself), so the frame holds no separate deadline.
class SleepAwaiter final : TimerEntry, Waiter {
 public:
  explicit SleepAwaiter(TimePoint deadline) {
    when = timer_tick_for(deadline);
    if (when == 0) state_ = State::due;
  }
  SleepAwaiter(SleepAwaiter&& o) noexcept : TimerEntry(), Waiter(), state_(o.state_) {
    when = o.when;
  }
  ~SleepAwaiter() {
    if (armed) timer_disarm(this);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_checked();
    if (task_->is_cancelled()) {
      state_ = State::withdrawn;
      return false;
    }
    task_->suspend_on(this, h);
    if (state_ == State::due) {
      state_ = State::yielded;
      schedule_yield(task_);
    } else {
      state_ = State::timer;
      fire = &SleepAwaiter::on_fire;
      timer_arm_at_tick(this);
    }
    return true;
  }
  void await_resume() const {
    if (state_ == State::withdrawn || (state_ == State::yielded && task_->is_cancelled()))
      throw Cancelled{};
  }

  bool withdraw() noexcept override {
    if (state_ != State::timer) return false;  // a yield is already queued: resume as usual
    timer_disarm(this);
    state_ = State::withdrawn;
    return true;
  }

 private:
  enum class State : unsigned char { idle, due, timer, yielded, withdrawn };
  static void on_fire(TimerEntry* e) noexcept {
    auto* self = static_cast<SleepAwaiter*>(e);
    self->task_->wake();
  }

  TaskBase* task_ = nullptr;
  State state_ = State::idle;
};

}  // namespace detail

inline detail::SleepAwaiter sleep_until(TimePoint deadline, detail::Where w = {}) noexcept {
  detail::note_where(w);
  return detail::SleepAwaiter(deadline);
}
namespace detail {
// now + d without overflow: an enormous duration means "never".
inline TimePoint deadline_after(Duration d) {
  TimePoint n = now();
  if (d > TimePoint::max() - n) return TimePoint::max();
  return n + d;
}
}  // namespace detail

inline detail::SleepAwaiter sleep(Duration d, detail::Where w = {}) {
  detail::note_where(w);
  return detail::SleepAwaiter(detail::deadline_after(d));
}

}  // namespace eddy
