// WebSocket, eddy against eddy and against a raw socket, on the virtual clock. Rules pinned:
//  - text and binary echo both ways, with and without permessage-deflate; subprotocols are
//    negotiated; check_origin refuses with 403; bad handshakes get 400 or 426;
//  - the close handshake carries code and reason both ways; shutdown says 1001;
//  - pings are answered (or handed over with autoping off); the heartbeat closes a silent
//    peer with 1006 after heartbeat + heartbeat/2;
//  - every protocol violation from a raw client closes with its code: 1002 for framing,
//    1007 for bad UTF-8 (as soon as it is seen, mid-message), 1009 for too big;
//  - try_send refuses once max_queued bytes wait.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "http/ws/frame.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
namespace net = eddy::net;
using eddy::Task;

namespace {

http::ServerOptions local() {
  http::ServerOptions o;
  o.port = 0;
  return o;
}

std::string ws_url(const http::Server& srv, std::string_view path = "/ws") {
  return "ws://127.0.0.1:" + std::to_string(srv.port()) + std::string(path);
}

// An echo endpoint that records how its socket ended.
struct Ended {
  std::uint16_t code = 0;
  std::string reason;
  int handlers_done = 0;
};

http::App echo_app(Ended& ended, http::WebSocketOptions opts = {}) {
  http::App app;
  app.ws(
      "/ws",
      [&ended](http::Request&, http::WebSocket& ws) -> Task<> {
        while (auto m = co_await ws.receive()) {
          if (m->type == http::WsMessage::text) co_await ws.send_text(m->data);
          if (m->type == http::WsMessage::binary) co_await ws.send_binary(m->data);
          if (m->data == "close me") co_await ws.close(4001, "as asked");
        }
        ended.code = ws.close_code();
        ended.reason = std::string(ws.close_reason());
        ++ended.handlers_done;
      },
      opts);
  return app;
}

// A client speaking WebSocket by hand: the handshake, then frames built byte by byte.
struct RawClient {
  net::Stream s;

  static Task<RawClient> open(std::uint16_t port, std::string extra_headers = {}) {
    RawClient c;
    c.s = co_await net::open_connection("127.0.0.1", port);
    c.s.write(
        "GET /ws HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n" +
        extra_headers + "\r\n");
    std::string head = co_await c.s.read_until("\r\n\r\n");
    EXPECT_TRUE(head.starts_with("HTTP/1.1 101 ")) << head;
    EXPECT_NE(head.find("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"),
              std::string::npos)
        << "RFC 6455's own example key and answer";
    co_return c;
  }
  // A frame as a client sends it: masked (unless told otherwise).
  void frame(std::uint8_t first_byte, std::string_view payload, bool mask = true) {
    std::string f;
    f.push_back(static_cast<char>(first_byte));
    std::uint8_t m = mask ? 0x80 : 0;
    if (payload.size() < 126) {
      f.push_back(static_cast<char>(m | payload.size()));
    } else {
      f.push_back(static_cast<char>(m | 126));
      f.push_back(static_cast<char>(payload.size() >> 8));
      f.push_back(static_cast<char>(payload.size() & 0xFF));
    }
    const std::uint8_t key[4] = {0x11, 0x22, 0x33, 0x44};
    if (mask) f.append(reinterpret_cast<const char*>(key), 4);
    std::size_t at = f.size();
    f.append(payload);
    if (mask) eddy::http::detail::apply_mask(f.data() + at, payload.size(), key, 0);
    s.write(f);
  }
  // The next frame from the server: (first byte, payload).
  Task<std::pair<std::uint8_t, std::string>> next() {
    std::string h = co_await s.read_exactly(2);
    std::size_t len = static_cast<std::uint8_t>(h[1]) & 0x7F;
    if (len == 126) {
      std::string ext = co_await s.read_exactly(2);
      len = (std::size_t(std::uint8_t(ext[0])) << 8) | std::uint8_t(ext[1]);
    }
    EXPECT_FALSE(static_cast<std::uint8_t>(h[1]) & 0x80) << "server frames are not masked";
    std::string payload;  // not `len ? co_await ... : ...`: GCC 12 miscompiles co_await in ?:
    if (len) payload = co_await s.read_exactly(len);
    co_return std::make_pair(static_cast<std::uint8_t>(h[0]), std::move(payload));
  }
  // Reads frames until the server's close frame; its code (0 if the connection just ended).
  Task<int> close_code() {
    for (;;) {
      std::pair<std::uint8_t, std::string> f;
      try {
        f = co_await next();
      } catch (const eddy::Error&) {
        co_return 0;
      }
      if ((f.first & 0x0F) == 0x8)
        co_return f.second.size() >= 2
            ? (std::uint8_t(f.second[0]) << 8) | std::uint8_t(f.second[1])
            : 1005;
    }
  }
};

}  // namespace

