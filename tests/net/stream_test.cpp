// net::Stream, Listener and Server over loopback TCP and Unix sockets, both ends in this
// process. Rules pinned here (see docs/semantics.md, "Streams"):
//  - bytes arrive in order and intact; read_some/read return what is there, 0/"" only at EOF;
//  - read_exactly and read_until throw IncompleteReadError at EOF with what did arrive;
//    read_line returns the unterminated tail at EOF, then "";
//  - read_until past the read limit throws LimitOverrunError and consumes nothing;
//  - a cancelled read loses no byte: the next read gets everything;
//  - shutdown_write half-closes: the peer reads EOF and can still answer;
//  - drain() returns at once below the high-water mark and blocks above it until the peer
//    reads down to the low-water mark;
//  - connecting to a closed port throws ConnectionRefusedError; a connect that cannot finish
//    times out with TimeoutError naming the host;
//  - two tasks reading one stream at once is an error;
//  - 10,000 cancelled reads, connects and accepts leak no descriptor.
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {

// A connected pair over loopback TCP: (client side, server side).
eddy::Task<std::pair<net::Stream, net::Stream>> tcp_pair(net::StreamLimits limits = {}) {
  net::ListenOptions lo;
  lo.limits = limits;
  auto listener = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0), lo);
  net::ConnectOptions co;
  co.limits = limits;
  auto [client, server] = co_await eddy::gather(
      net::connect(*net::SocketAddress::parse("127.0.0.1", listener.port()), co),
      listener.accept());
  co_return std::pair{std::move(client), std::move(server)};
}

}  // namespace

EDDY_TEST(Stream, BytesArriveInOrder) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  std::string sent;
  for (int i = 0; i < 1000; ++i) sent += std::to_string(i) + ",";
  a.write(sent);
  co_await a.shutdown_write();
  EXPECT_EQ(co_await b.read_to_eof(), sent);
  EXPECT_TRUE(b.at_eof());
  EXPECT_EQ(co_await b.read(), "");
  char buf[8];
  EXPECT_EQ(co_await b.read_some(buf), 0u);
}

EDDY_TEST(Stream, ReadExactlyAndIncompleteRead) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("hello world");
  co_await a.shutdown_write();
  EXPECT_EQ(co_await b.read_exactly(5), "hello");
  EXPECT_EQ(co_await b.read_exactly(1), " ");
  try {
    co_await b.read_exactly(100);
    ADD_FAILURE() << "expected IncompleteReadError";
  } catch (const net::IncompleteReadError& e) {
    EXPECT_EQ(e.partial, "world");
    EXPECT_EQ(e.expected, 100u);
  }
}

EDDY_TEST(Stream, ReadUntilAndReadLine) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("one\r\ntwo\nthree\nlast");
  co_await a.shutdown_write();
  EXPECT_EQ(co_await b.read_until("\r\n"), "one\r\n");
  EXPECT_EQ(co_await b.read_line(), "two\n");
  EXPECT_EQ(co_await b.read_line(), "three\n");
  EXPECT_EQ(co_await b.read_line(), "last");  // the unterminated tail at EOF
  EXPECT_EQ(co_await b.read_line(), "");
}

EDDY_TEST(Stream, ReadUntilAtEofThrowsWithPartial) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("no separator here");
  co_await a.shutdown_write();
  try {
    co_await b.read_until("\n\n");
    ADD_FAILURE() << "expected IncompleteReadError";
  } catch (const net::IncompleteReadError& e) {
    EXPECT_EQ(e.partial, "no separator here");
  }
}

EDDY_TEST(Stream, ReadLimitIsAnErrorAndConsumesNothing) {
  net::StreamLimits limits;
  limits.read_limit = 1024;
  auto ab = co_await tcp_pair(limits);  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  std::string big(4000, 'x');
  a.write(big);
  a.write("\n");
  EXPECT_THROW(co_await b.read_line(), net::LimitOverrunError);
  // Nothing was consumed: the caller can still take the data another way.
  std::string got = co_await b.read_exactly(big.size() + 1);
  EXPECT_EQ(got, big + "\n");
}

EDDY_TEST(Stream, ReadToEofHonoursItsMaximum) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write(std::string(5000, 'y'));
  co_await a.shutdown_write();
  EXPECT_THROW(co_await b.read_to_eof(1000), net::LimitOverrunError);
}

EDDY_TEST(Stream, CancelledReadLosesNothing) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("abc");
  // read_exactly(6) gets "abc", then waits; the timeout cancels it.
  auto r = co_await eddy::move_on_after(50ms, b.read_exactly(6));
  EXPECT_FALSE(r);
  a.write("def");
  EXPECT_EQ(co_await b.read_exactly(6), "abcdef");
}

EDDY_TEST(Stream, HalfCloseLetsThePeerAnswer) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("question");
  co_await a.shutdown_write();
  EXPECT_THROW(a.write("more"), eddy::InvalidStateError);
  EXPECT_EQ(co_await b.read_to_eof(), "question");
  b.write("answer");
  co_await b.close();
  EXPECT_EQ(co_await a.read_to_eof(), "answer");
}

