// Condition (asyncio.Condition): wait until notified, with a Lock held around the check.
//
//   auto guard = co_await cond_lock.acquire();
//   co_await cond.wait_for(guard, [&] { return !items.empty(); });
//
// wait() releases the lock while waiting and always holds it again when it returns or
// throws, including when cancelled (re-acquiring is shielded from the cancellation). A
// notification that reached a waiter is never lost to a cancellation arriving afterwards:
// the wait returns normally and the Cancelled is raised at the next await.
#pragma once

#include <cstddef>
#include <limits>

#include "eddy/sync/lock.hpp"
#include "eddy/task.hpp"

namespace eddy {

class Condition {
 public:
  explicit Condition(Lock& lock) noexcept : lock_(lock) {}
  Condition(const Condition&) = delete;
  Condition& operator=(const Condition&) = delete;

  // Waits for a notification. `guard` must hold this condition's lock.
  // (Inline so `Where`, whose layout depends on the compiler, never crosses the library ABI.)
  Task<void> wait(Lock::Guard& guard, detail::Where w = {}) {
    detail::note_where(w);
    return wait_for_notify(guard);
  }

  template <class Pred>
  Task<void> wait_for(Lock::Guard& guard, Pred pred, detail::Where w = {}) {
    while (!pred()) co_await wait(guard, w);
  }

  // Wakes up to n waiters (they re-acquire the lock in turn). The lock should be held.
  void notify(std::size_t n = 1) noexcept;
  void notify_all() noexcept { notify(std::numeric_limits<std::size_t>::max()); }

  Lock& lock() noexcept { return lock_; }

 private:
  Task<void> wait_for_notify(Lock::Guard& guard);
  Lock& lock_;
  detail::WaitList waiters_;
};

}  // namespace eddy
