// TLS handshake benchmark client (OpenSSL 3, no eddy). Keeps --connections (default 4)
// connections to 127.0.0.1:PORT in flight, each: connect, full TLS 1.3 handshake (no session
// resumption), close_notify, wait for the server's close, close; then a fresh one. Runs for
// --seconds (default 5) or --max handshakes, after --warmup untimed ones.
//
//   tls_handshakes --port P [--seconds S] [--max N] [--connections C] [--server-pid PID]
//                  [--ca FILE] [--groups LIST]
//
// Prints RESULT tls_handshakes (completed connections/s) and, with --server-pid, tls_hs_cpu:
// the server's utime+stime per handshake, in us. The client's own work per handshake (an
// ECDSA verify, certificate parsing, the key exchange) is more than the server's (an ECDSA
// sign, the key exchange), so with a CPU each the client may be the limit on handshakes/s;
// tls_hs_cpu is the server's cost whatever the rate. The client never parses the server's
// session tickets (it drains the socket raw after its close_notify), which keeps it cheap.
// Verification is off unless --ca is given (then chain + 127.0.0.1 are checked); a failed
// handshake is reported on stderr and makes the exit status 1.
//
// Non-blocking sockets + poll(), one thread: a few connections in flight keep the server busy
// while the client works on another, without a thread per connection.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
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
  std::fprintf(stderr, "tls_handshakes: %s: %s\n", what, errno ? std::strerror(errno) : "");
  ERR_print_errors_fp(stderr);
  std::exit(1);
}

std::int64_t own_cpu_ns() {
  rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](timeval t) { return t.tv_sec * 1'000'000'000LL + t.tv_usec * 1000LL; };
  return ns(ru.ru_utime) + ns(ru.ru_stime);
}

enum class Phase { idle, connecting, handshaking, draining };

struct Conn {
  int fd = -1;
  SSL* ssl = nullptr;
  Phase phase = Phase::idle;
  short events = 0;  // what poll() should wait for
};

SSL_CTX* g_ctx;
bool g_verify = false;  // --ca given: check the chain and that the certificate is for 127.0.0.1
sockaddr_in g_addr;
bool g_verbose_done = false;
long g_failed = 0;  // handshakes or closes that went wrong (the first 3 are printed)

void finish(Conn& c) {
  SSL_free(c.ssl);
  close(c.fd);
  c = Conn{};
}

void start(Conn& c) {
  c.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c.fd < 0) die("socket");
  int one = 1;
  setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (!(c.ssl = SSL_new(g_ctx)) || SSL_set_fd(c.ssl, c.fd) != 1 ||
      (g_verify && SSL_set1_host(c.ssl, "127.0.0.1") != 1))
    die("SSL_new");
  SSL_set_connect_state(c.ssl);
  if (connect(c.fd, reinterpret_cast<sockaddr*>(&g_addr), sizeof g_addr) == 0) {
    c.phase = Phase::handshaking;
    c.events = POLLOUT;  // step() at once
  } else if (errno == EINPROGRESS) {
    c.phase = Phase::connecting;
    c.events = POLLOUT;
  } else {
    die("connect");
  }
}

// What was negotiated, once, for the log: e.g. TLS_AES_256_GCM_SHA384, x25519, prime256v1/SHA256.
void describe_first(SSL* ssl) {
  int md = 0;
  char curve[64] = "?";
  SSL_get_peer_signature_nid(ssl, &md);
  if (X509* cert = SSL_get0_peer_certificate(ssl))
    EVP_PKEY_get_group_name(X509_get0_pubkey(cert), curve, sizeof curve, nullptr);
  std::fprintf(stderr, "tls_handshakes: %s %s, key exchange %s, server key %s signing with %s\n",
               SSL_get_version(ssl), SSL_get_cipher_name(ssl),
               SSL_group_to_name(ssl, SSL_get_negotiated_group(ssl)), curve,
               md ? OBJ_nid2sn(md) : "?");
  g_verbose_done = true;
}

enum class Step { pending, done, failed };

