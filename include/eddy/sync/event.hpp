// Event (asyncio.Event): a flag tasks can wait for. set() wakes every waiter; waiting on a
// set event returns at once; clear() resets it. wait() is a cancellation point.
#pragma once

#include <coroutine>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

class Event {
 public:
  Event() = default;
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  void set() noexcept {
    flag_ = true;
    waiters_.wake_all();
  }
  void clear() noexcept { flag_ = false; }
  bool is_set() const noexcept { return flag_; }

  class WaitAwaiter final : public detail::WaitNode {
   public:
    explicit WaitAwaiter(Event& e) noexcept : e_(e) {}
    bool await_ready() const noexcept {
      detail::TaskBase* t = detail::current_task_or_null();
      return e_.flag_ && !(t && t->is_cancelled());
    }
    bool await_suspend(std::coroutine_handle<> h) { return suspend_in(e_.waiters_, h); }
    void await_resume() const { throw_if_withdrawn(); }

   private:
    Event& e_;
  };
  WaitAwaiter wait(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return WaitAwaiter(*this);
  }

 private:
  bool flag_ = false;
  detail::WaitList waiters_;
};

}  // namespace eddy
