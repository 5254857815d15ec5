// Pooled allocation for coroutine frames and task states.
//
// Every `Task` coroutine frame and every spawned task's state is allocated here. Blocks come
// from per-thread free lists in 16-byte size classes, carved from 64 KiB chunks, so spawning
// and finishing a task costs a few pointer moves instead of two malloc/free pairs. A block may
// be freed on another thread than the one that allocated it: it simply joins that thread's
// list, because chunks are never returned to the system. Under AddressSanitizer the pool is
// bypassed so that use-after-free in a frame is still caught.
#pragma once

#include <cstddef>

namespace eddy::detail {

void* frame_alloc(std::size_t size);
void frame_free(void* p, std::size_t size) noexcept;

}  // namespace eddy::detail
