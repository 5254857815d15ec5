// The state behind a net::Stream: the socket, its registration with the loop, the read and
// write buffers, and (for TLS) the session that sits between them and the socket.
//
// Readiness is tracked as two flags, `rd_ready` and `wr_ready`: set by the poller's edges,
// cleared when a syscall comes back short or with EAGAIN. A reader whose flag is clear waits
// for the next edge instead of making a syscall it knows will fail, which is what keeps an
// echo round trip at one read() and one send(). Queued bytes are sent from on_io() as soon as
// the socket is writable again, so data never waits for the writer to call drain().
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "eddy/detail/io_source.hpp"
#include "eddy/detail/wait.hpp"
#include "eddy/net/stream.hpp"
#include "net/buffer.hpp"

namespace eddy::net::detail {

// What TLS adds between the buffers and the socket (implemented on OpenSSL in tls.cpp).
// Ciphertext to send is appended to `out`; ciphertext is read from the socket by the engine.
class TlsEngine {
 public:
  virtual ~TlsEngine() = default;
  // > 0: plaintext bytes read; 0: the peer closed the TLS session; -1: needs the socket to
  // become readable. Throws TlsError on protocol errors.
  virtual long read(std::span<char> dst, ByteBuffer& out) = 0;
  virtual bool has_buffered_plaintext() const noexcept = 0;
  virtual void write(std::string_view plain, ByteBuffer& out) = 0;
  // Queues close_notify.
  virtual void shutdown(ByteBuffer& out) noexcept = 0;
  virtual std::string alpn() const = 0;
  virtual std::string version() const = 0;
  virtual std::optional<PeerCertificate> peer_certificate() const = 0;
};

class StreamCore final : public eddy::detail::IoSource {
 public:
  StreamCore(int fd, const StreamLimits& limits);
  ~StreamCore();
  StreamCore(const StreamCore&) = delete;
  StreamCore& operator=(const StreamCore&) = delete;

  void on_io(std::uint32_t events) noexcept override;

  // Sends queued bytes without blocking; on failure records `write_error`.
  void flush_now() noexcept;
  // Throws the recorded write error, or if the stream can no longer write.
  void check_writable() const;
  // Closes the descriptor now (idempotent); wakes anyone waiting.
  void close_now() noexcept;

  // Bytes into `dst`, without waiting: > 0 read, 0 EOF, -1 would block. Throws on errors.
  long try_read(std::span<char> dst);
  // One read into `rbuf` without waiting: > 0 bytes added, 0 at EOF, -1 when the reader must
  // wait for readable() (an empty buffer then goes back to the thread's pool, so an idle
  // connection holds none).
  long fill_now();
  // Queues `data` for sending (through TLS if on), sending what the socket takes at once.
  void queue_write(std::string_view data);
  void queue_writev(std::span<const std::string_view> pieces);

  class Readiness final : public eddy::detail::WaitNode {
   public:
    Readiness(StreamCore& c, bool write) noexcept : c_(c), write_(write) {}
    bool await_ready() noexcept;
    bool await_suspend(std::coroutine_handle<> h);
    void await_resume() const { throw_if_withdrawn(); }

   private:
    StreamCore& c_;
    bool write_;
  };
  Readiness readable() noexcept { return Readiness(*this, false); }
  Readiness writable() noexcept { return Readiness(*this, true); }

  // `co_await core.fill()`: fill_now(), first waiting for readable() when it would block; -1
  // after a wake-up that still found nothing, so callers loop on it. No coroutine frame: the
  // HTTP connection and WebSocket receive() wait with it in their own.
  class Fill final : public eddy::detail::WaitNode {
   public:
    explicit Fill(StreamCore& c) noexcept : c_(c) {}
    bool await_ready() {
      n_ = c_.fill_now();
      return n_ >= 0;
    }
    bool await_suspend(std::coroutine_handle<> h) { return suspend_in(c_.readers, h); }
    long await_resume() const {
      throw_if_withdrawn();
      return n_;
    }

   private:
    StreamCore& c_;
    long n_ = -1;
  };
  Fill fill() noexcept { return Fill(*this); }

  int fd;
  StreamLimits limits;
  ByteBuffer rbuf;
  ByteBuffer wbuf;
  std::unique_ptr<TlsEngine> tls;
  int write_error = 0;        // errno of a failed background send
  bool rd_ready = true;       // a read may find data (no EAGAIN seen since the last edge)
  bool wr_ready = true;       // a send may make progress
  bool eof = false;           // the peer finished sending (read returned 0)
  bool hup = false;           // the poller saw RDHUP/HUP/ERR: reads must not wait for edges
  bool write_closed = false;  // shutdown_write or close began: no more writes
  bool reading = false;       // a task is inside a read call
  eddy::detail::WaitList readers;
  eddy::detail::WaitList writers;
};

}  // namespace eddy::net::detail
