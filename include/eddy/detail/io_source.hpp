// Something registered with the loop's readiness poller (epoll, edge-triggered).
//
// `on_io` runs while the loop dispatches poller events, before any task runs; it must only
// record readiness and wake tasks, never run user code, so no source can be destroyed while
// the current batch of events still refers to it.
#pragma once

#include <cstdint>

namespace eddy::detail {

class IoSource {
 public:
  virtual void on_io(std::uint32_t events) noexcept = 0;

 protected:
  ~IoSource() = default;
};

// Register/modify/remove `fd` with the current thread's loop. `user` marks a source that can
// wake a task on outside input; the virtual clock will not jump time while one is registered
// and no timer is armed (it waits for the real event instead of declaring a deadlock).
void io_register(int fd, IoSource* src, std::uint32_t events, bool user = true);
void io_modify(int fd, IoSource* src, std::uint32_t events);
void io_deregister(int fd, bool user = true) noexcept;

}  // namespace eddy::detail
