#include "eddy/debug.hpp"

#include "eddy/cancel.hpp"
#include "runtime/loop.hpp"

namespace eddy {

std::string dump_tasks() {
  return detail::current_loop_checked().dump_tasks();
}

std::optional<TimePoint> current_deadline() {
  detail::TaskBase* t = detail::current_task_or_null();
  if (!t) return std::nullopt;
  TimePoint best = TimePoint::max();
  for (const detail::CancelScopeNode* s = t->scope; s; s = s->parent) {
    if (s->deadline < best) best = s->deadline;
    if (s->shield) break;
  }
  if (best == TimePoint::max()) return std::nullopt;
  return best;
}

}  // namespace eddy
