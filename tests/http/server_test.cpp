// http::App and http::serve, driven by raw sockets on the virtual clock. Rules pinned here:
//  - routing: exact paths, {param} segments (percent-decoded), a tail wildcard, 404, 405 with
//    Allow, HEAD through GET routes without a body, sub-apps under a prefix;
//  - middleware runs outermost-first, wraps 404s too, and a sub-app's only wraps its routes;
//  - keep-alive (HTTP/1.1 default, HTTP/1.0 opt-in) and pipelining with responses in order;
//  - HttpException answers with its status; any other exception is a logged 500 and the
//    connection stays usable;
//  - bodies: Content-Length and chunked, JSON and forms, 413 over client_max_size, an unread
//    body is skipped so the next request works, Expect: 100-continue sent on first read;
//  - streamed responses are chunked (close-delimited for HTTP/1.0);
//  - timeouts: header (slowloris gets 408), keep-alive idle, handler (503);
//  - shutdown: requests in flight finish with Connection: close, idle connections close,
//    cleanup hooks run.
#include <sys/resource.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "client_support.hpp"
#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
namespace net = eddy::net;
using eddy::Task;
using eddy_test::exchange;
using eddy_test::get;
using eddy_test::local_server;
using eddy_test::read_reply;

namespace {

Task<http::Response> hello(http::Request&) {
  co_return http::Response::text("hello");
}

}  // namespace