EDDY_TEST(Stream, DrainAppliesBackpressure) {
  net::StreamLimits limits;
  limits.write_high_water = 64 * 1024;
  limits.write_low_water = 16 * 1024;
  auto ab = co_await tcp_pair(limits);  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  ::setsockopt(a.native_handle(), SOL_SOCKET, SO_SNDBUF, &limits.write_low_water, sizeof(int));
  // Below the high-water mark, drain returns at once.
  a.write(std::string(1000, 'a'));
  co_await a.drain();
  // Fill the kernel buffers and the queue well past the mark: drain must wait.
  std::string chunk(256 * 1024, 'b');
  std::size_t total = 1000;
  for (int i = 0; i < 16 && a.write_buffer_size() <= limits.write_high_water; ++i) {
    a.write(chunk);
    total += chunk.size();
  }
  EDDY_CO_ASSERT(a.write_buffer_size() > limits.write_high_water);
  bool drained = co_await eddy::move_on_after(100ms, a.drain());
  EXPECT_FALSE(drained) << "drain returned while the peer read nothing";
  // The cancelled drain kept the bytes queued; a reader makes drain finish.
  std::size_t got = 0;
  co_await eddy::task_group([&](eddy::TaskGroup& tg) -> eddy::Task<> {
    tg.spawn([&]() -> eddy::Task<> {
      char buf[64 * 1024];
      while (got < total) got += co_await b.read_some(buf);
    });
    co_await a.drain();
    EXPECT_LE(a.write_buffer_size(), limits.write_low_water);
    co_await a.flush();
    EXPECT_EQ(a.write_buffer_size(), 0u);
  });
  EXPECT_EQ(got, total);
}

EDDY_TEST(Stream, VectoredWrite) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  std::string_view pieces[] = {"GET ", "/ ", "HTTP/1.1\r\n", "\r\n"};
  a.write(pieces);
  EXPECT_EQ(co_await b.read_until("\r\n\r\n"), "GET / HTTP/1.1\r\n\r\n");
}

EDDY_TEST(Stream, ZeroCopyBufferAccess) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  a.write("12345");
  while (b.buffered().size() < 5) EDDY_CO_ASSERT(co_await b.fill());
  EXPECT_EQ(b.buffered(), "12345");
  b.consume(2);
  EXPECT_EQ(b.buffered(), "345");
  EXPECT_EQ(co_await b.read(), "345");
}

EDDY_TEST(Stream, TwoReadersAtOnceIsAnError) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  bool started = false;
  auto first = eddy::spawn([&]() -> eddy::Task<std::string> {
    started = true;
    co_return co_await b.read();
  });
  // With EDDY_SHUFFLE the reader may need more than one turn of the loop to start.
  while (!started) co_await eddy::yield_now();
  EXPECT_THROW(co_await b.read(), eddy::InvalidStateError);
  a.write("x");
  EXPECT_EQ(co_await first, "x");
}

EDDY_TEST(Stream, PeerAddressesAndOptions) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  EXPECT_EQ(a.peer_address(), b.local_address());
  EXPECT_FALSE(a.is_tls());
  EXPECT_FALSE(a.peer_certificate().has_value()) << "a plain stream has no certificate";
  EXPECT_EQ(a.local_address(), b.peer_address());
  EXPECT_EQ(a.peer_address().ip(), "127.0.0.1");
  int nodelay = 0;
  socklen_t len = sizeof nodelay;
  ::getsockopt(a.native_handle(), IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
  EXPECT_EQ(nodelay, 1) << "TCP_NODELAY is on by default";
  a.set_keepalive(net::KeepAlive{});
  int ka = 0;
  ::getsockopt(a.native_handle(), SOL_SOCKET, SO_KEEPALIVE, &ka, &len);
  EXPECT_EQ(ka, 1);
}

EDDY_TEST(Stream, WriteAfterPeerResetFails) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  b.abort();
  bool failed = false;
  try {
    for (int i = 0; i < 100; ++i) {
      a.write(std::string(64 * 1024, 'z'));
      co_await a.drain();
      co_await eddy::sleep(1ms);
    }
  } catch (const eddy::ConnectionError&) {
    failed = true;
  }
  EXPECT_TRUE(failed);
}

EDDY_TEST(Stream, ClosedStreamOperationsThrow) {
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  co_await a.close();
  EXPECT_FALSE(a.is_open());
  EXPECT_THROW(a.write("x"), eddy::ConnectionError);
  EXPECT_THROW(co_await a.read(), eddy::ConnectionError);
  co_await a.close();  // idempotent
  EXPECT_EQ(co_await b.read(), "");
}

// --- connecting

EDDY_TEST(Connect, RefusedPortThrowsConnectionRefused) {
  auto probe = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  std::uint16_t port = probe.port();
  probe.close();
  EXPECT_THROW(co_await net::open_connection("127.0.0.1", port), eddy::ConnectionRefusedError);
}

EDDY_TEST(Connect, HostNameResolves) {
  auto listener = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  net::ConnectOptions o;
  o.family = AF_INET;
  auto [c, s] = co_await eddy::gather(net::open_connection("localhost", listener.port(), o),
                                      listener.accept());
  EXPECT_EQ(c.peer_address().ip(), "127.0.0.1");
}

