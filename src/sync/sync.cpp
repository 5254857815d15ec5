// The out-of-line parts of the sync primitives.
#include <stdexcept>

#include "eddy/cancel.hpp"
#include "eddy/sync.hpp"

namespace eddy {

// --- Semaphore

std::size_t Semaphore::waiting() const noexcept {
  std::size_t n = 0;
  for (auto* w = waiters_.front(); w; w = w->next) ++n;
  return n;
}

void Semaphore::release_permit() {
  // Hand the permit straight to the longest waiter: the count never rises while someone
  // waits, so nobody can barge in ahead of it.
  if (waiters_.wake_one()) return;
  if (bound_ != 0 && value_ >= bound_)
    throw std::logic_error("eddy::BoundedSemaphore released more times than acquired");
  ++value_;
}

// --- Condition

namespace {

class NotifyAwaiter final : public detail::WaitNode {
 public:
  explicit NotifyAwaiter(detail::WaitList& l) noexcept : list_(l) {}
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) { return suspend_in(list_, h); }
  void await_resume() const { throw_if_withdrawn(); }

 private:
  detail::WaitList& list_;
};

}  // namespace

Task<void> Condition::wait_for_notify(Lock::Guard& guard) {
  if (!guard || !lock_.locked()) throw std::logic_error("eddy::Condition::wait: lock not held");
  std::exception_ptr cancelled;
  guard.release();
  try {
    co_await NotifyAwaiter(waiters_);
  } catch (const Cancelled&) {
    cancelled = std::current_exception();
  }
  {
    // Whatever happened, return holding the lock, as the caller's guard promises.
    detail::ScopeGuard shielded(TimePoint::max(), true);
    guard = co_await lock_.acquire();
  }
  if (cancelled) std::rethrow_exception(cancelled);
}

void Condition::notify(std::size_t n) noexcept {
  while (n > 0 && waiters_.wake_one()) --n;
}

// --- Barrier

Barrier::Barrier(std::size_t parties) : parties_(parties) {
  if (parties == 0) throw std::invalid_argument("eddy::Barrier needs at least one party");
}

bool Barrier::WaitAwaiter::await_suspend(std::coroutine_handle<> h) {
  task = &detail::current_task_checked();
  if (b_.broken_) {
    broken_ = true;
    return false;
  }
  if (task->is_cancelled()) {
    state = State::withdrawn;
    return false;
  }
  if (++b_.count_ == b_.parties_) {
    // Last to arrive: number everyone in arrival order (indices are handed out only now, so
    // a waiter that left while the barrier filled leaves no gap or duplicate), release them
    // and start over.
    std::size_t i = 0;
    while (auto* n = b_.waiters_.pop_front()) {
      static_cast<WaitAwaiter*>(n)->index_ = i++;
      n->state = State::woken;
      n->task->wake();
    }
    index_ = i;
    b_.count_ = 0;
    return false;
  }
  b_.waiters_.push_back(this);
  task->suspend_on(this, h);
  return true;
}

std::size_t Barrier::WaitAwaiter::await_resume() const {
  throw_if_withdrawn();
  if (broken_) throw BrokenBarrierError();
  return index_;
}

bool Barrier::WaitAwaiter::withdraw() noexcept {
  if (!WaitNode::withdraw()) return false;
  --b_.count_;  // leaving while the barrier fills: the arrival no longer counts
  return true;
}

void Barrier::abort() noexcept {
  broken_ = true;
  count_ = 0;
  while (auto* n = waiters_.pop_front()) {
    static_cast<WaitAwaiter*>(n)->broken_ = true;
    n->state = detail::WaitNode::State::woken;
    n->task->wake();
  }
}

void Barrier::reset() noexcept {
  abort();
  broken_ = false;
}

}  // namespace eddy
