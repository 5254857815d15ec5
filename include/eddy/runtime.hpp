// The event loop's public face: run, spawn, TaskHandle, yield_now, current_task, LoopHandle.
//
//   eddy::Task<int> amain() {
//     auto h = eddy::spawn(worker(), "worker");   // asyncio.create_task
//     co_await eddy::yield_now();                 // asyncio.sleep(0)
//     co_return co_await h;                       // await the task
//   }
//   int main() { return eddy::run(amain()); }     // asyncio.run
//
// `run` makes a loop on this thread, runs the task to completion and returns its value (or
// rethrows). On exit it cancels and awaits every task still running, and reports failures no
// one retrieved. SIGINT (Ctrl-C) cancels the main task, so it unwinds cleanly; `run` then
// throws `eddy::Interrupted`. A second Ctrl-C kills the process the default way.
#pragma once

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/unique_function.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"
#include "eddy/task.hpp"
#include "eddy/time.hpp"

namespace eddy {

// What the loop's exception handler receives (asyncio's loop.call_exception_handler context).
struct ExceptionContext {
  std::string message;
  std::exception_ptr exception;
  std::string task;  // name of the task involved, if any
};

struct RunOptions {
  // Debug mode (asyncio's debug=True): slow-step warnings, pending-at-exit reports and task
  // dumps on SIGUSR1. Unset means "on if the environment has EDDY_DEBUG=1".
  std::optional<bool> debug{};
  // In debug mode, a step of one task holding the loop longer than this is reported.
  std::chrono::milliseconds slow_step{100};
  // Virtual time for tests (see eddy/testing/virtual_clock.hpp).
  bool virtual_clock = false;
  // Run ready tasks in a seeded random order, so tests cannot depend on an accidental order.
  // Unset means "on if the environment has EDDY_SHUFFLE=<seed>".
  std::optional<std::uint64_t> shuffle_seed{};
  // Turn SIGINT into cancellation of the main task (only on the main thread, and only if the
  // program has not installed its own SIGINT handler).
  bool handle_sigint = true;
  // Where warnings and reports go; default: stderr.
  std::function<void(std::string_view)> log{};
  // Called for errors no one can receive (a failed task nobody awaited, ...). Default: log.
  std::function<void(const ExceptionContext&)> exception_handler{};
};

// Thrown by `run` when SIGINT cancelled the main task (Python's KeyboardInterrupt).
class Interrupted : public Error {
 public:
  Interrupted() : Error("interrupted by SIGINT") {}
};

namespace detail {

// Sets outcome and error of a finished task, telling Cancelled apart from failures.
void set_task_error(TaskBase& t, std::exception_ptr e) noexcept;
[[noreturn]] void throw_task_cancelled(const TaskBase& t);

template <class T>
class TaskState final : public TaskBase {
 public:
  using Promise = TaskPromise<T>;
  explicit TaskState(Task<T>&& t) noexcept {
    auto h = t.release();
    root = h;
    resume_point = h;
    leaf = &h.promise();
  }
  ~TaskState() override {
    if (root) root.destroy();
  }
  // Task states need only their own alignment, so the common ones come from the pool's
  // 8-byte classes (88 bytes rather than 96 for TaskState<void>).
  static void* operator new(std::size_t n) {
    return alignof(TaskState) <= 8 ? object_alloc(n) : frame_alloc(n);
  }
  static void operator delete(void* p, std::size_t n) noexcept {
    if (alignof(TaskState) <= 8) {
      object_free(p, n);
    } else {
      frame_free(p, n);
    }
  }

  void finish_root() noexcept override {
    auto h = std::coroutine_handle<Promise>::from_address(root.address());
    if (!h.done()) {
      outcome = TaskOutcome::cancelled;  // destroyed before it could finish
    } else if (std::exception_ptr e = h.promise().exception()) {
      set_task_error(*this, std::move(e));
    } else {
      if constexpr (!std::is_void_v<T>) value.emplace(std::move(std::get<1>(h.promise().result)));
      outcome = TaskOutcome::value;
    }
    h.destroy();
    root = {};
  }

  // The outcome, for whoever awaits or asks: the value (moved or copied), or a rethrow.
  T result(bool move_out) {
    retrieved = true;
    if (outcome_now() == TaskOutcome::error) std::rethrow_exception(error());
    if (outcome_now() == TaskOutcome::cancelled) throw_task_cancelled(*this);
    if (outcome_now() != TaskOutcome::value) throw InvalidStateError("eddy: task has not finished");
    if constexpr (!std::is_void_v<T>) {
      if (move_out) return std::move(*value);
      if constexpr (std::is_copy_constructible_v<T>) {
        return *value;
      } else {
        throw InvalidStateError("eddy: result of a move-only type: await the handle as rvalue");
      }
    }
  }

