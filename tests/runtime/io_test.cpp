// AsyncFd, with pipes and socketpairs. User-visible rules pinned here:
//  - readable() completes once data arrives, whether written by another task or from another
//    thread; EOF (the writer closing) also wakes it;
//  - readiness is edge-triggered but remembered: data that arrived while nobody waited makes
//    the next readable() return at once, so "try the syscall, on EAGAIN wait" never hangs;
//  - writable() completes at once on a fresh socket, waits while its buffer is full, and
//    completes once the peer drains it;
//  - waits are cancellation points: a cancelled wait (timeout, move_on_after, task cancel)
//    leaves nothing registered, and the descriptor can be awaited again;
//  - AsyncFd does not close the descriptor, and 10,000 create/wait/cancel/close cycles leak
//    no file descriptors.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

#include "eddy/cancel.hpp"
#include "eddy/io.hpp"
#include "eddy/runtime.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;

namespace {

// Owns a descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() { close(); }
  void close() {
    if (fd >= 0) ::close(std::exchange(fd, -1));
  }
  operator int() const { return fd; }  // NOLINT: convenient for syscalls
};

std::pair<Fd, Fd> make_pipe() {
  int p[2];
  if (::pipe2(p, O_NONBLOCK | O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category());
  return {Fd(p[0]), Fd(p[1])};
}

std::pair<Fd, Fd> make_socketpair() {
  int s[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) != 0)
    throw std::system_error(errno, std::generic_category());
  return {Fd(s[0]), Fd(s[1])};
}

void write_all(int fd, const std::string& s) {
  ASSERT_EQ(::write(fd, s.data(), s.size()), static_cast<ssize_t>(s.size()));
}

// The documented read pattern: try, and on EAGAIN wait for readability. "" means EOF.
eddy::Task<std::string> read_some(eddy::AsyncFd& afd) {
  char buf[256];
  for (;;) {
    ssize_t n = ::read(afd.fd(), buf, sizeof buf);
    if (n >= 0) co_return std::string(buf, static_cast<std::size_t>(n));
    if (errno != EAGAIN) throw std::system_error(errno, std::generic_category(), "read");
    co_await afd.readable();
  }
}

}  // namespace

// --- readable

EDDY_TEST(AsyncFd, ReadableCompletesWhenAnotherTaskWrites) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  EXPECT_EQ(afd.fd(), r.fd);
  auto t0 = eddy::now();
  auto writer = eddy::spawn([&, wfd = w.fd]() -> eddy::Task<> {
    co_await eddy::sleep(10ms);
    write_all(wfd, "hello");
  });
  EXPECT_EQ(co_await read_some(afd), "hello");
  EXPECT_EQ(eddy::now() - t0, 10ms);
  co_await writer;
}

EDDY_TEST(AsyncFd, ReadableCompletesWhenAnotherThreadWrites) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  // No timer is armed, so the virtual clock waits for the real write.
  std::thread writer([wfd = w.fd] {
    std::this_thread::sleep_for(20ms);
    write_all(wfd, "from a thread");
  });
  std::string got = co_await read_some(afd);
  writer.join();
  EXPECT_EQ(got, "from a thread");
}

EDDY_TEST(AsyncFd, EdgeThatArrivedWhileNobodyWaitedIsRemembered) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  co_await eddy::sleep(1ms);
  write_all(w, "x");
  co_await eddy::sleep(5ms);  // the loop sees the edge; nobody waits for it yet
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, afd.readable()));
  EXPECT_EQ(eddy::now(), t0);
  char c;
  EXPECT_EQ(::read(r, &c, 1), 1);
}

EDDY_TEST(AsyncFd, DataPresentBeforeRegistrationCounts) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  write_all(w, "early");
  eddy::AsyncFd afd(r);
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, afd.readable()));
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(AsyncFd, ConsumedEdgeIsNotReportedTwice) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  write_all(w, "a");
  co_await afd.readable();
  char buf[8];
  EXPECT_EQ(::read(r, buf, sizeof buf), 1);                          // drained
  EXPECT_FALSE(co_await eddy::move_on_after(10ms, afd.readable()));  // no new data, no wake-up
}

EDDY_TEST(AsyncFd, EofWakesReadable) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  auto t0 = eddy::now();
  auto closer = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(7ms);
    w.close();
  });
  EXPECT_EQ(co_await read_some(afd), "");  // read() returned 0: end of file
  EXPECT_EQ(eddy::now() - t0, 7ms);
  co_await closer;
}

EDDY_TEST(AsyncFd, PeerShutdownWakesReadableOnASocket) {
  auto ab = make_socketpair();
  Fd& a = ab.first;
  Fd& b = ab.second;
  eddy::AsyncFd afd(a);
  auto closer = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(3ms);
    ::shutdown(b, SHUT_WR);
  });
  EXPECT_EQ(co_await read_some(afd), "");
  co_await closer;
}

// --- writable

