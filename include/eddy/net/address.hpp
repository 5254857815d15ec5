// Socket addresses: IPv4, IPv6 and Unix-domain, as one value type.
//
//   auto a = net::SocketAddress::parse("127.0.0.1", 8080);   // IP literals only, no DNS
//   auto u = net::SocketAddress::unix_path("/run/app.sock");
//   fmt::print("{}", a.to_string());                          // "127.0.0.1:8080", "[::1]:443"
//
// Names are resolved by net::Resolver (eddy/net/dns.hpp); this type never blocks.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::net {

class SocketAddress {
 public:
  SocketAddress() noexcept;
  SocketAddress(const sockaddr* sa, socklen_t len) noexcept;

  // An IPv4 or IPv6 literal ("10.0.0.1", "::1", "[::1]", "fe80::1%eth0"), or nullopt.
  static std::optional<SocketAddress> parse(std::string_view ip, std::uint16_t port) noexcept;
  static SocketAddress unix_path(std::string_view path);
  static SocketAddress ipv4_any(std::uint16_t port) noexcept;
  static SocketAddress ipv6_any(std::uint16_t port) noexcept;

  int family() const noexcept { return storage_.ss_family; }
  bool is_ipv4() const noexcept { return family() == AF_INET; }
  bool is_ipv6() const noexcept { return family() == AF_INET6; }
  bool is_unix() const noexcept { return family() == AF_UNIX; }
  bool empty() const noexcept { return family() == AF_UNSPEC; }

  std::uint16_t port() const noexcept;         // 0 for Unix addresses
  void set_port(std::uint16_t port) noexcept;  // no effect on Unix addresses
  std::string ip() const;                      // "127.0.0.1", "::1"; the path for Unix addresses
  std::string to_string() const;               // "127.0.0.1:80", "[::1]:80", "unix:/path"

  const sockaddr* data() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* data() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  void set_size(socklen_t n) noexcept { len_ = n; }
  static constexpr socklen_t capacity() noexcept { return sizeof(sockaddr_storage); }

  friend bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept;

 private:
  sockaddr_storage storage_;
  socklen_t len_;
};

// True if `host` is an IP literal (which never goes through DNS).
bool is_ip_literal(std::string_view host) noexcept;

}  // namespace eddy::net
