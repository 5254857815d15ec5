// WebSocket (RFC 6455, with permessage-deflate from RFC 7692): aiohttp's WebSocketResponse
// and ClientWebSocketResponse in one type.
//
//   // server: a route whose handler gets the open socket
//   app.ws("/echo", [](http::Request&, http::WebSocket& ws) -> Task<> {
//     while (auto msg = co_await ws.receive()) {
//       if (msg->type == http::WsMessage::text) co_await ws.send_text(msg->data);
//     }
//   });
//
//   // client: through a Session (its timeouts, TLS settings and proxy)
//   http::WebSocket ws = co_await session.ws_connect("wss://example.com/feed");
//   co_await ws.send_text(R"({"subscribe": "prices"})");
//   while (auto msg = co_await ws.receive()) handle(msg->data);
//
// receive() returns whole messages (fragments reassembled, compressed ones inflated, text
// checked to be UTF-8 as it arrives) and nullopt once the socket is closed; the close code
// the peer sent is then close_code(). Pings are answered with pongs inside receive()
// (`autoping`); with `heartbeat` set, receive() also pings a quiet peer and closes (1006,
// abnormal) when no pong comes back within half the heartbeat.
//
// Failures close the connection with the code RFC 6455 asks for, and receive() returns
// nullopt: 1002 for a protocol violation (an unmasked client frame, a bad opcode, a
// fragmented control frame...), 1007 for text that is not UTF-8 or a corrupt compressed
// message, 1009 for a message above `max_message_size`.
//
// Sending: send_text/send_binary/ping queue one frame each (frames never interleave, so any
// task may send while another receives) and wait only for backpressure, as Stream::drain.
// close() sends a close frame, waits up to `close_timeout` for the peer's, and closes the
// connection. A cancelled receive() loses nothing: a message is taken off the buffer only
// when it is complete.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "eddy/http/error.hpp"
#include "eddy/task.hpp"

namespace eddy::net {
class Stream;
}

namespace eddy::http {

class Request;
class Response;

// A message: text (valid UTF-8) or binary; ping and pong only with autoping off.
struct WsMessage {
  enum Type { text, binary, ping, pong };
  Type type = text;
  std::string data;
};

struct WebSocketOptions {
  WebSocketOptions() noexcept {}
  std::size_t max_message_size = 4 << 20;  // larger messages close the connection with 1009
  bool autoping = true;  // answer pings inside receive(); false: receive() returns them
  std::chrono::milliseconds heartbeat{0};           // ping a quiet peer this often (0: never)
  std::chrono::milliseconds close_timeout{10'000};  // for the peer's close frame
  bool compress = true;  // offer (client) or accept (server) permessage-deflate
  // Server: subprotocols spoken, in preference order; the first one the client offers is
  // chosen. Client: the ones offered.
  std::vector<std::string> protocols{};
  // Server: called with the Origin header (empty if none); false refuses the handshake (403).
  std::function<bool(std::string_view origin)> check_origin{};
  // Queued outgoing bytes above which try_send() refuses (a slow reader, for broadcasts).
  std::size_t max_queued = 1 << 20;
};

namespace detail {
struct WsCore;
enum class Opcode : std::uint8_t;
}  // namespace detail

class WebSocket {
 public:
  WebSocket() noexcept;
  WebSocket(WebSocket&&) noexcept;
  WebSocket& operator=(WebSocket&&) noexcept;
  ~WebSocket();  // an open socket is closed at once (no close handshake)

  // The next message; nullopt once the socket is closed (see close_code()).
  Task<std::optional<WsMessage>> receive();

  Task<> send_text(std::string_view text);
  Task<> send_binary(std::string_view data);
  Task<> ping(std::string_view payload = {});
  Task<> pong(std::string_view payload = {});
  // Queues a message without waiting; false (nothing queued) when the socket is closed or
  // more than max_queued bytes are already waiting to go out. For broadcasts.
  bool try_send(std::string_view data, bool binary = false);

