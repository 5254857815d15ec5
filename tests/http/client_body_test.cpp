// http::Session's request bodies, response decoding and trace hooks, against eddy's own
// server on the virtual clock. Rules pinned here:
//  - a streamed body goes chunked without a length and with Content-Length with one; a
//    source that gives more or fewer bytes than its length fails the request;
//  - files and multipart forms arrive intact, parts named, files with their names and types;
//  - a streamed body is opened again for a retry, so the server gets it whole each time;
//  - a server answering before it took the whole body: its answer is what the caller gets;
//  - br, gzip and deflate bodies are decoded; text() converts the declared charset to UTF-8;
//  - trace hooks fire in order: start, queued, create (with DNS for a name) or reuse,
//    redirect, end; and exception for a failed request.
#include <brotli/encode.h>
#include <sys/socket.h>

#include <string>
#include <vector>

#include "client_support.hpp"
#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"
#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
using eddy::Task;
using eddy_test::local_server;

namespace {

std::string brotli(std::string_view data) {
  std::size_t n = BrotliEncoderMaxCompressedSize(data.size());
  std::string out(n, '\0');
  BrotliEncoderCompress(BROTLI_DEFAULT_QUALITY, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_GENERIC,
                        data.size(), reinterpret_cast<const std::uint8_t*>(data.data()), &n,
                        reinterpret_cast<std::uint8_t*>(out.data()));
  out.resize(n);
  return out;
}

// The pattern the test bodies are made of, from `offset`: misplaced or lost bytes show.
std::string pattern(std::size_t n, std::size_t offset = 0) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t j = offset + i;
    s[i] = static_cast<char>('a' + (j * 7 + j / 997) % 26);
  }
  return s;
}

struct Seen {
  std::vector<std::string> framing;  // "chunked" or "length N", per request to /upload
  int uploads = 0;
};

http::App test_app(Seen& seen) {
  http::App app;
  app.any("/upload", [&seen](http::Request& r) -> Task<http::Response> {
    ++seen.uploads;
    if (auto te = r.header("Transfer-Encoding"))
      seen.framing.push_back(std::string(*te));
    else
      seen.framing.push_back("length " + std::string(r.header("Content-Length").value_or("-")));
    std::string body = co_await r.body();
    co_return http::Response::json({{"size", body.size()},
                                    {"same", body == pattern(body.size())},
                                    {"type", r.content_type()}});
  });
  // 503 to the first upload, then the normal answer: what a retry is for.
  app.put("/flaky-upload", [&seen](http::Request& r) -> Task<http::Response> {
    std::string body = co_await r.body();
    if (seen.uploads++ == 0) co_return http::Response::text("busy", 503);
    co_return http::Response::text(std::to_string(body.size()));
  });
  app.post("/form", [](http::Request& r) -> Task<http::Response> {
    http::MultipartReader form(r);
    nlohmann::json parts = nlohmann::json::array();
    while (auto part = co_await form.next()) {
      std::string data = co_await form.read_all();
      parts.push_back({{"name", part->name},
                       {"filename", part->filename.value_or("")},
                       {"type", part->content_type},
                       {"size", data.size()},
                       {"data", data.size() < 100 ? data : std::string()},
                       {"same", data == pattern(data.size())}});
    }
    co_return http::Response::json(parts);
  });
  app.get("/br", [](http::Request& r) -> Task<http::Response> {
    std::string body =
        r.query().get("corrupt") ? std::string("\x1b\x05\x00garbage", 10) : brotli(pattern(300000));
    http::Response resp = http::Response::bytes(std::move(body), "text/plain");
    resp.headers.set("Content-Encoding", "br");
    co_return resp;
  });
  app.get("/latin1", [](http::Request& r) -> Task<http::Response> {
    std::string cs(r.query().get("cs").value_or("iso-8859-1"));
    co_return http::Response::bytes("caf\xe9 \x80", "text/plain; charset=\"" + cs + "\"");
  });
  app.get("/hello",
          [](http::Request&) -> Task<http::Response> { co_return http::Response::text("hello"); });
  app.get("/slow", [](http::Request&) -> Task<http::Response> {
    co_await eddy::sleep(100ms);
    co_return http::Response::text("slow");
  });
  app.get("/moved", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::redirect("/hello", 307);
  });
  return app;
}

