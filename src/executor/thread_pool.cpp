#include "eddy/executor.hpp"
#include "runtime/loop.hpp"

namespace eddy {

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { worker(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::post(detail::UniqueFunction job) {
  {
    std::lock_guard lock(mutex_);
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
}

void ThreadPool::worker() {
  for (;;) {
    detail::UniqueFunction job;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job();
  }
}

ThreadPool& default_thread_pool() {
  static ThreadPool pool;
  return pool;
}

namespace detail {
void external_begin() noexcept {
  current_loop_checked().external_begin();
}
void external_end() noexcept {
  if (Loop* l = current_loop()) l->external_end();
}
}  // namespace detail

}  // namespace eddy
