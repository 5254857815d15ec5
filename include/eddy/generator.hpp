// AsyncGenerator<T>: an `async def ... yield` for streams such as a paginated API.
//
//   eddy::AsyncGenerator<Item> items(Session& s) {
//     for (int page = 1;; ++page) {
//       auto batch = co_await fetch_page(s, page);
//       if (batch.empty()) co_return;
//       for (auto& it : batch) co_yield it;
//     }
//   }
//   auto gen = items(s);
//   while (auto item = co_await gen.next()) process(*item);
//
// The generator runs inside the consuming task, one step per next(); nothing runs ahead.
// A failure inside it is rethrown from next(). Destroying it early just drops its frame.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <utility>

#include "eddy/detail/promise_base.hpp"

namespace eddy {

template <class T>
class [[nodiscard]] AsyncGenerator {
 public:
  struct promise_type : detail::PromiseBase {
    std::optional<T> value;
    std::exception_ptr error;

    AsyncGenerator get_return_object() noexcept {
      return AsyncGenerator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    std::suspend_always initial_suspend() const noexcept { return {}; }

    struct YieldAwaiter {
      bool await_ready() const noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> h) noexcept {
        detail::leave_child(h.promise());
        return detail::transfer_to(h.promise().continuation());
      }
      void await_resume() const noexcept {}
    };
    YieldAwaiter final_suspend() const noexcept { return {}; }
    template <class U = T>
    YieldAwaiter yield_value(U&& v) {
      value.emplace(std::forward<U>(v));
      return {};
    }
    void return_void() const noexcept {}
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };
  using handle_type = std::coroutine_handle<promise_type>;

  AsyncGenerator() noexcept = default;
  explicit AsyncGenerator(handle_type h) noexcept : h_(h) {}
  AsyncGenerator(AsyncGenerator&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  AsyncGenerator& operator=(AsyncGenerator&& o) noexcept {
    if (this != &o) {
      if (h_) h_.destroy();
      h_ = std::exchange(o.h_, {});
    }
    return *this;
  }
  ~AsyncGenerator() {
    if (h_) h_.destroy();
  }

  struct NextAwaiter {
    handle_type h;
    bool await_ready() const noexcept { return !h || h.done(); }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> caller) noexcept {
      h.promise().value.reset();
      detail::enter_child(h.promise(), caller);
      return detail::transfer_to(h);
    }
    std::optional<T> await_resume() {
      if (!h || h.done()) {
        if (h && h.promise().error) std::rethrow_exception(std::exchange(h.promise().error, {}));
        return std::nullopt;
      }
      return std::move(h.promise().value);
    }
  };

  // The next value, or nullopt when the generator has finished.
  NextAwaiter next() noexcept { return NextAwaiter{h_}; }

 private:
  handle_type h_;
};

}  // namespace eddy
