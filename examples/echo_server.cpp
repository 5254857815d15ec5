// A TCP echo server (asyncio's streams example), and the server of the echo and bulk
// benchmarks.
//
//   echo_server --port 8888         echo every byte on each connection until Ctrl-C/SIGTERM
//   echo_server --port 8888 --sink  read each connection until EOF and count the bytes
//   echo_server --tls DIR ...       serve TLS with DIR/server.pem and DIR/server.key
//   echo_server --self-test         serve on a free port, talk to itself, exit 0 if all echoed
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/net.hpp>
#include <string>
#include <vector>

namespace net = eddy::net;
using namespace std::chrono_literals;

// One connection: whatever arrives goes straight back. drain() is the backpressure point: a
// client that sends without reading stalls only its own handler.
eddy::Task<> echo(net::Stream& s) {
  char buf[64 * 1024];
  while (std::size_t n = co_await s.read_some(buf)) {
    s.write({buf, n});
    co_await s.drain();
  }
}

std::uint64_t g_sunk = 0;
std::size_t g_sink_buffer = 256 * 1024;

// The bulk benchmark's receiver: read until the peer half-closes, keep nothing.
eddy::Task<> sink(net::Stream& s) {
  std::vector<char> buf(g_sink_buffer);
  while (std::size_t n = co_await s.read_some(buf)) g_sunk += n;
}

eddy::Task<> serve_until_signal(std::uint16_t port, bool sink_mode, std::string tls_dir) {
  net::ServeOptions opts;
  opts.reuse_port = true;
  if (!tls_dir.empty())
    opts.tls = net::TlsContext::server(
        {.cert_file = tls_dir + "/server.pem", .key_file = tls_dir + "/server.key"});
  auto server = co_await net::serve(sink_mode ? sink : echo, "127.0.0.1", port, opts);
  std::printf("listening on 127.0.0.1:%u (%s%s)\n", unsigned{server.port()},
              sink_mode ? "sink" : "echo", tls_dir.empty() ? "" : ", tls");
  std::fflush(stdout);
  co_await eddy::signal(SIGTERM);  // Ctrl-C cancels this task instead; both shut down cleanly
  co_await server.shutdown(1s);
  if (sink_mode) std::printf("received %llu bytes\n", static_cast<unsigned long long>(g_sunk));
}

eddy::Task<int> self_test() {
  auto server = co_await net::serve(echo, "127.0.0.1", 0);
  int failures = 0;
  eddy::TaskGroup tg;
  for (int c = 0; c < 8; ++c) {
    tg.spawn([&, c]() -> eddy::Task<> {
      auto s = co_await net::open_connection("127.0.0.1", server.port());
      for (int i = 0; i < 100; ++i) {
        std::string line = "client " + std::to_string(c) + " message " + std::to_string(i) + "\n";
        s.write(line);
        if (co_await s.read_line() != line) ++failures;
      }
      co_await s.close();
    });
  }
  co_await tg.join();
  co_await server.shutdown(1s);
  std::printf("8 clients x 100 lines echoed, %d wrong\n", failures);
  co_return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  std::uint16_t port = 8888;
  bool sink_mode = false;
  std::string tls_dir;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
      port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--tls") && i + 1 < argc) {
      tls_dir = argv[++i];
    } else if (!std::strcmp(argv[i], "--read-size") && i + 1 < argc) {
      g_sink_buffer = std::strtoull(argv[++i], nullptr, 10);
    } else if (!std::strcmp(argv[i], "--sink")) {
      sink_mode = true;
    } else if (!std::strcmp(argv[i], "--self-test")) {
      return eddy::run(self_test());
    } else {
      std::fprintf(stderr, "usage: %s [--port N] [--sink] [--tls CERTDIR] | --self-test\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    eddy::run(serve_until_signal(port, sink_mode, tls_dir));
  } catch (const eddy::Interrupted&) {
    // Ctrl-C: the server has shut down on the way out.
  }
  return 0;
}