EDDY_TEST(HttpServer, RoutesByMethodAndPath) {
  http::App app;
  app.get("/", hello);
  app.get("/users/{id}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text("user " + std::string(r.match("id")));
  });
  app.post("/users/{id}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text("posted " + std::string(r.match("id")), 201);
  });
  app.get("/files/{path:.*}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text("file " + std::string(r.match("path")));
  });
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();

  auto r = co_await exchange(p, get("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  EXPECT_EQ(r.header("Content-Type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.header("Server"), "eddy");
  EXPECT_TRUE(r.header("Date").ends_with(" GMT"));

  EXPECT_EQ((co_await exchange(p, get("/users/42"))).body, "user 42");
  EXPECT_EQ((co_await exchange(p, get("/users/a%20b"))).body, "user a b") << "decoded";
  EXPECT_EQ((co_await exchange(p, get("/users/a%2Fb"))).body, "user a/b")
      << "an encoded slash stays inside its segment";
  r = co_await exchange(p, "POST /users/7 HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "posted 7");
  EXPECT_EQ((co_await exchange(p, get("/files/a/b/c.txt"))).body, "file a/b/c.txt");
  EXPECT_EQ((co_await exchange(p, get("/files/"))).body, "file ");

  r = co_await exchange(p, get("/nope"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ((co_await exchange(p, get("/users/42/extra"))).status, 404);
  r = co_await exchange(p, "DELETE /users/1 HTTP/1.1\r\nHost: t\r\n\r\n");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("Allow"), "GET, HEAD, POST");

  r = co_await exchange(p, "HEAD /users/5 HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("Content-Length"), "6") << "HEAD tells the GET body's length";
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, QueryCookiesAndHeaders) {
  http::App app;
  app.get("/q", [](http::Request& r) -> Task<http::Response> {
    std::string out = std::string(r.query().get("a").value_or("-")) + "|" +
                      std::to_string(r.query().get_all("b").size()) + "|" +
                      std::string(r.cookie("sid").value_or("-")) + "|" +
                      std::string(r.header("x-custom").value_or("-")) + "|" + std::string(r.path());
    http::Response resp = http::Response::text(out);
    http::SetCookie c;
    c.name = "seen";
    c.value = "1";
    c.http_only = true;
    resp.set_cookie(c);
    co_return resp;
  });
  auto srv = co_await http::serve(app, local_server());
  auto r = co_await exchange(srv.port(),
                             get("/q?a=x+y&b=1&b=2", "Cookie: a=1; sid=abc\r\nX-Custom: yes\r\n"));
  EXPECT_EQ(r.body, "x y|2|abc|yes|/q");
  EXPECT_EQ(r.header("Set-Cookie"), "seen=1; HttpOnly");
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, MiddlewareWrapsHandlersAndSubApps) {
  std::vector<std::string> trace;
  http::App app;
  app.use([&trace](http::Request& r, const http::Handler& next) -> Task<http::Response> {
    trace.push_back("outer>");
    http::Response resp = co_await next(r);
    trace.push_back("<outer");
    resp.headers.set("X-Outer", "1");
    co_return resp;
  });
  app.use([&trace](http::Request& r, const http::Handler& next) -> Task<http::Response> {
    trace.push_back("inner>");
    if (!r.header("Authorization")) throw http::HttpException(401, "who are you?");
    co_return co_await next(r);
  });
  app.get("/", hello);
  http::App api;
  api.use([](http::Request& r, const http::Handler& next) -> Task<http::Response> {
    http::Response resp = co_await next(r);
    resp.headers.set("X-Api", "1");
    co_return resp;
  });
  api.get("/items", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::json({{"items", {1, 2}}});
  });
  app.add_subapp("/api", std::move(api));
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();

  auto r = co_await exchange(p, get("/", "Authorization: x\r\n"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("X-Outer"), "1");
  EXPECT_EQ(r.header("X-Api"), "");
  EXPECT_EQ(trace, (std::vector<std::string>{"outer>", "inner>", "<outer"}));

  r = co_await exchange(p, get("/"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, "who are you?");

  r = co_await exchange(p, get("/api/items", "Authorization: x\r\n"));
  EXPECT_EQ(r.body, R"({"items":[1,2]})");
  EXPECT_EQ(r.header("X-Api"), "1");
  EXPECT_EQ(r.header("X-Outer"), "1");

  r = co_await exchange(p, get("/missing", "Authorization: x\r\n"));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("X-Outer"), "1") << "middleware sees 404s too";
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, KeepAliveAndHttp10) {
  int calls = 0;
  http::App app;
  app.get("/", [&calls](http::Request&) -> Task<http::Response> {
    ++calls;
    co_return http::Response::text("x");
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  for (int i = 0; i < 3; ++i) {
    s.write(get("/"));
    auto r = co_await read_reply(s);
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(r.keep_alive);
  }
  s.write(get("/", "Connection: close\r\n"));
  auto r = co_await read_reply(s);
  EXPECT_EQ(r.header("Connection"), "close");
  EXPECT_TRUE(co_await eddy_test::closed_by_server(s));

  auto s10 = co_await eddy_test::connect_to(srv.port());
  s10.write("GET / HTTP/1.0\r\n\r\n");
  r = co_await read_reply(s10);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(co_await eddy_test::closed_by_server(s10)) << "HTTP/1.0 closes by default";

  auto s10k = co_await eddy_test::connect_to(srv.port());
  s10k.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  r = co_await read_reply(s10k);
  EXPECT_EQ(r.header("Connection"), "keep-alive");
  s10k.write("GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ((co_await read_reply(s10k)).status, 200);
  EXPECT_EQ(calls, 7);
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, PipelinedResponsesComeInRequestOrder) {
  http::App app;
  app.get("/slow", [](http::Request&) -> Task<http::Response> {
    co_await eddy::sleep(50ms);
    co_return http::Response::text("slow");
  });
  app.get("/fast/{n}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::string(r.match("n")));
  });
  app.post("/echo", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(co_await r.body());
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/fast/1") + get("/slow") +
          "POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc" + get("/fast/2"));
  EXPECT_EQ((co_await read_reply(s)).body, "1");
  EXPECT_EQ((co_await read_reply(s)).body, "slow");
  EXPECT_EQ((co_await read_reply(s)).body, "abc");
  EXPECT_EQ((co_await read_reply(s)).body, "2");
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, HandlerFailuresBecomeResponses) {
  std::vector<std::string> logged;
  http::App app;
  app.get("/boom", [](http::Request&) -> Task<http::Response> {
    throw std::runtime_error("kaput");
    co_return http::Response();
  });
  app.get("/teapot", [](http::Request&) -> Task<http::Response> {
    throw http::HttpException(418, "short and stout", {{"X-Why", "tea"}});
    co_return http::Response();
  });
  app.get("/", hello);
  app.on_error([&logged](const http::Request& r, std::exception_ptr e) {
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      logged.push_back(std::string(r.method()) + " " + std::string(r.target()) + ": " + ex.what());
    }
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/boom"));
  auto r = co_await read_reply(s);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "Internal Server Error") << "no internals leak to the client";
  EXPECT_EQ(logged, std::vector<std::string>{"GET /boom: kaput"});
  s.write(get("/teapot"));
  r = co_await read_reply(s);
  EXPECT_EQ(r.status, 418);
  EXPECT_EQ(r.body, "short and stout");
  EXPECT_EQ(r.header("X-Why"), "tea");
  s.write(get("/"));
  EXPECT_EQ((co_await read_reply(s)).body, "hello") << "the connection survived both";
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, MalformedRequestsNeverReachHandlers) {
  int calls = 0;
  http::App app;
  app.any("/", [&calls](http::Request&) -> Task<http::Response> {
    ++calls;
    co_return http::Response::text("reached");
  });
  http::ServerOptions o = local_server();
  o.limits.max_headers = 10;
  auto srv = co_await http::serve(app, o);
  struct Case {
    std::string bytes;
    int status;
  };
  std::string many_headers = "GET / HTTP/1.1\r\nHost: t\r\n";
  for (int i = 0; i < 11; ++i) many_headers += "X-" + std::to_string(i) + ": v\r\n";
  std::vector<Case> cases = {
      {"GET / HTTP/1.1\nHost: t\n\n", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nX: a\r\n b\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\nHost : t\r\n\r\n", 400},
      {"GET / HTTP/1.1\r\n\r\n", 400},
      {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       400},
      {"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400},
      {"GET / HTTP/1.1\r\nHost: t\r\nX: a\x01b\r\n\r\n", 400},
      {"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505},
      {"GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: t\r\n\r\n", 414},
      {many_headers + "\r\n", 431},
      {"GET / HTTP/1.1\r\nHost: t\r\nX: " + std::string(40000, 'v') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501},
      {"GET / HTTP/1.1\r\nHost: t\r\nExpect: magic\r\n\r\n", 417},
      {"GET /%zz HTTP/1.1\r\nHost: t\r\n\r\n", 400},
  };
  for (const Case& c : cases) {
    auto s = co_await eddy_test::connect_to(srv.port());
    s.write(c.bytes);
    auto r = co_await read_reply(s);
    EXPECT_EQ(r.status, c.status) << c.bytes.substr(0, 80);
    EXPECT_EQ(r.header("Connection"), "close") << c.bytes.substr(0, 80);
    EXPECT_TRUE(co_await eddy_test::closed_by_server(s)) << c.bytes.substr(0, 80);
  }
  EXPECT_EQ(calls, 0);
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, RequestBodies) {
  http::App app;
  app.post("/json", [](http::Request& r) -> Task<http::Response> {
    nlohmann::json v = co_await r.json();
    v["seen"] = true;
    co_return http::Response::json(v);
  });
  app.post("/form", [](http::Request& r) -> Task<http::Response> {
    http::QueryParams f = co_await r.form();
    co_return http::Response::text(std::string(f.get("name").value_or("?")));
  });
  app.post("/count", [](http::Request& r) -> Task<http::Response> {
    std::size_t n = 0;
    while (true) {
      std::string_view piece = co_await r.read_chunk();
      if (piece.empty()) break;
      n += piece.size();
    }
    co_return http::Response::text(std::to_string(n) + " " +
                                   std::string(r.trailers().get_or("X-Sum", "-")));
  });
  app.post("/ignore", hello);
  http::ServerOptions o = local_server();
  o.client_max_size = 100;
  auto srv = co_await http::serve(app, o);
  auto p = srv.port();

  auto r = co_await exchange(p,
                             "POST /json HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                             "Content-Length: 8\r\n\r\n{\"a\": 1}");
  EXPECT_EQ(r.body, R"({"a":1,"seen":true})");
  r = co_await exchange(p, "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\n{x}");
  EXPECT_EQ(r.status, 400);
  r = co_await exchange(
      p,
      "POST /form HTTP/1.1\r\nHost: t\r\nContent-Type: "
      "application/x-www-form-urlencoded\r\nContent-Length: 14\r\n\r\nname=J%C3%B6rg");
  EXPECT_EQ(r.body, "Jörg");
  r = co_await exchange(p,
                        "POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Sum: 11\r\n\r\n");
  EXPECT_EQ(r.body, "11 11");
  // The head was fine, so the handler runs; reading the malformed body answers 400.
  auto m = co_await eddy_test::connect_to(p);
  m.write("POST /count HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  r = co_await read_reply(m);
  EXPECT_EQ(r.status, 400);
  EXPECT_TRUE(co_await eddy_test::closed_by_server(m));

  r = co_await exchange(p, "POST /json HTTP/1.1\r\nHost: t\r\nContent-Length: 101\r\n\r\n");
  EXPECT_EQ(r.status, 413);
  auto s = co_await eddy_test::connect_to(p);
  s.write("POST /json HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n");
  for (int i = 0; i < 11; ++i) s.write("a\r\n0123456789\r\n");
  r = co_await read_reply(s);
  EXPECT_EQ(r.status, 413) << "a chunked body is cut off once it passes the limit";
  EXPECT_TRUE(co_await eddy_test::closed_by_server(s));

  // An unread body is skipped: the next request on the connection is parsed correctly.
  auto k = co_await eddy_test::connect_to(p);
  k.write("POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nGET /");
  EXPECT_EQ((co_await read_reply(k)).body, "hello");
  k.write(
      "POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: "
      "chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ((co_await read_reply(k)).status, 200);
  k.write(get("/nope"));
  EXPECT_EQ((co_await read_reply(k)).status, 404);
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, ExpectContinue) {
  http::App app;
  app.post("/up", [](http::Request& r) -> Task<http::Response> {
    if (!r.header("Authorization")) throw http::HttpException(401);
    co_return http::Response::text("got " + co_await r.body());
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(
      "POST /up HTTP/1.1\r\nHost: t\r\nAuthorization: x\r\nExpect: 100-continue\r\n"
      "Content-Length: 4\r\n\r\n");
  auto interim = co_await read_reply(s, "POST", true);
  EXPECT_EQ(interim.status, 100) << "sent when the handler reads the body";
  s.write("data");
  EXPECT_EQ((co_await read_reply(s)).body, "got data");

  auto d = co_await eddy_test::connect_to(srv.port());
  d.write("POST /up HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n");
  auto r = co_await read_reply(d, "POST", true);
  EXPECT_EQ(r.status, 401) << "refused without asking for the body";
  EXPECT_TRUE(co_await eddy_test::closed_by_server(d));
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, StreamedResponses) {
  http::App app;
  app.get("/events", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::event_stream([](http::BodyWriter& w) -> Task<> {
      for (int i = 0; i < 3; ++i) {
        co_await w.write("data: " + std::to_string(i) + "\n\n");
        co_await eddy::sleep(1s);
      }
    });
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/events"));
  auto r = co_await read_reply(s);
  EXPECT_EQ(r.header("Transfer-Encoding"), "chunked");
  EXPECT_EQ(r.header("Content-Type"), "text/event-stream");
  EXPECT_EQ(r.body, "data: 0\n\ndata: 1\n\ndata: 2\n\n");
  s.write(get("/events"));
  EXPECT_EQ((co_await read_reply(s)).body.size(), r.body.size()) << "still keep-alive";

  auto s10 = co_await eddy_test::connect_to(srv.port());
  s10.write("GET /events HTTP/1.0\r\n\r\n");
  r = co_await read_reply(s10);
  EXPECT_EQ(r.header("Transfer-Encoding"), "");
  EXPECT_EQ(r.body, "data: 0\n\ndata: 1\n\ndata: 2\n\n") << "HTTP/1.0: ends at close";
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, SlowlorisIsCutOffAtTheHeaderTimeout) {
  http::App app;
  app.get("/", hello);
  http::ServerOptions o = local_server();
  o.header_timeout = 10s;
  auto srv = co_await http::serve(app, o);
  auto s = co_await eddy_test::connect_to(srv.port());
  std::string req = get("/", "X-Padding: " + std::string(100, 'p') + "\r\n");
  auto start = eddy::now();
  std::size_t sent = 0;
  auto trickle = eddy::spawn([&]() -> Task<> {
    for (; sent < req.size(); ++sent) {
      s.write(req.substr(sent, 1));
      co_await eddy::sleep(1s);
    }
  });
  auto r = co_await read_reply(s);
  trickle.cancel();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(eddy::now() - start, 10s) << "cut off exactly at the header timeout";
  EXPECT_LT(sent, req.size());
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, IdleKeepAliveConnectionsClose) {
  http::App app;
  app.get("/", hello);
  http::ServerOptions o = local_server();
  o.keepalive_timeout = 5s;
  auto srv = co_await http::serve(app, o);
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/"));
  co_await read_reply(s);
  auto start = eddy::now();
  EXPECT_TRUE(co_await eddy_test::closed_by_server(s));
  EXPECT_EQ(eddy::now() - start, 5s);
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, HandlerTimeoutAnswers503) {
  http::App app;
  app.get("/stuck", [](http::Request&) -> Task<http::Response> {
    co_await eddy::sleep(1h);
    co_return http::Response::text("late");
  });
  http::ServerOptions o = local_server();
  o.handler_timeout = 2s;
  auto srv = co_await http::serve(app, o);
  auto start = eddy::now();
  auto r = co_await exchange(srv.port(), get("/stuck"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(eddy::now() - start, 2s);
  co_await srv.shutdown();
}

// Lets 1,000 connections (2,000 descriptors with the client ends) be open at once.
void raise_fd_limit() {
  rlimit rl{};
  ::getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_cur = std::max<rlim_t>(rl.rlim_cur, std::min<rlim_t>(rl.rlim_max, 8192));
  ::setrlimit(RLIMIT_NOFILE, &rl);
}

EDDY_TEST(HttpServer, GracefulShutdownFinishesEveryAcceptedRequest) {
  raise_fd_limit();
  constexpr int kInFlight = 1000;
  int started = 0;
  bool cleaned = false;
  http::App app;
  app.get("/work", [&started](http::Request&) -> Task<http::Response> {
    ++started;
    co_await eddy::sleep(3s);
    co_return http::Response::text("done");
  });
  app.on_cleanup([&cleaned](http::App&) -> Task<> {
    cleaned = true;
    co_return;
  });
  http::ServerOptions o = local_server();
  o.shutdown_timeout = 10s;
  auto srv = co_await http::serve(app, o);
  auto port = srv.port();

  std::vector<net::Stream> clients;
  for (int i = 0; i < kInFlight; ++i) {
    clients.push_back(co_await eddy_test::connect_to(port));
    clients.back().write(get("/work"));
  }
  auto idle = co_await eddy_test::connect_to(port);  // connected, never asks anything
  while (started < kInFlight) co_await eddy::sleep(10ms);

  auto stopping = eddy::spawn(srv.shutdown());
  co_await eddy::sleep(10ms);
  EXPECT_TRUE(co_await eddy_test::closed_by_server(idle)) << "idle connections close at once";
  bool refused = false;
  try {
    co_await eddy_test::connect_to(port);
  } catch (const eddy::ConnectionError&) {
    refused = true;
  }
  EXPECT_TRUE(refused) << "no new connections during shutdown";

  int complete = 0;
  for (auto& c : clients) {
    auto r = co_await read_reply(c);
    complete += r.status == 200 && r.body == "done" && r.header("Connection") == "close";
  }
  co_await stopping;
  EXPECT_EQ(complete, kInFlight);
  EXPECT_TRUE(cleaned);
  EXPECT_EQ(srv.connections(), 0u);
}

EDDY_TEST(HttpServer, ShutdownCancelsWhatOutlivesTheDeadline) {
  bool cancelled = false;
  http::App app;
  app.get("/forever", [&cancelled](http::Request&) -> Task<http::Response> {
    try {
      co_await eddy::sleep(1h);
    } catch (const eddy::Cancelled&) {
      cancelled = true;
      throw;
    }
    co_return http::Response();
  });
  http::ServerOptions o = local_server();
  o.shutdown_timeout = 5s;
  auto srv = co_await http::serve(app, o);
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/forever"));
  co_await eddy::sleep(10ms);
  auto start = eddy::now();
  co_await srv.shutdown();
  EXPECT_EQ(eddy::now() - start, 5s);
  EXPECT_TRUE(cancelled);
}

EDDY_TEST(HttpServer, StartupHooksAndAppState) {
  struct Counter {
    int hits = 0;
  };
  http::App app;
  app.on_startup([](http::App& a) -> Task<> {
    a.emplace<Counter>();
    co_return;
  });
  app.get("/", [](http::Request& r) -> Task<http::Response> {
    int n = ++r.app().get<Counter>().hits;
    co_return http::Response::text(std::to_string(n));
  });
  auto srv = co_await http::serve(app, local_server());
  EXPECT_EQ((co_await exchange(srv.port(), get("/"))).body, "1");
  EXPECT_EQ((co_await exchange(srv.port(), get("/"))).body, "2");
  co_await srv.shutdown();
}

namespace {
std::string gunzip(std::string_view in) {
  z_stream z{};
  inflateInit2(&z, 15 + 16);
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buf[16384];
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_BUF_ERROR && z.avail_in == 0) break;
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END ? out : "<corrupt gzip>";
}
}  // namespace

EDDY_TEST(HttpMiddleware, CompressionCorsAndAuth) {
  std::string big;
  for (int i = 0; i < 300; ++i) big += "line " + std::to_string(i) + "\n";
  http::App app;
  app.use(http::middleware::cors({.origins = {"https://a.example"}}));
  app.use(http::middleware::compression());
  app.get("/big",
          [&big](http::Request&) -> Task<http::Response> { co_return http::Response::text(big); });
  app.get("/small", hello);
  app.get("/events", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::event_stream([](http::BodyWriter& w) -> Task<> {
      co_await w.write("data: one\n\n");
      co_await w.write("data: two\n\n");
    });
  });
  http::App priv;
  priv.use(http::middleware::bearer_auth(
      [](std::string_view t) -> Task<bool> { co_return t == "s3cret"; }));
  priv.get("/me", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text("token " + *r.get<std::string>("token"));
  });
  app.add_subapp("/private", std::move(priv));
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();

  auto r = co_await exchange(p, get("/big", "Accept-Encoding: br, gzip;q=0.8\r\n"));
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(r.header("Vary"), "Accept-Encoding");
  EXPECT_LT(r.body.size(), big.size() / 2);
  EXPECT_EQ(gunzip(r.body), big);
  r = co_await exchange(p, get("/big"));
  EXPECT_EQ(r.header("Content-Encoding"), "");
  EXPECT_EQ(r.body, big);
  r = co_await exchange(p, get("/big", "Accept-Encoding: gzip;q=0\r\n"));
  EXPECT_EQ(r.header("Content-Encoding"), "") << "q=0 refuses";
  r = co_await exchange(p, get("/small", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(r.body, "hello") << "too small to be worth it";
  r = co_await exchange(p, get("/events", "Accept-Encoding: gzip\r\n"));
  EXPECT_EQ(r.header("Content-Encoding"), "gzip");
  EXPECT_EQ(gunzip(r.body), "data: one\n\ndata: two\n\n");

  r = co_await exchange(p,
                        "OPTIONS /big HTTP/1.1\r\nHost: t\r\nOrigin: https://a.example\r\n"
                        "Access-Control-Request-Method: PUT\r\n\r\n");
  EXPECT_EQ(r.status, 204) << "a preflight is answered even without an OPTIONS route";
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://a.example");
  EXPECT_NE(r.header("Access-Control-Allow-Methods").find("PUT"), std::string::npos);
  r = co_await exchange(p, get("/small", "Origin: https://a.example\r\n"));
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "https://a.example");
  r = co_await exchange(p, get("/small", "Origin: https://evil.example\r\n"));
  EXPECT_EQ(r.header("Access-Control-Allow-Origin"), "");

  r = co_await exchange(p, get("/private/me"));
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  r = co_await exchange(p, get("/private/me", "Authorization: Bearer nope\r\n"));
  EXPECT_EQ(r.status, 401);
  r = co_await exchange(p, get("/private/me", "Authorization: Bearer s3cret\r\n"));
  EXPECT_EQ(r.body, "token s3cret");
  co_await srv.shutdown();
}

EDDY_TEST(HttpServer, RedirectsAndAccessLog) {
  std::vector<std::string> lines;
  http::App app;
  app.get("/old", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::redirect("/new", 301);
  });
  app.get("/new", hello);
  http::ServerOptions o = local_server();
  o.access_log = true;
  o.access_log_writer = [&lines](std::string_view l) { lines.emplace_back(l); };
  auto srv = co_await http::serve(app, o);
  auto r = co_await exchange(srv.port(), get("/old", "User-Agent: probe/1.0\r\nReferer: x\r\n"));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.header("Location"), "/new");
  co_await exchange(srv.port(), get("/new?q=1"));
  co_await srv.shutdown();
  EDDY_CO_ASSERT(lines.size() == 2);
  // 127.0.0.1:PORT - - [dd/Mon/yyyy:hh:mm:ss +0000] "GET /old HTTP/1.1" 301 17 "x" "probe/1.0"
  EXPECT_TRUE(lines[0].starts_with("127.0.0.1:")) << lines[0];
  EXPECT_NE(lines[0].find(" - - ["), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(" +0000] \"GET /old HTTP/1.1\" 301 17 \"x\" \"probe/1.0\""),
            std::string::npos)
      << lines[0];
  EXPECT_TRUE(lines[1].ends_with("\"GET /new?q=1 HTTP/1.1\" 200 5 \"-\" \"-\"")) << lines[1];
}

// A client that asks for a large body and does not read it holds one connection's buffer at
// the high-water mark, not the whole body: the handler's stream writes wait.
EDDY_TEST(HttpServer, SlowClientsGetBackpressure) {
  std::size_t written = 0;
  http::App app;
  app.get("/firehose", [&written](http::Request&) -> Task<http::Response> {
    co_return http::Response::stream([&written](http::BodyWriter& w) -> Task<> {
      std::string piece(64 * 1024, 'x');
      for (int i = 0; i < 1024; ++i) {  // 64 MiB if nothing pushed back
        co_await w.write(piece);
        written += piece.size();
      }
    });
  });
  auto srv = co_await http::serve(app, local_server());
  auto s = co_await eddy_test::connect_to(srv.port());
  s.write(get("/firehose"));
  co_await eddy::sleep(5s);  // the client reads nothing meanwhile
  EXPECT_LT(written, std::size_t{16} << 20) << "the writer stopped at the socket buffers";
  EXPECT_GT(written, 0u);
  s.abort();
  co_await srv.shutdown();
}
