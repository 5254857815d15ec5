// Bulk benchmark client (plain Linux, no eddy): one connection to 127.0.0.1:PORT, write
// --bytes (default 4 GiB) as fast as blocking send() allows, half-close, and wait for the
// server to close its side, which it does only after reading everything.
//
//   bulk_send --port P [--bytes N] [--server-pid PID]
//
// The sender is the cheapest possible (one blocking syscall per 256 KiB), so the rate is set
// by the receiving server. Prints RESULT bulk_gbps and, with --server-pid, bulk_sink_cpu:
// the server's utime+stime over the transfer / wall time, in cores.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "proc_stats.hpp"

namespace {

using bench::now_ns;
using bench::proc_cpu_ns;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "bulk_send: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, pid = 0;
  unsigned long long total = 4ULL << 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port")
      port = std::atoi(argv[i + 1]);
    else if (k == "--bytes")
      total = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--server-pid")
      pid = std::atoi(argv[i + 1]);
    else
      port = -1;
  }
  if (port <= 0 || total == 0 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: %s --port P [--bytes N] [--server-pid PID]\n", argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("connect");

  constexpr std::size_t kChunk = 256 * 1024;
  std::vector<char> chunk(kChunk, 'x');
  std::int64_t cpu0 = pid ? proc_cpu_ns(pid) : 0, t0 = now_ns();
  for (unsigned long long left = total; left > 0;) {
    std::size_t want = left < kChunk ? static_cast<std::size_t>(left) : kChunk;
    ssize_t n = send(fd, chunk.data(), want, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) die("send");
    left -= static_cast<unsigned long long>(n);
  }
  // The clock stops at the server's close, not at our last send(): up to a few MiB may still
  // sit in socket buffers, unread.
  if (shutdown(fd, SHUT_WR) < 0) die("shutdown");
  char tail[4096];
  ssize_t r;
  while ((r = recv(fd, tail, sizeof tail, 0)) > 0 || (r < 0 && errno == EINTR)) {
  }
  if (r < 0) die("recv");
  std::int64_t wall = now_ns() - t0;
  std::int64_t cpu1 = pid ? proc_cpu_ns(pid) : 0;
  close(fd);

  std::printf("RESULT bulk_gbps %.3f GB/s\n",
              static_cast<double>(total) / static_cast<double>(wall));
  if (pid && cpu0 >= 0 && cpu1 >= 0)
    std::printf("RESULT bulk_sink_cpu %.2f cores\n",
                static_cast<double>(cpu1 - cpu0) / static_cast<double>(wall));
  std::fprintf(stderr, "bulk_send: %llu bytes in %.2f s\n", total, static_cast<double>(wall) / 1e9);
  return 0;
}
