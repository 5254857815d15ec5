// Where a task is blocked, for task dumps and slow-step reports.
//
// Every eddy awaitable factory (sleep, acquire, get, join, ...) takes a defaulted `Where`
// that captures its caller's file and line, and records it on the current task. This costs a
// thread-local read and a store or two, and nothing in the coroutine frame beyond the `Where`
// temporary itself -- unlike a promise `await_transform`, which makes GCC 12 keep a second
// copy of every awaiter in every frame. GCC keeps call-argument temporaries in the frame for
// the whole co_await, so `Where` is one pointer where the compiler offers
// std::source_location (GCC), and file + line otherwise (clang 14 lacks the builtin). That
// layout differs between compilers, so no out-of-line function takes a Where: it is always
// consumed inline, in the caller's translation unit.
#pragma once

#include <version>

#include "eddy/detail/task_base.hpp"

#if defined(__cpp_lib_source_location)
#include <source_location>
#endif

namespace eddy::detail {

#if defined(__cpp_lib_source_location)
struct Where {
  std::source_location loc;
  Where(std::source_location l = std::source_location::current()) noexcept : loc(l) {}
  const char* file() const noexcept { return loc.file_name(); }
  unsigned line() const noexcept { return loc.line(); }
};
#else
struct Where {
  const char* file_;
  unsigned line_;
  Where(const char* f = __builtin_FILE(), unsigned l = __builtin_LINE()) noexcept
      : file_(f), line_(l) {}
  const char* file() const noexcept { return file_; }
  unsigned line() const noexcept { return line_; }
};
#endif

inline void note_where(const Where& w) noexcept {
  if (TaskBase* t = tl_current_task) {
    t->where_file = w.file();
    t->where_line = w.line() < 0xFFFFFFu ? w.line() : 0xFFFFFFu;
  }
}

}  // namespace eddy::detail
