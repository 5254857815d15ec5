// Echo benchmark client (plain Linux, no eddy): N connections to 127.0.0.1:PORT, each
// ping-ponging one `size`-byte message at a time, on one thread with epoll.
//
//   echo_load --port P [--connections 64] [--size 64] [--seconds 10] [--warmup 1]
//             [--max-msgs 50000000] [--server-pid PID]
//
// One message in flight per connection makes the server's per-message cost (wakeup, read,
// write) the thing measured, not its batching. Prints RESULT echo_msgs / echo_p99 and, with
// --server-pid, echo_cpu_per_msg (server utime+stime over the measured interval / messages).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
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
  std::fprintf(stderr, "echo_load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// Log-linear histogram (64 sub-buckets per power of two, ~1.6% error): fixed memory and O(1)
// record, so 50M samples cost nothing to keep, unlike a vector of every latency.
class Histogram {
 public:
  void record(std::uint64_t ns) {
    ++counts_[index(ns)];
    ++total_;
  }
  void clear() {
    counts_.assign(counts_.size(), 0);
    total_ = 0;
  }
  std::uint64_t percentile(double p) const {
    std::uint64_t rank = static_cast<std::uint64_t>(p * static_cast<double>(total_)), seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i)
      if ((seen += counts_[i]) > rank) return upper(i);
    return 0;
  }

 private:
  static constexpr int kSub = 64;
  static std::size_t index(std::uint64_t v) {
    if (v < kSub) return v;
    int e = 63 - __builtin_clzll(v) - 5;  // shift that leaves v's top 6 bits: [kSub/2, kSub)
    return static_cast<std::size_t>(e * kSub / 2 + static_cast<int>(v >> e));
  }
  static std::uint64_t upper(std::size_t i) {  // largest value in bucket i
    if (i < kSub) return i;
    std::size_t e = (i - kSub / 2) / (kSub / 2), m = i - e * (kSub / 2);
    return ((m + 1) << e) - 1;
  }
  std::vector<std::uint64_t> counts_ = std::vector<std::uint64_t>(64 * kSub, 0);
  std::uint64_t total_ = 0;
};

struct Conn {
  int fd;
  std::size_t sent = 0, got = 0;
  std::int64_t t_send = 0;
};

}  // namespace

