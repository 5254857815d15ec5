// Queue, PriorityQueue and LifoQueue (asyncio's), for producer/consumer pipelines.
//
//   eddy::Queue<Job> q(100);             // bounded: put() waits while 100 are queued
//   co_await q.put(job);                 // producer
//   Job j = co_await q.get();            // consumer
//   q.task_done();  co_await q.join();   // wait until every item put was processed
//   q.shutdown();                        // put() and (once drained) get() throw QueueShutDown
//
// Items are handed over directly: a put() with a consumer waiting gives the item to that
// consumer, and a get() that frees a slot moves the longest-waiting producer's item in. So
// waiters are served strictly first come, first served, and cancellation loses nothing: a
// cancelled get() either took no item or returns the one it was given; a cancelled put()
// either put its item or did not. maxsize 0 means unbounded.
#pragma once

#include <algorithm>
#include <coroutine>
#include <cstddef>
#include <deque>
#include <functional>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

#include "eddy/detail/task_base.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/detail/where.hpp"
#include "eddy/error.hpp"

namespace eddy {

// put() on a shut-down queue, or get() on one that is shut down and empty (Python 3.13).
class QueueShutDown : public Error {
 public:
  QueueShutDown() : Error("eddy: queue is shut down") {}
};

namespace detail {

template <class T>
struct FifoBuffer {
  std::deque<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.front());
    items.pop_front();
    return v;
  }
  std::size_t size() const noexcept { return items.size(); }
  void clear() noexcept { items.clear(); }
};

template <class T>
struct LifoBuffer {
  std::vector<T> items;
  void push(T&& v) { items.push_back(std::move(v)); }
  T pop() {
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return items.size(); }
  void clear() noexcept { items.clear(); }
};

// Smallest first, as Python's heapq-based PriorityQueue.
template <class T, class Compare>
struct PriorityBuffer {
  std::vector<T> items;
  [[no_unique_address]] Compare less;
  auto greater() const {
    return [this](const T& a, const T& b) { return less(b, a); };
  }
  void push(T&& v) {
    items.push_back(std::move(v));
    std::push_heap(items.begin(), items.end(), greater());
  }
  T pop() {
    std::pop_heap(items.begin(), items.end(), greater());
    T v = std::move(items.back());
    items.pop_back();
    return v;
  }
  std::size_t size() const noexcept { return items.size(); }
  void clear() noexcept { items.clear(); }
};

inline bool refuse_if_cancelled(WaitNode& n) {
  n.task = &current_task_checked();
  if (n.task->is_cancelled()) {
    n.state = WaitNode::State::withdrawn;
    return true;
  }
  return false;
}

inline bool current_cancelled() noexcept {
  TaskBase* t = current_task_or_null();
  return t && t->is_cancelled();
}

}  // namespace detail

template <class T, class Buffer>
class BasicQueue {
 public:
  explicit BasicQueue(std::size_t maxsize = 0) : maxsize_(maxsize) {}
  BasicQueue(const BasicQueue&) = delete;
  BasicQueue& operator=(const BasicQueue&) = delete;

  class GetAwaiter final : public detail::WaitNode {
   public:
    explicit GetAwaiter(BasicQueue& q) noexcept : q_(q) {}
    bool await_ready() {
      if (detail::current_cancelled()) return false;
      if (q_.buf_.size() > 0) {
        item_.emplace(q_.take());
        return true;
      }
      return false;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (detail::refuse_if_cancelled(*this)) return false;
      if (q_.shutdown_) return false;  // await_resume throws
      q_.getters_.push_back(this);
      task->suspend_on(this, h);
      return true;
    }
    T await_resume() {
      throw_if_withdrawn();
      if (!item_) throw QueueShutDown();
      return std::move(*item_);
    }

   private:
    friend class BasicQueue;
    BasicQueue& q_;
    std::optional<T> item_;
  };

  class PutAwaiter final : public detail::WaitNode {
   public:
    PutAwaiter(BasicQueue& q, T item) : q_(q), item_(std::move(item)) {}
    bool await_ready() {
      if (detail::current_cancelled()) return false;
      if (q_.shutdown_) return false;
      return q_.offer(item_);
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (detail::refuse_if_cancelled(*this)) return false;
      if (q_.shutdown_) {
        shut_ = true;
        return false;
      }
      if (q_.offer(item_)) return false;  // room appeared (first come, first served)
      q_.putters_.push_back(this);
      task->suspend_on(this, h);
      return true;
    }
    void await_resume() const {
      throw_if_withdrawn();
      if (shut_) throw QueueShutDown();
    }