http::SessionOptions base(std::uint16_t port) {
  http::SessionOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  return o;
}

// A source of `total` bytes of the pattern in pieces of `piece`, counting its openings.
std::function<http::BodyPieces()> pattern_source(std::size_t total, std::size_t piece,
                                                 int* opened) {
  return [=]() -> http::BodyPieces {
    ++*opened;
    auto sent = std::make_shared<std::size_t>(0);
    return [=]() -> Task<std::string> {
      std::size_t n = std::min(piece, total - *sent);
      std::string out = pattern(n, *sent);
      *sent += n;
      co_await eddy::sleep(1ms);  // a source that takes its time
      co_return out;
    };
  };
}

}  // namespace

EDDY_TEST(HttpClientBody, StreamedBodiesChunkedOrWithLength) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  int opened = 0;

  http::RequestOptions o;
  o.body = http::stream_body(pattern_source(100000, 7000, &opened), "application/x-test");
  auto r = co_await s.post("/upload", std::move(o));
  nlohmann::json v = co_await r.json();
  EXPECT_EQ(v["size"], 100000);
  EXPECT_EQ(v["same"], true);
  EXPECT_EQ(v["type"], "application/x-test");
  EXPECT_EQ(seen.framing.back(), "chunked");

  http::RequestOptions with_length;
  with_length.body =
      http::stream_body(pattern_source(50000, 4096, &opened), "application/octet-stream", 50000);
  r = co_await s.put("/upload", std::move(with_length));
  v = co_await r.json();
  EXPECT_EQ(v["size"], 50000);
  EXPECT_EQ(v["same"], true);
  EXPECT_EQ(seen.framing.back(), "length 50000");
  EXPECT_EQ(s.connections_opened(), 1u) << "both on one kept-alive connection";

  // A source that lies about its length fails the request and spoils no connection.
  for (std::size_t actual : {40000u, 60000u}) {
    http::RequestOptions liar;
    liar.body = http::stream_body(pattern_source(actual, 8192, &opened), "x/y", 50000);
    EXPECT_THROW(co_await s.post("/upload", std::move(liar)), http::HttpError) << actual;
  }
  EXPECT_EQ((co_await (co_await s.get("/hello")).text()), "hello");
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClientBody, FilesAndMultipartFormsArriveIntact) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  eddy_test::TempDir dir;
  co_await eddy::fs::write_file(dir / "data.json", pattern(300000));
  co_await eddy::fs::write_file(dir / "photo.png", pattern(70000));

  http::RequestOptions o;
  o.body = http::file_body(dir / "data.json");
  auto r = co_await s.put("/upload", std::move(o));
  nlohmann::json v = co_await r.json();
  EXPECT_EQ(v["size"], 300000);
  EXPECT_EQ(v["same"], true);
  EXPECT_EQ(v["type"], "application/json") << "from the extension";
  EXPECT_EQ(seen.framing.back(), "length 300000");
  EXPECT_THROW(http::file_body(dir / "missing"), eddy::FileNotFoundError);

  http::MultipartForm form;
  form.add("title", "a \"quoted\"\r\nname")
      .add_file("photo", dir / "photo.png")
      .add_bytes("notes", "short notes", "notes.txt", "text/plain")
      .add("empty", "");
  http::RequestOptions fo;
  fo.body = form.body();
  r = co_await s.post("/form", std::move(fo));
  v = co_await r.json();
  EXPECT_EQ(v.size(), 4u) << v.dump();
  if (v.size() != 4) co_return;
  EXPECT_EQ(v[0]["name"], "title");
  EXPECT_EQ(v[0]["data"], "a \"quoted\"\r\nname");
  EXPECT_EQ(v[0]["filename"], "");
  EXPECT_EQ(v[1]["name"], "photo");
  EXPECT_EQ(v[1]["filename"], "photo.png");
  EXPECT_EQ(v[1]["type"], "image/png");
  EXPECT_EQ(v[1]["size"], 70000);
  EXPECT_EQ(v[1]["same"], true);
  EXPECT_EQ(v[2]["filename"], "notes.txt");
  EXPECT_EQ(v[2]["data"], "short notes");
  EXPECT_EQ(v[3]["name"], "empty");
  EXPECT_EQ(v[3]["size"], 0);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClientBody, RetriesSendTheStreamAgain) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local_server());
  http::SessionOptions so = base(srv.port());
  so.retry.attempts = 2;
  http::Session s(so);
  int opened = 0;
  http::RequestOptions o;
  o.body = http::stream_body(pattern_source(30000, 5000, &opened));
  auto r = co_await s.put("/flaky-upload", std::move(o));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(co_await r.text(), "30000") << "the second sending was whole";
  EXPECT_EQ(opened, 2);
  co_await s.close();
  co_await srv.shutdown();
}

