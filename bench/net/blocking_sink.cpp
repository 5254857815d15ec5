// Bulk benchmark peer and "practical limit": the cheapest possible receiver, one connection
// at a time, a blocking read() loop into a 256 KiB buffer until EOF. No event loop, no
// readiness wait: what a runtime's sink costs on top of this is its overhead.
//
//   blocking_sink --port N [--sink]     (--sink is accepted for CLI parity; it is the only mode)
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
#include <vector>

namespace {
volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) {
  g_stop = 1;
}
}  // namespace

int main(int argc, char** argv) {
  int port = -1;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
    else if (std::strcmp(argv[i], "--sink") != 0)
      port = -1;
  }
  if (port < 0) {
    std::fprintf(stderr, "usage: %s --port N [--sink]\n", argv[0]);
    return 2;
  }
  // No SA_RESTART: SIGTERM must interrupt the blocking accept()/read() so we can exit cleanly.
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);

  int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(lfd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0 || listen(lfd, 128) < 0 ||
      getsockname(lfd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    std::perror("blocking_sink: listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u (sink)\n", unsigned{ntohs(addr.sin_port)});
  std::fflush(stdout);

  std::vector<char> buf(256 * 1024);
  unsigned long long total = 0;
  while (!g_stop) {
    int fd = accept(lfd, nullptr, nullptr);
    if (fd < 0) continue;  // EINTR from SIGTERM: the loop condition ends it
    ssize_t n;
    while (!g_stop && (n = read(fd, buf.data(), buf.size())) > 0)
      total += static_cast<unsigned long long>(n);
    close(fd);  // our close is what tells bulk_send the transfer is complete
  }
  std::printf("received %llu bytes\n", total);
  return 0;
}
