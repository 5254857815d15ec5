// Names a coroutine from its frame, for task dumps.
#pragma once

#include <string>

namespace eddy::detail {

// The demangled name of the function whose coroutine frame starts at `frame`, or its address
// and object file offset (for addr2line) when the symbol is not in the dynamic table (link
// with -rdynamic to get names).
std::string coroutine_name(void* frame);

}  // namespace eddy::detail
