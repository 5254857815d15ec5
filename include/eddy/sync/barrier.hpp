// Barrier (asyncio.Barrier): `parties` tasks wait until all have arrived, then all proceed.
//
// wait() returns each task's arrival index (0 .. parties-1, distinct, in arrival order among
// the tasks released together). The barrier is cyclic. A task
// cancelled while the barrier is filling leaves it (its arrival is withdrawn); abort() breaks
// it, and every waiter, present or future, gets BrokenBarrierError until reset().
#pragma once

#include <coroutine>
#include <cstddef>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

class BrokenBarrierError : public Error {
 public:
  BrokenBarrierError() : Error("eddy: barrier is broken") {}
};

class Barrier {
 public:
  explicit Barrier(std::size_t parties);
  Barrier(const Barrier&) = delete;
  Barrier& operator=(const Barrier&) = delete;

  class WaitAwaiter final : public detail::WaitNode {
   public:
    explicit WaitAwaiter(Barrier& b) noexcept : b_(b) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h);
    std::size_t await_resume() const;
    bool withdraw() noexcept override;

   private:
    friend class Barrier;
    Barrier& b_;
    std::size_t index_ = 0;
    bool broken_ = false;
  };

  WaitAwaiter wait(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return WaitAwaiter(*this);
  }
  void abort() noexcept;
  void reset() noexcept;
  std::size_t parties() const noexcept { return parties_; }
  std::size_t n_waiting() const noexcept { return count_; }
  bool broken() const noexcept { return broken_; }

 private:
  std::size_t parties_;
  std::size_t count_ = 0;
  bool broken_ = false;
  detail::WaitList waiters_;
};

}  // namespace eddy