EDDY_TEST(WebSocket, EchoesTextAndBinaryWithAndWithoutCompression) {
  Ended ended;
  http::App app = echo_app(ended);
  auto srv = co_await http::serve(app, local());
  http::Session s;
  for (bool compress : {true, false}) {
    http::WebSocketOptions wo;
    wo.compress = compress;
    http::WebSocket ws = co_await s.ws_connect(ws_url(srv), wo);
    EXPECT_EQ(ws.compressed(), compress);
    co_await ws.send_text("hello, world");
    auto m = co_await ws.receive();
    EXPECT_TRUE(m && m->type == http::WsMessage::text && m->data == "hello, world");
    std::string big(300000, 'x');
    for (std::size_t i = 0; i < big.size(); i += 7) big[i] = static_cast<char>(i % 251);
    co_await ws.send_binary(big);
    m = co_await ws.receive();
    EXPECT_TRUE(m && m->type == http::WsMessage::binary && m->data == big) << "300 KB intact";
    co_await ws.send_text("");
    m = co_await ws.receive();
    EXPECT_TRUE(m && m->data.empty());
    co_await ws.close(4000, "done here");
    EXPECT_TRUE(ws.closed());
    EXPECT_EQ(ws.close_code(), 4000) << "the server echoes our code";
    co_await eddy::sleep(10ms);
    EXPECT_EQ(ended.code, 4000);
    EXPECT_EQ(ended.reason, "done here");
  }
  EXPECT_EQ(ended.handlers_done, 2);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(WebSocket, ServerClosesAndShutdownSaysGoingAway) {
  Ended ended;
  http::App app = echo_app(ended);
  auto srv = co_await http::serve(app, local());
  http::Session s;
  http::WebSocket ws = co_await s.ws_connect(ws_url(srv));
  co_await ws.send_text("close me");
  auto m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "close me");
  EXPECT_FALSE(co_await ws.receive()) << "then the server's close";
  EXPECT_EQ(ws.close_code(), 4001);
  EXPECT_EQ(ws.close_reason(), "as asked");

  http::WebSocket ws2 = co_await s.ws_connect(ws_url(srv));
  auto stop = [&]() -> Task<> { co_await srv.shutdown(); };
  auto stopping = eddy::spawn(stop());
  EXPECT_FALSE(co_await ws2.receive());
  EXPECT_EQ(ws2.close_code(), 1001) << "going away";
  co_await std::move(stopping);
  EXPECT_EQ(ended.handlers_done, 2);
  co_await s.close();
}

