// A growable byte buffer with a read position: received bytes wait here until a reader
// consumes them, queued bytes until the socket takes them. Unlike std::string it never
// zero-fills the space a read() is about to overwrite.
#pragma once

#include <cstddef>
#include <cstring>
#include <iterator>
#include <memory>
#include <span>
#include <string_view>

namespace eddy::net::detail {

class ByteBuffer {
 public:
  std::string_view view() const noexcept { return {data_.get() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }

  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ >= end_) begin_ = end_ = 0;
  }
  void clear() noexcept { begin_ = end_ = 0; }

  // Free space at the end, at least `min` bytes (compacting or growing as needed).
  std::span<char> prepare(std::size_t min) {
    if (cap_ - end_ >= min) return {data_.get() + end_, cap_ - end_};
    if (!data_ && min <= kPooled) {  // an empty buffer takes a block from the thread's pool
      data_ = take_pooled();
      cap_ = kPooled;
      return {data_.get(), cap_};
    }
    std::size_t used = size();
    if (begin_ > 0 && cap_ - used >= min && used <= cap_ / 2) {
      std::memmove(data_.get(), data_.get() + begin_, used);
    } else {
      std::size_t cap = cap_ ? cap_ : 4096;
      while (cap - used < min) cap *= 2;
      auto bigger = std::make_unique_for_overwrite<char[]>(cap);
      if (used) std::memcpy(bigger.get(), data_.get() + begin_, used);
      data_ = std::move(bigger);
      cap_ = cap;
    }
    begin_ = 0;
    end_ = used;
    return {data_.get() + end_, cap_ - end_};
  }
  void commit(std::size_t n) noexcept { end_ += n; }

  void append(std::string_view s) {
    if (s.empty()) return;
    auto space = prepare(s.size());
    std::memcpy(space.data(), s.data(), s.size());
    commit(s.size());
  }
  std::size_t capacity() const noexcept { return cap_; }
  // An empty buffer gives its memory back (to the thread's pool when it is the usual size),
  // so an idle connection holds no buffer: 10,000 idle WebSockets cost no 16 KiB each.
  void release() noexcept {
    if (!empty() || !data_) return;
    if (cap_ == kPooled) give_pooled(std::move(data_));
    data_.reset();
    cap_ = begin_ = end_ = 0;
  }
  static constexpr std::size_t kPooled = 16 * 1024;

  // Gives the memory back after a burst, when little is buffered.
  void shrink(std::size_t keep) {
    if (cap_ <= keep || size() > keep / 2) return;
    if (empty()) {
      data_.reset();
      cap_ = begin_ = end_ = 0;
      return;
    }
    auto smaller = std::make_unique_for_overwrite<char[]>(keep);
    std::size_t used = size();
    std::memcpy(smaller.get(), data_.get() + begin_, used);
    data_ = std::move(smaller);
    cap_ = keep;
    begin_ = 0;
    end_ = used;
  }

 private:
  // A few free blocks per thread, so releasing and taking a buffer around every wait costs
  // a pointer move instead of malloc and free. Plain `__thread` data (no TLS wrapper call on
  // each access, which a thread_local with a destructor needs); the blocks are freed when the
  // thread exits, by a reaper registered with the first block pooled. After that the pool is
  // closed, so a buffer released later in the thread's teardown (a thread_local destroyed
  // after the reaper) frees itself instead of waiting in a pool nobody empties.
  struct Pool {
    char* blocks[64];
    unsigned count;
    bool reaper;
    bool closed;
  };
  static std::unique_ptr<char[]> take_pooled() {
    Pool& p = tl_pool;
    if (p.count == 0) return std::make_unique_for_overwrite<char[]>(kPooled);
    return std::unique_ptr<char[]>(p.blocks[--p.count]);
  }
  static void give_pooled(std::unique_ptr<char[]> b) noexcept {
    Pool& p = tl_pool;
    if (p.count == std::size(p.blocks) || p.closed) return;
    if (!p.reaper) register_reaper();
    p.blocks[p.count++] = b.release();
  }
  static void register_reaper() noexcept;
  static __thread Pool tl_pool;

  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace eddy::net::detail