  struct Empty {};
  [[no_unique_address]] std::conditional_t<std::is_void_v<T>, Empty, std::optional<T>> value;
};

template <class T>
TaskState<T>* make_task_state(Task<T>&& t) {
  if (!t.valid()) throw std::invalid_argument("eddy: spawning an empty Task");
  return new TaskState<T>(std::move(t));
}

template <class F>
concept TaskFactory = std::invocable<F&> && requires(F& f) {
  typename task_value<std::invoke_result_t<F&>>::type;
};

// Runs a callable that returns a Task with the callable stored in the new frame, so a lambda's
// captures live as long as the task, not as long as the temporary lambda object.
template <TaskFactory F>
auto invoke_stored(F f) -> Task<typename task_value<std::invoke_result_t<F&>>::type> {
  co_return co_await f();
}

void add_done_callback(TaskBase& t, std::function<void()> cb);

// Awaiting another task's completion (awaiting a TaskHandle).
class JoinAwaiterBase : public WaitNode {
 public:
  explicit JoinAwaiterBase(TaskBase* t) noexcept : target_(t) {}
  bool await_ready() const noexcept { return target_->done(); }
  bool await_suspend(std::coroutine_handle<> h);

 protected:
  TaskBase* target_;
};

template <class T>
class JoinAwaiter : public JoinAwaiterBase {
 public:
  JoinAwaiter(TaskBase* t, bool move_out) noexcept : JoinAwaiterBase(t), move_out_(move_out) {}
  T await_resume() {
    throw_if_withdrawn();
    return static_cast<TaskState<T>*>(target_)->result(move_out_);
  }

 private:
  bool move_out_;
};

void schedule_yield(TaskBase* t) noexcept;
// suspend_on + schedule for the running task in one step (the hot path of yield_now).
void suspend_and_requeue(TaskBase* t, Waiter* w, std::coroutine_handle<> h) noexcept;

class YieldAwaiter final : public Waiter {
 public:
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    task_ = &current_task_checked();
    if (task_->is_cancelled()) return false;
    suspend_and_requeue(task_, this, h);
    return true;
  }
  void await_resume() const {
    if (task_->is_cancelled()) throw Cancelled{};
  }
  bool withdraw() noexcept override { return false; }  // already queued to run

 private:
  TaskBase* task_ = nullptr;
};

struct Remote;
class LoopRunner;

}  // namespace detail

// An untyped reference to a task (what current_task() returns).
class TaskRef {
 public:
  TaskRef() noexcept = default;
  explicit TaskRef(detail::TaskBase* t) noexcept : t_(t) {
    if (t_) t_->add_ref();
  }
  TaskRef(const TaskRef& o) noexcept : TaskRef(o.t_) {}
  TaskRef(TaskRef&& o) noexcept : t_(std::exchange(o.t_, nullptr)) {}
  TaskRef& operator=(TaskRef o) noexcept {
    std::swap(t_, o.t_);
    return *this;
  }
  ~TaskRef() {
    if (t_) t_->release();
  }

  explicit operator bool() const noexcept { return t_ != nullptr; }
  bool done() const noexcept { return t_->done(); }
  // True if the task finished by cancellation.
  bool cancelled() const noexcept { return t_->outcome == detail::TaskOutcome::cancelled; }
  // Requests cancellation: `Cancelled` is raised at the task's current (or next) await point.
  // A task cancelled before it first ran never runs. Returns false if it had already finished.
  bool cancel() noexcept { return t_->cancel(); }
  std::string name() const { return t_->display_name(); }
  void set_name(std::string name) { t_->extra().name = std::move(name); }
  std::uint32_t id() const { return t_->number(); }
  // The failure of a finished task (null if it succeeded); marks it retrieved. Throws
  // InvalidStateError if it has not finished and TaskCancelled if it was cancelled.
  std::exception_ptr exception() const;
  // Runs `cb` (soon, on the loop) once the task finishes; at once if it already has.
  void add_done_callback(std::function<void()> cb) {
    detail::add_done_callback(*t_, std::move(cb));
  }
  detail::TaskBase* base() const noexcept { return t_; }

 protected:
  struct Adopt {};
  TaskRef(detail::TaskBase* t, Adopt) noexcept : t_(t) {}
  detail::TaskBase* t_ = nullptr;
};