EDDY_TEST(Connect, UnknownHostIsADnsError) {
  try {
    co_await net::open_connection("no-such-host.invalid", 80);
    ADD_FAILURE() << "expected DnsError";
  } catch (const net::DnsError& e) {
    EXPECT_TRUE(e.not_found());
  }
}

EDDY_TEST(Connect, HappyEyeballsFallsBackAtOnceWhenAnAddressRefuses) {
  auto dead = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  auto dead_addr = dead.local_address();
  dead.close();
  auto live = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  net::ConnectOptions o;
  o.happy_eyeballs_delay = 10s;  // a refusal must not wait for the delay
  std::vector<net::SocketAddress> addrs{dead_addr, live.local_address()};
  auto t0 = eddy::now();
  auto [c, s] = co_await eddy::gather(net::connect(addrs, o), live.accept());
  EXPECT_LT(eddy::now() - t0, 1s);
  EXPECT_EQ(c.peer_address(), live.local_address());
}

EDDY_TEST(Connect, AllAddressesFailingIsOneError) {
  std::vector<net::SocketAddress> dead;
  for (int i = 0; i < 2; ++i) {
    auto l = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
    dead.push_back(l.local_address());
  }  // both closed here
  EXPECT_THROW(co_await net::connect(dead), eddy::ConnectionRefusedError);
}

// --- Unix sockets

EDDY_TEST(Unix, EchoAndStaleSocketReplaced) {
  std::string path = "/tmp/eddy-test-" + std::to_string(::getpid()) + ".sock";
  {
    auto l = net::Listener::bind_unix(path);
    // A second bind while the first listens must fail, not steal the path.
    EXPECT_THROW(net::Listener::bind_unix(path), eddy::OSError);
  }
  // The first listener closed (and removed its file); leave a stale socket file behind.
  int stale = ::socket(AF_UNIX, SOCK_STREAM, 0);
  auto addr = net::SocketAddress::unix_path(path);
  EDDY_CO_ASSERT(::bind(stale, addr.data(), addr.size()) == 0);
  ::close(stale);
  auto l = net::Listener::bind_unix(path);
  auto [c, s] = co_await eddy::gather(net::open_unix_connection(path), l.accept());
  c.write("over unix");
  co_await c.shutdown_write();
  EXPECT_EQ(co_await s.read_to_eof(), "over unix");
  EXPECT_TRUE(c.peer_address().is_unix());
  l.close();
  EXPECT_NE(::access(path.c_str(), F_OK), 0) << "closing the listener removes its file";
}

// --- descriptors

EDDY_TEST(Stream, CancelledOperationsLeakNoDescriptors) {
  auto listener = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  auto ab = co_await tcp_pair();  // (clang 14 cannot capture structured bindings)
  auto& a = ab.first;
  auto& b = ab.second;
  // A writer whose peer does not read: once the kernel buffers are full, drain() blocks.
  auto wr = co_await tcp_pair();
  std::string block(256 * 1024, 'w');
  std::size_t queued = 0;
  while (wr.first.write_buffer_size() <= wr.first.limits().write_high_water) {
    wr.first.write(block);
    queued += block.size();
  }
  std::size_t before = eddy_test::open_fd_count();
  for (int i = 0; i < 10'000; ++i) {
    switch (i % 4) {
      case 0:  // a read that never gets data
        co_await eddy::move_on_after(0ms, b.read());
        break;
      case 1:  // an accept that never gets a connection
        co_await eddy::move_on_after(0ms, listener.accept());
        break;
      case 2: {  // a connect cancelled before it completes or just after
        auto s = co_await eddy::move_on_after(0ms, net::connect(listener.local_address()));
        break;
      }
      default:  // a write whose drain cannot finish
        co_await eddy::move_on_after(0ms, wr.first.drain());
        break;
    }
  }
  // Connections that did complete sit in the accept queue: take and drop them.
  while (co_await eddy::move_on_after(10ms, listener.accept())) {
  }
  EXPECT_EQ(eddy_test::open_fd_count(), before);
  a.write("still works");
  EXPECT_EQ(co_await b.read(), "still works");
  // The cancelled drains lost nothing: every queued byte arrives.
  auto reader = eddy::spawn(wr.second.read_to_eof());
  co_await wr.first.shutdown_write();
  std::string got = co_await reader;
  EXPECT_EQ(got.size(), queued);
}

// Review regression: close() from one task while another is blocked reading used to free the
// stream's state under the reader. The reader must get a ConnectionError instead.
EDDY_TEST(Stream, CloseWhileAnotherTaskReads) {
  auto ab = co_await tcp_pair();
  auto& a = ab.first;
  bool started = false;
  auto reader = eddy::spawn([&]() -> eddy::Task<std::string> {
    started = true;
    co_return co_await a.read_line();
  });
  while (!started) co_await eddy::yield_now();
  co_await eddy::yield_now();
  co_await a.close();
  EXPECT_THROW(co_await reader, eddy::ConnectionError);
  EXPECT_FALSE(a.is_open());
}
