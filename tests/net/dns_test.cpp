// net::Resolver against a DNS responder on loopback (support/dns_server.hpp). Rules pinned
// here (docs/semantics.md, "DNS"):
//  - A and AAAA answers both come back, families interleaved, with the port filled in;
//  - an answer is cached for its TTL capped by max_ttl, then asked again (virtual clock);
//  - "no such name" is cached for negative_ttl and is a DnsError with not_found();
//  - concurrent look-ups of one name send one query; cancelling one waiter leaves the rest;
//  - IP literals and /etc/hosts names never reach the server;
//  - a server that never answers gives a DnsError after timeout x tries, and no fd leaks.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/dns_server.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {

net::ResolverOptions options_for(const eddy_test::DnsServer& dns) {
  net::ResolverOptions o;
  o.servers = {dns.address()};
  return o;
}

std::vector<std::string> ips(const std::vector<net::SocketAddress>& addrs) {
  std::vector<std::string> out;
  for (auto& a : addrs) out.push_back(a.ip());
  return out;
}

}  // namespace

EDDY_TEST(Dns, ResolvesBothFamiliesInterleaved) {
  eddy_test::DnsServer dns;
  dns.zone["svc.eddy.test"] = {{"10.0.0.1", "10.0.0.2"}, {"fd00::1", "fd00::2"}, 60};
  auto server = eddy::spawn(dns.serve());
  net::Resolver r(options_for(dns));
  auto addrs = co_await r.resolve("svc.eddy.test", 8080);
  EDDY_CO_ASSERT(addrs.size() == 4u);
  for (auto& a : addrs) EXPECT_EQ(a.port(), 8080);
  EXPECT_NE(addrs[0].family(), addrs[1].family()) << "families alternate for Happy Eyeballs";
  EXPECT_NE(addrs[1].family(), addrs[2].family());
  auto v4 = co_await r.resolve("svc.eddy.test", 1, AF_INET);
  EXPECT_EQ(ips(v4), (std::vector<std::string>{"10.0.0.1", "10.0.0.2"}));
  server.cancel();
}

EDDY_TEST(Dns, AnswersAreCachedForTheirTtlCappedByMaxTtl) {
  eddy_test::DnsServer dns;
  dns.zone["long.eddy.test"] = {{"10.0.0.1"}, {}, 3600};
  dns.zone["short.eddy.test"] = {{"10.0.0.2"}, {}, 2};
  auto server = eddy::spawn(dns.serve());
  auto o = options_for(dns);
  o.max_ttl = 10s;
  net::Resolver r(o);
  co_await r.resolve("long.eddy.test", 80, AF_INET);
  co_await r.resolve("short.eddy.test", 80, AF_INET);
  EXPECT_EQ(dns.asked("long.eddy.test"), 1);
  co_await r.resolve("LONG.eddy.test", 80, AF_INET);  // names are case-insensitive
  co_await r.resolve("short.eddy.test", 80, AF_INET);
  EXPECT_EQ(dns.asked("long.eddy.test"), 1) << "served from the cache";
  EXPECT_EQ(dns.asked("short.eddy.test"), 1);
  co_await eddy::sleep(3s);  // past short's TTL of 2 s
  co_await r.resolve("short.eddy.test", 80, AF_INET);
  co_await r.resolve("long.eddy.test", 80, AF_INET);
  EXPECT_EQ(dns.asked("short.eddy.test"), 2) << "the record's TTL expired";
  EXPECT_EQ(dns.asked("long.eddy.test"), 1);
  co_await eddy::sleep(8s);  // past max_ttl, though the record said an hour
  co_await r.resolve("long.eddy.test", 80, AF_INET);
  EXPECT_EQ(dns.asked("long.eddy.test"), 2) << "max_ttl caps the record's TTL";
  r.clear_cache();
  co_await r.resolve("long.eddy.test", 80, AF_INET);
  EXPECT_EQ(dns.asked("long.eddy.test"), 3);
  server.cancel();
}

