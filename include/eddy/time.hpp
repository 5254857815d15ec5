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
class SleepAwaiter final : TimerEntry {
 public:
  explicit SleepAwaiter(TimePoint deadline) {
    when = timer_tick_for(deadline);
    if (when == 0) set_state(State::due);
  }
  SleepAwaiter(SleepAwaiter&& o) noexcept : TimerEntry() {
    when = o.when;
    aux_ = o.aux_;
  }
  ~SleepAwaiter() {
    if (armed) timer_disarm(this);
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_checked();
    if (task_->is_cancelled()) {
      set_state(State::withdrawn);
      return false;
    }
    task_->suspend_on(this, h);
    if (state() == State::due) {
      set_state(State::yielded);
      schedule_yield(task_);
    } else {
      set_state(State::timer);
      timer_arm_at_tick(this);
    }
    return true;
  }
  void await_resume() const {
    if (state() == State::withdrawn || (state() == State::yielded && task_->is_cancelled()))
      throw Cancelled{};
  }

  bool withdraw() noexcept override {
    if (state() != State::timer) return false;  // a yield is already queued: resume as usual
    timer_disarm(this);
    set_state(State::withdrawn);
    return true;
  }

 private:
  enum class State : unsigned char { idle, due, timer, yielded, withdrawn };
  void on_timer() noexcept override { task_->wake(); }

  State state() const noexcept { return static_cast<State>(aux_); }
  void set_state(State s) noexcept { aux_ = static_cast<unsigned char>(s) & 63u; }
  TaskBase* task_ = nullptr;
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

namespace detail {
// Any duration type to steady_clock's, saturating instead of overflowing (sleep(hours::max())).
template <class Rep, class Period>
Duration saturating_duration(std::chrono::duration<Rep, Period> d) noexcept {
  using Seconds = std::chrono::duration<double>;
  if (Seconds(d) >= Seconds(Duration::max())) return Duration::max();
  if (Seconds(d) <= Seconds(Duration::zero())) return Duration::zero();
  return std::chrono::duration_cast<Duration>(d);
}
}  // namespace detail

// Templated on the duration type so `sleep(1s)` passes the literal straight through: GCC
// keeps a co_await's call arguments in the frame, and a converted copy would cost 8 bytes more.
template <class Rep, class Period>
detail::SleepAwaiter sleep(std::chrono::duration<Rep, Period> d, detail::Where w = {}) {
  detail::note_where(w);
  return detail::SleepAwaiter(detail::deadline_after(detail::saturating_duration(d)));
}

}  // namespace eddy
