// See loop.hpp for the shape of an iteration.
#include "runtime/loop.hpp"

#include <fmt/format.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "eddy/detail/group_core.hpp"
#include "runtime/signal_hub.hpp"
#include "runtime/symbolize.hpp"

namespace eddy::detail {

__thread Loop* tl_loop = nullptr;

namespace {

std::string where_of(const TaskBase* t, const char* otherwise) {
  if (!t->where_file) return otherwise;
  return fmt::format("{}:{}", t->where_file, unsigned{t->where_line});
}

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && *v && std::strcmp(v, "0") != 0;
}

}  // namespace

// Drains the eventfd that other threads write to after queueing work for this loop.
class Loop::WakeSource final : public IoSource {
 public:
  explicit WakeSource(Loop& l) : loop_(l) {}
  void on_io(std::uint32_t) noexcept override {
    std::uint64_t n;
    while (::read(loop_.remote_->wake_fd, &n, sizeof n) > 0) {
    }
    pending = true;
  }
  bool pending = false;

 private:
  Loop& loop_;
};

Loop::Loop(RunOptions options) : options_(std::move(options)) {
  if (tl_loop) throw std::logic_error("eddy: a loop is already running on this thread");
  debug_ = options_.debug.value_or(env_flag("EDDY_DEBUG"));
  virtual_ = options_.virtual_clock;
  std::optional<std::uint64_t> seed = options_.shuffle_seed;
  if (!seed) {
    if (const char* s = std::getenv("EDDY_SHUFFLE"); s && *s) seed = std::strtoull(s, nullptr, 10);
  }
  if (seed) {
    shuffle_ = true;
    rng_.seed(*seed);
  }
  ring_.resize(1024);
  origin_ = Clock::now();
  now_ = origin_;

  epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd_ < 0) throw_errno("epoll_create1");
  remote_ = std::make_shared<Remote>();
  remote_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (remote_->wake_fd < 0) {
    ::close(epfd_);
    throw_errno("eventfd");
  }
  wake_source_ = std::make_unique<WakeSource>(*this);
  tl_loop = this;
  io_add(remote_->wake_fd, wake_source_.get(), EPOLLIN | EPOLLET, false);
}

Loop::~Loop() {
  force_destroy_all();
  while (!services_.empty()) services_.pop_back();
  signals_.reset();
  {
    std::lock_guard lock(remote_->mutex);
    remote_->closed = true;
    remote_->queue.clear();
  }
  io_del(remote_->wake_fd, false);
  ::close(remote_->wake_fd);
  ::close(epfd_);
  tl_loop = nullptr;
}

SignalHub& Loop::signals() {
  if (!signals_) signals_ = std::make_unique<SignalHub>(*this);
  return *signals_;
}

// --- time

void Loop::update_now() noexcept {
  if (!virtual_) now_ = Clock::now();
}

std::uint64_t Loop::now_tick() const noexcept {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(now_ - origin_).count());
}

std::uint64_t Loop::deadline_tick(TimePoint deadline) const noexcept {
  if (deadline <= origin_) return 0;
  auto since = deadline - origin_;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(since).count();
  if (ms < 0 || static_cast<std::uint64_t>(ms) > TimerEntry::kMaxWhen) return TimerEntry::kMaxWhen;
  return static_cast<std::uint64_t>(ms);
}

void Loop::arm(TimerEntry* e, TimePoint deadline) noexcept {
  e->when = deadline_tick(deadline);
  timers_.insert(e);
}

int Loop::poll_timeout_ms() const noexcept {
  if (head_ != tail_ || !callbacks_.empty() || virtual_) return 0;
  auto next = timers_.next_expiration();
  if (!next) return -1;
  TimePoint due = origin_ + std::chrono::milliseconds(*next);
  if (due <= now_) return 0;
  auto ms = std::chrono::ceil<std::chrono::milliseconds>(due - now_).count();
  return static_cast<int>(std::min<long long>(ms, 24LL * 3600 * 1000));
}

