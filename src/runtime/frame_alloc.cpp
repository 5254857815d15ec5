// See include/eddy/detail/frame_alloc.hpp for what the pool is for.
#include "eddy/detail/frame_alloc.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <new>
#include <string_view>
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

void* frame_alloc(std::size_t size) {
  return ::operator new(size);
}
void frame_free(void* p, std::size_t) noexcept {
  ::operator delete(p);
}
void* object_alloc(std::size_t size) {
  return ::operator new(size);
}
void object_free(void* p, std::size_t) noexcept {
  ::operator delete(p);
}

#else

namespace {

constexpr std::size_t kGranule = 8;
constexpr std::size_t kMaxPooled = 1024;
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr std::size_t kChunk = 64 * 1024;
// After this many small chunks a thread is clearly running many tasks: switch to 2 MiB
// chunks backed by transparent huge pages, which cuts page faults (a third of the cost of
// spawning a million tasks) by 512x. Small programs never get there and stay small.
constexpr std::size_t kSmallChunks = 16;
constexpr std::size_t kHugeChunk = 2 * 1024 * 1024;

struct FreeBlock {
  FreeBlock* next;
};

// Trivially constructible so that thread_local access needs no guard.
struct ThreadPool {
  FreeBlock* free[kClasses];
  char* bump;
  char* bump_end;
  std::size_t chunks;
};
thread_local ThreadPool tl_pool;

// Chunks stay reachable from here so leak checkers do not report pooled memory.
std::mutex g_chunks_mutex;
std::vector<void*>* g_chunks;

// Huge pages halve the cost of spawning a million tasks when the kernel has them free, but
// with THP defrag set to "madvise" or "always" (Debian's default is "madvise") a madvised
// fault that finds none compacts memory synchronously: measured here, a cold spawn of 1M
// tasks went from 107 to 400 ns per task. So ask for huge pages only where the kernel will
// not stall for them ("defer", "never"); EDDY_THP=1 or 0 overrides.
bool want_huge_pages() {
  if (const char* env = std::getenv("EDDY_THP")) return *env == '1';
  std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/defrag", "r");
  if (!f) return false;
  char buf[128] = {};
  std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  std::string_view mode(buf, n);
  return mode.find("[defer]") != std::string_view::npos || mode.find("[never]") != std::string_view::npos;
}

void* huge_chunk() {
  static const bool wanted = want_huge_pages();
  if (!wanted) return nullptr;
  // Over-map, then trim to a 2 MiB-aligned range so the kernel can back it with one page.
  void* raw =
      ::mmap(nullptr, 2 * kHugeChunk, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  auto base = reinterpret_cast<std::uintptr_t>(raw);
  auto aligned = (base + kHugeChunk - 1) & ~(kHugeChunk - 1);
  if (aligned > base) ::munmap(raw, aligned - base);
  std::uintptr_t end = base + 2 * kHugeChunk;
  if (end > aligned + kHugeChunk)
    ::munmap(reinterpret_cast<void*>(aligned + kHugeChunk), end - aligned - kHugeChunk);
  ::madvise(reinterpret_cast<void*>(aligned), kHugeChunk, MADV_HUGEPAGE);
  return reinterpret_cast<void*>(aligned);
}

char* new_chunk(std::size_t& size, std::size_t index) {
  void* c = nullptr;
  size = kChunk;
  if (index >= kSmallChunks) {
    c = huge_chunk();
    if (c) size = kHugeChunk;
  }
  if (!c) c = std::malloc(kChunk);
  if (!c) throw std::bad_alloc();
  std::lock_guard lock(g_chunks_mutex);
  if (!g_chunks) g_chunks = new std::vector<void*>();
  g_chunks->push_back(c);
  return static_cast<char*>(c);
}

// Blocks of `rounded` bytes (a multiple of 8). The bump pointer stays 16-aligned: a class
// that is an odd multiple of 8 is carved two blocks at a time, the second going to the free
// list, so the blocks of 16-multiple classes (all frames) are always 16-aligned.
void* pool_alloc(std::size_t rounded) {
  std::size_t cls = rounded / kGranule - 1;
  ThreadPool& p = tl_pool;
  if (FreeBlock* b = p.free[cls]) {
    p.free[cls] = b->next;
    return b;
  }
  bool pair = rounded % 16 != 0;
  std::size_t carve = pair ? 2 * rounded : rounded;
  if (static_cast<std::size_t>(p.bump_end - p.bump) < carve) {
    std::size_t size = 0;
    p.bump = new_chunk(size, p.chunks++);
    p.bump_end = p.bump + size;
  }
  char* r = p.bump;
  p.bump += carve;
  if (pair) {
    auto* second = reinterpret_cast<FreeBlock*>(r + rounded);
    second->next = nullptr;
    p.free[cls] = second;
  }
  return r;
}

void pool_free(void* ptr, std::size_t rounded) noexcept {
  std::size_t cls = rounded / kGranule - 1;
  ThreadPool& p = tl_pool;
  auto* b = static_cast<FreeBlock*>(ptr);
  b->next = p.free[cls];
  p.free[cls] = b;
}

}  // namespace

void* frame_alloc(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  return pool_alloc((size + 15) & ~std::size_t{15});
}

void frame_free(void* ptr, std::size_t size) noexcept {
  if (!ptr) return;
  if (size == 0 || size > kMaxPooled) {
    ::operator delete(ptr);
    return;
  }
  pool_free(ptr, (size + 15) & ~std::size_t{15});
}

void* object_alloc(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  return pool_alloc((size + 7) & ~std::size_t{7});
}

void object_free(void* ptr, std::size_t size) noexcept {
  if (!ptr) return;
  if (size == 0 || size > kMaxPooled) {
    ::operator delete(ptr);
    return;
  }
  pool_free(ptr, (size + 7) & ~std::size_t{7});
}

#endif

}  // namespace eddy::detail