// Advances one connection as far as it goes without blocking.
Step step(Conn& c) {
  if (c.phase == Phase::connecting) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err) {
      errno = err;
      die("connect");
    }
    c.phase = Phase::handshaking;
  }
  if (c.phase == Phase::handshaking) {
    ERR_clear_error();
    int r = SSL_do_handshake(c.ssl);
    if (r != 1) {
      int e = SSL_get_error(c.ssl, r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        c.events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return Step::pending;
      }
      if (g_failed++ < 3) {
        std::fprintf(stderr, "tls_handshakes: handshake failed (SSL error %d, errno %d)\n", e,
                     errno);
        ERR_print_errors_fp(stderr);
      }
      finish(c);
      return Step::failed;
    }
    if (!g_verbose_done) describe_first(c.ssl);
    SSL_shutdown(
        c.ssl);  // close_notify: a few dozen bytes into an empty socket buffer, never blocks
    c.phase = Phase::draining;
  }
  // Raw reads until the server's close (its tickets and close_notify are not parsed): the
  // server closes first, so its side holds the TIME_WAIT and our ports are free at once.
  char buf[4096];
  for (;;) {
    ssize_t n = recv(c.fd, buf, sizeof buf, 0);
    if (n > 0) continue;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      c.events = POLLIN;
      return Step::pending;
    }
    Step r = n == 0 ? Step::done : Step::failed;
    if (r == Step::failed && g_failed++ < 3)
      std::fprintf(stderr, "tls_handshakes: recv: %s\n", std::strerror(errno));
    finish(c);
    return r;
  }
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, pid = 0, conns = 4;
  double seconds = 5;
  long max = 1'000'000, warmup = 50;
  const char *ca = nullptr, *groups = nullptr;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--port")
      port = std::atoi(argv[i + 1]);
    else if (k == "--seconds")
      seconds = std::atof(argv[i + 1]);
    else if (k == "--max")
      max = std::atol(argv[i + 1]);
    else if (k == "--warmup")
      warmup = std::atol(argv[i + 1]);
    else if (k == "--connections")
      conns = std::atoi(argv[i + 1]);
    else if (k == "--server-pid")
      pid = std::atoi(argv[i + 1]);
    else if (k == "--ca")
      ca = argv[i + 1];
    else if (k == "--groups")
      groups = argv[i + 1];
    else
      port = -1;
  }
  if (port <= 0 || seconds <= 0 || max <= 0 || conns <= 0 || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: %s --port P [--seconds S] [--max N] [--warmup N] [--connections C] "
                 "[--server-pid PID] [--ca FILE] [--groups LIST]\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  g_ctx = SSL_CTX_new(TLS_client_method());
  if (!g_ctx || !SSL_CTX_set_min_proto_version(g_ctx, TLS1_3_VERSION)) die("SSL_CTX_new");
  SSL_CTX_set_session_cache_mode(g_ctx, SSL_SESS_CACHE_OFF);  // every handshake is a full one
  if (ca && SSL_CTX_load_verify_locations(g_ctx, ca, nullptr) != 1) die("--ca");
  g_verify = ca != nullptr;  // off by default: the benchmark is the handshake, not the PKI
  SSL_CTX_set_verify(g_ctx, ca ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  if (groups && SSL_CTX_set1_groups_list(g_ctx, groups) != 1) die("--groups");
  g_addr.sin_family = AF_INET;
  g_addr.sin_port = htons(static_cast<std::uint16_t>(port));
  g_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

  std::vector<Conn> cs(static_cast<std::size_t>(conns));
  std::vector<pollfd> pfds(cs.size());
  long done = 0, started = 0;
  std::int64_t t0 = 0, cpu0 = 0, mine0 = 0, deadline = 0;
  bool timing = false;
  auto stopping = [&] { return timing && (now_ns() >= deadline || started >= max); };
  for (;;) {
    // Refill idle slots unless the time or count is up; the in-flight ones always finish.
    for (auto& c : cs)
      if (c.phase == Phase::idle && !stopping()) {
        start(c);
        if (timing) ++started;
      }
    std::size_t n = 0;
    for (auto& c : cs)
      if (c.phase != Phase::idle) pfds[n++] = {c.fd, c.events, 0};
    if (n == 0) break;
    if (poll(pfds.data(), n, 10'000) <= 0) die("poll (server stuck?)");
    for (std::size_t i = 0, j = 0; i < cs.size(); ++i) {
      if (cs[i].phase == Phase::idle) continue;
      if (!pfds[j++].revents) continue;
      Step r = step(cs[i]);
      if (r == Step::done) ++done;
      // Warm-up over (failures count, or a failing server would keep us here): time from here.
      if (r != Step::pending && !timing && done + g_failed >= warmup) {
        timing = true;
        done = 0;
        t0 = now_ns();
        deadline = t0 + static_cast<std::int64_t>(seconds * 1e9);
        cpu0 = pid ? proc_cpu_ns(pid) : 0;
        mine0 = own_cpu_ns();
      }
    }
  }
  // `done` also holds the in-flight connections of the warm-up's end; about --connections.
  std::int64_t wall = now_ns() - t0, cpu1 = pid ? proc_cpu_ns(pid) : 0, mine = own_cpu_ns() - mine0;
  if (done > 0)  // nothing rather than a 0 that would enter the medians
    std::printf("RESULT tls_handshakes %.0f handshakes/s\n",
                static_cast<double>(done) * 1e9 / static_cast<double>(wall));
  if (pid && cpu0 >= 0 && cpu1 >= 0 && done > 0)
    std::printf("RESULT tls_hs_cpu %.1f us/handshake\n",
                static_cast<double>(cpu1 - cpu0) / 1e3 / static_cast<double>(done));
  std::fprintf(
      stderr,
      "tls_handshakes: %ld handshakes in %.2f s, %d in flight, client CPU %.2f cores, %ld failed\n",
      done, static_cast<double>(wall) / 1e9, conns,
      static_cast<double>(mine) / static_cast<double>(wall), g_failed);
  SSL_CTX_free(g_ctx);
  return g_failed ? 1 : 0;
}