// --- I/O

void Loop::io_add(int fd, IoSource* src, std::uint32_t events, bool user) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = src;
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) throw_errno("epoll_ctl(ADD)");
  if (user) ++user_sources_;
  if (src == wake_source_.get() || src == static_cast<IoSource*>(signals_.get())) {
    internal_fds_.push_back(fd);
  } else {
    ++io_sources_;
  }
}

void Loop::io_mod(int fd, IoSource* src, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = src;
  if (::epoll_ctl(epfd_, EPOLL_CTL_MOD, fd, &ev) < 0) throw_errno("epoll_ctl(MOD)");
}

void Loop::io_del(int fd, bool user) noexcept {
  ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  if (user) --user_sources_;
  if (auto it = std::find(internal_fds_.begin(), internal_fds_.end(), fd);
      it != internal_fds_.end()) {
    internal_fds_.erase(it);
  } else {
    --io_sources_;
  }
}

void Loop::poll(int timeout_ms) {
  epoll_event events[256];
  int n = ::epoll_wait(epfd_, events, 256, timeout_ms);
  if (n < 0) {
    if (errno == EINTR) return;
    throw_errno("epoll_wait");
  }
  for (int i = 0; i < n; ++i) static_cast<IoSource*>(events[i].data.ptr)->on_io(events[i].events);
  poll_interval_ = n >= kBusyIoEvents ? kIoPollInterval : kPollInterval;
  if (wake_source_->pending) {
    wake_source_->pending = false;
    drain_remote();
  }
}

void Loop::drain_remote() {
  std::vector<UniqueFunction> batch;
  {
    std::lock_guard lock(remote_->mutex);
    batch.swap(remote_->queue);
    remote_->has_work.store(false, std::memory_order_relaxed);
  }
  for (auto& f : batch) callbacks_.push_back(std::move(f));
}

// --- tasks

std::size_t Loop::grow_ring() noexcept {
  std::size_t mask = ring_.size() - 1;
  std::vector<TaskBase*> bigger(ring_.size() * 2);
  std::size_t n = 0;
  for (std::size_t i = head_; i != tail_; i = (i + 1) & mask) bigger[n++] = ring_[i];
  ring_.swap(bigger);
  head_ = 0;
  tail_ = n;
  return ring_.size() - 1;
}

// After a burst (a million tasks spawned at once), give back the ready ring's and the
// registry's peak memory once they are mostly empty, instead of holding it for good.
void Loop::trim() {
  constexpr std::size_t kKeep = 4096;
  std::size_t mask = ring_.size() - 1;
  std::size_t queued = (tail_ - head_) & mask;
  if (ring_.size() > kKeep && queued < ring_.size() / 8) {
    std::size_t cap = kKeep;
    while (cap < queued * 4) cap *= 2;
    std::vector<TaskBase*> smaller(cap);
    for (std::size_t i = 0; i < queued; ++i) smaller[i] = ring_[(head_ + i) & mask];
    ring_.swap(smaller);
    head_ = 0;
    tail_ = queued;
  }
  if (tasks_.capacity() > kKeep && tasks_.size() < tasks_.capacity() / 8) tasks_.shrink_to_fit();
}

void Loop::add_task(TaskBase* t, std::string_view name) {
  if (!name.empty()) t->extra().name = std::string(name);
  t->reg_index = static_cast<std::uint32_t>(tasks_.size());
  tasks_.push_back(t);
  schedule(t);
}