int main(int argc, char** argv) {
  int port = 0, conns = 64, pid = 0;
  std::size_t size = 64;
  double seconds = 10, warmup = 1;
  long long max_msgs = 50'000'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--port")
      port = std::atoi(v);
    else if (k == "--connections")
      conns = std::atoi(v);
    else if (k == "--size")
      size = std::strtoull(v, nullptr, 10);
    else if (k == "--seconds")
      seconds = std::atof(v);
    else if (k == "--warmup")
      warmup = std::atof(v);
    else if (k == "--max-msgs")
      max_msgs = std::atoll(v);
    else if (k == "--server-pid")
      pid = std::atoi(v);
    else
      port = -1;
  }
  if (port <= 0 || conns <= 0 || size == 0 || argc % 2 == 0) {
    std::fprintf(stderr,
                 "usage: %s --port P [--connections N] [--size B] [--seconds S] "
                 "[--warmup S] [--max-msgs N] [--server-pid PID]\n",
                 argv[0]);
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);

  int ep = epoll_create1(0);
  std::vector<Conn> cs;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < conns; ++i) {
    // Blocking connect keeps setup simple; only the ping-pong phase is non-blocking.
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) die("connect");
    int one = 1;  // without NODELAY, Nagle + delayed ACK would put 40 ms into every round trip
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) die("fcntl");
    cs.push_back({fd});
  }
  for (std::size_t i = 0; i < cs.size(); ++i) {
    epoll_event ev{EPOLLIN, {.u64 = i}};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, cs[i].fd, &ev) < 0) die("epoll_ctl");
  }

  // Distinct bytes per message position, so a server that mixes up or drops data fails loudly.
  std::vector<char> msg(size), buf(size);
  for (std::size_t i = 0; i < size; ++i) msg[i] = static_cast<char>('a' + i % 26);

  Histogram hist;
  long long done = 0;
  std::int64_t t_start = now_ns(), t_measure = t_start + static_cast<std::int64_t>(warmup * 1e9);
  std::int64_t t_end = 0, t_progress = t_start, cpu0 = 0;
  bool measuring = false;

  // Sends the rest of the current message; if the socket buffer is full (never at 64 B, but
  // possible with a large --size) it waits for EPOLLOUT to finish the job.
  auto push = [&](Conn& c, std::size_t idx) {
    while (c.sent < size) {
      ssize_t n = send(c.fd, msg.data() + c.sent, size - c.sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EAGAIN) {
        epoll_event ev{EPOLLIN | EPOLLOUT, {.u64 = idx}};
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        return;
      }
      if (n < 0) die("send");
      c.sent += static_cast<std::size_t>(n);
    }
  };
  std::int64_t t = now_ns();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    cs[i].t_send = t;
    push(cs[i], i);
  }

  std::vector<epoll_event> evs(cs.size());
  bool stop = false;
  while (!stop) {
    // The 100 ms timeout bounds the run even if the server stops answering.
    int n = epoll_wait(ep, evs.data(), static_cast<int>(evs.size()), 100);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    t = now_ns();
    if (!measuring && t >= t_measure) {
      measuring = true;
      hist.clear();
      done = 0;
      t_measure = t;
      t_end = t + static_cast<std::int64_t>(seconds * 1e9);
      cpu0 = pid ? proc_cpu_ns(pid) : 0;
    }
    if (t - t_progress > 5'000'000'000LL) {
      std::fprintf(stderr, "echo_load: no reply for 5 s, server stalled\n");
      return 1;
    }
    for (int e = 0; e < n; ++e) {
      std::size_t idx = evs[e].data.u64;
      Conn& c = cs[idx];
      if (evs[e].events & EPOLLOUT) {
        epoll_event ev{EPOLLIN, {.u64 = idx}};
        epoll_ctl(ep, EPOLL_CTL_MOD, c.fd, &ev);
        push(c, idx);
      }
      if (!(evs[e].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
      ssize_t r = recv(c.fd, buf.data() + c.got, size - c.got, 0);
      if (r < 0 && errno == EAGAIN) continue;
      if (r < 0) die("recv");
      if (r == 0) {
        std::fprintf(stderr, "echo_load: server closed connection %zu\n", idx);
        return 1;
      }
      if (std::memcmp(buf.data() + c.got, msg.data() + c.got, static_cast<std::size_t>(r)) != 0) {
        std::fprintf(stderr, "echo_load: wrong bytes echoed on connection %zu\n", idx);
        return 1;
      }
      c.got += static_cast<std::size_t>(r);
      if (c.got < size) continue;
      std::int64_t t_recv = now_ns();  // per message, not per batch: a batch of 64 takes ~100 us
      hist.record(static_cast<std::uint64_t>(t_recv - c.t_send));
      t_progress = t_recv;
      if (++done >= max_msgs || (measuring && t_recv >= t_end)) {
        stop = true;
        break;
      }
      c.got = c.sent = 0;
      c.t_send = now_ns();
      push(c, idx);
    }
  }
  std::int64_t wall = now_ns() - t_measure;
  std::int64_t cpu1 = pid ? proc_cpu_ns(pid) : 0;
  // Half-close and drain before closing: closing with an echo still unread would make the
  // kernel send RST, which servers report as errors. Bounded: 5 s for all connections.
  for (auto& c : cs) shutdown(c.fd, SHUT_WR);
  std::int64_t t_give_up = now_ns() + 5'000'000'000LL;
  for (auto& c : cs) {
    while (now_ns() < t_give_up) {
      ssize_t r = recv(c.fd, buf.data(), size, 0);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) break;
      if (r < 0) usleep(1000);
    }
    close(c.fd);
  }
  if (!measuring || done == 0) {
    std::fprintf(stderr, "echo_load: finished before the measured interval began\n");
    return 1;
  }
  std::printf("RESULT echo_msgs %.0f msgs/s\n",
              static_cast<double>(done) * 1e9 / static_cast<double>(wall));
  std::printf("RESULT echo_p99 %.1f us\n", static_cast<double>(hist.percentile(0.99)) / 1e3);
  if (pid && cpu0 >= 0 && cpu1 >= 0)
    std::printf("RESULT echo_cpu_per_msg %.0f ns/msg\n",
                static_cast<double>(cpu1 - cpu0) / static_cast<double>(done));
  std::fprintf(stderr, "echo_load: %lld msgs in %.2f s, p50 %.1f us, p99.9 %.1f us\n", done,
               static_cast<double>(wall) / 1e9, static_cast<double>(hist.percentile(0.5)) / 1e3,
               static_cast<double>(hist.percentile(0.999)) / 1e3);
  return 0;
}
