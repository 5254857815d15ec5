// The state of a spawned task, shared by the loop, TaskHandle and TaskGroup.
//
// A spawned task is a root coroutine plus this record: where to resume it, what it waits on
// (for cancellation), its stack of cancel scopes, its place in its group and in the loop's
// registry of live tasks. Coroutines awaited inside a task (`co_await child()`) run *in* the
// task and get no record of their own. Nothing here is thread-safe: a task belongs to the loop
// of the thread that runs it.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "eddy/detail/frame_alloc.hpp"
#include "eddy/detail/wait.hpp"

namespace eddy::detail {

struct PromiseBase;
class GroupCore;
class Loop;

// One level of a task's cancel-scope stack (timeout, move_on, shield, a TaskGroup's scope).
struct CancelScopeNode {
  CancelScopeNode* parent = nullptr;
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool shield = false;
  bool cancelled = false;
};

enum class TaskStatus : std::uint8_t { created, ready, running, suspended, done };
enum class TaskOutcome : std::uint8_t { pending, value, error, cancelled };

// What only some tasks need, allocated on first use: a name, a number, done callbacks,
// tasks awaiting it, and the failure of a task that failed.
struct TaskExtras {
  std::string name;
  std::uint32_t id = 0;
  std::exception_ptr error;
  std::vector<std::function<void()>> callbacks;
  WaitList joiners;
};

class TaskBase {
 public:
  TaskBase() = default;
  TaskBase(const TaskBase&) = delete;
  TaskBase& operator=(const TaskBase&) = delete;
  virtual ~TaskBase();

  static void* operator new(std::size_t n) { return frame_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

  // The root coroutine finished (returned, threw, or was destroyed before it could run):
  // move the outcome out of its frame and free the frame.
  virtual void finish_root() noexcept = 0;

  // True if this task should see `Cancelled` at its next await point: the nearest cancelled
  // scope, searching outwards, is not hidden behind a shield.
  bool is_cancelled() const noexcept {
    for (const CancelScopeNode* s = scope; s != nullptr; s = s->parent) {
      if (s->cancelled) return true;
      if (s->shield) return false;
    }
    return cancel_requested;
  }

  // Records where the task is suspended and on what; the loop resumes `h` when woken.
  void suspend_on(Waiter* w, std::coroutine_handle<> h) noexcept {
    waiting_on = w;
    resume_point = h;
    status = TaskStatus::suspended;
  }

  // The wait succeeded: schedule the task to resume.
  void wake() noexcept;
  // Requests cancellation (task.cancel()). Returns false if the task already finished.
  bool cancel() noexcept;
  // Cancellation state changed (task or scope cancelled): withdraw a suspended task.
  void deliver_cancel() noexcept;

  void add_ref() noexcept { ++refs; }
  void release() noexcept {
    if (--refs == 0) delete this;
  }

  TaskExtras& extra();
  std::string display_name() const;
  // "Task-N": numbered when first asked (asyncio numbers at creation; this keeps 4 bytes out
  // of every task, and only tasks someone looks at get a number).
  std::uint32_t number();
  // The failure of a task whose outcome is `error`.
  std::exception_ptr error() const noexcept { return extras ? extras->error : nullptr; }
  bool done() const noexcept { return status == TaskStatus::done; }
  // GCC 12 mistypes enum bit-fields read inside templates ("unsigned char:2"): templates read
  // the outcome through this.
  TaskOutcome outcome_now() const noexcept { return outcome; }

  std::coroutine_handle<> resume_point;
  std::coroutine_handle<> root;
  Waiter* waiting_on = nullptr;
  CancelScopeNode* scope = nullptr;
  PromiseBase* leaf = nullptr;       // innermost coroutine, for task dumps
  const char* where_file = nullptr;  // where it last blocked (see detail/where.hpp)
  GroupCore* group = nullptr;
  TaskExtras* extras = nullptr;
  std::uint32_t refs = 1;
  // Slots in the loop's registry of live tasks and in the group's list of children: vectors
  // with swap-removal, so each membership costs 4 bytes here instead of two pointers.
  std::uint32_t reg_index = 0;
  std::uint32_t group_index = 0;
  // The line and the flags share one word: it keeps the record at 88 bytes, which is what
  // puts a sleeping task under 256 bytes in all (docs/benchmarks.md). Lines past 16 million
  // saturate.
  std::uint32_t where_line : 24 = 0;
  TaskStatus status : 3 = TaskStatus::created;
  TaskOutcome outcome : 2 = TaskOutcome::pending;
  bool cancel_requested : 1 = false;
  bool retrieved : 1 = false;  // someone looked at the outcome (for "never retrieved" reports)
  bool queued : 1 = false;     // sitting in the ready queue
};
static_assert(sizeof(void*) != 8 || sizeof(TaskBase) == 88, "keep TaskBase at 88 bytes");

// The task running on this thread, or null outside a task. `__thread` rather than
// thread_local: a plain TLS slot with no init wrapper, read on every co_await.
extern __thread TaskBase* tl_current_task;

inline TaskBase* current_task_or_null() noexcept {
  return tl_current_task;
}
[[noreturn]] void throw_no_task();
// Throws std::logic_error when called outside a running eddy task.
inline TaskBase& current_task_checked() {
  TaskBase* t = tl_current_task;
  if (!t) throw_no_task();
  return *t;
}

// Loop services used by header templates.
Loop* current_loop() noexcept;
Loop& current_loop_checked();
void register_task(Loop& loop, TaskBase* t, std::string_view name);

}  // namespace eddy::detail
