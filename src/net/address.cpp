// See include/eddy/net/address.hpp.
#include "eddy/net/address.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace eddy::net {

SocketAddress::SocketAddress() noexcept : storage_{}, len_(0) {
  storage_.ss_family = AF_UNSPEC;
}

SocketAddress::SocketAddress(const sockaddr* sa, socklen_t len) noexcept : SocketAddress() {
  if (len > sizeof storage_) len = sizeof storage_;
  std::memcpy(&storage_, sa, len);
  len_ = len;
}

std::optional<SocketAddress> SocketAddress::parse(std::string_view ip,
                                                  std::uint16_t port) noexcept {
  if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
  if (ip.empty() || ip.size() >= INET6_ADDRSTRLEN + IF_NAMESIZE) return std::nullopt;
  char buf[INET6_ADDRSTRLEN + IF_NAMESIZE + 1];
  std::memcpy(buf, ip.data(), ip.size());
  buf[ip.size()] = '\0';
  SocketAddress a;
  sockaddr_in v4{};
  if (::inet_pton(AF_INET, buf, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    std::memcpy(&a.storage_, &v4, sizeof v4);
    a.len_ = sizeof v4;
    return a;
  }
  sockaddr_in6 v6{};
  char* zone = std::strchr(buf, '%');
  if (zone) *zone++ = '\0';
  if (::inet_pton(AF_INET6, buf, &v6.sin6_addr) != 1) return std::nullopt;
  if (zone) {
    unsigned idx = ::if_nametoindex(zone);
    if (idx == 0) {
      char* end = nullptr;
      unsigned long n = std::strtoul(zone, &end, 10);
      if (*zone == '\0' || *end != '\0') return std::nullopt;
      idx = static_cast<unsigned>(n);
    }
    v6.sin6_scope_id = idx;
  }
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  std::memcpy(&a.storage_, &v6, sizeof v6);
  a.len_ = sizeof v6;
  return a;
}

SocketAddress SocketAddress::unix_path(std::string_view path) {
  sockaddr_un un{};
  if (path.empty() || path.size() >= sizeof un.sun_path)
    throw std::invalid_argument(fmt::format("eddy: bad Unix socket path '{}' (1 to {} bytes)", path,
                                            sizeof un.sun_path - 1));
  un.sun_family = AF_UNIX;
  std::memcpy(un.sun_path, path.data(), path.size());
  SocketAddress a;
  std::memcpy(&a.storage_, &un, sizeof un);
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  return a;
}

SocketAddress SocketAddress::ipv4_any(std::uint16_t port) noexcept {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(port);
  v4.sin_addr.s_addr = htonl(INADDR_ANY);
  return SocketAddress(reinterpret_cast<sockaddr*>(&v4), sizeof v4);
}

SocketAddress SocketAddress::ipv6_any(std::uint16_t port) noexcept {
  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(port);
  v6.sin6_addr = in6addr_any;
  return SocketAddress(reinterpret_cast<sockaddr*>(&v6), sizeof v6);
}

std::uint16_t SocketAddress::port() const noexcept {
  if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

void SocketAddress::set_port(std::uint16_t port) noexcept {
  if (is_ipv4()) reinterpret_cast<sockaddr_in*>(&storage_)->sin_port = htons(port);
  if (is_ipv6()) reinterpret_cast<sockaddr_in6*>(&storage_)->sin6_port = htons(port);
}

std::string SocketAddress::ip() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_ipv4()) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, buf,
                sizeof buf);
    return buf;
  }
  if (is_ipv6()) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&storage_);
    ::inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    std::string s = buf;
    if (v6->sin6_scope_id != 0) s += fmt::format("%{}", v6->sin6_scope_id);
    return s;
  }
  if (is_unix()) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
    std::size_t max =
        len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
    return std::string(un->sun_path, strnlen(un->sun_path, max));
  }
  return {};
}

std::string SocketAddress::to_string() const {
  if (is_ipv4()) return fmt::format("{}:{}", ip(), port());
  if (is_ipv6()) return fmt::format("[{}]:{}", ip(), port());
  if (is_unix()) return "unix:" + ip();
  return "(no address)";
}

bool operator==(const SocketAddress& a, const SocketAddress& b) noexcept {
  return a.len_ == b.len_ && std::memcmp(&a.storage_, &b.storage_, a.len_) == 0;
}

bool is_ip_literal(std::string_view host) noexcept {
  return SocketAddress::parse(host, 0).has_value();
}

}  // namespace eddy::net
