// A WebSocket echo server, the benchmark's eddy side: every text and binary message comes
// straight back.
//
//   ws_echo --port 8080 [--workers N]   ws://127.0.0.1:8080/ws, until SIGINT/SIGTERM
//   ws_echo --self-test                 serve on a free port, echo 1,000 messages over 8
//                                       connections from eddy's client, exit 0
#include <cstdio>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <string>

namespace http = eddy::http;
using eddy::Task;

http::App make_app() {
  http::App app;
  http::WebSocketOptions o;
  o.compress = false;  // the benchmark measures framing, not zlib
  app.ws(
      "/ws",
      [](http::Request&, http::WebSocket& ws) -> Task<> {
        for (;;) {
          auto m = co_await ws.receive();
          if (!m) break;
          if (m->type == http::WsMessage::text)
            co_await ws.send_text(m->data);
          else
            co_await ws.send_binary(m->data);
        }
      },
      o);
  return app;
}

Task<int> self_test() {
  http::App app = make_app();
  http::ServerOptions so;
  so.port = 0;
  http::Server srv = co_await http::serve(app, so);
  std::string url = "ws://127.0.0.1:" + std::to_string(srv.port()) + "/ws";
  http::Session session;
  int echoed = 0;
  auto client = [&](int id) -> Task<> {
    http::WebSocket ws = co_await session.ws_connect(url);
    for (int i = 0; i < 125; ++i) {
      std::string text = "client " + std::to_string(id) + " message " + std::to_string(i);
      co_await ws.send_text(text);
      auto m = co_await ws.receive();
      echoed += m && m->data == text;
    }
    co_await ws.close();
  };
  {
    eddy::TaskGroup tg;
    for (int id = 0; id < 8; ++id) tg.spawn(client(id));
    co_await tg.join();
  }
  std::printf("ws_echo: %d of 1000 messages echoed over 8 connections\n", echoed);
  co_await session.close();
  co_await srv.shutdown();
  co_return echoed == 1000 ? 0 : 1;
}

int main(int argc, char** argv) {
  http::ServerOptions o;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test")) return eddy::run(self_test());
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      o.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc)
      o.workers = std::atoi(argv[++i]);
  }
  http::run_app(make_app, o);
}