EDDY_TEST(Dns, MissingNamesAreCachedNegatively) {
  eddy_test::DnsServer dns;
  auto server = eddy::spawn(dns.serve());
  auto o = options_for(dns);
  o.negative_ttl = 5s;
  net::Resolver r(o);
  for (int i = 0; i < 2; ++i) {
    try {
      co_await r.resolve("nowhere.eddy.test", 80, AF_INET);
      ADD_FAILURE() << "resolved a name the server does not know";
    } catch (const net::DnsError& e) {
      EXPECT_TRUE(e.not_found());
      EXPECT_NE(std::string(e.what()).find("nowhere.eddy.test"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(dns.asked("nowhere.eddy.test"), 1);
  co_await eddy::sleep(6s);
  EXPECT_THROW(co_await r.resolve("nowhere.eddy.test", 80, AF_INET), net::DnsError);
  EXPECT_EQ(dns.asked("nowhere.eddy.test"), 2);
  server.cancel();
}

EDDY_TEST(Dns, ConcurrentLookupsShareOneQuery) {
  eddy_test::DnsServer dns;
  dns.zone["busy.eddy.test"] = {{"10.0.0.9"}, {}, 60};
  auto server = eddy::spawn(dns.serve());
  net::Resolver r(options_for(dns));
  std::vector<eddy::TaskHandle<std::vector<net::SocketAddress>>> lookups;
  for (int i = 0; i < 20; ++i)
    lookups.push_back(eddy::spawn(r.resolve("busy.eddy.test", 80, AF_INET)));
  lookups[3].cancel();
  const std::vector<std::string> want{
      "10.0.0.9"};  // one waiter gives up: the query goes on for the others
  for (int i = 0; i < 20; ++i) {
    if (i == 3) continue;
    auto got = co_await lookups[i];
    EXPECT_EQ(ips(got), want);
  }
  EXPECT_EQ(dns.asked("busy.eddy.test"), 1);
  server.cancel();
}

EDDY_TEST(Dns, LiteralsAndHostsFileNeverReachTheServer) {
  eddy_test::DnsServer dns;
  auto server = eddy::spawn(dns.serve());
  net::Resolver r(options_for(dns));
  auto lit = co_await r.resolve("::1", 443);
  EDDY_CO_ASSERT(lit.size() == 1u);
  EXPECT_EQ(lit[0].to_string(), "[::1]:443");
  auto local = co_await r.resolve("localhost", 80, AF_INET);
  EXPECT_EQ(ips(local), std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(dns.questions.empty()) << "answered from /etc/hosts";
  EXPECT_THROW(co_await r.resolve("bad name!", 80), net::DnsError);
  EXPECT_THROW(co_await r.resolve("", 80), net::DnsError);
  server.cancel();
}

EDDY_TEST(Dns, OpenConnectionByNameThroughAResolver) {
  eddy_test::DnsServer dns;
  dns.zone["echo.eddy.test"] = {{"127.0.0.1"}, {}, 60};
  auto server = eddy::spawn(dns.serve());
  net::Resolver r(options_for(dns));
  auto listener = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  net::ConnectOptions co;
  co.resolver = &r;
  auto [client, peer] = co_await eddy::gather(
      net::open_connection("echo.eddy.test", listener.port(), co), listener.accept());
  client.write("hi");
  EXPECT_EQ(co_await peer.read(), "hi");
  server.cancel();
}

// A dead server: real time, since c-ares' retransmission timer runs on the real clock.
EDDY_REAL_TEST(Dns, SilentServerTimesOutAndLeaksNothing) {
  eddy_test::DnsServer dns;
  dns.silent = true;
  auto server = eddy::spawn(dns.serve());
  std::size_t before = eddy_test::open_fd_count();
  {
    auto o = options_for(dns);
    o.timeout = 100ms;
    o.tries = 2;
    net::Resolver r(o);
    auto start = eddy::now();
    try {
      co_await r.resolve("slow.eddy.test", 80, AF_INET);
      ADD_FAILURE() << "a silent server answered";
    } catch (const net::DnsError& e) {
      EXPECT_FALSE(e.not_found()) << "a timeout is not 'no such name'";
    }
    EXPECT_GE(eddy::now() - start, 150ms);
    EXPECT_LT(eddy::now() - start, 5s);
    // Cancelled look-ups leave nothing behind either.
    for (int i = 0; i < 50; ++i)
      co_await eddy::move_on_after(1ms, r.resolve("gone" + std::to_string(i) + ".eddy.test", 80));
  }
  EXPECT_EQ(eddy_test::open_fd_count(), before);
  server.cancel();
}
