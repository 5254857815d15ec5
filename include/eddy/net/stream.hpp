// Stream: a connected byte stream (TCP, Unix, or TLS over either) with asyncio's buffered
// reader and writer in one object.
//
//   net::Stream s = co_await net::open_connection("example.com", 80);
//   s.write("GET / HTTP/1.0\r\n\r\n");
//   co_await s.drain();                      // backpressure: waits only if too much is queued
//   while (auto line = co_await s.read_line(); !line.empty()) ...
//   co_await s.close();                      // flushes, sends TLS close_notify, closes
//
// Reading. Every read is a cancellation point and loses nothing when cancelled: bytes already
// received stay buffered for the next read. `read_until`/`read_line` look for the separator
// within the read limit (StreamLimits::read_limit, 64 KiB like asyncio) and throw
// LimitOverrunError past it instead of buffering without bound. At EOF, `read_some`/`read`
// return nothing, `read_line` returns what is left, `read_exactly`/`read_until` throw
// IncompleteReadError. One task reads at a time (a second concurrent reader is an error);
// another task may write meanwhile.
//
// Writing. `write` queues bytes and returns at once (it tries the socket first, so a small
// write usually costs one send() and nothing else); the loop keeps sending what is queued in
// the background. `drain()` is the backpressure point: it returns at once while the queue is
// at most the high-water mark, and otherwise waits until it is down to the low-water mark.
// Write errors surface at the next write, drain or close. A cancelled drain leaves the bytes
// queued: they are still sent.
//
// Closing. `close()` flushes and closes; `abort()` (and the destructor) close at once and drop
// what is still queued. Each closes the descriptor exactly once.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "eddy/net/address.hpp"
#include "eddy/net/error.hpp"
#include "eddy/task.hpp"

namespace eddy::net {

namespace detail {
class StreamCore;
}

struct StreamLimits {
  // Longest line or separator-terminated record read_until/read_line will buffer.
  std::size_t read_limit = 64 * 1024;
  // drain() waits while more than `write_high_water` bytes are queued, until at most
  // `write_low_water` remain (asyncio's write buffer limits).
  std::size_t write_high_water = 64 * 1024;
  std::size_t write_low_water = 16 * 1024;
};

// What the peer's TLS certificate says (Python's getpeercert()), for servers that authorise
// clients by certificate and for clients that log whom they talked to.
struct PeerCertificate {
  std::string subject;                    // one-line RFC 2253 form: "CN=eddy client,O=..."
  std::string common_name;                // the subject's CN, if any
  std::string issuer;                     // RFC 2253 form
  std::vector<std::string> dns_names;     // subjectAltName DNS entries
  std::vector<std::string> ip_addresses;  // subjectAltName IP entries, as text
  std::string serial;                     // hexadecimal
  std::int64_t not_before = 0;            // validity, seconds since the epoch
  std::int64_t not_after = 0;
  bool verified = false;  // the chain was verified against the trusted CAs
};

struct KeepAlive {
  std::chrono::seconds idle{60};      // TCP_KEEPIDLE
  std::chrono::seconds interval{10};  // TCP_KEEPINTVL
  int probes = 6;                     // TCP_KEEPCNT
};

class Stream {
 public:
  Stream() noexcept;
  Stream(Stream&&) noexcept;
  Stream& operator=(Stream&&) noexcept;
  ~Stream();

  // Adopts a connected socket (made non-blocking here). Throws if `fd` is not a socket.
  static Stream adopt(int fd, StreamLimits limits = {});

  bool is_open() const noexcept;
  explicit operator bool() const noexcept { return is_open(); }

  // --- reading
  // Up to buf.size() bytes; 0 only at EOF (or for an empty buffer).
  Task<std::size_t> read_some(std::span<char> buf);
  // Up to `max` bytes (asyncio's read(n)); empty only at EOF.
  Task<std::string> read(std::size_t max = 64 * 1024);
  // Exactly `n` bytes, or IncompleteReadError.
  Task<std::string> read_exactly(std::size_t n);
  // Up to and including `sep` (non-empty). LimitOverrunError past the read limit,
  // IncompleteReadError at EOF.
  Task<std::string> read_until(std::string_view sep);
  // One line including its "\n"; at EOF what is left (maybe without "\n"), then "".
  Task<std::string> read_line();
  // Everything up to EOF; LimitOverrunError if more than `max` bytes arrive.
  Task<std::string> read_to_eof(std::size_t max = SIZE_MAX);

  // Zero-copy access for parsers: the bytes received and not consumed, `fill()` to receive
  // more (false at EOF; the buffer grows as needed, so the parser enforces its own limits),
  // and `consume(n)` to drop bytes it has parsed.
  std::string_view buffered() const noexcept;
  Task<bool> fill();
  void consume(std::size_t n) noexcept;
  bool at_eof() const noexcept;  // EOF seen and nothing buffered

  // --- writing
  void write(std::string_view data);
  void write(std::span<const std::string_view> pieces);  // gathered into one writev
  Task<> drain();
  Task<> write_all(std::string_view data);  // write + drain
  Task<> flush();                           // until everything queued is with the kernel
  std::size_t write_buffer_size() const noexcept;
  // Flush, then half-close: the peer reads EOF; this side can still read.
  Task<> shutdown_write();
  // Sends `count` bytes of the open file `file_fd` from `offset`, after everything already
  // queued: with sendfile(2) on a plain socket (the bytes never pass through user space),
  // read and encrypted in 64 KiB pieces over TLS. Backpressure as drain(); throws
  // eddy::Error if the file turns out shorter. Reading the file can block on a disk that
  // is not in the page cache, as nginx's sendfile does.
  Task<> send_file(int file_fd, std::uint64_t offset, std::uint64_t count);

  // --- closing
  Task<> close();
  void abort() noexcept;

  // --- the socket
  SocketAddress local_address() const;
  SocketAddress peer_address() const;
  int native_handle() const noexcept;
  void set_nodelay(bool on);
  void set_keepalive(std::optional<KeepAlive> ka);
  const StreamLimits& limits() const noexcept;
  void set_limits(const StreamLimits& limits) noexcept;

  // TLS (eddy/net/tls.hpp): whether this stream is encrypted, and the protocol ALPN chose.
  bool is_tls() const noexcept;
  std::string alpn_protocol() const;
  std::string tls_version() const;  // "TLSv1.3"; "" for a plain stream
  // The peer's certificate; nullopt on a plain stream or if the peer sent none.
  std::optional<PeerCertificate> peer_certificate() const;

  detail::StreamCore* core() const noexcept { return core_.get(); }
  explicit Stream(std::unique_ptr<detail::StreamCore> core) noexcept;

 private:
  std::unique_ptr<detail::StreamCore> core_;
};

}  // namespace eddy::net
