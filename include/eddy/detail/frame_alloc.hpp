// Pooled allocation for coroutine frames and task states.
//
// Every `Task` coroutine frame and every spawned task's state is allocated here. Blocks come
// from per-thread free lists in 8-byte size classes, carved from 64 KiB chunks, so spawning
// and finishing a task costs a few pointer moves instead of two malloc/free pairs. A block may
// be freed on another thread than the one that allocated it: it simply joins that thread's
// list, because chunks are never returned to the system. Under AddressSanitizer the pool is
// bypassed so that use-after-free in a frame is still caught.
#pragma once

#include <cstddef>

namespace eddy::detail {

// Blocks aligned for any object (16 bytes): coroutine frames, whose layout the compiler picks.
void* frame_alloc(std::size_t size);
void frame_free(void* p, std::size_t size) noexcept;

// Blocks aligned to 8 bytes, rounded to 8 rather than 16: for objects with alignof <= 8 such
// as task states. A block must be freed with the function matching its allocation.
void* object_alloc(std::size_t size);
void object_free(void* p, std::size_t size) noexcept;

}  // namespace eddy::detail
