// The state behind an http::WebSocket: its stream, the message being reassembled, the
// close handshake and the heartbeat. Made by the server's upgrade and by ws_connect.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "deflate.hpp"
#include "eddy/cancel.hpp"
#include "eddy/http/websocket.hpp"
#include "eddy/net/stream.hpp"
#include "eddy/sync/event.hpp"
#include "eddy/time.hpp"
#include "frame.hpp"
#include "utf8.hpp"

namespace eddy::http::detail {

struct WsCore {
  // Client side: the socket is ours. Server side: the HTTP connection's, lent for the
  // handler's run (`s` points at one or the other).
  net::Stream owned;
  net::Stream* s = nullptr;
  bool client = false;  // we mask what we send; the peer must not
  WebSocketOptions opts;
  std::unique_ptr<MessageDeflate> deflate;
  std::string protocol;

  // The message being reassembled from its frames.
  std::string message;
  std::optional<Opcode> message_op;
  bool message_compressed = false;
  Utf8Validator utf8;

  bool receiving = false;  // a task is inside receive()

  // Closing.
  Event closed_event;  // set when `closed` becomes true (close() waits on it)
  bool close_sent = false;
  bool closed = false;
  std::uint16_t close_code = 0;
  std::string close_reason;

  // Heartbeat: when receive() sends the next ping, and by when its pong must come.
  TimePoint next_ping = TimePoint::max();
  TimePoint pong_due = TimePoint::max();
  // After try_close(): by when the peer's close frame must come (receive() gives up then).
  TimePoint close_due = TimePoint::max();
  eddy::detail::ScopeGuard* wait_scope = nullptr;  // receive()'s wait for bytes, if waiting

  void init_heartbeat();
  void mask_key(std::uint8_t out[4]);
  // One frame, queued whole (so frames from different tasks never interleave).
  void queue_frame(Opcode op, std::string_view payload, bool rsv1 = false);
  // A text or binary message: compressed when permessage-deflate is on.
  void queue_message(Opcode op, std::string_view data);
  // Our close frame, once (1005 goes out as an empty frame); false if the connection is
  // already gone.
  bool send_close(std::uint16_t code, std::string_view reason) noexcept;
  // Fails the connection: our close frame with `code` (unless one went out), then the
  // socket closes. receive() returns nullopt from then on.
  void fail(std::uint16_t code, std::string_view reason);
  void finish(std::uint16_t code, std::string_view reason);  // closed, no frame
};

}  // namespace eddy::http::detail
