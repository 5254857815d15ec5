// gather, gather_settled, as_completed and wait_any: the asyncio helpers for running several
// awaitables at once, with TaskGroup semantics underneath (nothing is ever left running).
//
//   auto [user, posts] = co_await eddy::gather(fetch_user(1), fetch_posts(1));  // tuple
//   std::vector<Json> pages = co_await eddy::gather(std::move(tasks));          // vector
//   auto outcomes = co_await eddy::gather_settled(std::move(tasks));  // return_exceptions=True
//   auto ac = eddy::as_completed(std::move(tasks));
//   while (auto done = co_await ac.next()) use(done->index, done->outcome.value());
//   auto [index, value] = co_await eddy::wait_any(std::move(tasks));  // first to finish wins
//
// - gather: the first failure cancels the others, waits for them, and is rethrown as itself
//   (not wrapped); later failures are dropped. Unlike asyncio's default, nothing leaks.
// - gather_settled: waits for all; each result is an Outcome holding a value or a failure.
// - as_completed: results in completion order, each with its input index. Dropping it early
//   cancels and destroys the tasks still running; `co_await ac.cancel_rest()` does so
//   gracefully, letting them unwind.
// - wait_any: the first task to finish (value or failure) decides; the rest are cancelled and
//   awaited before it returns or rethrows.
// The void result of a Task<void> appears as std::monostate.
#pragma once

#include <cstddef>
#include <deque>
#include <exception>
#include <optional>
#include <tuple>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "eddy/group.hpp"
#include "eddy/runtime.hpp"
#include "eddy/task.hpp"

namespace eddy {

template <class T>
using value_or_monostate_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;

// A finished task's outcome: a value, a failure, or cancellation.
template <class T>
class Outcome {
 public:
  using value_type = value_or_monostate_t<T>;
  explicit Outcome(value_type v) : v_(std::in_place_index<0>, std::move(v)) {}
  explicit Outcome(std::exception_ptr e) : v_(std::in_place_index<1>, std::move(e)) {}

  bool ok() const noexcept { return v_.index() == 0; }
  // The value, or rethrows the failure.
  value_type& value() & {
    if (!ok()) std::rethrow_exception(std::get<1>(v_));
    return std::get<0>(v_);
  }
  value_type&& value() && { return std::move(value()); }
  std::exception_ptr error() const noexcept { return ok() ? nullptr : std::get<1>(v_); }

 private:
  std::variant<value_type, std::exception_ptr> v_;
};

namespace detail {

template <class T>
value_or_monostate_t<T> take_value(TaskHandle<T>& h) {
  if constexpr (std::is_void_v<T>) {
    h.take();
    return {};
  } else {
    return h.take();
  }
}

template <class T>
Outcome<T> take_outcome(TaskHandle<T>& h) {
  try {
    return Outcome<T>(take_value(h));
  } catch (...) {
    return Outcome<T>(std::current_exception());
  }
}

inline Task<void> join_rethrow_first(TaskGroup& tg) {
  try {
    co_await tg.join();
  } catch (const ExceptionGroup& eg) {
    eg.rethrow_first();
  }
}

}  // namespace detail

template <class... T>
Task<std::tuple<value_or_monostate_t<T>...>> gather(Task<T>... tasks) {
  TaskGroup tg;
  std::tuple<TaskHandle<T>...> handles{tg.spawn(std::move(tasks))...};
  co_await detail::join_rethrow_first(tg);
  co_return std::apply([](auto&... h) { return std::tuple{detail::take_value(h)...}; }, handles);
}

template <class T>
Task<std::vector<value_or_monostate_t<T>>> gather(std::vector<Task<T>> tasks) {
  TaskGroup tg;
  GroupAccess::reserve(tg, tasks.size());
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(tg.spawn(std::move(t)));
  tasks.clear();
  co_await detail::join_rethrow_first(tg);
  std::vector<value_or_monostate_t<T>> out;
  out.reserve(handles.size());
  for (auto& h : handles) out.push_back(detail::take_value(h));
  co_return out;
}

template <class... T>
Task<std::tuple<Outcome<T>...>> gather_settled(Task<T>... tasks) {
  TaskGroup tg = GroupAccess::settled_group();
  std::tuple<TaskHandle<T>...> handles{tg.spawn(std::move(tasks))...};
  co_await tg.join();
  co_return std::apply([](auto&... h) { return std::tuple{detail::take_outcome(h)...}; }, handles);
}

template <class T>
Task<std::vector<Outcome<T>>> gather_settled(std::vector<Task<T>> tasks) {
  TaskGroup tg = GroupAccess::settled_group();
  GroupAccess::reserve(tg, tasks.size());
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(tg.spawn(std::move(t)));
  tasks.clear();
  co_await tg.join();
  std::vector<Outcome<T>> out;
  out.reserve(handles.size());
  for (auto& h : handles) out.push_back(detail::take_outcome(h));
  co_return out;
}

// One result from as_completed: which input it was, and how it ended.
template <class T>
struct Finished {
  std::size_t index;
  Outcome<T> outcome;
};

template <class T>
class AsCompleted : private detail::GroupCore {
 public:
  explicit AsCompleted(std::vector<Task<T>> tasks) {
    detail::Loop& loop = detail::current_loop_checked();
    handles_.reserve(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
      auto* s = detail::make_task_state(std::move(tasks[i]));
      detail::register_task(loop, s, {});
      adopt(s);
      index_.emplace(s, i);
      handles_.emplace_back(s);
    }
  }
  AsCompleted(const AsCompleted&) = delete;
  AsCompleted& operator=(const AsCompleted&) = delete;
  ~AsCompleted() { destroy_children(); }