void Loop::run_task(TaskBase* t) {
  t->queued = false;
  if (t->status == TaskStatus::done) {  // finished while queued; the queue held the last ref
    t->release();
    return;
  }
  if (t->status == TaskStatus::created && t->is_cancelled()) {  // cancelled before it ran
    finish_task(t);
    return;
  }
  t->waiting_on = nullptr;
  t->status = TaskStatus::running;
  tl_current_task = t;
  tl_transfers = 0;
  if (!debug_) {
    t->resume_point.resume();
  } else {
    std::string from = where_of(t, "its start");
    auto start = Clock::now();
    t->resume_point.resume();
    auto took = Clock::now() - start;
    if (took > options_.slow_step) {
      std::string to = t->root.done() ? std::string("its end") : where_of(t, "an await");
      log(fmt::format(
          "eddy: slow step: task '{}' held the loop for {} ms (resumed at {}, ran until {}); "
          "move blocking work to eddy::to_thread",
          t->display_name(), std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
          from, to));
    }
  }
  tl_current_task = nullptr;
  if (t->root.done()) {
    finish_task(t);
  } else if (t->status == TaskStatus::running) {
    t->status = TaskStatus::suspended;  // suspended on an awaitable that is not eddy's
  }
}

void Loop::finish_task(TaskBase* t) {
  t->finish_root();
  t->status = TaskStatus::done;
  t->waiting_on = nullptr;
  TaskBase* last = tasks_.back();
  tasks_[t->reg_index] = last;
  last->reg_index = t->reg_index;
  tasks_.pop_back();
  if (GroupCore* g = t->group) {
    g->unlink(t);
    g->child_done(t);
  }
  if (t->extras) {
    t->extras->joiners.wake_all();
    for (auto& cb : t->extras->callbacks) call_soon(std::move(cb));
    t->extras->callbacks.clear();
  }
  if (!t->queued) t->release();  // else run_task releases it when it comes off the queue
}

void force_finish(TaskBase* t) noexcept {
  // Finishing destroys the frame, running destructors of whatever the task was awaiting,
  // which unlink themselves from timers, wait lists and the poller.
  TaskBase* saved = tl_current_task;
  tl_current_task = nullptr;
  tl_loop->finish_task(t);
  tl_current_task = saved;
}

void Loop::force_destroy_all() noexcept {
  while (!tasks_.empty()) force_finish(tasks_.back());
  while (head_ != tail_) {
    TaskBase* t = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    t->queued = false;
    if (t->status == TaskStatus::done) t->release();
  }
}

void Loop::run_once() {
  // Polling costs a syscall and reading the clock a vDSO call; with tasks ready, do both only
  // every kPollInterval task steps (tokio's event_interval), so a busy loop still sees I/O and
  // timers promptly while a yield costs no syscall.
  bool idle = head_ == tail_ && callbacks_.empty();
  if (!idle && steps_since_poll_ < poll_interval_) {
    run_callbacks();
    run_ready();
    return;
  }
  steps_since_poll_ = 0;
  trim();
  if (!idle && io_sources_ == 0) {
    // Busy, and no descriptor is registered that could have become ready: only other threads
    // can have sent work, and they raise a flag. Skipping the epoll_wait saves a syscall
    // every interval in compute-bound programs (a third of the cost of a yield).
    if (remote_->has_work.load(std::memory_order_acquire)) drain_remote();
    if (signals_ && SignalHub::take_delivered()) signals_->on_io(EPOLLIN);
  } else {
    poll(poll_timeout_ms());
  }
  update_now();
  if (virtual_ && head_ == tail_ && callbacks_.empty()) {
    bool outside_input = user_sources_ > 0 || (signals_ && signals_->has_waiters());
    auto next = timers_.next_expiration();
    if (external_ > 0 || (!next && outside_input)) {
      poll(1000);  // real work is in flight elsewhere: wait for it, do not jump time
    } else if (next) {
      TimePoint due = origin_ + std::chrono::milliseconds(*next);
      if (due > now_) now_ = due;
    } else if (tasks_.size() > 0) {
      throw std::logic_error(
          "eddy: deadlock: every task is waiting and no timer, I/O or thread can wake them\n" +
          dump_tasks());
    }
  }
  timers_.advance(now_tick());
  run_callbacks();
  run_ready();
}

