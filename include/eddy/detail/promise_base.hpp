// What every eddy coroutine promise (Task, AsyncGenerator) has in common.
//
// Frames come from the frame pool. `await_transform` notes where each coroutine is suspended
// (file and line of the co_await) and which coroutine is the innermost one of its task, so
// `dump_tasks()` can print a hung task's chain of awaits without a debugger.
#pragma once

#include <coroutine>
#include <cstddef>
#include <utility>

#include "eddy/detail/frame_alloc.hpp"
#include "eddy/detail/task_base.hpp"

namespace eddy::detail {

struct PromiseBase {
  std::coroutine_handle<> continuation;  // the coroutine awaiting this one (null for a root)
  PromiseBase* parent = nullptr;         // its promise, for task dumps
  const char* file = nullptr;            // where this coroutine last awaited
  unsigned line = 0;

  static void* operator new(std::size_t n) { return frame_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }

  template <class A>
  A&& await_transform(A&& a, const char* f = __builtin_FILE(),
                      unsigned l = __builtin_LINE()) noexcept {
    file = f;
    line = l;
    if (TaskBase* t = tl_current_task) t->leaf = this;
    return std::forward<A>(a);
  }
};

// Links a child coroutine under the coroutine `caller` that awaits it.
template <class P>
void link_parent(PromiseBase& child, std::coroutine_handle<P> caller) noexcept {
  child.continuation = caller;
  if constexpr (std::is_base_of_v<PromiseBase, P>) child.parent = &caller.promise();
}

}  // namespace eddy::detail
