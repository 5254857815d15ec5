// TaskBase, the wait-list protocol and the error types.
#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "eddy/detail/group_core.hpp"
#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/error.hpp"
#include "eddy/runtime.hpp"
#include "runtime/loop.hpp"

namespace eddy {

ExceptionGroup::ExceptionGroup(std::vector<std::exception_ptr> errors)
    : Error([&] {
        std::string msg = fmt::format("{} task(s) failed", errors.size());
        for (const auto& e : errors) msg += fmt::format("; {}", describe(e));
        return msg;
      }()),
      errors_(std::move(errors)) {}

std::string describe(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (const Cancelled&) {
    return "eddy::Cancelled";
  } catch (...) {
    return "unknown exception (not derived from std::exception)";
  }
}

OSError::OSError(int code, const std::string& what) : Error(what), code_(code) {}

void throw_os_error(int code, const std::string& what) {
  const char* desc = ::strerrordesc_np(code);
  std::string msg = fmt::format("{}: {}", what, desc ? desc : "unknown error");
  switch (code) {
    case ECONNREFUSED:
      throw ConnectionRefusedError(code, msg);
    case ECONNRESET:
      throw ConnectionResetError(code, msg);
    case EPIPE:
    case ESHUTDOWN:
      throw BrokenPipeError(code, msg);
    case ECONNABORTED:
    case ENOTCONN:
    case ETIMEDOUT:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case EHOSTDOWN:
    case ENETDOWN:
      throw ConnectionError(code, msg);
    case ENOENT:
      throw FileNotFoundError(code, msg);
    case EEXIST:
      throw FileExistsError(code, msg);
    case EACCES:
    case EPERM:
      throw PermissionError(code, msg);
    default:
      throw OSError(code, msg);
  }
}

std::exception_ptr TaskRef::exception() const {
  if (!t_->done()) throw InvalidStateError("eddy: task has not finished");
  t_->retrieved = true;
  if (t_->outcome == detail::TaskOutcome::cancelled) detail::throw_task_cancelled(*t_);
  return t_->error();
}

namespace detail {

__thread TaskBase* tl_current_task = nullptr;

TaskBase::~TaskBase() {
  if (outcome == TaskOutcome::error && !retrieved) {
    ExceptionContext ctx{fmt::format("Task exception was never retrieved: task '{}' failed: {}",
                                     display_name(), describe(error())),
                         error(), display_name()};
    if (Loop* l = tl_loop) {
      l->report(ctx);
    } else {
      std::fprintf(stderr, "eddy: %s\n", ctx.message.c_str());
    }
  }
  delete extras;
}

void TaskBase::wake() noexcept {
  waiting_on = nullptr;
  tl_loop->schedule(this);
}

bool TaskBase::cancel() noexcept {
  if (status == TaskStatus::done) return false;
  cancel_requested = true;
  deliver_cancel();
  return true;
}

void TaskBase::deliver_cancel() noexcept {
  if (status != TaskStatus::suspended || waiting_on == nullptr || !is_cancelled()) return;
  if (waiting_on->withdraw()) {
    waiting_on = nullptr;
    tl_loop->schedule(this);
  }
}

TaskExtras& TaskBase::extra() {
  if (!extras) extras = new TaskExtras();
  return *extras;
}

std::string TaskBase::display_name() const {
  if (extras && !extras->name.empty()) return extras->name;
  return fmt::format("Task-{}", const_cast<TaskBase*>(this)->number());
}

std::uint32_t TaskBase::number() {
  static thread_local std::uint32_t next = 1;
  TaskExtras& x = extra();
  if (x.id == 0) x.id = next++;
  return x.id;
}

void throw_no_task() {
  throw std::logic_error("eddy: this must be awaited inside a task run by eddy::run");
}

void set_task_error(TaskBase& t, std::exception_ptr e) noexcept {
  try {
    std::rethrow_exception(e);
  } catch (const Cancelled&) {
    t.outcome = TaskOutcome::cancelled;
  } catch (...) {
    try {
      t.extra().error = std::move(e);
      t.outcome = TaskOutcome::error;
    } catch (...) {  // out of memory: the failure cannot be kept, but is not a success either
      t.outcome = TaskOutcome::cancelled;
    }
  }
}

void throw_task_cancelled(const TaskBase& t) {
  throw TaskCancelled(fmt::format("eddy: task '{}' was cancelled", t.display_name()));
}

void add_done_callback(TaskBase& t, std::function<void()> cb) {
  if (t.done()) {
    current_loop_checked().call_soon(std::move(cb));
  } else {
    t.extra().callbacks.push_back(std::move(cb));
  }
}

bool JoinAwaiterBase::await_suspend(std::coroutine_handle<> h) {
  return suspend_in(target_->extra().joiners, h);
}

// --- wait lists

WaitNode::~WaitNode() {
  if (state == State::waiting && list) list->remove(this);
}

bool WaitNode::suspend_in(WaitList& l, std::coroutine_handle<> h) {
  task = &current_task_checked();
  if (task->is_cancelled()) {
    state = State::withdrawn;
    return false;
  }
  l.push_back(this);
  task->suspend_on(this, h);
  return true;
}

void WaitNode::throw_if_withdrawn() const {
  if (state == State::withdrawn) throw Cancelled{};
}

bool WaitNode::withdraw() noexcept {
  if (state != State::waiting) return false;
  list->remove(this);
  state = State::withdrawn;
  return true;
}

bool WaitList::wake_one() noexcept {
  WaitNode* n = pop_front();
  if (!n) return false;
  n->state = WaitNode::State::woken;
  n->task->wake();
  return true;
}

void WaitList::wake_all() noexcept {
  while (wake_one()) {
  }
}

// --- groups

void GroupCore::adopt(TaskBase* t) {
  t->group = this;
  t->group_index = static_cast<std::uint32_t>(children_.size());
  children_.push_back(t);
}

void GroupCore::unlink(TaskBase* t) noexcept {
  TaskBase* last = children_.back();
  children_[t->group_index] = last;
  last->group_index = t->group_index;
  children_.pop_back();
  t->group = nullptr;
}

void GroupCore::cancel_children() noexcept {
  // cancel() only withdraws and schedules; no child finishes (or leaves the vector) here.
  for (std::size_t i = 0; i < children_.size(); ++i) children_[i]->cancel();
}

void GroupCore::destroy_children() noexcept {
  while (!children_.empty()) {
    TaskBase* t = children_.back();
    unlink(t);  // the group is going away: no child_done for these
    force_finish(t);
  }
}

}  // namespace detail
}  // namespace eddy
