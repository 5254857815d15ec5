// TLS bulk benchmark client (blocking OpenSSL 3, no eddy): bulk_send.cpp over TLS 1.3. One
// connection to 127.0.0.1:PORT, a full handshake, --bytes (default 1 GiB) of SSL_write in
// 256 KiB chunks, then close_notify + half-close, and wait for the server to close its side,
// which it does only after reading everything.
//
//   tls_bulk_send --port P [--bytes N] [--server-pid PID] [--ca FILE]
//
// Verification is off unless --ca is given: the benchmark is the record layer, not the PKI.
// Prints RESULT tls_bulk_gbps (plaintext GB/s) and, with --server-pid, tls_bulk_sink_cpu:
// the server's utime+stime over the transfer / wall time, in cores (decryption included).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
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
  std::fprintf(stderr, "tls_bulk_send: %s: %s\n", what, errno ? std::strerror(errno) : "");
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, pid = 0;
  unsigned long long total = 1ULL << 30;
  const char* ca = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port")
      port = std::atoi(argv[i + 1]);
    else if (k == "--bytes")
      total = std::strtoull(argv[i + 1], nullptr, 10);
    else if (k == "--server-pid")
      pid = std::atoi(argv[i + 1]);
    else if (k == "--ca")
      ca = argv[i + 1];
    else
      port = -1;
  }
  if (port <= 0 || total == 0 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: %s --port P [--bytes N] [--server-pid PID] [--ca FILE]\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx || !SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION)) die("SSL_CTX_new");
  if (ca && (SSL_CTX_load_verify_locations(ctx, ca, nullptr) != 1)) die("--ca");
  SSL_CTX_set_verify(ctx, ca ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);

  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("connect");
  SSL* ssl = SSL_new(ctx);
  if (!ssl || SSL_set_fd(ssl, fd) != 1 || (ca && SSL_set1_host(ssl, "127.0.0.1") != 1))
    die("SSL_new");
  if (SSL_connect(ssl) != 1) die("handshake");

  // The clock starts after the handshake: this workload is the record layer only.
  constexpr std::size_t kChunk = 256 * 1024;
  std::vector<char> chunk(kChunk, 'x');
  std::int64_t cpu0 = pid ? proc_cpu_ns(pid) : 0, t0 = now_ns();
  for (unsigned long long left = total; left > 0;) {
    std::size_t want = left < kChunk ? static_cast<std::size_t>(left) : kChunk, n = 0;
    // Blocking and without SSL_MODE_ENABLE_PARTIAL_WRITE, so this writes all of `want`.
    if (SSL_write_ex(ssl, chunk.data(), want, &n) != 1) die("SSL_write");
    left -= n;
  }
  // close_notify tells the server "EOF" at the TLS level, SHUT_WR at the TCP level; the clock
  // stops at the server's close, when it has read (and decrypted) everything.
  SSL_shutdown(ssl);
  if (shutdown(fd, SHUT_WR) < 0) die("shutdown");
  char tail[4096];
  ssize_t r;  // raw reads: the server's close_notify is not checked, only its FIN
  while ((r = recv(fd, tail, sizeof tail, 0)) > 0 || (r < 0 && errno == EINTR)) {
  }
  if (r < 0) die("recv");
  std::int64_t wall = now_ns() - t0;
  std::int64_t cpu1 = pid ? proc_cpu_ns(pid) : 0;
  std::fprintf(stderr, "tls_bulk_send: %llu bytes in %.2f s, %s %s\n", total,
               static_cast<double>(wall) / 1e9, SSL_get_version(ssl), SSL_get_cipher_name(ssl));
  SSL_free(ssl);
  SSL_CTX_free(ctx);
  close(fd);

  std::printf("RESULT tls_bulk_gbps %.3f GB/s\n",
              static_cast<double>(total) / static_cast<double>(wall));
  if (pid && cpu0 >= 0 && cpu1 >= 0)
    std::printf("RESULT tls_bulk_sink_cpu %.2f cores\n",
                static_cast<double>(cpu1 - cpu0) / static_cast<double>(wall));
  return 0;
}
