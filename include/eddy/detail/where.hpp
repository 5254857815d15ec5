// Where a task is blocked, for task dumps and slow-step reports.
//
// Every eddy awaitable factory (sleep, acquire, get, join, ...) takes a defaulted `Where`
// that captures its caller's file and line, and records it on the current task. This costs a
// thread-local read and two stores, and nothing in the coroutine frame -- unlike a promise
// `await_transform`, which makes GCC 12 keep a second copy of every awaiter in every frame.
#pragma once

#include "eddy/detail/task_base.hpp"

namespace eddy::detail {

struct Where {
  const char* file;
  unsigned line;
  Where(const char* f = __builtin_FILE(), unsigned l = __builtin_LINE()) noexcept
      : file(f), line(l) {}
};

inline void note_where(const Where& w) noexcept {
  if (TaskBase* t = tl_current_task) {
    t->where_file = w.file;
    t->where_line = w.line;
  }
}

}  // namespace eddy::detail
