// net::DatagramSocket over loopback. Rules pinned here (docs/semantics.md, "Datagrams"):
//  - one send is one datagram, received whole with its sender's address;
//  - a datagram longer than the buffer is cut and reported as truncated;
//  - a cancelled receive loses no datagram; close() fails a pending receive.
#include <unistd.h>

#include <string>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {
net::SocketAddress loopback(std::uint16_t port = 0) {
  return *net::SocketAddress::parse("127.0.0.1", port);
}
}  // namespace

EDDY_TEST(Udp, SendToAndReceiveFrom) {
  auto server = net::DatagramSocket::bind(loopback());
  auto client = net::DatagramSocket::open(AF_INET);
  co_await client.send_to("ping", server.local_address());
  char buf[64];
  auto got = co_await server.receive_from(buf);
  EXPECT_EQ(std::string_view(buf, got.size), "ping");
  EXPECT_FALSE(got.truncated);
  EXPECT_EQ(got.from.port(), client.local_address().port()) << "the sender's ephemeral port";
  EXPECT_EQ(got.from.ip(), "127.0.0.1");
  co_await server.send_to("pong", got.from);
  auto back = co_await client.receive_from(buf);
  EXPECT_EQ(std::string_view(buf, back.size), "pong");
  EXPECT_EQ(back.from, server.local_address());
}

EDDY_TEST(Udp, ConnectedSocketsAndIpv6) {
  auto server = net::DatagramSocket::bind(*net::SocketAddress::parse("::1", 0));
  auto client = net::DatagramSocket::connect(server.local_address());
  EXPECT_EQ(client.peer_address(), server.local_address());
  co_await client.send("over v6");
  char buf[64];
  auto got = co_await server.receive_from(buf);
  EXPECT_EQ(std::string_view(buf, got.size), "over v6");
  co_await server.send_to("reply", got.from);
  std::size_t n = co_await client.receive(buf);
  EXPECT_EQ(std::string_view(buf, n), "reply");
}

EDDY_TEST(Udp, LongDatagramIsTruncatedAndReported) {
  auto server = net::DatagramSocket::bind(loopback());
  auto client = net::DatagramSocket::connect(server.local_address());
  co_await client.send(std::string(1000, 'x'));
  co_await client.send("next");
  char small[100];
  auto got = co_await server.receive_from(small);
  EXPECT_EQ(got.size, 100u);
  EXPECT_TRUE(got.truncated);
  got = co_await server.receive_from(small);
  EXPECT_EQ(std::string_view(small, got.size), "next") << "datagram boundaries are kept";
}

EDDY_TEST(Udp, CancelledReceiveLosesNothingAndCloseFailsWaiters) {
  auto server = net::DatagramSocket::bind(loopback());
  auto client = net::DatagramSocket::connect(server.local_address());
  char buf[64];
  for (int i = 0; i < 1000; ++i) co_await eddy::move_on_after(0ms, server.receive_from(buf));
  co_await client.send("after cancels");
  auto got = co_await server.receive_from(buf);
  EXPECT_EQ(std::string_view(buf, got.size), "after cancels");

  auto waiter = eddy::spawn(server.receive_from(buf));
  co_await eddy::yield_now();
  co_await eddy::yield_now();
  server.close();
  EXPECT_THROW(co_await waiter, eddy::ConnectionError);
  EXPECT_FALSE(server.is_open());
  EXPECT_THROW(co_await server.send_to("x", client.local_address()), eddy::ConnectionError);
}

EDDY_TEST(Udp, UnixDatagrams) {
  std::string path = "/tmp/eddy-udp-test-" + std::to_string(::getpid());
  ::unlink(path.c_str());
  auto server = net::DatagramSocket::bind(net::SocketAddress::unix_path(path));
  auto client = net::DatagramSocket::connect(net::SocketAddress::unix_path(path));
  co_await client.send("local");
  char buf[16];
  auto got = co_await server.receive_from(buf);
  EXPECT_EQ(std::string_view(buf, got.size), "local");
  ::unlink(path.c_str());
}
