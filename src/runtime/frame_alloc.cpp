// See include/eddy/detail/frame_alloc.hpp for what the pool is for.
#include "eddy/detail/frame_alloc.hpp"

#include <cstdlib>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define EDDY_NO_FRAME_POOL 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define EDDY_NO_FRAME_POOL 1
#endif
#endif

namespace eddy::detail {

#ifdef EDDY_NO_FRAME_POOL

void* frame_alloc(std::size_t size) { return ::operator new(size); }
void frame_free(void* p, std::size_t) noexcept { ::operator delete(p); }

#else

namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr std::size_t kChunk = 64 * 1024;

struct FreeBlock {
  FreeBlock* next;
};

// Trivially constructible so that thread_local access needs no guard.
struct ThreadPool {
  FreeBlock* free[kClasses];
  char* bump;
  char* bump_end;
};
thread_local ThreadPool tl_pool;

// Chunks stay reachable from here so leak checkers do not report pooled memory.
std::mutex g_chunks_mutex;
std::vector<void*>* g_chunks;

char* new_chunk() {
  void* c = std::malloc(kChunk);
  if (!c) throw std::bad_alloc();
  std::lock_guard lock(g_chunks_mutex);
  if (!g_chunks) g_chunks = new std::vector<void*>();
  g_chunks->push_back(c);
  return static_cast<char*>(c);
}

}  // namespace

void* frame_alloc(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  std::size_t cls = (size - 1) / kGranule;
  ThreadPool& p = tl_pool;
  if (FreeBlock* b = p.free[cls]) {
    p.free[cls] = b->next;
    return b;
  }
  std::size_t rounded = (cls + 1) * kGranule;
  if (static_cast<std::size_t>(p.bump_end - p.bump) < rounded) {
    p.bump = new_chunk();
    p.bump_end = p.bump + kChunk;
  }
  void* r = p.bump;
  p.bump += rounded;
  return r;
}

void frame_free(void* ptr, std::size_t size) noexcept {
  if (!ptr) return;
  if (size == 0 || size > kMaxPooled) {
    ::operator delete(ptr);
    return;
  }
  std::size_t cls = (size - 1) / kGranule;
  ThreadPool& p = tl_pool;
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p.free[cls];
  p.free[cls] = b;
}

#endif

}  // namespace eddy::detail
