// WebSocket against real peers on loopback: Python's websockets and aiohttp as clients of an
// eddy server and as servers for eddy's client, and headless Chromium running a page from
// an eddy server that echoes and chats through the browser's own WebSocket.
#include <string>

#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"
#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
using eddy::Task;

namespace {

Task<std::pair<int, std::string>> sh(std::string cmd) {
  co_return co_await eddy::to_thread(eddy_test::run_command, "timeout 60 " + cmd + " 2>&1");
}

// The echo app the Python clients and the browser talk to: echoes text and binary, says
// "bye" and closes with 4000 on "close please", and records how each socket ended.
struct Seen {
  int chat_joins = 0, chat_messages = 0;
  std::vector<int> codes;
  std::vector<std::string> protocols;
  int compressed = 0;
};

http::App echo_app(Seen& seen) {
  http::App app;
  http::WebSocketOptions o;
  o.protocols = {"echo.v1"};
  app.ws(
      "/ws",
      [&seen](http::Request&, http::WebSocket& ws) -> Task<> {
        seen.protocols.emplace_back(ws.protocol());
        seen.compressed += ws.compressed();
        for (;;) {
          auto m = co_await ws.receive();
          if (!m) break;
          if (m->data == "close please") {
            co_await ws.send_text("bye");
            co_await ws.close(4000, "asked to");
            break;
          }
          if (m->type == http::WsMessage::text)
            co_await ws.send_text(m->data);
          else
            co_await ws.send_binary(m->data);
        }
        seen.codes.push_back(ws.close_code());
      },
      o);
  // A chat room for the browser: every text goes to every member.
  auto members = std::make_shared<std::vector<http::WebSocket*>>();
  app.ws("/chat", [members, &seen](http::Request& req, http::WebSocket& ws) -> Task<> {
    std::string name(req.query().get("name").value_or("anon"));
    members->push_back(&ws);
    ++seen.chat_joins;
    for (;;) {
      auto m = co_await ws.receive();
      if (!m) break;
      ++seen.chat_messages;
      for (http::WebSocket* other : *members) other->try_send(name + ": " + m->data);
    }
    std::erase(*members, &ws);
  });
  return app;
}

const char* kPythonClients = R"PY(
import asyncio, sys
import aiohttp, websockets

async def with_websockets(url):
    out = []
    async with websockets.connect(url, subprotocols=["echo.v1"]) as ws:
        out.append(ws.subprotocol)
        await ws.send("héllo")
        out.append(await ws.recv())
        await ws.send(bytes(range(256)) * 1000)
        out.append(len(await ws.recv()))
        await ws.send(iter(["frag", "men", "ted"]))  # one message in three frames
        out.append(await ws.recv())
        await ws.ping(b"p")
        await ws.close(code=4001, reason="done")
    return out

async def with_aiohttp(url):
    out = []
    async with aiohttp.ClientSession() as s:
        async with s.ws_connect(url, compress=15) as ws:
            await ws.send_str("from aiohttp")
            out.append((await ws.receive()).data)
            await ws.send_str("close please")
            out.append((await ws.receive()).data)
            msg = await ws.receive()
            out.append((msg.type.name, ws.close_code))
    return out

async def main(url):
    print("websockets", await with_websockets(url))
    print("aiohttp", await with_aiohttp(url))

asyncio.run(main(sys.argv[1]))
)PY";

const char* kPythonServers = R"PY(
import asyncio, sys
import aiohttp, websockets
from aiohttp import web

async def ws_handler(ws, *args):
    async for msg in ws:
        if msg == "close please":
            await ws.close(code=4003, reason="from websockets")
            return
        await ws.send(msg)

async def aio_handler(request):
    ws = web.WebSocketResponse(protocols=["aio.v1"])
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            await ws.send_str("aiohttp says " + msg.data)
        elif msg.type == aiohttp.WSMsgType.BINARY:
            await ws.send_bytes(msg.data[::-1])
    return ws

async def main(p1, p2):
    app = web.Application()
    app.add_routes([web.get("/ws", aio_handler)])
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", p2).start()
    async with websockets.serve(ws_handler, "127.0.0.1", p1):
        await asyncio.Future()

asyncio.run(main(int(sys.argv[1]), int(sys.argv[2])))
)PY";

