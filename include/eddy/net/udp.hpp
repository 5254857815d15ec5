// UDP (and Unix datagram) endpoints: asyncio's create_datagram_endpoint as awaits.
//
//   auto sock = net::DatagramSocket::bind(*net::SocketAddress::parse("127.0.0.1", 5353));
//   char buf[1500];
//   auto got = co_await sock.receive_from(buf);        // one datagram, and who sent it
//   co_await sock.send_to({buf, got.size}, got.from);
//
// One call moves one datagram. A datagram longer than the buffer is cut to fit and reported
// (`truncated`), as recvmsg does; nothing is buffered between calls, so a cancelled receive
// loses nothing that was not yet received. Sends wait only when the kernel's send buffer is
// full. Every wait is a cancellation point. Several tasks may receive (or send) at once; each
// datagram goes to one of them.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "eddy/net/address.hpp"
#include "eddy/task.hpp"

namespace eddy::net {

namespace detail {
class DatagramCore;
}

struct DatagramOptions {
  bool reuse_address = false;  // SO_REUSEADDR
  bool reuse_port = false;     // SO_REUSEPORT: several sockets share the port
  bool broadcast = false;      // SO_BROADCAST
  bool dual_stack = true;      // an IPv6 socket also sends and receives IPv4
  int receive_buffer = 0;      // SO_RCVBUF, bytes; 0 keeps the system default
  int send_buffer = 0;         // SO_SNDBUF
};

struct Received {
  std::size_t size = 0;    // bytes stored in the buffer
  SocketAddress from{};    // sender (empty on a connected socket's receive())
  bool truncated = false;  // the datagram was longer than the buffer; the rest is lost
};

class DatagramSocket {
 public:
  DatagramSocket() noexcept;
  DatagramSocket(DatagramSocket&&) noexcept;
  DatagramSocket& operator=(DatagramSocket&&) noexcept;
  ~DatagramSocket();

  // Bound to `local` (port 0: any free port). Works for IPv4, IPv6 and Unix paths.
  static DatagramSocket bind(const SocketAddress& local, const DatagramOptions& options = {});
  // Connected to `remote`: send()/receive() without addresses, and only `remote`'s datagrams
  // are received. `local` may be empty (the kernel picks).
  static DatagramSocket connect(const SocketAddress& remote, const SocketAddress& local = {},
                                const DatagramOptions& options = {});
  // Unbound, for send_to only (the kernel binds an ephemeral port on the first send).
  static DatagramSocket open(int family = AF_INET, const DatagramOptions& options = {});

  Task<Received> receive_from(std::span<char> buffer);
  Task<> send_to(std::string_view data, SocketAddress to);
  Task<std::size_t> receive(std::span<char> buffer);  // connected sockets
  Task<> send(std::string_view data);                 // connected sockets

  SocketAddress local_address() const;
  SocketAddress peer_address() const;  // connected sockets
  std::uint16_t port() const { return local_address().port(); }
  int native_handle() const noexcept;
  bool is_open() const noexcept;
  // Pending receives and sends throw ConnectionError; the descriptor is closed at once.
  void close() noexcept;

 private:
  explicit DatagramSocket(int fd);
  std::unique_ptr<detail::DatagramCore> core_;
};

}  // namespace eddy::net
