// The part of TaskGroup the loop talks to: a list of child tasks and a hook run when one
// finishes. TaskGroup, gather, as_completed and wait_any are built on it.
#pragma once

#include <cstddef>
#include <vector>

#include "eddy/detail/task_base.hpp"

namespace eddy::detail {

class GroupCore {
 public:
  GroupCore() = default;
  GroupCore(const GroupCore&) = delete;
  GroupCore& operator=(const GroupCore&) = delete;

  std::size_t live() const noexcept { return children_.size(); }
  // Room for `n` children up front (gather knows how many it will spawn).
  void reserve(std::size_t n) { children_.reserve(n); }
  // Links a freshly spawned task as a child.
  void adopt(TaskBase* t);
  // Called by the loop when child `t` has finished and been unlinked.
  virtual void child_done(TaskBase* t) noexcept = 0;
  void cancel_children() noexcept;
  // Destroys every live child's frame now (the safety net when a group dies unjoined).
  void destroy_children() noexcept;
  void unlink(TaskBase* t) noexcept;

 protected:
  ~GroupCore() = default;
  std::vector<TaskBase*> children_;
};

// Finishes a task whose frame must be destroyed now (defined by the loop).
void force_finish(TaskBase* t) noexcept;

}  // namespace eddy::detail
