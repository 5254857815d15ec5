// The articles' real-time server: a chat over WebSocket, each connection one coroutine,
// rooms in a WsHub (a slow reader is dropped, never waited on), and the page served by the
// same app.
//
//   chat --port 8080 [--static DIR]   then open http://127.0.0.1:8080/?room=lobby&name=ada
//   chat --self-test                  three clients in two rooms, checked, exit 0
//
// Messages on the wire are JSON: {"from": "ada", "text": "hi"}, or {"system": true,
// "text": "bob joined"} for arrivals and departures.
#include <cstdio>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <string>

namespace http = eddy::http;
using eddy::Task;
using nlohmann::json;

struct Chat {
  http::WsHub hub;
};

http::App make_app(std::string static_dir) {
  http::App app;
  app.on_startup([](http::App& a) -> Task<> {
    a.emplace<Chat>();
    co_return;
  });
  app.get("/", [static_dir](http::Request&) -> Task<http::Response> {
    co_return http::Response::file(static_dir + "/index.html");
  });
  app.ws("/chat/{room}", [](http::Request& req, http::WebSocket& ws) -> Task<> {
    Chat& chat = req.app().get<Chat>();
    std::string room(req.match("room"));
    std::string name(req.query().get("name").value_or("guest"));
    if (name.size() > 32) name.resize(32);
    auto member = chat.hub.join(room, ws);
    chat.hub.broadcast(room, json{{"system", true}, {"text", name + " joined"}}.dump());
    for (;;) {
      auto m = co_await ws.receive();
      if (!m) break;
      if (m->type != http::WsMessage::text || m->data.empty()) continue;
      chat.hub.broadcast(room, json{{"from", name}, {"text", m->data.substr(0, 2000)}}.dump());
    }
    member.leave();
    chat.hub.broadcast(room, json{{"system", true}, {"text", name + " left"}}.dump());
  });
  return app;
}

// Three clients: ada and bob in "lobby", cyd in "kitchen". What each should see.
Task<int> self_test(std::string static_dir) {
  http::App app = make_app(static_dir);
  http::ServerOptions so;
  so.port = 0;
  http::Server srv = co_await http::serve(app, so);
  std::string base = "127.0.0.1:" + std::to_string(srv.port());
  http::Session session;
  int failures = 0;
  auto expect = [&](http::WebSocket& ws, const std::string& want) -> Task<> {
    auto m = co_await eddy::move_on_after(std::chrono::seconds(5), ws.receive());
    std::string got = m && *m ? (*m)->data : std::string("(nothing)");
    bool ok = got == want;
    std::printf("%s  %s\n", ok ? "ok  " : "FAIL", got.c_str());
    failures += !ok;
  };
  auto page = co_await session.get("http://" + base + "/");
  std::string html = co_await page.text();
  bool page_ok = page.status() == 200 && html.find("eddy chat") != std::string::npos;
  std::printf("%s  GET / serves the page\n", page_ok ? "ok  " : "FAIL");
  failures += !page_ok;

  http::WebSocket ada = co_await session.ws_connect("ws://" + base + "/chat/lobby?name=ada");
  co_await expect(ada, R"({"system":true,"text":"ada joined"})");
  http::WebSocket bob = co_await session.ws_connect("ws://" + base + "/chat/lobby?name=bob");
  co_await expect(ada, R"({"system":true,"text":"bob joined"})");
  co_await expect(bob, R"({"system":true,"text":"bob joined"})");
  http::WebSocket cyd = co_await session.ws_connect("ws://" + base + "/chat/kitchen?name=cyd");
  co_await expect(cyd, R"({"system":true,"text":"cyd joined"})");
  co_await ada.send_text("hi bob");
  co_await expect(ada, R"({"from":"ada","text":"hi bob"})");
  co_await expect(bob, R"({"from":"ada","text":"hi bob"})");
  co_await cyd.send_text("anyone?");
  co_await expect(cyd, R"({"from":"cyd","text":"anyone?"})");
  co_await bob.close();
  co_await expect(ada, R"({"system":true,"text":"bob left"})");
  co_await ada.close();
  co_await cyd.close();
  co_await session.close();
  co_await srv.shutdown();
  co_return failures ? 1 : 0;
}

int main(int argc, char** argv) {
  std::string static_dir = EDDY_CHAT_STATIC_DIR;  // examples/chat, where index.html lives
  http::ServerOptions o;
  bool test = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test"))
      test = true;
    else if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      o.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--static") && i + 1 < argc)
      static_dir = argv[++i];
  }
  if (test) return eddy::run(self_test(static_dir));
  http::App app = make_app(static_dir);
  http::run_app(app, o);
}
