// http::WebSocket: receiving (frames to messages, control frames, the close handshake, the
// heartbeat) and sending (see eddy/http/websocket.hpp for the rules).
#include <algorithm>
#include <cstring>

#include "core.hpp"
#include "eddy/cancel.hpp"
#include "eddy/error.hpp"
#include "net/stream_core.hpp"

namespace eddy::http {

namespace detail {

void WsCore::init_heartbeat() {
  if (opts.heartbeat.count() > 0) next_ping = now() + opts.heartbeat;
}

void WsCore::mask_key(std::uint8_t out[4]) {
  // Keys come from the kernel's CSPRNG in batches shared by the thread's connections: each
  // key is used once, and one getrandom call per 1,024 frames keeps it off the send path.
  thread_local unsigned char keys[4096];
  thread_local std::size_t left = 0;
  if (left < 4) {
    random_bytes(keys, sizeof keys);
    left = sizeof keys;
  }
  std::memcpy(out, keys + sizeof keys - left, 4);
  left -= 4;
}

void WsCore::queue_frame(Opcode op, std::string_view payload, bool rsv1) {
  std::uint8_t mask[4];
  if (client) mask_key(mask);
  // Small frames (chat lines, JSON events) are built on the stack and go out in one plain
  // write; large ones as header + payload (the server's unmasked payload is not copied).
  constexpr std::size_t kSmall = 512;
  if (payload.size() <= kSmall) {
    char buf[kSmall + kMaxFrameHeader];
    std::size_t head =
        write_frame_header(buf, op, true, rsv1, payload.size(), client ? mask : nullptr);
    if (!payload.empty()) std::memcpy(buf + head, payload.data(), payload.size());
    if (client) apply_mask(buf + head, payload.size(), mask, 0);
    s->write(std::string_view(buf, head + payload.size()));
    return;
  }
  if (!client) {
    char head[kMaxFrameHeader];
    std::size_t n = write_frame_header(head, op, true, rsv1, payload.size(), nullptr);
    std::string_view pieces[2] = {std::string_view(head, n), payload};
    s->write(std::span<const std::string_view>(pieces, 2));
    return;
  }
  std::string frame;
  frame.reserve(payload.size() + kMaxFrameHeader);
  append_frame_header(frame, op, true, rsv1, payload.size(), mask);
  std::size_t at = frame.size();
  frame.append(payload);
  apply_mask(frame.data() + at, payload.size(), mask, 0);
  s->write(frame);
}

void WsCore::queue_message(Opcode op, std::string_view data) {
  if (deflate)
    queue_frame(op, deflate->compress(data), true);
  else
    queue_frame(op, data);
}

bool WsCore::send_close(std::uint16_t code, std::string_view reason) noexcept {
  if (close_sent) return true;
  close_sent = true;
  std::string payload;
  if (code != 1005) {  // 1005 ("none given") is never sent: the frame stays empty
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    payload.append(reason.substr(0, 123));
  }
  try {
    queue_frame(Opcode::close, payload);
    return true;
  } catch (const std::exception&) {
    return false;  // the connection is already gone
  }
}

void WsCore::fail(std::uint16_t code, std::string_view reason) {
  if (closed) return;
  send_close(code, reason);  // if the connection is gone, there is nobody to tell
  finish(code, reason);
}

void WsCore::finish(std::uint16_t code, std::string_view reason) {
  if (closed) return;
  closed = true;
  close_code = code;
  close_reason = std::string(reason);
  closed_event.set();
}

namespace {

// A deadline interrupted receive()'s wait for bytes: sends the heartbeat's ping, or finishes
// the socket with 1006 when the peer did not answer a ping or our close in time (false).
bool on_wait_deadline(WsCore& c) {
  if (now() >= c.close_due) {
    c.finish(1006, "no close frame from the peer in time");
    return false;
  }
  if (now() >= c.pong_due) {
    c.finish(1006, "no pong within half the heartbeat");
    return false;
  }
  if (now() >= c.next_ping) {
    c.queue_frame(Opcode::ping, {});
    c.pong_due = now() + c.opts.heartbeat / 2;
    c.next_ping = TimePoint::max();
  }
  return true;
}

// The close frame's code and reason; false (with the code to fail with) if malformed.
bool parse_close(std::string_view p, std::uint16_t& code, std::string& reason,
                 std::uint16_t& fail_code) {
  if (p.empty()) {
    code = 1005;
    return true;
  }
  if (p.size() == 1) {
    fail_code = 1002;
    return false;
  }
  code = static_cast<std::uint16_t>((std::uint8_t(p[0]) << 8) | std::uint8_t(p[1]));
  if (!valid_close_code(code)) {
    fail_code = 1002;
    return false;
  }
  reason = std::string(p.substr(2));
  if (!Utf8Validator::valid(reason)) {
    fail_code = 1007;
    return false;
  }
  return true;
}

// After a failure or the peer's close: our side of the transport. The client closes its
// socket (flushing the close frame); the server flushes and leaves closing to the HTTP
// connection, which ends when the handler returns.
Task<> end_transport(WsCore& c) {
  try {
    if (c.client)
      co_await move_on_after(c.opts.close_timeout, c.owned.close());
    else
      co_await move_on_after(c.opts.close_timeout, c.s->flush());
  } catch (const Error&) {
    // already broken: nothing left to flush
  }
  if (c.client) c.owned.abort();
}

}  // namespace

// One frame from the buffer, whole: a message when one completes, nothing otherwise.
// Consumes the frame. Sets c.closed on a close frame or a violation.
std::optional<WsMessage> take_frame(WsCore& c, const FrameHeader& h) {
  net::Stream& s = *c.s;
  std::string_view raw = s.buffered().substr(h.header_size, h.length);
  std::size_t frame_size = h.header_size + h.length;
  if (h.masked == c.client) {
    c.fail(1002, c.client ? "a masked frame from the server" : "an unmasked frame from the client");
    return std::nullopt;
  }
  auto unmasked = [&](std::string& into) {
    std::size_t at = into.size();
    into.append(raw);
    if (h.masked) apply_mask(into.data() + at, raw.size(), h.mask, 0);
  };
  if (is_control(h.opcode)) {
    std::string payload;
    unmasked(payload);
    s.consume(frame_size);
    if (h.opcode == Opcode::close) {
      std::uint16_t code = 0, bad = 0;
      std::string reason;
      if (!parse_close(payload, code, reason, bad)) {
        c.fail(bad, bad == 1007 ? "close reason is not UTF-8" : "malformed close frame");
        return std::nullopt;
      }
      c.send_close(code, {});  // echo the code (RFC 6455 §5.5.1), then we are done
      c.finish(code, reason);
      return std::nullopt;
    }
    if (h.opcode == Opcode::ping) {
      if (c.opts.autoping) {
        if (!c.close_sent) c.queue_frame(Opcode::pong, payload);
        return std::nullopt;
      }
      return WsMessage{WsMessage::ping, std::move(payload)};
    }
    c.pong_due = TimePoint::max();  // a pong: the heartbeat is answered
    if (c.opts.heartbeat.count() > 0) c.next_ping = now() + c.opts.heartbeat;
    if (c.opts.autoping) return std::nullopt;
    return WsMessage{WsMessage::pong, std::move(payload)};
  }

  // A whole uncompressed message in one frame, the common case: unmasked straight into the
  // message's own string, skipping the reassembly buffer.
  if (h.fin && h.opcode != Opcode::continuation && !c.message_op && !h.rsv1) {
    bool text = h.opcode == Opcode::text;
    WsMessage m{text ? WsMessage::text : WsMessage::binary, std::string(raw)};
    if (h.masked) apply_mask(m.data.data(), m.data.size(), h.mask, 0);
    s.consume(frame_size);
    if (text) {
      Utf8Validator v;
      bool valid = v.feed(m.data);
      if (!valid || !v.complete()) {
        c.fail(1007, valid ? "text that ends inside a UTF-8 sequence" : "text that is not UTF-8");
        return std::nullopt;
      }
    }
    return m;
  }

  // Data frames: the first of a message (text or binary) or the next of one (continuation).
  if (h.opcode == Opcode::continuation) {
    if (!c.message_op) {
      c.fail(1002, "a continuation frame with no message to continue");
      return std::nullopt;
    }
    if (h.rsv1) {
      c.fail(1002, "rsv1 on a continuation frame");
      return std::nullopt;
    }
  } else {
    if (c.message_op) {
      c.fail(1002, "a new message before the last one ended");
      return std::nullopt;
    }
    c.message_op = h.opcode;
    c.message_compressed = h.rsv1;
    c.message.clear();
    c.utf8.reset();
  }
  std::size_t before = c.message.size();
  unmasked(c.message);
  s.consume(frame_size);
  bool text = *c.message_op == Opcode::text;
  if (text && !c.message_compressed && !c.utf8.feed(std::string_view(c.message).substr(before))) {
    c.fail(1007, "text that is not UTF-8");
    return std::nullopt;
  }
  if (!h.fin) return std::nullopt;

  // The message is complete.
  WsMessage m{text ? WsMessage::text : WsMessage::binary, {}};
  if (c.message_compressed) {
    std::string out;
    bool fits = false;
    try {
      fits = c.deflate->decompress(c.message, true, out, c.opts.max_message_size);
    } catch (const std::exception&) {
      c.fail(1007, "a corrupt compressed message");
      return std::nullopt;
    }
    if (!fits) {
      c.fail(1009, "message too big");
      return std::nullopt;
    }
    if (text && !Utf8Validator::valid(out)) {
      c.fail(1007, "text that is not UTF-8");
      return std::nullopt;
    }
    m.data = std::move(out);
  } else {
    if (text && !c.utf8.complete()) {
      c.fail(1007, "text that ends inside a UTF-8 sequence");
      return std::nullopt;
    }
    m.data = std::move(c.message);
  }
  c.message.clear();
  c.message_op.reset();
  return m;
}

}  // namespace detail

using detail::Opcode;

WebSocket::WebSocket() noexcept = default;
WebSocket::WebSocket(std::unique_ptr<detail::WsCore> core) noexcept : c_(std::move(core)) {}
WebSocket::WebSocket(WebSocket&&) noexcept = default;
WebSocket& WebSocket::operator=(WebSocket&&) noexcept = default;
WebSocket::~WebSocket() {
  if (c_ && c_->client) c_->owned.abort();
}

Task<std::optional<WsMessage>> WebSocket::receive() {
  if (!c_) co_return std::nullopt;
  detail::WsCore& c = *c_;
  if (c.receiving) throw InvalidStateError("eddy::http::WebSocket: receive() is already waiting");
  c.receiving = true;
  struct Done {
    detail::WsCore& c;
    ~Done() { c.receiving = false; }
  } done{c};
  for (;;) {
    if (c.closed) co_return std::nullopt;
    detail::FrameHeader h;
    detail::FrameError err{};
    // A data frame may carry what is left of the message's budget (its compressed form
    // cannot be larger than the message is allowed to be, either).
    std::uint64_t budget = c.opts.max_message_size -
                           std::min(c.opts.max_message_size, c.message_op ? c.message.size() : 0);
    bool ok = detail::parse_frame_header(c.s->buffered(), c.deflate != nullptr, budget, h, err);
    if (!ok) {
      c.fail(err.code, err.what);
      co_await detail::end_transport(c);
      co_return std::nullopt;
    }
    if (h.header_size && c.s->buffered().size() >= h.header_size + h.length) {
      std::optional<WsMessage> m = detail::take_frame(c, h);
      if (c.closed) {
        co_await detail::end_transport(c);
        co_return std::nullopt;
      }
      if (m) {
        if (c.opts.heartbeat.count() > 0 && c.pong_due == TimePoint::max())
          c.next_ping = now() + c.opts.heartbeat;
        co_return m;
      }
      continue;
    }
    // Wait for more bytes, under the earliest of the heartbeat's and the close handshake's
    // deadlines; try_close() interrupts the wait (wait_scope) so a new deadline applies.
    // Written out here rather than as a helper coroutine: a frame less per message.
    bool got = false, interrupted = false;
    {
      eddy::detail::ScopeGuard scope(std::min({c.next_ping, c.pong_due, c.close_due}), false);
      c.wait_scope = &scope;
      try {
        // Stream::fill written out, so that this frame does the waiting: a coroutine frame
        // less per message (this is the stream's only reader).
        if (net::detail::StreamCore* sc = c.s->core()) {
          long n;
          do {
            n = co_await sc->fill();
          } while (n < 0);
          got = n > 0;
        }
      } catch (const Cancelled&) {
        c.wait_scope = nullptr;
        if (!eddy::detail::cancelled_by(scope)) throw;
        interrupted = true;
      } catch (const ConnectionError&) {
        got = false;
      }
      c.wait_scope = nullptr;
    }
    if (interrupted) {
      if (detail::on_wait_deadline(c)) continue;
    } else if (got && c.pong_due == TimePoint::max() && c.opts.heartbeat.count() > 0) {
      c.next_ping = now() + c.opts.heartbeat;
    }
    if (!got) {
      c.finish(1006, "the connection ended without a close frame");
      if (c.client) c.owned.abort();
      co_return std::nullopt;
    }
  }
}

// Queues one frame (data or control) on an open socket, then waits out backpressure. The
// frame is queued before the first suspension, so the caller's view need not outlive it.
Task<> WebSocket::send(Opcode op, std::string_view payload) {
  if (closing()) throw InvalidStateError("eddy::http::WebSocket is closed");
  if (is_control(op)) {
    if (payload.size() > 125)
      throw std::invalid_argument("a ping or pong carries at most 125 bytes");
    c_->queue_frame(op, payload);
  } else {
    c_->queue_message(op, payload);
  }
  // Stream::drain returns at once under the high-water mark; checking first saves a
  // coroutine frame per message on the hot path.
  if (c_->s->write_buffer_size() > c_->s->limits().write_high_water) co_await c_->s->drain();
}

Task<> WebSocket::send_text(std::string_view text) {
  return send(Opcode::text, text);
}
Task<> WebSocket::send_binary(std::string_view data) {
  return send(Opcode::binary, data);
}
Task<> WebSocket::ping(std::string_view payload) {
  return send(Opcode::ping, payload);
}
Task<> WebSocket::pong(std::string_view payload) {
  return send(Opcode::pong, payload);
}

bool WebSocket::try_send(std::string_view data, bool binary) {
  if (closing() || c_->s->write_buffer_size() > c_->opts.max_queued) return false;
  try {
    c_->queue_message(binary ? Opcode::binary : Opcode::text, data);
  } catch (const Error&) {
    return false;  // the connection broke: the receiving side will see it
  }
  return true;
}

Task<> WebSocket::close(std::uint16_t code, std::string_view reason) {
  if (!c_ || c_->closed) co_return;
  detail::WsCore& c = *c_;
  if (!c.send_close(code, reason)) {
    c.finish(1006, "the connection is gone");
    co_return;
  }
  if (c.receiving) {  // the receiving task will see the peer's close frame
    co_await move_on_after(c.opts.close_timeout, c.closed_event.wait());
  } else {
    // Read (and drop) what the peer still sends, until its close frame. (Not
    // `while (co_await receive())`: GCC 12 miscompiles a co_await in a loop condition whose
    // result (an optional<WsMessage>) needs destroying.)
    TimePoint deadline = eddy::detail::deadline_after(c.opts.close_timeout);
    while (!c.closed) {
      std::optional<std::optional<WsMessage>> got = co_await move_on_at(deadline, receive());
      if (!got) break;
    }
  }
  if (!c.closed) c.finish(1006, "no close frame from the peer in time");
  co_await detail::end_transport(c);
}

void WebSocket::try_close(std::uint16_t code, std::string_view reason) noexcept {
  if (closing()) return;
  c_->close_due = now() + c_->opts.close_timeout;
  if (c_->wait_scope) c_->wait_scope->cancel();  // the waiting receive() takes the deadline
  if (!c_->send_close(code, reason)) c_->finish(1006, "the connection is gone");
}

bool WebSocket::closing() const noexcept {
  return !c_ || c_->closed || c_->close_sent;
}

bool WebSocket::closed() const noexcept {
  return !c_ || c_->closed;
}
std::uint16_t WebSocket::close_code() const noexcept {
  return c_ ? c_->close_code : 1006;
}
std::string_view WebSocket::close_reason() const noexcept {
  return c_ ? std::string_view(c_->close_reason) : std::string_view();
}
std::string_view WebSocket::protocol() const noexcept {
  return c_ ? std::string_view(c_->protocol) : std::string_view();
}
bool WebSocket::compressed() const noexcept {
  return c_ && c_->deflate;
}
std::size_t WebSocket::queued() const noexcept {
  return c_ && c_->s ? c_->s->write_buffer_size() : 0;
}

}  // namespace eddy::http
