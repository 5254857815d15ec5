// Hierarchical timing wheel: six levels of 64 slots, level n covering 64^n ms per slot, the
// layout tokio uses. Insert and remove are O(1) (an intrusive list per slot plus a 64-bit
// occupancy mask per level); finding the next expiry scans at most six masks. Entries in
// higher levels cascade down as time reaches their slot. Range: 2^36 ms (about two years);
// later deadlines are clamped and re-inserted when they come into range.
#pragma once

#include <cstdint>
#include <optional>

#include "eddy/detail/timer.hpp"

namespace eddy::detail {

class TimerWheel {
 public:
  static constexpr int kLevels = 6;
  static constexpr std::uint64_t kMaxTick = (std::uint64_t{1} << (6 * kLevels)) - 1;

  void insert(TimerEntry* e) noexcept;
  void remove(TimerEntry* e) noexcept;
  // Earliest tick at which some entry is due, if any.
  std::optional<std::uint64_t> next_expiration() const noexcept;
  // Fires every entry due at or before `now_tick`. Returns how many fired.
  std::size_t advance(std::uint64_t now_tick) noexcept;
  std::uint64_t elapsed() const noexcept { return elapsed_; }
  bool empty() const noexcept { return count_ == 0; }
  std::size_t size() const noexcept { return count_; }

 private:
  struct Slot {
    TimerEntry* head = nullptr;
  };
  struct Level {
    std::uint64_t occupied = 0;
    Slot slots[64];
  };
  struct Expiry {
    int level;
    int slot;
    std::uint64_t deadline;
  };

  std::optional<Expiry> next_expiry() const noexcept;
  void link(TimerEntry* e) noexcept;
  void unlink(TimerEntry* e) noexcept;

  Level levels_[kLevels];
  std::uint64_t elapsed_ = 0;
  std::size_t count_ = 0;
  TimerEntry* expired_ = nullptr;  // armed at or before elapsed_: fire on the next advance
};

}  // namespace eddy::detail
