// Name resolution that never blocks the loop.
//
//   auto addrs = co_await net::default_resolver().resolve("example.com", 443);
//
// IP literals are returned as they are, without a query. Results are ordered for Happy
// Eyeballs: IPv6 and IPv4 interleaved, starting with the family the system prefers.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "eddy/net/address.hpp"
#include "eddy/net/error.hpp"
#include "eddy/task.hpp"

namespace eddy::net {

struct ResolverOptions {
  // Cached answers live for their DNS TTL, capped at this (aiohttp's ttl_dns_cache);
  // zero disables the cache.
  std::chrono::seconds max_ttl{10};
  // How long "no such name" is remembered.
  std::chrono::seconds negative_ttl{5};
  // Name servers as "ip" or "ip:port"; empty: those of /etc/resolv.conf.
  std::vector<std::string> servers{};
  // Per-query timeout and attempts per server.
  std::chrono::milliseconds timeout{2000};
  int tries = 2;
};

namespace detail {
class ResolverCore;
}

class Resolver {
 public:
  explicit Resolver(ResolverOptions options = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Addresses of `host` with `port` filled in; throws DnsError. `family`: AF_UNSPEC for
  // both, or AF_INET / AF_INET6.
  Task<std::vector<SocketAddress>> resolve(std::string host, std::uint16_t port,
                                           int family = AF_UNSPEC);
  void clear_cache();
  const ResolverOptions& options() const noexcept;

 private:
  std::unique_ptr<detail::ResolverCore> core_;
};

// The resolver of the loop running on this thread, created on first use with default options.
Resolver& default_resolver();

// Orders addresses for Happy Eyeballs (RFC 8305 section 4): alternate families, starting
// with the first address's family.
std::vector<SocketAddress> interleave_families(std::vector<SocketAddress> addrs);

}  // namespace eddy::net