// A server that answers 413 after the head and closes, never reading the body.
EDDY_TEST(HttpClientBody, AnAnswerBeforeTheWholeBodyIsReturned) {
  auto listener = eddy::net::Listener::bind(*eddy::net::SocketAddress::parse("127.0.0.1", 0));
  std::uint16_t port = listener.local_address().port();
  auto answer_early = [&]() -> Task<> {
    eddy::net::Stream c = co_await listener.accept();
    while (c.buffered().find("\r\n\r\n") == std::string_view::npos)
      if (!co_await c.fill()) co_return;
    c.write(
        "HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!");
    co_await c.drain();
    co_await eddy::sleep(10ms);
    c.abort();  // a reset, with the unread body still in the socket
  };
  auto server = eddy::spawn(answer_early());
  http::Session s(base(port));
  int opened = 0;
  http::RequestOptions o;
  o.body = http::stream_body(pattern_source(8 << 20, 64 << 10, &opened), "x/y", 8 << 20);
  auto r = co_await s.post("/upload", std::move(o));
  EXPECT_EQ(r.status(), 413);
  EXPECT_EQ(co_await r.text(), "too big!");
  EXPECT_EQ(s.idle_connections(), 0u) << "a connection with half a body sent is not reused";
  co_await std::move(server);
  co_await s.close();
}