  // The close handshake: our close frame, then the peer's (up to close_timeout), then the
  // connection closes. Idempotent.
  Task<> close(std::uint16_t code = 1000, std::string_view reason = {});
  // Queues our close frame without waiting (from code that cannot wait: a shutdown hook);
  // the task in receive() then sees the peer's answer and gets nullopt.
  void try_close(std::uint16_t code = 1000, std::string_view reason = {}) noexcept;

  bool closed() const noexcept;
  bool closing() const noexcept;  // our close frame is out (or the socket is closed)
  // The peer's close code once closed (1005 if its close frame had none, 1006 if the
  // connection ended without one), or the code we failed the connection with.
  std::uint16_t close_code() const noexcept;
  std::string_view close_reason() const noexcept;
  std::string_view protocol() const noexcept;  // the negotiated subprotocol, or ""
  bool compressed() const noexcept;            // permessage-deflate is on
  std::size_t queued() const noexcept;         // outgoing bytes not yet sent

  explicit WebSocket(std::unique_ptr<detail::WsCore> core) noexcept;

 private:
  Task<> send(detail::Opcode op, std::string_view payload);
  std::unique_ptr<detail::WsCore> c_;
};

// The server did not accept a ws_connect: its status (101 with a bad handshake included).
class WsHandshakeError : public HttpError {
 public:
  WsHandshakeError(int status, std::string message);
  int status() const noexcept { return status_; }

 private:
  int status_;
};

// Rooms of WebSockets and broadcasts to them (a chat's rooms, a feed's subscribers).
// broadcast() queues the message on every member with try_send, without waiting, so one
// slow reader never holds up the others; a member whose queue is over its max_queued is
// closed with 1008 (policy violation: "too slow"); it stays listed until its handler leaves.
//
//   http::WsHub hub;                                   // one per App (or per loop)
//   app.ws("/chat/{room}", [&](http::Request& req, http::WebSocket& ws) -> Task<> {
//     auto member = hub.join(std::string(req.match("room")), ws);   // leaves on scope exit
//     while (auto m = co_await ws.receive()) hub.broadcast(member.room(), m->data);
//   });
class WsHub {
 public:
  // Membership of one socket in one room, left when this goes away.
  class Member {
   public:
    Member() = default;
    Member(Member&& o) noexcept;
    Member& operator=(Member&& o) noexcept;
    ~Member();
    const std::string& room() const noexcept { return room_; }
    void leave() noexcept;

   private:
    friend class WsHub;
    Member(WsHub* hub, std::string room, WebSocket* ws)
        : hub_(hub), room_(std::move(room)), ws_(ws) {}
    WsHub* hub_ = nullptr;
    std::string room_;
    WebSocket* ws_ = nullptr;
  };

  WsHub() = default;
  WsHub(const WsHub&) = delete;
  WsHub& operator=(const WsHub&) = delete;

  [[nodiscard]] Member join(std::string room, WebSocket& ws);
  // Queues `data` for every member of `room` but `except`; returns how many got it.
  std::size_t broadcast(std::string_view room, std::string_view data, bool binary = false,
                        const WebSocket* except = nullptr);
  std::size_t size(std::string_view room) const;
  std::size_t dropped() const noexcept { return dropped_; }  // slow members closed, ever

 private:
  void remove(const std::string& room, WebSocket* ws) noexcept;
  std::unordered_map<std::string, std::vector<WebSocket*>> rooms_;
  std::size_t dropped_ = 0;
};

using WsHandler = std::function<Task<>(Request&, WebSocket&)>;

// The 101 answer to a WebSocket handshake in `req`, which then runs `handler` on the open
// socket (for routes that decide themselves; App::ws does this). Throws HttpException: 400 for
// a handshake that is not one, 426 for another version, 403 when check_origin says no.
Response websocket_upgrade(Request& req, WsHandler handler, WebSocketOptions options = {});

}  // namespace eddy::http