// The page reports what it saw with a POST to /report once all five lines are in (Chromium
// runs it for real, without virtual time, until the test stops it).
const char* kPage = R"HTML(<!DOCTYPE html>
<html><body><pre id="log"></pre><script>
const lines = [];
const log = (s) => {
  lines.push(s);
  document.getElementById("log").textContent += s + "\n";
  if (lines.length === 5) fetch("/report", {method: "POST", body: lines.join("\n")});
};
const base = "ws://" + location.host;
const echo = new WebSocket(base + "/ws", ["echo.v1"]);
echo.binaryType = "arraybuffer";
echo.onopen = () => { echo.send("héllo from the browser"); echo.send(new Uint8Array([1, 2, 3])); };
let n = 0;
echo.onmessage = (e) => {
  if (typeof e.data === "string") log("echo text: " + e.data);
  else log("echo binary: " + Array.from(new Uint8Array(e.data)).join(","));
  if (++n === 2) echo.close(4002, "page done");
};
echo.onclose = (e) => {
  log("echo closed: " + e.code);
  const ada = new WebSocket(base + "/chat?name=ada");
  const bob = new WebSocket(base + "/chat?name=bob");
  let open = 0;
  const go = () => { if (++open === 2) ada.send("hi bob"); };
  ada.onopen = go; bob.onopen = go;
  bob.onmessage = (e) => { if (e.data.startsWith("ada")) { log("bob got: " + e.data); bob.send("hi ada"); } };
  ada.onmessage = (e) => { if (e.data.startsWith("bob")) log("ada got: " + e.data); };
};
</script></body></html>
)HTML";

}  // namespace

EDDY_REAL_TEST(WebSocketPeers, PythonClientsAgainstEddy) {
  Seen seen;
  http::App app = echo_app(seen);
  http::ServerOptions so;
  so.port = 0;
  auto srv = co_await http::serve(app, so);
  eddy_test::TempDir dir;
  auto [rc, out] =
      co_await sh("/usr/bin/python3 " + eddy_test::write_script(dir, "c.py", kPythonClients) +
                  " ws://127.0.0.1:" + std::to_string(srv.port()) + "/ws");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("websockets ['echo.v1', 'héllo', 256000, 'fragmented']"), std::string::npos)
      << out;
  EXPECT_NE(out.find("aiohttp ['from aiohttp', 'bye', ('CLOSE', 4000)]"), std::string::npos) << out;
  // The first Close received sets the code (as in browsers): the Python client's 4001, and
  // aiohttp's answer to our 4000.
  EXPECT_EQ(seen.codes.size(), 2u);
  if (seen.codes.size() == 2) {
    EXPECT_EQ(seen.codes[0], 4001);
  }
  EXPECT_EQ(seen.compressed, 2) << "both negotiated permessage-deflate";
  co_await srv.shutdown();
}

EDDY_REAL_TEST(WebSocketPeers, EddyClientAgainstPythonServers) {
  eddy_test::TempDir dir;
  std::uint16_t p1 = eddy_test::free_port(), p2 = eddy_test::free_port();
  eddy_test::Process py("/usr/bin/python3 " + eddy_test::write_script(dir, "s.py", kPythonServers) +
                        " " + std::to_string(p1) + " " + std::to_string(p2));
  co_await eddy_test::connect_when_up(p1);
  co_await eddy_test::connect_when_up(p2);
  http::Session s;

  http::WebSocket ws = co_await s.ws_connect("ws://127.0.0.1:" + std::to_string(p1) + "/");
  EXPECT_TRUE(ws.compressed()) << "websockets accepts permessage-deflate";
  co_await ws.send_text("héllo");
  auto m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "héllo");
  std::string big(200000, 'q');
  co_await ws.send_binary(big);
  m = co_await ws.receive();
  EXPECT_TRUE(m && m->type == http::WsMessage::binary && m->data == big);
  co_await ws.send_text("close please");
  EXPECT_FALSE(co_await ws.receive());
  EXPECT_EQ(ws.close_code(), 4003);
  EXPECT_EQ(ws.close_reason(), "from websockets");

  http::WebSocketOptions wo;
  wo.protocols = {"other", "aio.v1"};
  ws = co_await s.ws_connect("ws://127.0.0.1:" + std::to_string(p2) + "/ws", wo);
  EXPECT_EQ(ws.protocol(), "aio.v1");
  co_await ws.send_text("hi");
  m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "aiohttp says hi");
  co_await ws.send_binary("abc");
  m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "cba");
  co_await ws.ping("x");
  co_await ws.close(1000, "thanks");
  EXPECT_EQ(ws.close_code(), 1000);
  co_await s.close();
}

