// eddy streams against real peers in other processes: Python asyncio streams (Debian's
// python3) as server and as client, socat as an echo peer, and a kernel that drops SYNs to
// a full listen backlog (a blackholed connect). Real clock: the peers run in real time.
#include <sys/socket.h>

#include <string>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"
#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {

using eddy_test::connect_when_up;
using eddy_test::free_port;
using eddy_test::write_script;

// asyncio's echo server, straight from the Python docs' shape: read, write, drain, until EOF;
// then it closes its side (so the client sees EOF after its half-close).
const char* kPyServer = R"(
import asyncio, sys
async def echo(reader, writer):
    while data := await reader.read(65536):
        writer.write(data)
        await writer.drain()
    writer.close()
    await writer.wait_closed()
async def main():
    server = await asyncio.start_server(echo, '127.0.0.1', int(sys.argv[1]))
    async with server:
        await server.serve_forever()
asyncio.run(main())
)";

// asyncio client: sends N bytes in chunks while reading the echo, half-closes, checks all.
const char* kPyClient = R"(
import asyncio, sys
async def main():
    reader, writer = await asyncio.open_connection('127.0.0.1', int(sys.argv[1]))
    total = int(sys.argv[2])
    block = bytes(range(256)) * 256
    async def send():
        sent = 0
        while sent < total:
            chunk = block[: min(len(block), total - sent)]
            writer.write(chunk)
            await writer.drain()
            sent += len(chunk)
        writer.write_eof()
    sender = asyncio.create_task(send())
    got = bytearray()
    while data := await reader.read(1 << 20):
        got += data
    await sender
    expect = (block * (total // len(block) + 1))[:total]
    print('ok' if bytes(got) == expect else f'mismatch {len(got)}')
    writer.close()
asyncio.run(main())
)";

eddy::Task<> echo(net::Stream& s) {
  char buf[65536];
  while (std::size_t n = co_await s.read_some(buf)) {
    s.write({buf, n});
    co_await s.drain();
  }
}

}  // namespace

EDDY_REAL_TEST(Peers, EddyClientWithPythonAsyncioServer) {
  eddy_test::TempDir dir;
  std::uint16_t port = free_port();
  eddy_test::Process py("python3 " + write_script(dir, "server.py", kPyServer) + " " +
                        std::to_string(port));
  auto s = co_await connect_when_up(port);
  // 8 MiB each way at once: our writer and reader run concurrently, so neither side's
  // buffers can deadlock, and drain() holds our queue near the high-water mark.
  std::string data(8 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i % 251);
  std::size_t peak_queue = 0;
  auto writer = eddy::spawn([&]() -> eddy::Task<> {
    for (std::size_t off = 0; off < data.size(); off += 32768) {
      s.write(std::string_view(data).substr(off, 32768));
      peak_queue = std::max(peak_queue, s.write_buffer_size());
      co_await s.drain();
    }
    co_await s.shutdown_write();
  });
  std::string back = co_await s.read_to_eof();
  co_await writer;
  EXPECT_TRUE(back == data) << "8 MiB echoed intact by asyncio (got " << back.size() << ")";
  EXPECT_LE(peak_queue, s.limits().write_high_water + 32768) << "drain() bounded the queue";
  co_await s.close();
}

EDDY_REAL_TEST(Peers, PythonAsyncioClientWithEddyServer) {
  eddy_test::TempDir dir;
  auto server = co_await net::serve(echo, "127.0.0.1", 0);
  std::string cmd = "timeout 30 python3 " + write_script(dir, "client.py", kPyClient) + " " +
                    std::to_string(server.port()) + " " + std::to_string(16 << 20);
  auto [status, out] = co_await eddy::to_thread(eddy_test::run_command, cmd);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "ok\n") << "16 MiB through an eddy echo server, half-closed at the end";
  co_await server.shutdown(1s);
}

EDDY_REAL_TEST(Peers, SocatEcho) {
  std::uint16_t port = free_port();
  eddy_test::Process socat("socat TCP-LISTEN:" + std::to_string(port) +
                           ",bind=127.0.0.1,reuseaddr PIPE");
  auto s = co_await connect_when_up(port);
  s.write("through socat\n");
  EXPECT_EQ(co_await s.read_line(), "through socat\n");
  co_await s.close();
}

// A client that reads with a pause after each recv and a small receive buffer: the server's writes
// outrun it, the kernel buffers fill, and drain() must hold the server's queue at the high-water
// mark instead of letting it grow to the whole 2 MiB.
const char* kSlowReader = R"(
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
s.connect(('127.0.0.1', int(sys.argv[1])))
total = 0
while data := s.recv(65536):
    total += len(data)
    time.sleep(0.001)
print(total)
)";

EDDY_REAL_TEST(Peers, SlowReaderGetsBackpressure) {
  eddy_test::TempDir dir;
  std::size_t peak = 0;
  constexpr std::size_t kTotal = 2 << 20;
  auto server = co_await net::serve(
      [&](net::Stream& s) -> eddy::Task<> {
        int small = 16384;  // so the kernel cannot absorb the whole transfer
        ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        std::string chunk(8192, 'b');
        for (std::size_t sent = 0; sent < kTotal; sent += chunk.size()) {
          s.write(chunk);
          peak = std::max(peak, s.write_buffer_size());
          co_await s.drain();
        }
      },
      "127.0.0.1", 0);
  std::string cmd = "timeout 30 python3 " + write_script(dir, "slow.py", kSlowReader) + " " +
                    std::to_string(server.port());
  auto [status, out] = co_await eddy::to_thread(eddy_test::run_command, cmd);
  EXPECT_EQ(out, std::to_string(kTotal) + "\n") << "every byte arrived";
  EXPECT_GT(peak, 0u) << "the peer was slow enough to make writes queue";
  EXPECT_LE(peak, net::StreamLimits{}.write_high_water + 8192) << "drain() bounded the queue";
  co_await server.shutdown(1s);
}

EDDY_TEST(Connect, TimesOutToABlackholedAddress) {
  // A listener with a full backlog that never accepts: Linux drops further SYNs, so a
  // connect neither succeeds nor fails, like one to a blackholed address.
  net::ListenOptions lo;
  lo.backlog = 0;
  auto full = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0), lo);
  std::vector<net::Stream> fillers;
  std::size_t before = eddy_test::open_fd_count();
  for (int i = 0; i < 8; ++i) {
    auto s = co_await eddy::move_on_after(50ms, net::connect(full.local_address()));
    if (!s) break;  // this one hung: the backlog is full
    fillers.push_back(std::move(*s));
  }
  std::size_t with_fillers = eddy_test::open_fd_count();
  net::ConnectOptions co;
  co.timeout = 300ms;
  auto start = eddy::now();
  try {
    co_await net::open_connection("127.0.0.1", full.port(), co);
    ADD_FAILURE() << "connected to a full backlog";
  } catch (const eddy::TimeoutError& e) {
    EXPECT_NE(std::string(e.what()).find("127.0.0.1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(eddy::now() - start, 300ms) << "exactly the timeout, on the virtual clock";
  EXPECT_EQ(eddy_test::open_fd_count(), with_fillers) << "the timed-out socket was closed";
  fillers.clear();
  EXPECT_EQ(eddy_test::open_fd_count(), before);
}
