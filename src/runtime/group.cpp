#include <fmt/format.h>

#include "eddy/group.hpp"
#include "runtime/loop.hpp"

namespace eddy {

namespace detail {

bool is_cancelled_error(const std::exception_ptr& e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const Cancelled&) {
    return true;
  } catch (...) {
    return false;
  }
}

}  // namespace detail

TaskGroup::~TaskGroup() {
  if (live() == 0 && errors_.empty()) return;
  detail::Loop* loop = detail::current_loop();
  if (live() > 0) {
    std::string msg = fmt::format(
        "TaskGroup destroyed with {} running task(s) that were never joined; they are "
        "cancelled and destroyed now (await tg.join() before the group goes out of scope)",
        live());
    if (loop) loop->report({msg, nullptr, {}});
    destroy_children();
  }
  for (auto& e : errors_) {
    if (loop) loop->report({"TaskGroup error never joined: " + describe(e), e, {}});
  }
}

void TaskGroup::cancel() noexcept {
  cancelling_ = true;
  cancel_children();
  if (body_scope_) body_scope_->cancel();
}

void TaskGroup::fail(std::exception_ptr e) noexcept {
  errors_.push_back(std::move(e));
  if (!cancelling_) cancel();
}

void TaskGroup::child_done(detail::TaskBase* t) noexcept {
  if (collect_errors_ && t->outcome == detail::TaskOutcome::error) {
    t->retrieved = true;
    fail(t->error());
  }
  if (live() == 0) joiners_.wake_all();
}

bool TaskGroup::JoinAwaiter::await_suspend(std::coroutine_handle<> h) {
  task = &detail::current_task_checked();
  if (task->is_cancelled()) group_.cancel();
  group_.joiners_.push_back(this);
  task->suspend_on(this, h);
  return true;
}

void TaskGroup::finish_join(detail::TaskBase* joiner) {
  cancelling_ = false;
  std::vector<std::exception_ptr> errors = std::move(errors_);
  errors_.clear();
  if (joiner && joiner->is_cancelled()) {
    // Cancelled wins (it must never be swallowed), but the failures must not vanish either.
    for (auto& e : errors) {
      detail::current_loop_checked().report(
          {fmt::format("task group failure lost to cancellation of task '{}': {}",
                       joiner->display_name(), describe(e)),
           e, joiner->display_name()});
    }
    throw Cancelled{};
  }
  if (!errors.empty()) throw ExceptionGroup(std::move(errors));
}

}  // namespace eddy