// A spawned task (asyncio.Task). Awaiting it yields its value or rethrows its failure; if the
// task was cancelled, awaiting it throws TaskCancelled (not Cancelled: the awaiter itself was
// not cancelled). Copies share the task.
template <class T = void>
class TaskHandle : public TaskRef {
 public:
  TaskHandle() noexcept = default;
  explicit TaskHandle(detail::TaskState<T>* s) noexcept : TaskRef(s) {}

  // The value of a finished task (copied), or rethrows its failure.
  T result() const { return state()->result(false); }
  // Like result(), moving the value out (for move-only values); the handle keeps no value.
  T take() { return state()->result(true); }

  detail::JoinAwaiter<T> operator co_await() const& noexcept { return {t_, false}; }
  detail::JoinAwaiter<T> operator co_await() && noexcept { return {t_, true}; }

 private:
  detail::TaskState<T>* state() const noexcept { return static_cast<detail::TaskState<T>*>(t_); }
};

// Schedules `task` to run concurrently as a task of its own (asyncio.create_task). If it fails
// and nobody awaits it or asks for its exception, the failure is reported when the last handle
// goes away ("Task exception was never retrieved").
template <class T>
TaskHandle<T> spawn(Task<T> task, std::string_view name = {}) {
  detail::Loop& loop = detail::current_loop_checked();
  auto* s = detail::make_task_state(std::move(task));
  detail::register_task(loop, s, name);
  return TaskHandle<T>(s);
}

// Spawns `factory()` with the factory (a lambda and its captures) kept alive in the task.
template <detail::TaskFactory F>
auto spawn(F factory, std::string_view name = {}) {
  return spawn(detail::invoke_stored(std::move(factory)), name);
}

// Lets every other ready task run once before continuing (asyncio.sleep(0)).
// A cancellation point.
inline detail::YieldAwaiter yield_now(detail::Where w = {}) noexcept {
  detail::note_where(w);
  return {};
}

// The task this code runs in. Throws std::logic_error outside a task.
TaskRef current_task();

// Runs `fn` on this thread's loop soon, after the current step (loop.call_soon).
void call_soon(std::function<void()> fn);

// A thread-safe way in to a loop from other threads. Stays valid after the loop ends;
// submissions then fail instead of crashing.
class LoopHandle {
 public:
  LoopHandle() = default;
  explicit LoopHandle(std::shared_ptr<detail::Remote> r) : remote_(std::move(r)) {}

  // loop.call_soon_threadsafe: false if the loop has closed.
  bool call_soon_threadsafe(detail::UniqueFunction fn) const;

  // asyncio.run_coroutine_threadsafe: runs `task` as a task of the loop; the future gets its
  // value or failure (eddy::Error "loop closed" if the loop ended first).
  template <class T>
  std::future<T> submit(Task<T> task) const {
    auto promise = std::make_shared<std::promise<T>>();
    std::future<T> fut = promise->get_future();
    bool ok = call_soon_threadsafe([t = std::move(task), promise]() mutable {
      spawn(forward_to(std::move(t), promise), "submitted");
    });
    if (!ok) promise->set_exception(std::make_exception_ptr(Error("eddy: loop is closed")));
    return fut;
  }

 private:
  template <class T>
  static Task<> forward_to(Task<T> t, std::shared_ptr<std::promise<T>> p) {
    try {
      if constexpr (std::is_void_v<T>) {
        co_await std::move(t);
        p->set_value();
      } else {
        p->set_value(co_await std::move(t));
      }
    } catch (const Cancelled&) {
      p->set_exception(
          std::make_exception_ptr(TaskCancelled("eddy: submitted task was cancelled")));
      throw;
    } catch (...) {
      p->set_exception(std::current_exception());
    }
  }
  std::shared_ptr<detail::Remote> remote_;
};

LoopHandle loop_handle();

namespace detail {

// Owns the loop for the duration of `run`.
class LoopRunner {
 public:
  explicit LoopRunner(RunOptions options);
  ~LoopRunner();
  LoopRunner(const LoopRunner&) = delete;
  LoopRunner& operator=(const LoopRunner&) = delete;
  // Runs `main` to completion, then cancels and drains every other task. Returns true if
  // SIGINT cancelled `main`.
  bool run_main(TaskBase* main);

 private:
  std::unique_ptr<Loop, void (*)(Loop*)> loop_;
};

}  // namespace detail

template <class T>
T run(Task<T> main, RunOptions options = {}) {
  detail::LoopRunner runner(std::move(options));
  TaskHandle<T> h(detail::make_task_state(std::move(main)));
  bool interrupted = runner.run_main(h.base());
  if (interrupted && h.cancelled()) throw Interrupted();
  return h.take();
}

}  // namespace eddy