   private:
    friend class BasicQueue;
    BasicQueue& q_;
    std::optional<T> item_;
    bool shut_ = false;
  };

  // Waits for an item. A cancellation point.
  GetAwaiter get(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return GetAwaiter(*this);
  }
  // Waits for room (bounded queues), then enqueues. A cancellation point.
  PutAwaiter put(T item, detail::Where w = {}) {
    detail::note_where(w);
    return PutAwaiter(*this, std::move(item));
  }

  // Never waits: false if the queue is full. Throws QueueShutDown after shutdown().
  bool try_put(T item) {
    if (shutdown_) throw QueueShutDown();
    std::optional<T> slot(std::move(item));
    return offer(slot);
  }
  // Never waits: nullopt if empty (or shut down and drained).
  std::optional<T> try_get() {
    if (buf_.size() == 0) return std::nullopt;
    return take();
  }

  // A consumer finished processing an item it got (asyncio's task_done).
  void task_done() {
    if (unfinished_ == 0) throw std::logic_error("eddy::Queue::task_done called too many times");
    if (--unfinished_ == 0) joiners_.wake_all();
  }

  class JoinAwaiter final : public detail::WaitNode {
   public:
    explicit JoinAwaiter(BasicQueue& q) noexcept : q_(q) {}
    bool await_ready() const noexcept {
      return q_.unfinished_ == 0 && !detail::current_cancelled();
    }
    bool await_suspend(std::coroutine_handle<> h) {
      if (q_.unfinished_ == 0 && !detail::current_cancelled()) return false;
      return suspend_in(q_.joiners_, h);
    }
    void await_resume() const { throw_if_withdrawn(); }

   private:
    BasicQueue& q_;
  };
  // Waits until every item put has been marked task_done(). A cancellation point.
  JoinAwaiter join(detail::Where w = {}) noexcept {
    detail::note_where(w);
    return JoinAwaiter(*this);
  }

  // Stops the queue (Python 3.13): put() throws QueueShutDown from now on, and so does get()
  // once the queue is empty; blocked producers and consumers are woken to see it. With
  // `immediate`, queued items are discarded (and counted as done for join()).
  void shutdown(bool immediate = false) {
    shutdown_ = true;
    if (immediate) {
      std::size_t n = buf_.size();
      buf_.clear();
      unfinished_ -= std::min(unfinished_, n);
      if (unfinished_ == 0) joiners_.wake_all();
    }
    while (auto* n = putters_.pop_front()) {
      auto* p = static_cast<PutAwaiter*>(n);
      p->shut_ = true;
      p->state = detail::WaitNode::State::woken;
      p->task->wake();
    }
    getters_.wake_all();  // they find no item and throw QueueShutDown
  }

  std::size_t size() const noexcept { return buf_.size(); }
  bool empty() const noexcept { return buf_.size() == 0; }
  bool full() const noexcept { return maxsize_ != 0 && buf_.size() >= maxsize_; }
  std::size_t maxsize() const noexcept { return maxsize_; }
  bool is_shutdown() const noexcept { return shutdown_; }

 private:
  // Places the item (handing it to a waiting getter first). False if there is no room.
  bool offer(std::optional<T>& item) {
    if (auto* n = getters_.pop_front()) {
      auto* g = static_cast<GetAwaiter*>(n);
      g->item_.emplace(std::move(*item));
      g->state = detail::WaitNode::State::woken;
      g->task->wake();
      ++unfinished_;
      return true;
    }
    if (full()) return false;
    buf_.push(std::move(*item));
    ++unfinished_;
    return true;
  }

  // Removes the next item; refills from the longest-waiting producer.
  T take() {
    T v = buf_.pop();
    if (auto* n = putters_.pop_front()) {
      auto* p = static_cast<PutAwaiter*>(n);
      buf_.push(std::move(*p->item_));
      ++unfinished_;
      p->state = detail::WaitNode::State::woken;
      p->task->wake();
    }
    return v;
  }

  Buffer buf_;
  std::size_t maxsize_;
  std::size_t unfinished_ = 0;
  bool shutdown_ = false;
  detail::WaitList getters_;
  detail::WaitList putters_;
  detail::WaitList joiners_;
};

template <class T>
using Queue = BasicQueue<T, detail::FifoBuffer<T>>;
template <class T>
using LifoQueue = BasicQueue<T, detail::LifoBuffer<T>>;
template <class T, class Compare = std::less<T>>
using PriorityQueue = BasicQueue<T, detail::PriorityBuffer<T, Compare>>;

}  // namespace eddy
