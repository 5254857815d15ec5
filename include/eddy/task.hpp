// Task<T>: eddy's coroutine type, the `async def` of C++.
//
//   eddy::Task<int> answer() { co_await eddy::sleep(10ms); co_return 42; }
//
// A Task is lazy: calling `answer()` only creates the frame; nothing runs until the task is
// awaited (then it runs inside the awaiting task, like awaiting a coroutine in asyncio) or
// spawned (then it becomes a task of its own, like asyncio.create_task). It is move-only and
// [[nodiscard]], so a forgotten `co_await` is a compiler warning rather than silent non-work.
// Completion hands control straight back to the awaiter (symmetric transfer), so a chain of
// 100,000 nested awaits does not grow the native stack in optimised builds.
#pragma once

#include <cassert>
#include <coroutine>
#include <exception>
#include <type_traits>
#include <utility>
#include <variant>

#include "eddy/detail/promise_base.hpp"

namespace eddy {

template <class T = void>
class [[nodiscard]] Task;

namespace detail {

struct TaskFinalAwaiter {
  bool await_ready() const noexcept { return false; }
  template <class P>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
    // A root coroutine has no continuation: the loop sees root.done() and finishes the task.
    std::coroutine_handle<> c = h.promise().continuation();
    if (!c) return std::noop_coroutine();
    leave_child(h.promise());
    return transfer_to(c);
  }
  void await_resume() const noexcept {}
};

template <class T>
struct TaskPromise : PromiseBase {
  std::variant<std::monostate, T, std::exception_ptr> result;

  Task<T> get_return_object() noexcept;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  TaskFinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { result.template emplace<2>(std::current_exception()); }
  template <class U = T>
  requires std::is_convertible_v<U&&, T>
  void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
    result.template emplace<1>(std::forward<U>(v));
  }
  bool failed() const noexcept { return result.index() == 2; }
  std::exception_ptr exception() const noexcept { return failed() ? std::get<2>(result) : nullptr; }
  T take() {
    if (result.index() == 2) std::rethrow_exception(std::get<2>(result));
    assert(result.index() == 1 && "task finished without a result");
    return std::move(std::get<1>(result));
  }
};

template <>
struct TaskPromise<void> : PromiseBase {
  std::exception_ptr error;

  Task<void> get_return_object() noexcept;
  std::suspend_always initial_suspend() const noexcept { return {}; }
  TaskFinalAwaiter final_suspend() const noexcept { return {}; }
  void unhandled_exception() noexcept { error = std::current_exception(); }
  void return_void() const noexcept {}
  bool failed() const noexcept { return error != nullptr; }
  std::exception_ptr exception() const noexcept { return error; }
  void take() const {
    if (error) std::rethrow_exception(error);
  }
};

}  // namespace detail

template <class T>
class [[nodiscard]] Task {
 public:
  static_assert(!std::is_reference_v<T>, "Task<T&> is not supported; return a pointer");
  using promise_type = detail::TaskPromise<T>;
  using handle_type = std::coroutine_handle<promise_type>;
  using value_type = T;

  Task() noexcept = default;
  explicit Task(handle_type h) noexcept : h_(h) {}
  Task(Task&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  Task& operator=(Task&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;
  ~Task() {
    if (h_) h_.destroy();
  }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  // Gives up ownership of the frame (used by spawn).
  handle_type release() noexcept { return std::exchange(h_, {}); }

  struct Awaiter {
    handle_type h;
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      detail::enter_child(h.promise(), caller);
      return detail::transfer_to(h);
    }
    T await_resume() { return h.promise().take(); }
  };

  Awaiter operator co_await() && noexcept {
    assert(h_ && "awaiting an empty or moved-from Task");
    return Awaiter{h_};
  }
  Awaiter operator co_await() & noexcept {
    assert(h_ && "awaiting an empty or moved-from Task");
    return Awaiter{h_};
  }

 private:
  handle_type h_;
};

namespace detail {
template <class T>
Task<T> TaskPromise<T>::get_return_object() noexcept {
  return Task<T>(std::coroutine_handle<TaskPromise<T>>::from_promise(*this));
}
inline Task<void> TaskPromise<void>::get_return_object() noexcept {
  return Task<void>(std::coroutine_handle<TaskPromise<void>>::from_promise(*this));
}

}  // namespace detail

// The type a `Task<T>` yields: T, with void kept as void.
template <class T>
struct task_value;
template <class T>
struct task_value<Task<T>> {
  using type = T;
};

}  // namespace eddy
