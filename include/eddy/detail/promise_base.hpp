// What every eddy coroutine promise (Task, AsyncGenerator) has in common.
//
// Frames come from the frame pool. `caller` links a coroutine to the one awaiting it; the task's
// `leaf` pointer follows the innermost one (set when a child starts, reset when it finishes), so
// `dump_tasks()` can walk a hung task's chain of coroutines. There is deliberately no
// `await_transform`: with one, GCC 12 stores every awaiter twice.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "eddy/detail/frame_alloc.hpp"
#include "eddy/detail/task_base.hpp"

namespace eddy::detail {

// Where the coroutine ABI (GCC and clang alike) puts a promise of alignment <= 16: right after
// the frame's resume and destroy pointers.
inline void* promise_address(void* frame) noexcept {
  return static_cast<char*>(frame) + 2 * sizeof(void*);
}

struct PromiseBase {
  // The coroutine awaiting this one (null for a root). Bit 0 says that it is an eddy coroutine
  // whose PromiseBase sits at promise_address(): that is how a task dump walks up the chain
  // without a parent pointer, which would cost 8 bytes in every frame.
  std::uintptr_t caller = 0;

  std::coroutine_handle<> continuation() const noexcept {
    return std::coroutine_handle<>::from_address(
        reinterpret_cast<void*>(caller & ~std::uintptr_t{1}));
  }
  PromiseBase* parent() const noexcept {
    if (!(caller & 1)) return nullptr;
    return static_cast<PromiseBase*>(promise_address(reinterpret_cast<void*>(caller - 1)));
  }

  static void* operator new(std::size_t n) { return frame_alloc(n); }
  static void operator delete(void* p, std::size_t n) noexcept { frame_free(p, n); }
};

// A child coroutine starts under `caller`: link it and make it the task's innermost frame.
template <class P>
void enter_child(PromiseBase& child, std::coroutine_handle<P> caller) noexcept {
  auto bits = reinterpret_cast<std::uintptr_t>(caller.address());
  if constexpr (std::is_base_of_v<PromiseBase, P>) {
    // Folds to a constant: true unless the promise is over-aligned or PromiseBase is not
    // its first base. Then the dump just stops at this frame.
    if (promise_address(caller.address()) == static_cast<PromiseBase*>(&caller.promise()))
      bits |= 1;
  }
  child.caller = bits;
  if (TaskBase* t = tl_current_task) t->leaf = &child;
}

// A child coroutine finished or yielded: its parent is innermost again.
inline void leave_child(PromiseBase& child) noexcept {
  if (TaskBase* t = tl_current_task) t->leaf = child.parent();
}

}  // namespace eddy::detail
