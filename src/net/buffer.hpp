// A growable byte buffer with a read position: received bytes wait here until a reader
// consumes them, queued bytes until the socket takes them. Unlike std::string it never
// zero-fills the space a read() is about to overwrite.
#pragma once

#include <cstddef>
#include <cstring>
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
  std::unique_ptr<char[]> data_;
  std::size_t cap_ = 0;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace eddy::net::detail