EDDY_TEST(AsyncFd, WritableWaitsWhileTheSocketBufferIsFull) {
  auto ab = make_socketpair();
  Fd& a = ab.first;
  Fd& b = ab.second;
  eddy::AsyncFd afd(a);
  auto t0 = eddy::now();
  co_await afd.writable();  // a fresh socket is writable
  EXPECT_EQ(eddy::now(), t0);

  std::string chunk(4096, 'z');
  std::size_t sent = 0;
  for (;;) {
    ssize_t n = ::write(a, chunk.data(), chunk.size());
    if (n < 0) break;
    sent += static_cast<std::size_t>(n);
  }
  EXPECT_EQ(errno, EAGAIN);
  EDDY_CO_ASSERT(sent > 0);

  std::size_t drained = 0;
  auto reader = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(10ms);
    char buf[65536];
    for (ssize_t n; (n = ::read(b, buf, sizeof buf)) > 0;) drained += static_cast<std::size_t>(n);
  });
  co_await afd.writable();
  EXPECT_EQ(eddy::now() - t0, 10ms);  // not before the peer made room
  EXPECT_GT(::write(a, chunk.data(), chunk.size()), 0);
  co_await reader;
  EXPECT_EQ(drained, sent);
}

EDDY_TEST(AsyncFd, ReadAndWriteWaitsAreIndependent) {
  auto ab = make_socketpair();
  Fd& a = ab.first;
  Fd& b = ab.second;
  eddy::AsyncFd afd(a);
  co_await afd.writable();  // consume the initial edge
  auto reader =
      eddy::spawn([&]() -> eddy::Task<std::string> { co_return co_await read_some(afd); });
  co_await eddy::sleep(2ms);
  EXPECT_FALSE(reader.done());
  write_all(b, "ping");
  EXPECT_EQ(co_await reader, "ping");
}

// --- cancellation

EDDY_TEST(AsyncFdCancel, TimedOutWaitCanBeRepeated) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  auto t0 = eddy::now();
  EXPECT_FALSE(co_await eddy::move_on_after(10ms, afd.readable()));
  EXPECT_THROW(co_await eddy::timeout(10ms, afd.readable()), eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 20ms);
  auto writer = eddy::spawn([&]() -> eddy::Task<> {
    co_await eddy::sleep(5ms);
    write_all(w, "late");
  });
  EXPECT_EQ(co_await read_some(afd), "late");  // the descriptor still works
  EXPECT_EQ(eddy::now() - t0, 25ms);
  co_await writer;
}

EDDY_TEST(AsyncFdCancel, CancelledWaiterIsNotWokenAndOthersAre) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  bool victim_resumed_normally = false;
  auto victim = eddy::spawn([&]() -> eddy::Task<> {
    co_await afd.readable();
    victim_resumed_normally = true;
  });
  auto other = eddy::spawn([&]() -> eddy::Task<> { co_await afd.readable(); });
  co_await eddy::sleep(1ms);
  victim.cancel();
  EXPECT_THROW(co_await victim, eddy::TaskCancelled);
  write_all(w, "data");
  co_await eddy::timeout(1s, other);
  EXPECT_FALSE(victim_resumed_normally);
}

EDDY_TEST(AsyncFdCancel, EdgeAfterACancelledWaitIsKeptForTheNextWait) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  EXPECT_FALSE(co_await eddy::move_on_after(5ms, afd.readable()));
  write_all(w, "x");
  co_await eddy::sleep(5ms);  // the edge arrives with nobody waiting: remembered, not lost
  auto t0 = eddy::now();
  EXPECT_TRUE(co_await eddy::move_on_after(1s, afd.readable()));
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(AsyncFd, DoesNotCloseTheDescriptor) {
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  { eddy::AsyncFd afd(r); }
  EXPECT_NE(::fcntl(r, F_GETFD), -1);
  write_all(w, "still open");
  char buf[16];
  EXPECT_EQ(::read(r, buf, sizeof buf), 10);
  co_return;
}

EDDY_TEST(AsyncFd, DescriptorsCanBeRegisteredAgainAfterCloseAndReuse) {
  for (int i = 0; i < 3; ++i) {
    auto rw = make_pipe();
    Fd& r = rw.first;
    Fd& w = rw.second;  // same numbers each time once the last pair is closed
    eddy::AsyncFd afd(r);
    write_all(w, "n");
    EXPECT_EQ(co_await read_some(afd), "n");
  }
}

EDDY_TEST(AsyncFdCancel, TenThousandCancelledWaitsLeakNoDescriptors) {
  std::size_t before = eddy_test::open_fd_count();
  int timed_out = 0;
  for (int i = 0; i < 10000; ++i) {
    auto rw = make_pipe();  // both ends stay open (and are counted) during the wait
    Fd& r = rw.first;
    eddy::AsyncFd afd(r);
    if (!co_await eddy::move_on_after(1ms, afd.readable())) ++timed_out;
  }  // AsyncFd first, then the pipe ends
  EXPECT_EQ(timed_out, 10000);
  EXPECT_EQ(eddy_test::open_fd_count(), before);
  // The loop is still healthy: a fresh descriptor works.
  auto rw = make_pipe();
  Fd& r = rw.first;
  Fd& w = rw.second;
  eddy::AsyncFd afd(r);
  write_all(w, "ok");
  EXPECT_EQ(co_await read_some(afd), "ok");
}
