#include "time/timer_wheel.hpp"

#include <bit>

namespace eddy::detail {

namespace {

int level_for(std::uint64_t elapsed, std::uint64_t when) noexcept {
  std::uint64_t masked = (elapsed ^ when) | 63;
  if (masked > TimerWheel::kMaxTick) masked = TimerWheel::kMaxTick;
  int significant = 63 - std::countl_zero(masked);
  return significant / 6;
}

}  // namespace

void TimerWheel::link(TimerEntry* e) noexcept {
  if (e->when <= elapsed_) {
    e->level = TimerEntry::kExpiredLevel;
    e->prev = nullptr;
    e->next = expired_;
    if (expired_) expired_->prev = e;
    expired_ = e;
    return;
  }
  int level = level_for(elapsed_, e->when);
  int slot = static_cast<int>((e->when >> (level * 6)) & 63);
  e->level = static_cast<unsigned>(level) & 7u;
  e->slot = static_cast<unsigned>(slot) & 63u;
  Slot& s = levels_[level].slots[slot];
  e->prev = nullptr;
  e->next = s.head;
  if (s.head) s.head->prev = e;
  s.head = e;
  levels_[level].occupied |= std::uint64_t{1} << slot;
}

void TimerWheel::unlink(TimerEntry* e) noexcept {
  if (e->prev) {
    e->prev->next = e->next;
  } else if (e->level == TimerEntry::kExpiredLevel) {
    expired_ = e->next;
  } else {
    Slot& s = levels_[e->level].slots[e->slot];
    s.head = e->next;
    if (!s.head) levels_[e->level].occupied &= ~(std::uint64_t{1} << e->slot);
  }
  if (e->next) e->next->prev = e->prev;
  e->prev = e->next = nullptr;
}

void TimerWheel::insert(TimerEntry* e) noexcept {
  if (e->when > elapsed_ + kMaxTick) e->when = elapsed_ + kMaxTick;
  link(e);
  e->armed = true;
  ++count_;
}

void TimerWheel::remove(TimerEntry* e) noexcept {
  if (!e->armed) return;
  unlink(e);
  e->armed = false;
  --count_;
}

std::optional<TimerWheel::Expiry> TimerWheel::next_expiry() const noexcept {
  for (int level = 0; level < kLevels; ++level) {
    std::uint64_t occ = levels_[level].occupied;
    if (!occ) continue;
    // Slots before the current position at this level hold nothing: rotate so the search
    // starts at "now" and wraps.
    int now_slot = static_cast<int>((elapsed_ >> (level * 6)) & 63);
    int zeros = std::countr_zero(std::rotr(occ, now_slot));
    int slot = (zeros + now_slot) & 63;
    std::uint64_t slot_range = std::uint64_t{1} << (level * 6);
    std::uint64_t level_range = slot_range << 6;
    std::uint64_t level_start = elapsed_ & ~(level_range - 1);
    std::uint64_t deadline = level_start + static_cast<std::uint64_t>(slot) * slot_range;
    if (deadline < elapsed_) deadline += level_range;
    return Expiry{level, slot, deadline};
  }
  return std::nullopt;
}

std::optional<std::uint64_t> TimerWheel::next_expiration() const noexcept {
  if (expired_) return elapsed_;
  if (auto e = next_expiry()) return e->deadline;
  return std::nullopt;
}

std::size_t TimerWheel::advance(std::uint64_t now_tick) noexcept {
  std::size_t fired = 0;
  auto fire_list = [&](TimerEntry* list) {
    while (list) {
      TimerEntry* e = list;
      list = e->next;
      e->prev = e->next = nullptr;
      e->armed = false;
      --count_;
      ++fired;
      e->on_timer();
    }
  };
  // Firing may arm new timers (never due before now), so detach lists before firing.
  TimerEntry* due = expired_;
  expired_ = nullptr;
  fire_list(due);
  while (auto exp = next_expiry()) {
    if (exp->deadline > now_tick) break;
    elapsed_ = exp->deadline;
    Slot& s = levels_[exp->level].slots[exp->slot];
    TimerEntry* list = s.head;
    s.head = nullptr;
    levels_[exp->level].occupied &= ~(std::uint64_t{1} << exp->slot);
    TimerEntry* ready = nullptr;
    while (list) {
      TimerEntry* e = list;
      list = e->next;
      if (e->when <= elapsed_) {
        e->next = ready;
        ready = e;
      } else {
        link(e);  // cascade to a lower level
      }
    }
    fire_list(ready);
    if (expired_) {
      TimerEntry* more = expired_;
      expired_ = nullptr;
      fire_list(more);
    }
  }
  if (now_tick > elapsed_) elapsed_ = now_tick;
  return fired;
}

}  // namespace eddy::detail