EDDY_TEST(WebSocket, HandshakeRulesProtocolsAndOrigins) {
  Ended ended;
  http::WebSocketOptions so;
  so.protocols = {"chat.v2", "chat.v1"};
  so.check_origin = [](std::string_view origin) { return origin != "https://evil.example"; };
  http::App app = echo_app(ended, so);
  auto srv = co_await http::serve(app, local());
  http::Session s;
  http::WebSocketOptions co;
  co.protocols = {"chat.v1", "chat.v2"};
  http::WebSocket ws = co_await s.ws_connect(ws_url(srv), co);
  EXPECT_EQ(ws.protocol(), "chat.v2") << "the server's preference among those offered";
  co_await ws.close();
  co.protocols = {"other"};
  ws = co_await s.ws_connect(ws_url(srv), co);
  EXPECT_EQ(ws.protocol(), "") << "none in common: no subprotocol";
  co_await ws.close();

  http::RequestOptions evil;
  evil.headers.set("Origin", "https://evil.example");
  int status = 0;
  try {
    co_await s.ws_connect(ws_url(srv), {}, std::move(evil));
  } catch (const http::WsHandshakeError& e) {
    status = e.status();
  }
  EXPECT_EQ(status, 403);
  status = 0;
  try {
    co_await s.ws_connect(ws_url(srv, "/nowhere"));
  } catch (const http::WsHandshakeError& e) {
    status = e.status();
  }
  EXPECT_EQ(status, 404);

  // From a raw socket: a plain GET, another version, a bad key.
  auto ask = [&](std::string request) -> Task<std::string> {
    net::Stream c = co_await net::open_connection("127.0.0.1", srv.port());
    c.write(request);
    co_return co_await c.read_until("\r\n\r\n");
  };
  std::string base = "GET /ws HTTP/1.1\r\nHost: t\r\n";
  std::string up = "Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n";
  EXPECT_TRUE((co_await ask(base + "\r\n")).starts_with("HTTP/1.1 400"));
  std::string r = co_await ask(base + up + "Sec-WebSocket-Version: 8\r\n" +
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_TRUE(r.starts_with("HTTP/1.1 426")) << r;
  EXPECT_NE(r.find("Sec-WebSocket-Version: 13"), std::string::npos) << r;
  EXPECT_TRUE((co_await ask(base + up + "Sec-WebSocket-Version: 13\r\n" +
                            "Sec-WebSocket-Key: short\r\n\r\n"))
                  .starts_with("HTTP/1.1 400"));
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(WebSocket, PingsPongsAndTheHeartbeat) {
  http::App app;
  http::WebSocketOptions raw_opts;
  raw_opts.autoping = false;
  app.ws(
      "/raw",
      [](http::Request&, http::WebSocket& ws) -> Task<> {
        auto m = co_await ws.receive();  // a ping, handed over
        if (m && m->type == http::WsMessage::ping) co_await ws.send_text("got ping " + m->data);
        for (;;)
          if (!co_await ws.receive()) break;
      },
      raw_opts);
  Ended ended;
  http::WebSocketOptions hb;
  hb.heartbeat = 10s;
  app.ws(
      "/ws",
      [&ended](http::Request&, http::WebSocket& ws) -> Task<> {
        for (;;)
          if (!co_await ws.receive()) break;
        ended.code = ws.close_code();
        ++ended.handlers_done;
      },
      hb);
  auto srv = co_await http::serve(app, local());

  http::Session s;
  http::WebSocket ws = co_await s.ws_connect(ws_url(srv, "/raw"));
  co_await ws.ping("abc");
  auto m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "got ping abc");
  co_await ws.close();

  // A peer that answers pings (eddy's client inside receive) stays; a silent one is dropped.
  http::WebSocket alive = co_await s.ws_connect(ws_url(srv));
  auto keep_receiving = [&]() -> Task<> {
    for (;;)
      if (!co_await alive.receive()) break;
  };
  auto receiving = eddy::spawn(keep_receiving());
  RawClient silent = co_await RawClient::open(srv.port());
  auto start = eddy::now();
  auto f = co_await silent.next();
  EXPECT_EQ(f.first, 0x89) << "a ping";
  EXPECT_EQ(eddy::now() - start, 10s);
  int code = co_await silent.close_code();
  EXPECT_EQ(code, 0) << "1006 is never sent: the connection just ends";
  EXPECT_EQ(eddy::now() - start, 15s) << "heartbeat + heartbeat/2";
  EXPECT_EQ(ended.code, 1006);
  EXPECT_FALSE(alive.closed()) << "the answering client is still connected";
  co_await alive.close();
  co_await std::move(receiving);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(WebSocket, ViolationsCloseWithTheirCodes) {
  Ended ended;
  http::WebSocketOptions so;
  so.max_message_size = 1000;
  so.compress = false;
  http::App app = echo_app(ended, so);
  auto srv = co_await http::serve(app, local());
  struct Case {
    const char* what;
    std::uint8_t first;
    std::string payload;
    bool mask;
    int code;
  };
  std::vector<Case> cases = {
      {"unmasked client frame", 0x81, "hi", false, 1002},
      {"reserved opcode", 0x83, "", true, 1002},
      {"reserved bits", 0xC1, "hi", true, 1002},
      {"fragmented ping", 0x09, "", true, 1002},
      {"ping over 125 bytes", 0x89, std::string(126, 'p'), true, 1002},
      {"continuation first", 0x80, "x", true, 1002},
      {"close with one byte", 0x88, "\x03", true, 1002},
      {"close with code 1005", 0x88, "\x03\xed", true, 1002},
      {"close with code 999", 0x88, "\x03\xe7", true, 1002},
      {"close reason not UTF-8", 0x88, "\x03\xe8\xff", true, 1007},
      {"text not UTF-8", 0x81, "ok \xc0\xaf", true, 1007},
      {"surrogate in text", 0x81, "\xed\xa0\x80", true, 1007},
      {"text ends mid-sequence", 0x81, "\xe2\x82", true, 1007},
      {"message too big", 0x82, std::string(1001, 'b'), true, 1009},
  };
  for (const Case& c : cases) {
    RawClient raw = co_await RawClient::open(srv.port());
    raw.frame(c.first, c.payload, c.mask);
    EXPECT_EQ(co_await raw.close_code(), c.code) << c.what;
  }
  // Fragments: a new message inside one, and invalid UTF-8 found before the message ends.
  RawClient raw = co_await RawClient::open(srv.port());
  raw.frame(0x01, "first half");
  raw.frame(0x81, "another message");
  EXPECT_EQ(co_await raw.close_code(), 1002) << "a new message before the last ended";
  raw = co_await RawClient::open(srv.port());
  raw.frame(0x01, "fine so far \xff");  // not final: the rest never comes
  EXPECT_EQ(co_await raw.close_code(), 1007) << "failed at once, not at the message's end";
  raw = co_await RawClient::open(srv.port());
  raw.frame(0x02, std::string(600, 'a'));
  raw.frame(0x80, std::string(600, 'b'));
  EXPECT_EQ(co_await raw.close_code(), 1009) << "fragments add up past the limit";
  // A fragmented message with a ping between its frames is fine (and the ping answered).
  raw = co_await RawClient::open(srv.port());
  raw.frame(0x01, "frag");
  raw.frame(0x89, "p");
  raw.frame(0x00, "men");
  raw.frame(0x80, "ted");
  auto pong = co_await raw.next();
  EXPECT_EQ(pong.first, 0x8A);
  EXPECT_EQ(pong.second, "p");
  auto echo = co_await raw.next();
  EXPECT_EQ(echo.second, "fragmented");
  raw.frame(0x88, "\x03\xe8");
  EXPECT_EQ(co_await raw.close_code(), 1000) << "our close, echoed";
  co_await srv.shutdown();
}

EDDY_TEST(WebSocket, TrySendRefusesASlowReader) {
  http::App app;
  http::WebSocket* server_side = nullptr;
  eddy::Event opened, done;
  http::WebSocketOptions so;
  so.max_queued = 64 * 1024;
  so.compress = false;
  app.ws(
      "/ws",
      [&](http::Request&, http::WebSocket& ws) -> Task<> {
        server_side = &ws;
        opened.set();
        co_await done.wait();
      },
      so);
  auto srv = co_await http::serve(app, local());
  RawClient reader = co_await RawClient::open(srv.port());  // never reads
  co_await opened.wait();
  std::string chunk(16 * 1024, 'z');
  int accepted = 0;
  for (int i = 0; i < 10000 && server_side->try_send(chunk); ++i) ++accepted;
  EXPECT_LT(accepted, 10000) << "refused once the queue passed max_queued";
  EXPECT_GT(server_side->queued(), 64u * 1024);
  EXPECT_FALSE(server_side->try_send("more"));
  done.set();
  co_await srv.shutdown();
}

// A hub's broadcast reaches every reader; a member that stops reading is closed (1008) once
// its queue passes max_queued, and its handler ends after close_timeout, while the others
// get every message.
EDDY_TEST(WebSocket, HubBroadcastsAndDropsTheSlowReader) {
  http::WsHub hub;
  http::WebSocketOptions so;
  so.max_queued = 256 * 1024;
  so.max_message_size = 1 << 20;
  so.compress = false;
  so.close_timeout = 2s;
  int ended = 0;
  http::App app;
  app.ws(
      "/ws",
      [&](http::Request&, http::WebSocket& ws) -> Task<> {
        auto member = hub.join("room", ws);
        for (;;) {
          auto m = co_await ws.receive();
          if (!m) break;
          hub.broadcast(member.room(), m->data, false, &ws);
        }
        ++ended;
      },
      so);
  auto srv = co_await http::serve(app, local());
  http::Session s;
  http::WebSocket a = co_await s.ws_connect(ws_url(srv));
  http::WebSocket b = co_await s.ws_connect(ws_url(srv));
  RawClient slow = co_await RawClient::open(srv.port());  // joins, never reads
  while (hub.size("room") < 3) co_await eddy::sleep(1ms);

  // 20 MB: more than the kernel's socket buffers hold for the silent client. The reading
  // member takes each message before the next is sent, so it never falls behind, however
  // slow the build (TSan) makes it.
  std::string piece(64 * 1024, 'm');
  int got = 0;
  for (int i = 0; i < 320; ++i) {
    co_await a.send_text(piece);
    auto m = co_await b.receive();
    got += m && m->data == piece;
  }
  EXPECT_EQ(got, 320) << "the reading member got everything";
  EXPECT_EQ(hub.dropped(), 1u) << "the slow one was dropped, once";
  auto start = eddy::now();
  while (ended < 1) co_await eddy::sleep(10ms);
  // It was dropped before `start`, so its close_timeout ran out at most 2 s after it.
  EXPECT_LE(eddy::now() - start, 2s + 10ms) << "its handler ended within close_timeout";
  EXPECT_EQ(hub.size("room"), 2u) << "and it left the room";
  co_await a.close();
  co_await b.close();
  while (ended < 3) co_await eddy::sleep(10ms);
  EXPECT_EQ(hub.size("room"), 0u);
  co_await s.close();
  co_await srv.shutdown();
}

// A receive() cancelled while it waits (or halfway through a fragmented message) loses
// nothing: the next receive() gets the whole message.
EDDY_TEST(WebSocket, CancelledReceiveLosesNothing) {
  Ended ended;
  http::WebSocketOptions so;
  so.compress = false;
  http::App app = echo_app(ended, so);
  auto srv = co_await http::serve(app, local());
  RawClient raw = co_await RawClient::open(srv.port());
  http::Session s;
  http::WebSocketOptions co;
  co.compress = false;
  http::WebSocket ws = co_await s.ws_connect(ws_url(srv), co);
  auto nothing = co_await eddy::move_on_after(50ms, ws.receive());
  EXPECT_FALSE(nothing) << "timed out waiting: cancelled";
  co_await ws.send_text("after the timeout");
  auto m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "after the timeout");

  // The server side keeps half a fragmented message across its waits for the rest.
  raw.frame(0x01, "first half, ");
  co_await eddy::sleep(20ms);
  raw.frame(0x80, "second half");
  auto echo = co_await raw.next();
  EXPECT_EQ(echo.second, "first half, second half");
  co_await ws.close();
  co_await s.close();
  co_await srv.shutdown();
}
