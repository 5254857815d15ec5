// Lock (asyncio.Lock): mutual exclusion between tasks of one loop, with an RAII guard.
//
//   auto guard = co_await lock.acquire();   // unlocked when `guard` goes away
//
// FIFO-fair, and a cancelled acquire() never leaves the lock held (same rules as Semaphore).
// Not re-entrant, and not for threads: use std::mutex across threads.
#pragma once

#include "eddy/sync/semaphore.hpp"

namespace eddy {

class Lock {
 public:
  using Guard = Semaphore::Permit;

  Lock() noexcept : sem_(1) {}
  Semaphore::AcquireAwaiter acquire(detail::Where w = {}) noexcept { return sem_.acquire(w); }
  std::optional<Guard> try_acquire() noexcept { return sem_.try_acquire(); }
  bool locked() const noexcept { return sem_.locked(); }

 private:
  friend class Condition;
  BoundedSemaphore sem_;
};

}  // namespace eddy