void Loop::run_callbacks() {
  if (callbacks_.empty()) return;
  running_callbacks_.swap(callbacks_);
  for (auto& cb : running_callbacks_) {
    try {
      cb();
    } catch (...) {
      report({fmt::format("exception in callback: {}", describe(std::current_exception())),
              std::current_exception(),
              {}});
    }
  }
  running_callbacks_.clear();
}

void Loop::run_ready() {
  std::size_t mask = ring_.size() - 1;
  std::size_t n = (tail_ - head_) & mask;
  if (shuffle_ && n > 1) {
    for (std::size_t i = n - 1; i > 0; --i) {
      std::size_t j = std::uniform_int_distribution<std::size_t>(0, i)(rng_);
      std::swap(ring_[(head_ + i) & mask], ring_[(head_ + j) & mask]);
    }
  }
  // At most what is left of the poll interval, so the next poll is never more than one
  // interval away; the rest stay queued, in order, ahead of whatever the poll wakes.
  std::size_t budget = poll_interval_ > steps_since_poll_ ? poll_interval_ - steps_since_poll_ : 1;
  n = std::min(n, budget);
  for (std::size_t i = 0; i < n; ++i) {
    TaskBase* t = ring_[head_];
    head_ = (head_ + 1) & (ring_.size() - 1);
    run_task(t);
  }
  steps_since_poll_ += n;
}

bool Loop::run_main(TaskBase* main) {
  main_ = main;
  add_task(main, "main");
  bool sigint = false;
  if (options_.handle_sigint) sigint = signals().install_sigint(main);
  if (debug_) signals().install_dump_signal();
  while (!main->done()) run_once();
  shutdown();
  return sigint && signals().interrupted();
}

void Loop::shutdown() {
  if (tasks_.size() == 0) return;
  if (debug_) {
    for (TaskBase* t : tasks_)
      log(fmt::format(
          "eddy: task '{}' was still pending when the main task finished; cancelling it",
          t->display_name()));
  }
  for (std::size_t i = 0; i < tasks_.size(); ++i) tasks_[i]->cancel();
  while (tasks_.size() > 0) run_once();
}

std::string Loop::dump_tasks() const {
  std::string out = fmt::format("eddy: {} live task(s)\n", tasks_.size());
  for (TaskBase* t : tasks_) {
    const char* st = "suspended";
    switch (t->status) {
      case TaskStatus::created:
        st = "not started";
        break;
      case TaskStatus::ready:
        st = "ready";
        break;
      case TaskStatus::running:
        st = "running";
        break;
      case TaskStatus::suspended:
        st = "suspended";
        break;
      case TaskStatus::done:
        st = "done";
        break;
    }
    out += fmt::format("  task '{}' (#{}): {}{}\n", t->display_name(), t->number(), st,
                       t->is_cancelled() ? ", cancelling" : "");
    if (t->status != TaskStatus::suspended && t->status != TaskStatus::ready) continue;
    if (t->where_file)
      out += fmt::format("    blocked at {}:{}\n", t->where_file, unsigned{t->where_line});
    // Innermost coroutine first, then each one awaiting it, up to the task's root.
    out += fmt::format("    in {}\n", coroutine_name(t->resume_point.address()));
    for (const PromiseBase* p = t->leaf; p && p->caller; p = p->parent())
      out += fmt::format("    awaited by {}\n", coroutine_name(p->continuation().address()));
  }
  return out;
}

void Loop::log(std::string_view msg) const {
  if (options_.log) {
    options_.log(msg);
  } else {
    std::fprintf(stderr, "%.*s\n", static_cast<int>(msg.size()), msg.data());
  }
}

void Loop::report(const ExceptionContext& ctx) const {
  if (options_.exception_handler) {
    options_.exception_handler(ctx);
  } else {
    log("eddy: " + ctx.message);
  }
}

// --- free functions the headers use