  class NextAwaiter final : public detail::WaitNode {
   public:
    explicit NextAwaiter(AsCompleted& ac) noexcept : ac_(ac) {}
    bool await_ready() const noexcept { return !ac_.done_.empty() || ac_.live() == 0; }
    bool await_suspend(std::coroutine_handle<> h) { return suspend_in(ac_.waiters_, h); }
    std::optional<Finished<T>> await_resume() {
      throw_if_withdrawn();
      if (ac_.done_.empty()) return std::nullopt;
      std::size_t i = ac_.done_.front();
      ac_.done_.pop_front();
      return Finished<T>{i, detail::take_outcome(ac_.handles_[i])};
    }

   private:
    AsCompleted& ac_;
  };

  // The next task to finish, or nullopt once all have been returned.
  NextAwaiter next(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return NextAwaiter(*this);
  }

  // Cancels the tasks still running and waits for them to unwind (shielded: the wait
  // finishes even if the caller is being cancelled, so nothing outlives this object).
  Task<void> cancel_rest() {
    cancel_children();
    draining_ = true;
    {
      detail::ScopeGuard shielded(TimePoint::max(), true);
      while (live() > 0) co_await NextAwaiter(*this);
    }
    draining_ = false;
    done_.clear();
  }

 private:
  void child_done(detail::TaskBase* t) noexcept override {
    auto it = index_.find(t);
    if (!draining_) done_.push_back(it->second);
    index_.erase(it);
    waiters_.wake_one();
  }

  std::vector<TaskHandle<T>> handles_;
  std::unordered_map<detail::TaskBase*, std::size_t> index_;
  std::deque<std::size_t> done_;
  detail::WaitList waiters_;
  bool draining_ = false;
};

template <class T>
AsCompleted<T> as_completed(std::vector<Task<T>> tasks) {
  return AsCompleted<T>(std::move(tasks));
}

namespace detail {

// Runs children until the first one finishes; cancels the rest and waits for them.
class RaceGroup final : public GroupCore {
 public:
  RaceGroup() = default;
  ~RaceGroup() { destroy_children(); }
  TaskBase* winner() const noexcept { return winner_; }

  template <class T>
  TaskHandle<T> spawn(Task<T> t) {
    auto* s = make_task_state(std::move(t));
    register_task(current_loop_checked(), s, {});
    adopt(s);
    return TaskHandle<T>(s);
  }

  class Awaiter final : public WaitNode {
   public:
    explicit Awaiter(RaceGroup& g) noexcept : g_(g) {}
    bool await_ready() const noexcept { return g_.live() == 0; }
    bool await_suspend(std::coroutine_handle<> h) {
      task = &current_task_checked();
      if (task->is_cancelled()) g_.cancel_children();
      g_.waiters_.push_back(this);
      task->suspend_on(this, h);
      return true;
    }
    void await_resume() const {
      TaskBase* t = task ? task : current_task_or_null();
      if (t && t->is_cancelled()) throw Cancelled{};
    }
    bool withdraw() noexcept override {
      g_.cancel_children();
      return false;
    }

   private:
    RaceGroup& g_;
  };
  Awaiter wait_all() noexcept { return Awaiter(*this); }

 private:
  void child_done(TaskBase* t) noexcept override {
    if (!winner_ && t->outcome != TaskOutcome::cancelled) {
      winner_ = t;
      cancel_children();
    }
    if (live() == 0) waiters_.wake_all();
  }
  TaskBase* winner_ = nullptr;
  WaitList waiters_;
};

template <class T, class... Rest>
inline constexpr bool all_same_v = (std::is_same_v<T, Rest> && ...);

}  // namespace detail

// Races the tasks: returns the index and value of the first to finish, or rethrows its
// failure; the others are cancelled and awaited first.
template <class T>
Task<std::pair<std::size_t, value_or_monostate_t<T>>> wait_any(std::vector<Task<T>> tasks) {
  if (tasks.empty()) throw std::invalid_argument("eddy::wait_any: no tasks");
  detail::RaceGroup g;
  std::vector<TaskHandle<T>> handles;
  handles.reserve(tasks.size());
  for (auto& t : tasks) handles.push_back(g.spawn(std::move(t)));
  co_await g.wait_all();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    if (handles[i].base() == g.winner())
      co_return std::pair<std::size_t, value_or_monostate_t<T>>{i, detail::take_value(handles[i])};
  }
  throw TaskCancelled("eddy::wait_any: every task was cancelled");
}

// Variadic form: the winner's value in a variant whose index says which task won.
template <class... T>
Task<std::variant<value_or_monostate_t<T>...>> wait_any(Task<T>... tasks) {
  using V = std::variant<value_or_monostate_t<T>...>;
  detail::RaceGroup g;
  std::tuple<TaskHandle<T>...> handles{g.spawn(std::move(tasks))...};
  co_await g.wait_all();
  std::optional<V> result;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((std::get<I>(handles).base() == g.winner()
          ? (void)result.emplace(std::in_place_index<I>, detail::take_value(std::get<I>(handles)))
          : void()),
     ...);
  }
  (std::index_sequence_for<T...>{});
  if (!result) throw TaskCancelled("eddy::wait_any: every task was cancelled");
  co_return std::move(*result);
}

}  // namespace eddy
