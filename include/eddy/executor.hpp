// Offloading blocking or CPU-heavy work to threads: to_thread, run_in, ThreadPool.
//
//   long r = co_await eddy::to_thread([] { return fib(35); });   // the loop keeps serving
//
// There is no GIL: pool threads run truly in parallel. The default pool has one thread per
// core. Cancelling the awaiting task resumes it at once with Cancelled; the thread still
// finishes the call (C++ cannot stop it) and its result is dropped. Exceptions thrown by the
// function are rethrown in the awaiting task.
#pragma once

#include <atomic>
#include <condition_variable>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/unique_function.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"
#include "eddy/runtime.hpp"

namespace eddy {

class ThreadPool {
 public:
  // 0 means one thread per core.
  explicit ThreadPool(std::size_t threads = 0);
  ~ThreadPool();  // finishes queued work, then joins
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  void post(detail::UniqueFunction job);
  std::size_t size() const noexcept { return threads_.size(); }

 private:
  void worker();
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<detail::UniqueFunction> jobs_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

ThreadPool& default_thread_pool();

namespace detail {

void external_begin() noexcept;
void external_end() noexcept;

template <class R>
struct ThreadJob {
  std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> value;
  std::exception_ptr error;
  Waiter* awaiter = nullptr;  // loop thread only; null once the awaiter is gone
  TaskBase* task = nullptr;
};

template <class F, class R = std::invoke_result_t<F&>>
class ThreadCall final : public Waiter {
 public:
  ThreadCall(ThreadPool& pool, F fn) : pool_(&pool), fn_(std::move(fn)) {}
  ThreadCall(ThreadCall&& o) noexcept : Waiter(), pool_(o.pool_), fn_(std::move(o.fn_)) {}
  ~ThreadCall() {
    if (job_) job_->awaiter = nullptr;
  }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    TaskBase* t = &current_task_checked();
    if (t->is_cancelled()) {
      withdrawn_ = true;
      return false;
    }
    job_ = std::make_shared<ThreadJob<R>>();
    job_->awaiter = this;
    job_->task = t;
    LoopHandle loop = loop_handle();
    external_begin();
    pool_->post([job = job_, fn = std::move(*fn_), loop]() mutable {
      try {
        if constexpr (std::is_void_v<R>) {
          fn();
          job->value.emplace(true);
        } else {
          job->value.emplace(fn());
        }
      } catch (...) {
        job->error = std::current_exception();
      }
      // Back on the loop thread: wake the task unless it stopped waiting.
      loop.call_soon_threadsafe([job] {
        external_end();
        if (job->awaiter) job->task->wake();
      });
    });
    t->suspend_on(this, h);
    return true;
  }
  R await_resume() {
    if (withdrawn_) throw Cancelled{};
    auto job = std::move(job_);
    job->awaiter = nullptr;
    if (job->error) std::rethrow_exception(job->error);
    if constexpr (!std::is_void_v<R>) return std::move(*job->value);
  }
  bool withdraw() noexcept override {
    job_->awaiter = nullptr;  // the result will be dropped
    job_.reset();
    withdrawn_ = true;
    return true;
  }

 private:
  ThreadPool* pool_;
  std::optional<F> fn_;
  std::shared_ptr<ThreadJob<R>> job_;
  bool withdrawn_ = false;
};

}  // namespace detail

// Runs fn() on `pool` and awaits its result. A cancellation point.
template <class F>
detail::ThreadCall<std::decay_t<F>> run_in(ThreadPool& pool, F&& fn, detail::Where w = {}) {
  detail::note_where(w);
  return detail::ThreadCall<std::decay_t<F>>(pool, std::forward<F>(fn));
}

// Runs fn() on the default thread pool (asyncio.to_thread / run_in_executor).
template <class F>
detail::ThreadCall<std::decay_t<F>> to_thread(F&& fn, detail::Where w = {}) {
  return run_in(default_thread_pool(), std::forward<F>(fn), w);
}

// asyncio's to_thread(func, *args): the arguments are copied (decayed) and passed to fn on
// the thread. Prefer this to a capturing lambda written inside the co_await expression:
// GCC 12 miscompiles capturing-lambda temporaries in a co_await operand (the captures are
// bitwise-copied, so a captured std::string frees a bad pointer). See docs/ARCHITECTURE.md.
template <class F, class A, class... Args>
auto to_thread(F&& fn, A&& a, Args&&... args) {
  auto call = [fn = std::forward<F>(fn),
               tup = std::make_tuple(std::forward<A>(a), std::forward<Args>(args)...)]() mutable {
    return std::apply(fn, std::move(tup));
  };
  return run_in(default_thread_pool(), std::move(call));
}

}  // namespace eddy
