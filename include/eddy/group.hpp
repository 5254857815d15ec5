// TaskGroup: structured concurrency (asyncio.TaskGroup, trio's nursery).
//
//   co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
//     for (auto& url : urls) tg.spawn(fetch(url));
//     co_return;
//   });                                   // returns when every child has finished
//
// or, with the group as a local and an explicit join:
//
//   eddy::TaskGroup tg;
//   auto a = tg.spawn(fetch_user(1));
//   auto b = tg.spawn(fetch_user(2));
//   co_await tg.join();
//   use(a.result(), b.result());
//
// Rules (pinned by tests, see docs/semantics.md):
//  - The first child to fail cancels all its siblings. join() waits for every child, then
//    throws an ExceptionGroup holding every failure, in the order they happened.
//  - In the scoped form the body is cancelled too when a child fails (its Cancelled is
//    absorbed; the ExceptionGroup explains). A failure of the body itself cancels the
//    children and joins the group.
//  - If the task awaiting join() is cancelled, the children are cancelled and still awaited,
//    then `Cancelled` propagates; child failures that happened meanwhile go to the loop's
//    exception handler rather than being lost.
//  - A child cancelled by its group is not a failure. Spawning into a group that is already
//    cancelling gives a child that is cancelled before it runs.
//  - Destroying a group with running children that was never joined is a programming error:
//    it is reported loudly and the children are cancelled and destroyed on the spot.
#pragma once

#include <exception>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/detail/group_core.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/runtime.hpp"
#include "eddy/task.hpp"

namespace eddy {

class TaskGroup;

namespace detail {
bool is_cancelled_error(const std::exception_ptr& e) noexcept;
template <class F>
Task<void> run_task_group(F body);
}  // namespace detail

class TaskGroup : private detail::GroupCore {
 public:
  TaskGroup() = default;
  ~TaskGroup();

  template <class T>
  TaskHandle<T> spawn(Task<T> task, std::string_view name = {}) {
    detail::Loop& loop = detail::current_loop_checked();
    auto* s = detail::make_task_state(std::move(task));
    if (cancelling_) s->cancel_requested = true;
    detail::register_task(loop, s, name);
    adopt(s);
    return TaskHandle<T>(s);
  }
  template <detail::TaskFactory F>
  auto spawn(F factory, std::string_view name = {}) {
    return spawn(detail::invoke_stored(std::move(factory)), name);
  }

  class JoinAwaiter final : public detail::WaitNode {
   public:
    explicit JoinAwaiter(TaskGroup& g) noexcept : group_(g) {}
    bool await_ready() const noexcept { return group_.live() == 0; }
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() { group_.finish_join(task ? task : detail::current_task_or_null()); }
    bool withdraw() noexcept override {
      group_.cancel();  // keep waiting: a group is always joined before its awaiter moves on
      return false;
    }

   private:
    TaskGroup& group_;
  };

  // Waits for every child. Throws ExceptionGroup if any failed, Cancelled if the awaiting
  // task was cancelled (after the children, cancelled in turn, have all finished).
  JoinAwaiter join(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return JoinAwaiter(*this);
  }

  // Cancels every child (and, in the scoped form, the body).
  void cancel() noexcept;
  // Number of children still running.
  std::size_t size() const noexcept { return live(); }

 private:
  template <class F>
  friend Task<void> detail::run_task_group(F body);
  friend struct GroupAccess;

  explicit TaskGroup(bool collect_errors) noexcept : collect_errors_(collect_errors) {}
  void child_done(detail::TaskBase* t) noexcept override;
  void fail(std::exception_ptr e) noexcept;
  void finish_join(detail::TaskBase* joiner);

  std::vector<std::exception_ptr> errors_;
  detail::WaitList joiners_;
  detail::ScopeGuard* body_scope_ = nullptr;
  bool collect_errors_ = true;  // false for gather_settled: outcomes stay with the handles
  bool cancelling_ = false;
};

// Internal access for gather_settled, which needs a group that does not collect errors.
struct GroupAccess {
  static TaskGroup settled_group() { return TaskGroup(false); }
  static void reserve(TaskGroup& tg, std::size_t n) { tg.reserve(n); }
};

namespace detail {

template <class F>
Task<void> run_task_group(F body) {
  TaskGroup tg;
  std::exception_ptr body_error;
  {
    ScopeGuard scope(TimePoint::max(), false);
    tg.body_scope_ = &scope;
    try {
      co_await body(tg);
    } catch (...) {
      body_error = std::current_exception();
    }
    tg.body_scope_ = nullptr;
    // The body's Cancelled came from the group (a child failed): the ExceptionGroup explains.
    if (body_error && is_cancelled_error(body_error) && cancelled_by(scope)) body_error = nullptr;
  }
  if (body_error && !is_cancelled_error(body_error)) {
    tg.fail(body_error);
    body_error = nullptr;
  }
  co_await tg.join();
  if (body_error) std::rethrow_exception(body_error);
}

}  // namespace detail

// The scoped form: `body(tg)` runs in the calling task; returns once every child finished.
template <class F>
Task<void> task_group(F body) {
  return detail::run_task_group(std::move(body));
}

}  // namespace eddy
