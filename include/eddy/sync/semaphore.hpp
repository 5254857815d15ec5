// Semaphore and BoundedSemaphore (asyncio's), with RAII permits.
//
//   eddy::Semaphore api_slots(5);
//   auto permit = co_await api_slots.acquire();   // released when `permit` goes away
//
// FIFO-fair: a released permit is handed straight to the longest waiter, so a steady stream
// of newcomers cannot starve it. A cancelled acquire() takes no permit: either it is
// withdrawn from the queue before a permit reached it, or it completes normally and the
// permit it got is released by the guard as the Cancelled unwinds from the next await.
#pragma once

#include <coroutine>
#include <cstddef>
#include <optional>
#include <utility>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

class Semaphore {
 public:
  explicit Semaphore(std::size_t value) noexcept : value_(value) {}
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  // Holds one permit; releases it when destroyed (or on release()).
  class Permit {
   public:
    Permit() noexcept = default;
    explicit Permit(Semaphore* s) noexcept : s_(s) {}
    Permit(Permit&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
    Permit& operator=(Permit&& o) noexcept {
      if (this != &o) {
        release();
        s_ = std::exchange(o.s_, nullptr);
      }
      return *this;
    }
    ~Permit() { release(); }
    void release() noexcept {
      if (s_) std::exchange(s_, nullptr)->release_permit();
    }
    // Keeps the permit taken without the guard (the caller calls Semaphore::release()).
    void detach() noexcept { s_ = nullptr; }
    explicit operator bool() const noexcept { return s_ != nullptr; }

   private:
    Semaphore* s_ = nullptr;
  };

  class AcquireAwaiter final : public detail::WaitNode {
   public:
    explicit AcquireAwaiter(Semaphore& s) noexcept : s_(s) {}
    bool await_ready() noexcept {
      detail::TaskBase* t = detail::current_task_or_null();
      if (t && t->is_cancelled()) return false;  // let await_suspend refuse it
      if (s_.value_ > 0 && s_.waiters_.empty()) {
        --s_.value_;
        state = State::woken;
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) { return suspend_in(s_.waiters_, h); }
    Permit await_resume() {
      throw_if_withdrawn();
      return Permit(&s_);
    }

   private:
    Semaphore& s_;
  };

  // Waits for a permit. A cancellation point.
  AcquireAwaiter acquire(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return AcquireAwaiter(*this);
  }
  // A permit now, or nothing (never waits; fails while others are queued, to stay fair).
  std::optional<Permit> try_acquire() noexcept {
    if (value_ == 0 || !waiters_.empty()) return std::nullopt;
    --value_;
    return Permit(this);
  }
  // Returns a permit taken with Permit::detach() (asyncio's release()). A BoundedSemaphore
  // throws std::logic_error if this would exceed its initial value.
  void release() { release_permit(); }

  std::size_t value() const noexcept { return value_; }
  bool locked() const noexcept { return value_ == 0; }
  std::size_t waiting() const noexcept;

 protected:
  Semaphore(std::size_t value, std::size_t bound) noexcept : value_(value), bound_(bound) {}
  void release_permit();
  std::size_t value_;
  std::size_t bound_ = 0;  // 0: unbounded
  detail::WaitList waiters_;
};

// A Semaphore that refuses to be released more often than acquired (a bug detector).
class BoundedSemaphore final : public Semaphore {
 public:
  explicit BoundedSemaphore(std::size_t value) noexcept : Semaphore(value, value) {}
};

}  // namespace eddy
