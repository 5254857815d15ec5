// See include/eddy/detail/frame_alloc.hpp for what the pool is for.
#include "eddy/detail/frame_alloc.hpp"

#include <sys/mman.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
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

// Huge pages halve the cost of spawning a million tasks (fewer faults, far fewer TLB misses)
// when the kernel has them free. But with THP defrag at "madvise" or "always" (Debian's
// default is "madvise") a madvised fault that finds none compacts memory synchronously:
// measured here, a cold spawn of 1M tasks then took 400 instead of 60 ns per task. So the
// first touch of each huge chunk is timed, and once one stalls (the kernel had to compact),
// the pool stops asking and takes small pages, pre-faulted in one call. EDDY_THP=0 never
// asks; EDDY_THP=1 always does.
std::atomic<int> g_thp{-1};  // -1 not yet decided, 0 off, 1 on, 2 on and never turned off

int thp_policy() {
  int v = g_thp.load(std::memory_order_relaxed);
  if (v >= 0) return v;
  const char* env = std::getenv("EDDY_THP");
  v = env ? (*env == '1' ? 2 : 0) : 1;
  g_thp.store(v, std::memory_order_relaxed);
  return v;
}

void* small_page_chunk() {
  void* p = ::mmap(nullptr, kHugeChunk, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

void* huge_chunk() {
  int policy = thp_policy();
  if (policy == 0) return small_page_chunk();
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
  // Fault it in now, where it can be timed: zeroing 2 MiB takes a few hundred microseconds,
  // compacting memory for it takes milliseconds.
  auto t0 = std::chrono::steady_clock::now();
  *reinterpret_cast<volatile char*>(aligned) = 0;
  if (policy == 1 && std::chrono::steady_clock::now() - t0 > std::chrono::milliseconds(1))
    g_thp.store(0, std::memory_order_relaxed);
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