EDDY_TEST(HttpClientBody, DecodesBrotliAndCharsets) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  auto r = co_await s.get("/br");
  EXPECT_TRUE(co_await r.read() == pattern(300000)) << "br decoded";
  r = co_await s.get("/br?corrupt=1");
  EXPECT_THROW(co_await r.read(), http::ProtocolError);

  r = co_await s.get("/latin1");
  EXPECT_EQ(r.charset(), "iso-8859-1");
  EXPECT_EQ(co_await r.text(), "caf\xc3\xa9 \xc2\x80");  // "café" and U+0080
  r = co_await s.get("/latin1?cs=windows-1252");
  EXPECT_EQ(co_await r.text(), "caf\xc3\xa9 \xe2\x82\xac") << "0x80 is the euro sign there";
  r = co_await s.get("/latin1?cs=utf-8");
  EXPECT_EQ(co_await r.read(), "caf\xe9 \x80") << "read() gives the bytes as sent";
  r = co_await s.get("/latin1?cs=utf-8");
  EXPECT_EQ(co_await r.text("latin1"), "caf\xc3\xa9 \xc2\x80") << "an explicit encoding wins";
  r = co_await s.get("/latin1?cs=no-such-charset");
  EXPECT_THROW(co_await r.text(), http::HttpError);
  r = co_await s.get("/latin1?cs=us-ascii");
  EXPECT_EQ(co_await r.text(), "caf\xe9 \x80") << "ASCII is taken as UTF-8, unchanged";
  r = co_await s.get("/latin1?cs=shift_jis");
  EXPECT_THROW(co_await r.text(), http::ProtocolError) << "0xE9 0x20 is no Shift_JIS";
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClientBody, TraceHooksFireInOrder) {
  Seen seen;
  http::App app = test_app(seen);
  http::ServerOptions so = local_server();
  so.host = "127.0.0.1";
  auto srv = co_await http::serve(app, so);
  std::vector<std::string> log;
  auto hook = [&log](const char* name) {
    return [&log, name](const http::TraceEvent& e) {
      std::string line = std::string(name) + " " + std::string(e.method) + " " + e.url.path();
      if (e.status) line += " " + std::to_string(e.status);
      if (!e.addresses.empty()) line += " with addresses";
      log.push_back(line);
    };
  };
  http::TraceConfig tc;
  tc.on_request_start = hook("start");
  tc.on_request_end = hook("end");
  tc.on_request_exception = hook("exception");
  tc.on_request_redirect = hook("redirect");
  tc.on_connection_queued_start = hook("queued");
  tc.on_connection_queued_end = hook("dequeued");
  tc.on_connection_create_start = hook("create");
  tc.on_connection_create_end = hook("created");
  tc.on_connection_reuseconn = hook("reuse");
  tc.on_dns_resolvehost_start = hook("dns");
  tc.on_dns_resolvehost_end = hook("resolved");
  http::SessionOptions o;
  o.base_url = "http://localhost:" + std::to_string(srv.port());
  o.connector.limit = 1;
  o.trace_configs.push_back(tc);
  o.connector.ttl_dns_cache = std::chrono::seconds(60);
  http::Session s(o);

  co_await (co_await s.get("/hello")).read();
  co_await (co_await s.get("/moved")).read();
  std::vector<std::string> want = {"start GET /hello",        "create GET /hello",
                                   "dns GET /hello",          "resolved GET /hello with addresses",
                                   "created GET /hello",      "end GET /hello 200",
                                   "start GET /moved",        "reuse GET /moved",
                                   "redirect GET /hello 307", "reuse GET /hello",
                                   "end GET /hello 200"};
  EXPECT_EQ(log, want);

  // With limit 1, a second request waits for the first.
  log.clear();
  auto slow = [&]() -> Task<> { co_await (co_await s.get("/slow")).read(); };
  auto first = eddy::spawn(slow());
  co_await eddy::sleep(10ms);
  co_await (co_await s.get("/hello")).read();
  co_await std::move(first);
  EXPECT_EQ(log, (std::vector<std::string>{"start GET /slow", "reuse GET /slow", "start GET /hello",
                                           "queued GET /hello", "end GET /slow 200",
                                           "dequeued GET /hello", "reuse GET /hello",
                                           "end GET /hello 200"}));

  log.clear();
  std::uint16_t dead = eddy_test::free_port();
  EXPECT_THROW(co_await s.get("http://127.0.0.1:" + std::to_string(dead) + "/x"),
               eddy::ConnectionError);
  EXPECT_EQ(log, (std::vector<std::string>{"start GET /x", "create GET /x", "exception GET /x"}));
  co_await s.close();
  co_await srv.shutdown();
}

