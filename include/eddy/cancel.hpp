// Timeouts, move-on-after and shielding: trio's cancel scopes, with asyncio's names.
//
//   auto user = co_await eddy::timeout(2s, fetch_user(id));        // throws TimeoutError
//   auto maybe = co_await eddy::move_on_after(2s, fetch_user(id)); // std::optional, no throw
//   co_await eddy::shield(conn.close_gracefully());                // outer cancel waits for it
//
// Rules (each pinned by a test, see docs/semantics.md):
//  - A scope's deadline cancels everything awaited inside it; the operation sees `Cancelled`
//    at its await point and unwinds normally.
//  - Scopes nest: the nearest deadline fires first. When the scope whose deadline fired exits,
//    that `Cancelled` becomes `TimeoutError` (timeout) or an empty optional (move_on).
//  - A cancellation from outside (the task was cancelled, or an enclosing deadline fired)
//    passes through an inner scope unchanged: it stays `Cancelled`, never becomes TimeoutError.
//  - Cancellation is level-triggered: inside a cancelled scope every further await raises
//    `Cancelled` again, so it cannot be swallowed by accident.
//  - `shield` hides outer cancellation from the awaitable until it completes; the outer
//    cancellation is then delivered at the next await point.
#pragma once

#include <optional>
#include <type_traits>
#include <utility>

#include "eddy/detail/await_traits.hpp"
#include "eddy/detail/task_base.hpp"
#include "eddy/detail/timer.hpp"
#include "eddy/error.hpp"
#include "eddy/task.hpp"
#include "eddy/time.hpp"

namespace eddy {

namespace detail {

// A cancel scope pushed on the current task for its lifetime (it lives in a coroutine frame,
// so scopes nest exactly as the frames do).
class ScopeGuard final : public CancelScopeNode, TimerEntry {
 public:
  ScopeGuard(TimePoint deadline_at, bool shield_outer) : task_(&current_task_checked()) {
    deadline = deadline_at;
    parent = task_->scope;
    shield = shield_outer;
    task_->scope = this;
    if (deadline != TimePoint::max()) {
      if (deadline <= now()) {
        cancelled = true;  // already expired: the first await inside raises
      } else {
        timer_arm(this, deadline);
      }
    }
  }
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;
  ~ScopeGuard() { exit(); }

  // Cancels everything inside this scope.
  void cancel() noexcept {
    if (cancelled) return;
    cancelled = true;
    task_->deliver_cancel();
  }
  // Pops the scope (idempotent). After this, `task().is_cancelled()` tells whether a
  // cancellation from outside is also pending.
  void exit() noexcept {
    if (exited_) return;
    exited_ = true;
    if (armed) timer_disarm(this);
    task_->scope = parent;  // an outer cancel a shield held back now shows at the next await
  }
  bool fired() const noexcept { return cancelled; }
  TaskBase& task() const noexcept { return *task_; }

 private:
  void on_timer() noexcept override { cancel(); }
  TaskBase* task_;
  bool exited_ = false;
};

// Called while handling a Cancelled that reached `scope`: exits the scope and says whether
// the scope itself caused it (its deadline fired) and nothing outside it wants to cancel too.
inline bool cancelled_by(ScopeGuard& scope) noexcept {
  bool fired = scope.fired();
  scope.exit();
  return fired && !scope.task().is_cancelled();
}

}  // namespace detail

// Runs `aw` with a deadline; throws TimeoutError if the deadline passes first.
template <class A>
auto timeout_at(TimePoint deadline, A aw) -> Task<detail::await_result_t<A>> {
  detail::ScopeGuard scope(deadline, false);
  try {
    co_return co_await std::move(aw);
  } catch (const Cancelled&) {
    if (detail::cancelled_by(scope)) throw TimeoutError();
    throw;
  }
}

template <class A>
auto timeout(Duration d, A aw) -> Task<detail::await_result_t<A>> {
  return timeout_at(detail::deadline_after(d), std::move(aw));
}

// asyncio.wait_for's spelling.
template <class A>
auto wait_for(A aw, Duration d) -> Task<detail::await_result_t<A>> {
  return timeout(d, std::move(aw));
}

namespace detail {
template <class R>
using optional_result_t = std::conditional_t<std::is_void_v<R>, bool, std::optional<R>>;
}

// Runs `aw` with a deadline; if the deadline passes first, the work is cancelled and the
// result is empty (std::nullopt, or false for a void awaitable) instead of an error.
template <class A>
auto move_on_at(TimePoint deadline, A aw)
    -> Task<detail::optional_result_t<detail::await_result_t<A>>> {
  using R = detail::await_result_t<A>;
  detail::ScopeGuard scope(deadline, false);
  try {
    if constexpr (std::is_void_v<R>) {
      co_await std::move(aw);
      co_return true;
    } else {
      co_return std::optional<R>(co_await std::move(aw));
    }
  } catch (const Cancelled&) {
    if (!detail::cancelled_by(scope)) throw;
  }
  if constexpr (std::is_void_v<R>) {
    co_return false;
  } else {
    co_return std::nullopt;
  }
}

template <class A>
auto move_on_after(Duration d, A aw) -> Task<detail::optional_result_t<detail::await_result_t<A>>> {
  return move_on_at(detail::deadline_after(d), std::move(aw));
}

// Runs `aw` shielded from outer cancellation (trio's CancelScope(shield=True)): use it for
// cleanup that must finish, such as closing a connection politely. Its own timeouts inside
// still work. An outer cancellation is delivered at the first await after it completes.
template <class A>
auto shield(A aw) -> Task<detail::await_result_t<A>> {
  detail::ScopeGuard scope(TimePoint::max(), true);
  co_return co_await std::move(aw);
}

// The nearest deadline that applies to the current task, if any (useful to pass a remaining
// time budget on to another service).
std::optional<TimePoint> current_deadline();

}  // namespace eddy
