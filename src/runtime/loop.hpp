// The event loop (internal). One per thread, created by eddy::run.
//
// Each iteration, as asyncio's _run_once: poll epoll (timeout 0 if work is ready, else until
// the next timer), dispatch readiness, fire due timers, run queued callbacks, then run the
// tasks that were ready when the step began (tasks readied meanwhile wait for the next turn,
// so I/O is never starved). Time is read once per iteration.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/task_base.hpp"
#include "eddy/detail/unique_function.hpp"
#include "eddy/runtime.hpp"
#include "time/timer_wheel.hpp"

namespace eddy::detail {

// The part of a loop other threads may touch: a locked queue and an eventfd to wake it.
struct Remote {
  std::mutex mutex;
  std::vector<UniqueFunction> queue;
  int wake_fd = -1;
  bool closed = false;
  // Set with the queue non-empty: lets a busy loop with no descriptors to watch see remote
  // work without an epoll_wait.
  std::atomic<bool> has_work{false};
};

class SignalHub;

class Loop {
 public:
  explicit Loop(RunOptions options);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  // --- tasks
  // Inline, as every wake-up ends here; only growing the ring is out of line.
  void schedule(TaskBase* t) noexcept {
    if (t->queued) return;
    t->queued = true;
    // A task that never ran stays "created": run_task must know not to start a cancelled one.
    if (t->status != TaskStatus::done && t->status != TaskStatus::created)
      t->status = TaskStatus::ready;
    push_ready(t);
  }
  void push_ready(TaskBase* t) noexcept {  // the ring only; the caller set the flags
    std::size_t mask = ring_.size() - 1;
    if (((tail_ + 1) & mask) == head_) mask = grow_ring();
    ring_[tail_] = t;
    tail_ = (tail_ + 1) & mask;
  }
  void add_task(TaskBase* t, std::string_view name);
  bool run_main(TaskBase* main);
  TaskBase* current() const noexcept { return tl_current_task; }
  std::string dump_tasks() const;
  // Records the outcome of a task whose root finished (or destroys the frame of one that has
  // not), unlinks it everywhere and wakes whoever waits for it.
  void finish_task(TaskBase* t);
  std::size_t live_tasks() const noexcept { return tasks_.size(); }

  // --- time
  // Fresh on every call in real time (a deadline computed from a stale clock could fire
  // early); the loop's own bookkeeping uses the per-iteration cache.
  TimePoint now() noexcept {
    if (!virtual_) now_ = Clock::now();
    return now_;
  }
  std::uint64_t deadline_tick(TimePoint deadline) const noexcept;
  void arm(TimerEntry* e, TimePoint deadline) noexcept;
  void disarm(TimerEntry* e) noexcept { timers_.remove(e); }
  void arm_tick(TimerEntry* e) noexcept { timers_.insert(e); }
  bool virtual_clock() const noexcept { return virtual_; }

  // --- I/O
  void io_add(int fd, IoSource* src, std::uint32_t events, bool user);
  void io_mod(int fd, IoSource* src, std::uint32_t events);
  void io_del(int fd, bool user) noexcept;

  // --- callbacks and other threads
  void call_soon(UniqueFunction fn) { callbacks_.push_back(std::move(fn)); }
  const std::shared_ptr<Remote>& remote() const noexcept { return remote_; }
  // Work running outside the loop (a thread pool call) that will post back: while any is in
  // flight the virtual clock waits for it instead of jumping.
  void external_begin() noexcept { ++external_; }
  void external_end() noexcept { --external_; }

  // --- reporting
  bool debug() const noexcept { return debug_; }
  void log(std::string_view msg) const;
  void report(const ExceptionContext& ctx) const;

  SignalHub& signals();

  // --- per-loop singletons of other subsystems (the default DNS resolver), destroyed with
  // the loop, after its tasks and before its poller.
  struct Service {
    virtual ~Service() = default;
  };
  Service* service(const void* key) const noexcept {
    for (auto& [k, s] : services_)
      if (k == key) return s.get();
    return nullptr;
  }
  void add_service(const void* key, std::unique_ptr<Service> s) {
    services_.emplace_back(key, std::move(s));
  }

 private:
  void run_once();
  void run_ready();
  void run_callbacks();
  void trim();
  void poll(int timeout_ms);
  void drain_remote();
  void run_task(TaskBase* t);
  void shutdown();
  void force_destroy_all() noexcept;
  void update_now() noexcept;
  int poll_timeout_ms() const noexcept;
  std::uint64_t now_tick() const noexcept;

  RunOptions options_;
  bool debug_ = false;
  bool virtual_ = false;
  bool shuffle_ = false;
  std::mt19937_64 rng_;

  // Doubles the full ring, keeping order; returns the new index mask.
  std::size_t grow_ring() noexcept;

  // ready queue: a power-of-two ring of task pointers
  std::vector<TaskBase*> ring_;
  std::size_t head_ = 0, tail_ = 0;
  std::vector<UniqueFunction> callbacks_;
  std::vector<UniqueFunction> running_callbacks_;

  TimerWheel timers_;
  TimePoint origin_;
  TimePoint now_;

  static constexpr std::size_t kPollInterval = 61;
  // While sockets are busy (the last poll brought several events), poll every kIoPollInterval
  // steps instead: a long batch of ready connections would otherwise keep the next arrivals
  // waiting for the whole batch. Measured on the echo benchmark (64 connections), p99 went
  // from ~700 us at 61 steps to ~520 at 16 and ~380 at 4 (Asio's level), for about 1-2% more
  // CPU per message. Pure computation keeps the long interval.
  static constexpr std::size_t kIoPollInterval = 4;
  static constexpr int kBusyIoEvents = 4;
  std::size_t poll_interval_ = kPollInterval;
  std::size_t io_sources_ = 0;     // registered descriptors other than the two below
  std::vector<int> internal_fds_;  // the remote wake-up eventfd and the signal pipe
  std::size_t steps_since_poll_ = 0;

  int epfd_ = -1;
  int user_sources_ = 0;
  std::size_t external_ = 0;
  std::shared_ptr<Remote> remote_;

  std::vector<TaskBase*> tasks_;  // registry of live tasks (TaskBase::reg_index)
  TaskBase* main_ = nullptr;
  std::unique_ptr<SignalHub> signals_;
  std::vector<std::pair<const void*, std::unique_ptr<Service>>> services_;

  friend class WakeSource;
  class WakeSource;
  std::unique_ptr<WakeSource> wake_source_;
};

extern __thread Loop* tl_loop;

}  // namespace eddy::detail