// read_line over pieces that split lines anywhere; cookies() of a response; per-request
// cookies after the jar's; OPTIONS.
EDDY_TEST(HttpClientBody, LinesCookiesAndOptions) {
  http::App app;
  app.get("/lines", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::stream([](http::BodyWriter& w) -> Task<> {
      for (const char* piece : {"on", "e\r\ntw", "o\n", "\nthree"}) {
        co_await w.write(piece);
        co_await eddy::sleep(1ms);
      }
    });
  });
  app.get("/set", [](http::Request&) -> Task<http::Response> {
    http::Response r = http::Response::text("set");
    r.headers.add("Set-Cookie", "sid=abc; Path=/; HttpOnly");
    r.headers.add("Set-Cookie", "theme=dark");
    r.headers.add("Set-Cookie", "=no name");
    co_return r;
  });
  app.any("/who", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::string(r.method()) + " " +
                                   std::string(r.header("Cookie").value_or("-")));
  });
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));

  auto r = co_await s.get("/lines");
  std::vector<std::string> lines;
  while (auto line = co_await r.read_line()) lines.push_back(*line);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two", "", "three"}));
  r = co_await s.get("/lines");
  EXPECT_EQ(co_await r.read_line(), std::optional<std::string>("one"));
  EXPECT_EQ(co_await r.read(), "two\n\nthree") << "read() goes on where read_line stopped";
  r = co_await s.get("/lines");
  EXPECT_EQ(co_await r.read_line(4), std::optional<std::string>("one"));
  EXPECT_EQ(co_await r.read_line(4), std::optional<std::string>("two"));
  EXPECT_EQ(co_await r.read_line(4), std::optional<std::string>(""));
  EXPECT_THROW(co_await r.read_line(4), http::ProtocolError) << "'three' is longer than 4";

  r = co_await s.get("/set");
  auto cookies = r.cookies();
  EXPECT_EQ(cookies.size(), 2u) << "the nameless one is skipped";
  if (cookies.size() == 2) {
    EXPECT_EQ(cookies[0].name, "sid");
    EXPECT_TRUE(cookies[0].http_only);
    EXPECT_EQ(cookies[1].value, "dark");
  }
  co_await r.read();
  http::RequestOptions o;
  o.cookies = {{"extra", "1"}};
  r = co_await s.options("/who", std::move(o));
  EXPECT_EQ(co_await r.text(), "OPTIONS sid=abc; theme=dark; extra=1");
  r = co_await s.get("/who");
  EXPECT_EQ(co_await r.text(), "GET sid=abc; theme=dark") << "per-request cookies are not kept";
  co_await s.close();
  co_await srv.shutdown();
}

// sock_connect against a connect that never completes (a full listen backlog), and
// sock_read / total against a server that stalls in the middle of the body.
EDDY_TEST(HttpClientBody, ConnectAndMidBodyStallsTimeOut) {
  namespace net = eddy::net;
  net::ListenOptions lo;
  lo.backlog = 0;
  auto full = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0), lo);
  std::vector<net::Stream> fillers;
  for (int i = 0; i < 8; ++i) {
    auto c = co_await eddy::move_on_after(50ms, net::connect(full.local_address()));
    if (!c) break;
    fillers.push_back(std::move(*c));
  }
  std::size_t fds = eddy_test::open_fd_count();
  http::SessionOptions so;
  so.timeout.sock_connect = 300ms;
  http::Session s(so);
  std::string url = "http://127.0.0.1:" + std::to_string(full.local_address().port()) + "/x";
  auto start = eddy::now();
  std::string what;
  try {
    co_await s.get(url);
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 300ms);
  EXPECT_NE(what.find("sock_connect timeout (300 ms) on GET " + url), std::string::npos) << what;
  EXPECT_EQ(eddy_test::open_fd_count(), fds) << "the half-open socket was closed";

  auto stall = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  auto serve_part = [&]() -> Task<> {
    std::vector<net::Stream> held;
    for (;;) {
      net::Stream c = co_await stall.accept();
      while (c.buffered().find("\r\n\r\n") == std::string_view::npos)
        if (!co_await c.fill()) break;
      c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789");
      co_await c.drain();
      held.push_back(std::move(c));  // and nothing more
    }
  };
  auto server = eddy::spawn(serve_part());
  std::string stall_url = "http://127.0.0.1:" + std::to_string(stall.local_address().port()) + "/";
  http::RequestOptions o;
  o.timeout = http::ClientTimeout{.total = 0ms, .sock_read = 2s};
  auto r = co_await s.get(stall_url, std::move(o));
  EXPECT_EQ(co_await r.read_chunk(), "0123456789");
  start = eddy::now();
  what.clear();
  try {
    co_await r.read();
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 2s);
  EXPECT_NE(what.find("sock_read timeout (2000 ms)"), std::string::npos) << what;
  o = {};
  o.timeout = http::ClientTimeout{.total = 5s};
  start = eddy::now();
  what.clear();
  try {
    r = co_await s.get(stall_url, std::move(o));
    co_await r.read();
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 5s) << "total covers reading the body";
  EXPECT_NE(what.find("total timeout (5000 ms)"), std::string::npos) << what;
  server.cancel();
  EXPECT_THROW(co_await std::move(server), eddy::TaskCancelled);
  co_await s.close();
}
