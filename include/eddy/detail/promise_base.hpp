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

// Symmetric transfer runs in constant stack only where the compiler turns it into a tail
// call: optimised builds without sanitizers. Elsewhere (debug, ASan, TSan) every transfer
// nests a native frame, and a loop of awaits that complete at once (reads of buffered data,
// operations cancelled before they start) would overflow the stack after some thousands of
// iterations. There, every kBounceEvery-th transfer goes through the loop's ready queue
// instead, which unwinds the stack; a yield every few hundred steps costs nothing noticeable.
#if !defined(__OPTIMIZE__) || defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDDY_DETAIL_BOUNCE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EDDY_DETAIL_BOUNCE 1
#endif
#endif

// Transfers since the current task step began (reset by the loop before each step).
extern __thread unsigned tl_transfers;
// Parks the current task with `next` as its resume point and queues it; returns the noop
// coroutine, so the native stack unwinds to the loop.
std::coroutine_handle<> bounce_through_loop(std::coroutine_handle<> next) noexcept;

inline std::coroutine_handle<> transfer_to(std::coroutine_handle<> next) noexcept {
#ifdef EDDY_DETAIL_BOUNCE
  constexpr unsigned kBounceEvery = 256;
  if (++tl_transfers >= kBounceEvery) return bounce_through_loop(next);
#endif
  return next;
}

}  // namespace eddy::detail
