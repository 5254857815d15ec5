// What every eddy coroutine promise (Task, AsyncGenerator) has in common.
//
// Frames come from the frame pool. `continuation` and `parent` link a coroutine to the one
// awaiting it; the task's `leaf` pointer follows the innermost one (set when a child starts,
// reset when it finishes), so `dump_tasks()` can walk a hung task's chain of coroutines.
// There is deliberately no `await_transform`: with one, GCC 12 stores every awaiter twice.
#pragma once

#include <coroutine>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "eddy/detail/frame_alloc.hpp"
#include "eddy/detail/task_base.hpp"

namespace eddy::detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;  // the coroutine awaiting this one (null for a root)
  PromiseBase* parent = nullptr;         // its promise, if it is an eddy coroutine

  static void* operator new(std::size_t n) { return frame_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

// A child coroutine starts under `caller`: link it and make it the task's innermost frame.
template <class P>
void enter_child(PromiseBase& child, std::coroutine_handle<P> caller) noexcept {
  child.continuation = caller;
  if constexpr (std::is_base_of_v<PromiseBase, P>) child.parent = &caller.promise();
  if (TaskBase* t = tl_current_task) t->leaf = &child;
}

// A child coroutine finished or yielded: its parent is innermost again.
inline void leave_child(PromiseBase& child) noexcept {
  if (TaskBase* t = tl_current_task) t->leaf = child.parent;
}

}  // namespace eddy::detail