Loop* current_loop() noexcept {
  return tl_loop;
}

Loop& current_loop_checked() {
  if (!tl_loop) throw std::logic_error("eddy: no running loop on this thread (use eddy::run)");
  return *tl_loop;
}

void register_task(Loop& loop, TaskBase* t, std::string_view name) {
  loop.add_task(t, name);
}

__thread unsigned tl_transfers = 0;

namespace {
// The wait of a bounced transfer: it cannot be withdrawn (the task is already queued), so a
// cancellation lands at the task's next await.
struct BounceWaiter final : Waiter {
  bool withdraw() noexcept override { return false; }
};
BounceWaiter g_bounce;
}  // namespace

std::coroutine_handle<> bounce_through_loop(std::coroutine_handle<> next) noexcept {
  tl_transfers = 0;
  TaskBase* t = tl_current_task;
  if (!t || !tl_loop) return next;
  t->suspend_on(&g_bounce, next);
  tl_loop->schedule(t);
  return std::noop_coroutine();
}

void suspend_and_requeue(TaskBase* t, Waiter* w, std::coroutine_handle<> h) noexcept {
  t->waiting_on = w;
  t->resume_point = h;
  if (t->queued) {  // woken while it ran: already in the queue
    t->status = TaskStatus::ready;
    return;
  }
  // Straight from running to ready: one update of the flag word instead of three.
  t->status = TaskStatus::ready;
  t->queued = true;
  tl_loop->push_ready(t);
}

void schedule_yield(TaskBase* t) noexcept {
  tl_loop->schedule(t);
}

void timer_arm(TimerEntry* e, TimePoint deadline) {
  current_loop_checked().arm(e, deadline);
}
std::uint64_t timer_tick_for(TimePoint deadline) {
  Loop& l = current_loop_checked();
  return deadline <= l.now() ? 0 : l.deadline_tick(deadline);
}
void timer_arm_at_tick(TimerEntry* e) {
  current_loop_checked().arm_tick(e);
}
void timer_disarm(TimerEntry* e) noexcept {
  if (e->armed && tl_loop) tl_loop->disarm(e);
}

void io_register(int fd, IoSource* src, std::uint32_t events, bool user) {
  current_loop_checked().io_add(fd, src, events, user);
}
void io_modify(int fd, IoSource* src, std::uint32_t events) {
  current_loop_checked().io_mod(fd, src, events);
}
void io_deregister(int fd, bool user) noexcept {
  if (tl_loop) tl_loop->io_del(fd, user);
}

LoopRunner::LoopRunner(RunOptions options)
    : loop_(new Loop(std::move(options)), [](Loop* l) { delete l; }) {}
LoopRunner::~LoopRunner() = default;
bool LoopRunner::run_main(TaskBase* main) {
  return loop_->run_main(main);
}

}  // namespace eddy::detail

namespace eddy {

TimePoint now() {
  return detail::current_loop_checked().now();
}

TaskRef current_task() {
  return TaskRef(&detail::current_task_checked());
}

void call_soon(std::function<void()> fn) {
  detail::current_loop_checked().call_soon(std::move(fn));
}

LoopHandle loop_handle() {
  return LoopHandle(detail::current_loop_checked().remote());
}

bool LoopHandle::call_soon_threadsafe(detail::UniqueFunction fn) const {
  if (!remote_) return false;
  bool was_empty;
  {
    std::lock_guard lock(remote_->mutex);
    if (remote_->closed) return false;
    was_empty = remote_->queue.empty();
    remote_->queue.push_back(std::move(fn));
    remote_->has_work.store(true, std::memory_order_release);
    if (was_empty) {
      std::uint64_t one = 1;
      // Written under the lock so the loop cannot close the eventfd in between.
      [[maybe_unused]] auto r = ::write(remote_->wake_fd, &one, sizeof one);
    }
  }
  return true;
}

}  // namespace eddy