EDDY_REAL_TEST(WebSocketPeers, HeadlessChromium) {
  Seen seen;
  http::App app = echo_app(seen);
  app.get("/page",
          [](http::Request&) -> Task<http::Response> { co_return http::Response::html(kPage); });
  std::string report;
  eddy::Event reported;
  app.post("/report", [&](http::Request& req) -> Task<http::Response> {
    report = co_await req.body();
    reported.set();
    co_return http::Response::text("thanks");
  });
  http::ServerOptions so;
  so.port = 0;
  auto srv = co_await http::serve(app, so);
  eddy_test::TempDir profile;
  eddy_test::Process chromium(
      "chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run "
      "--remote-debugging-port=0 --user-data-dir=" +
      profile.path() + " http://127.0.0.1:" + std::to_string(srv.port()) + "/page > " +
      profile / "chromium.log" + " 2>&1");
  bool in_time = co_await eddy::move_on_after(45s, reported.wait());
  EDDY_CO_ASSERT(in_time);
  EXPECT_EQ(report,
            "echo text: héllo from the browser\n"
            "echo binary: 1,2,3\n"
            "echo closed: 4002\n"
            "bob got: ada: hi bob\n"
            "ada got: bob: hi ada");
  EXPECT_EQ(seen.compressed, 1) << "Chromium asks for permessage-deflate";
  EXPECT_EQ(seen.codes, std::vector<int>{4002});
  EXPECT_EQ(seen.chat_joins, 2);
  EXPECT_EQ(seen.chat_messages, 2);
  co_await srv.shutdown();
}

namespace {
const char* kWssClient = R"PY(
import asyncio, ssl, sys
import websockets

async def main(url, ca):
    ctx = ssl.create_default_context(cafile=ca)
    async with websockets.connect(url, ssl=ctx) as ws:
        await ws.send("over tls")
        print(await ws.recv())

asyncio.run(main(sys.argv[1], sys.argv[2]))
)PY";
}  // namespace

// wss: eddy's server behind TLS (the test CA's certificate), with eddy's client and Python's
// websockets verifying it; without the CA the handshake is refused.
EDDY_REAL_TEST(WebSocketPeers, SecureWebSockets) {
  eddy_test::TempDir certs;
  auto [made, _] = co_await sh(std::string(EDDY_TEST_SOURCE_DIR) + "/net/make_certs.sh " +
                               certs.path() + " > /dev/null");
  EDDY_CO_ASSERT(made == 0);
  Seen seen;
  http::App app = echo_app(seen);
  http::ServerOptions so;
  so.port = 0;
  so.tls = eddy::net::TlsContext::server(
      {.cert_file = certs / "server.pem", .key_file = certs / "server.key"});
  auto srv = co_await http::serve(app, so);
  std::string url = "wss://localhost:" + std::to_string(srv.port()) + "/ws";

  http::SessionOptions o;
  o.connector.tls = eddy::net::TlsContext::client({.ca_file = certs / "ca.pem"});
  http::Session s(o);
  http::WebSocket ws = co_await s.ws_connect(url);
  co_await ws.send_text("secure hello");
  auto m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == "secure hello");
  std::string big(100000, 's');
  co_await ws.send_binary(big);
  m = co_await ws.receive();
  EXPECT_TRUE(m && m->data == big);
  co_await ws.close();
  co_await s.close();

  http::Session untrusted;  // the system store does not know the test CA
  bool refused = false;
  try {
    co_await untrusted.ws_connect(url);
  } catch (const eddy::net::CertificateError&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
  co_await untrusted.close();

  eddy_test::TempDir dir;
  auto [rc, out] =
      co_await sh("/usr/bin/python3 " + eddy_test::write_script(dir, "c.py", kWssClient) + " " +
                  url + " " + certs / "ca.pem");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out, "over tls\n");
  co_await srv.shutdown();
}
