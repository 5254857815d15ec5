// http::Session against eddy's own server, on the virtual clock. Rules pinned here:
//  - base_url joins, params append to the query, default headers go with every request and
//    per-request ones override them; JSON and form bodies carry their Content-Type;
//  - connections are reused while kept alive; a response dropped with its body unread closes
//    its connection instead of pooling it;
//  - limit_per_host bounds the connections in use at once to a host; the rest wait in turn;
//  - sock_read, total and connect (waiting for the pool) time out exactly, naming the limit;
//  - a pooled connection the server closed is retried once for an idempotent request, and
//    is an error for a POST;
//  - raise_for_status throws ClientResponseError with the status, URL and body start;
//  - a cancelled request leaves no descriptor behind.
#include <zlib.h>

#include <string>
#include <vector>

#include "client_support.hpp"
#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
using eddy::Task;
using eddy_test::local_server;

namespace {

struct Stats {
  int in_flight = 0, peak = 0;
};

http::App test_app(Stats& st) {
  http::App app;
  app.get("/echo", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::json({{"q", r.query_string()},
                                    {"agent", r.header("User-Agent").value_or("")},
                                    {"x", r.header("X-Default").value_or("")}});
  });
  app.post("/json", [](http::Request& r) -> Task<http::Response> {
    nlohmann::json v = co_await r.json();
    co_return http::Response::json({{"got", v}, {"type", r.content_type()}});
  });
  app.get("/slow/{ms}", [&st](http::Request& r) -> Task<http::Response> {
    ++st.in_flight;
    st.peak = std::max(st.peak, st.in_flight);
    co_await eddy::sleep(std::chrono::milliseconds(std::stoi(std::string(r.match("ms")))));
    --st.in_flight;
    co_return http::Response::text("slept");
  });
  app.get("/big", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::text(std::string(200000, 'b'));
  });
  app.get("/missing", [](http::Request&) -> Task<http::Response> {
    throw http::HttpException(404, "no such thing here");
    co_return http::Response();
  });
  app.post("/count", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::to_string((co_await r.body()).size()));
  });
  return app;
}

struct Fixture {
  Stats stats;
  http::App app = test_app(stats);
};

http::SessionOptions base(std::uint16_t port) {
  http::SessionOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  return o;
}

}  // namespace

EDDY_TEST(HttpClient, RequestsBodiesAndReuse) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  http::SessionOptions so = base(srv.port());
  so.headers.add("X-Default", "d");
  http::Session s(so);

  http::RequestOptions with_params;
  with_params.params.add("b", "x y");
  auto r = co_await s.get("/echo?a=1", std::move(with_params));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.headers().get_or("Content-Type", ""), "application/json");
  nlohmann::json v = co_await r.json();
  EXPECT_EQ(v["q"], "a=1&b=x+y");
  EXPECT_EQ(v["agent"], "eddy/0.1");
  EXPECT_EQ(v["x"], "d");

  http::RequestOptions o;
  o.headers.add("X-Default", "override");
  v = co_await (co_await s.get("/echo", std::move(o))).json();
  EXPECT_EQ(v["x"], "override");

  o = {};
  o.body = http::json_body({{"n", 1}});
  v = co_await (co_await s.post("/json", std::move(o))).json();
  EXPECT_EQ(v["got"]["n"], 1);
  EXPECT_EQ(v["type"], "application/json");

  for (int i = 0; i < 5; ++i) {
    auto rr = co_await s.get("/big");
    EXPECT_EQ((co_await rr.text()).size(), 200000u);
  }
  EXPECT_EQ(s.connections_opened(), 1u) << "one kept-alive connection served all eight";
  EXPECT_EQ(s.idle_connections(), 1u);

  {
    auto unread = co_await s.get("/big");  // dropped with its body unread
  }
  EXPECT_EQ(s.idle_connections(), 0u) << "a half-read connection is never pooled";
  co_await s.get("/echo");
  EXPECT_EQ(s.connections_opened(), 2u);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, LimitPerHostQueuesTheRest) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  http::SessionOptions so = base(srv.port());
  so.connector.limit_per_host = 3;
  http::Session s(so);
  std::vector<Task<std::string>> calls;
  for (int i = 0; i < 20; ++i) {
    calls.push_back([](http::Session& s) -> Task<std::string> {
      auto r = co_await s.get("/slow/100");
      co_return co_await r.text();
    }(s));
  }
  auto start = eddy::now();
  auto bodies = co_await eddy::gather(std::move(calls));
  for (auto& b : bodies) EXPECT_EQ(b, "slept");
  EXPECT_EQ(f.stats.peak, 3) << "never more than limit_per_host at once, server-side";
  EXPECT_EQ(eddy::now() - start, 700ms) << "20 requests, 3 at a time, 100 ms each";
  EXPECT_EQ(s.connections_opened(), 3u);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, TimeoutsNameTheLimitAndTheUrl) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  http::SessionOptions so = base(srv.port());
  so.timeout.sock_read = 2s;
  so.connector.limit = 1;
  http::Session s(so);

  auto start = eddy::now();
  std::string what;
  try {
    co_await s.get("/slow/10000");
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 2s);
  EXPECT_NE(what.find("sock_read timeout (2000 ms) on GET http://127.0.0.1:"), std::string::npos)
      << what;
  EXPECT_NE(what.find("/slow/10000"), std::string::npos) << what;

  http::RequestOptions o;
  o.timeout = http::ClientTimeout{.total = 500ms};
  start = eddy::now();
  what.clear();
  try {
    co_await s.get("/slow/10000", std::move(o));
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 500ms);
  EXPECT_NE(what.find("total timeout (500 ms)"), std::string::npos) << what;

  // limit = 1 and a response holding the only connection: the next one waits for the pool,
  // and that wait is what `connect` bounds.
  auto holder = co_await s.get("/big");
  o = {};
  o.timeout = http::ClientTimeout{.connect = 1s};
  start = eddy::now();
  what.clear();
  try {
    co_await s.get("/echo", std::move(o));
  } catch (const eddy::TimeoutError& e) {
    what = e.what();
  }
  EXPECT_EQ(eddy::now() - start, 1s);
  EXPECT_NE(what.find("connect timeout (1000 ms)"), std::string::npos) << what;
  co_await holder.read();
  EXPECT_EQ((co_await s.get("/echo")).status(), 200) << "the pool works again";
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, ClosedIdleConnectionsAreNotReused) {
  Fixture f;
  http::ServerOptions so = local_server();
  so.keepalive_timeout = 1s;  // the server closes idle connections after a second
  auto srv = co_await http::serve(f.app, so);
  http::SessionOptions co = base(srv.port());
  co.connector.keepalive_timeout = 60s;  // the client would keep them much longer
  http::Session s(co);
  EXPECT_EQ((co_await s.get("/echo")).status(), 200);
  co_await eddy::sleep(2s);
  http::RequestOptions o;
  o.body = http::text_body("abc");
  EXPECT_EQ(co_await (co_await s.post("/count", std::move(o))).text(), "3")
      << "the closed connection was noticed before reuse, even for a POST";
  EXPECT_EQ(s.connections_opened(), 2u);
  co_await s.close();
  co_await srv.shutdown();
}

// The race the retry exists for: the server closes a kept-alive connection just as the client
// sends on it (here: it reads the second request, then closes without answering).
EDDY_TEST(HttpClient, RaceWithAServerCloseIsRetriedWhenIdempotent) {
  int connections = 0;
  auto srv = co_await eddy::net::serve(
      [&connections](eddy::net::Stream& st) -> Task<> {
        ++connections;
        co_await st.read_until("\r\n\r\n");
        st.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        co_await st.drain();
        co_await st.read_until("\r\n\r\n");  // the next request arrives: hang up on it
      },
      "127.0.0.1", 0);
  http::Session s(base(srv.port()));
  EXPECT_EQ(co_await (co_await s.get("/a")).text(), "ok");
  EXPECT_EQ(co_await (co_await s.get("/b")).text(), "ok") << "sent again on a new connection";
  EXPECT_EQ(connections, 2);
  EXPECT_EQ(s.connections_opened(), 2u);

  http::RequestOptions o;
  o.body = http::text_body("abc");
  bool failed = false;
  try {
    co_await s.post("/c", std::move(o));
  } catch (const eddy::ConnectionError&) {
    failed = true;
  }
  EXPECT_TRUE(failed) << "a POST is not sent twice on the client's own initiative";
  co_await s.close();
  co_await srv.shutdown(1s);
}

EDDY_TEST(HttpClient, RaiseForStatus) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  http::Session s(base(srv.port()));
  auto r = co_await s.get("/missing");
  EXPECT_EQ(r.status(), 404);
  EXPECT_EQ(co_await r.text(), "no such thing here");
  int status = 0;
  std::string what;
  try {
    r.raise_for_status();
  } catch (const http::ClientResponseError& e) {
    status = e.status();
    what = e.what();
  }
  EXPECT_EQ(status, 404);
  EXPECT_NE(what.find("/missing: no such thing here"), std::string::npos) << what;
  bool thrown = false;
  try {
    http::RequestOptions o;
    o.raise_for_status = true;
    co_await s.get("/missing", std::move(o));
  } catch (const http::ClientResponseError&) {
    thrown = true;
  }
  EXPECT_TRUE(thrown);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, CancelledRequestsLeaveNoDescriptor) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  std::size_t before = eddy_test::open_fd_count();
  {
    http::Session s(base(srv.port()));
    for (int i = 0; i < 50; ++i) {
      auto r = co_await eddy::move_on_after(50ms, s.get("/slow/1000"));
      EXPECT_FALSE(r.has_value());
    }
    co_await s.close();
  }
  co_await eddy::sleep(2s);  // the server notices the closed connections
  EXPECT_EQ(eddy_test::open_fd_count(), before);
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, RedirectsFollowTheMethodRules) {
  http::App app;
  app.route("*", "/to/{code}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::redirect("/seen", std::stoi(std::string(r.match("code"))));
  });
  app.any("/seen", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::string(r.method()) + " " + co_await r.body() + " " +
                                   std::string(r.header("Authorization").value_or("-")));
  });
  app.get("/loop", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::redirect("/loop", 302);
  });
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  struct Case {
    std::string method;
    int code;
    std::string want;
  };
  for (const Case& c : std::vector<Case>{{"POST", 301, "GET  x"},
                                         {"POST", 302, "GET  x"},
                                         {"PUT", 303, "GET  x"},
                                         {"PUT", 302, "PUT body x"},
                                         {"POST", 307, "POST body x"},
                                         {"POST", 308, "POST body x"}}) {
    http::RequestOptions o;
    o.body = http::text_body("body");
    o.headers.add("Authorization", "x");  // same origin: it follows
    auto r = co_await s.request(c.method, "/to/" + std::to_string(c.code), std::move(o));
    EXPECT_EQ(co_await r.text(), c.want) << c.method << " " << c.code;
    EXPECT_EQ(r.url().path(), "/seen");
  }
  http::RequestOptions no_follow;
  no_follow.allow_redirects = false;
  auto r = co_await s.get("/to/302", std::move(no_follow));
  EXPECT_EQ(r.status(), 302);
  EXPECT_EQ(r.headers().get_or("Location", ""), "/seen");

  bool too_many = false;
  try {
    co_await s.get("/loop");
  } catch (const http::TooManyRedirects&) {
    too_many = true;
  }
  EXPECT_TRUE(too_many);
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, CookiesAreKeptAndSentBack) {
  http::App app;
  app.get("/login", [](http::Request&) -> Task<http::Response> {
    http::Response r = http::Response::text("in");
    r.headers.add("Set-Cookie", "sid=abc; Path=/; HttpOnly");
    r.headers.add("Set-Cookie", "pref=dark; Path=/settings");
    co_return r;
  });
  app.get("/{page:.*}", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::string(r.header("Cookie").value_or("-")));
  });
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  co_await (co_await s.get("/login")).text();
  EXPECT_EQ(co_await (co_await s.get("/home")).text(), "sid=abc");
  EXPECT_EQ(co_await (co_await s.get("/settings/x")).text(), "pref=dark; sid=abc")
      << "longer paths first";
  EXPECT_EQ(s.cookie_jar().size(), 2u);

  http::SessionOptions off = base(srv.port());
  off.cookies = false;
  http::Session plain(off);
  co_await (co_await plain.get("/login")).text();
  EXPECT_EQ(co_await (co_await plain.get("/home")).text(), "-");
  co_await s.close();
  co_await plain.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, CredentialsStayWithTheirOrigin) {
  std::uint16_t other_port = 0;
  http::App app;
  app.get("/away", [&other_port](http::Request&) -> Task<http::Response> {
    co_return http::Response::redirect("http://127.0.0.1:" + std::to_string(other_port) + "/who",
                                       302);
  });
  app.get("/who", [](http::Request& r) -> Task<http::Response> {
    co_return http::Response::text(std::string(r.header("Authorization").value_or("-")) + " " +
                                   std::string(r.header("X-Other").value_or("-")));
  });
  auto a = co_await http::serve(app, local_server());
  auto b = co_await http::serve(app, local_server());
  other_port = b.port();
  http::Session s(base(a.port()));
  http::RequestOptions o;
  o.headers.add("Authorization", "Bearer secret");
  o.headers.add("X-Other", "kept");
  EXPECT_EQ(co_await (co_await s.get("/away", std::move(o))).text(), "- kept")
      << "Authorization is not sent to another origin";
  co_await s.close();
  co_await a.shutdown();
  co_await b.shutdown();
}

namespace {
// `data` deflated: zlib-wrapped (window_bits 15) or raw (-15), as servers send "deflate".
std::string deflate(std::string_view data, int window_bits) {
  z_stream z{};
  deflateInit2(&z, 6, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 16, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  return out;
}
}  // namespace

EDDY_TEST(HttpClient, CompressedBodiesAreDecoded) {
  std::string text;
  for (int i = 0; i < 20000; ++i) text += "row " + std::to_string(i) + "\n";
  http::App app;
  app.use(http::middleware::compression());
  app.get("/gz", [&text](http::Request&) -> Task<http::Response> {
    co_return http::Response::text(text);
  });
  app.get("/deflate/{bits}", [&text](http::Request& r) -> Task<http::Response> {
    http::Response resp =
        http::Response::bytes(deflate(text, std::stoi(std::string(r.match("bits")))), "text/plain");
    resp.headers.add("Content-Encoding", "deflate");
    co_return resp;
  });
  app.get("/corrupt", [](http::Request&) -> Task<http::Response> {
    http::Response resp = http::Response::bytes("\x1f\x8b\x08\x00garbage garbage", "text/plain");
    resp.headers.add("Content-Encoding", "gzip");
    co_return resp;
  });
  auto srv = co_await http::serve(app, local_server());
  http::Session s(base(srv.port()));
  auto r = co_await s.get("/gz");
  EXPECT_EQ(r.headers().get_or("Content-Encoding", ""), "gzip") << "the client asked for it";
  EXPECT_TRUE(co_await r.text() == text);
  EXPECT_TRUE(co_await (co_await s.get("/deflate/15")).text() == text) << "zlib-wrapped deflate";
  EXPECT_TRUE(co_await (co_await s.get("/deflate/-15")).text() == text) << "raw deflate";
  bool corrupt = false;
  try {
    co_await (co_await s.get("/corrupt")).text();
  } catch (const http::ProtocolError&) {
    corrupt = true;
  }
  EXPECT_TRUE(corrupt);
  EXPECT_EQ(co_await (co_await s.get("/gz")).text(), text) << "the session is fine afterwards";
  co_await s.close();
  co_await srv.shutdown();
}

EDDY_TEST(HttpClient, RetriesBackOffAndHonourRetryAfter) {
  int flaky_calls = 0, busy_calls = 0, post_calls = 0;
  http::App app;
  app.get("/flaky", [&flaky_calls](http::Request&) -> Task<http::Response> {
    if (++flaky_calls < 3) throw http::HttpException(503);
    co_return http::Response::text("finally");
  });
  app.get("/busy", [&busy_calls](http::Request&) -> Task<http::Response> {
    if (++busy_calls == 1) throw http::HttpException(429, "slow down", {{"Retry-After", "2"}});
    co_return http::Response::text("ok");
  });
  app.post("/flaky", [&post_calls](http::Request&) -> Task<http::Response> {
    ++post_calls;
    throw http::HttpException(503);
    co_return http::Response();
  });
  auto srv = co_await http::serve(app, local_server());
  http::SessionOptions so = base(srv.port());
  so.retry.attempts = 4;
  http::Session s(so);

  auto start = eddy::now();
  auto r = co_await s.get("/flaky");
  EXPECT_EQ(co_await r.text(), "finally");
  EXPECT_EQ(flaky_calls, 3);
  EXPECT_EQ(eddy::now() - start, 300ms) << "backoff 100 ms, then 200 ms";

  start = eddy::now();
  EXPECT_EQ(co_await (co_await s.get("/busy")).text(), "ok");
  EXPECT_EQ(eddy::now() - start, 2s) << "Retry-After, not the backoff";

  r = co_await s.post("/flaky");
  EXPECT_EQ(r.status(), 503);
  EXPECT_EQ(post_calls, 1) << "POST is not idempotent: not retried";

  http::RequestOptions once;
  once.retry = http::RetryOptions{};  // attempts = 1
  flaky_calls = 0;
  EXPECT_EQ((co_await s.get("/flaky", std::move(once))).status(), 503);
  EXPECT_EQ(flaky_calls, 1);
  co_await s.close();
  co_await srv.shutdown();
}

// Connection errors are retried too: this server hangs up on its first two connections.
EDDY_TEST(HttpClient, ConnectionErrorsAreRetried) {
  int connections = 0;
  auto srv = co_await eddy::net::serve(
      [&connections](eddy::net::Stream& st) -> Task<> {
        co_await st.read_until("\r\n\r\n");
        if (++connections <= 2) co_return;  // closed without an answer
        st.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
      },
      "127.0.0.1", 0);
  http::SessionOptions so = base(srv.port());
  so.retry.attempts = 3;
  http::Session s(so);
  auto start = eddy::now();
  EXPECT_EQ(co_await (co_await s.get("/")).text(), "ok");
  EXPECT_EQ(connections, 3);
  EXPECT_EQ(eddy::now() - start, 300ms);
  co_await s.close();
  co_await srv.shutdown(1s);
}

EDDY_TEST(HttpClient, PerHostRateLimits) {
  Fixture f;
  auto srv = co_await http::serve(f.app, local_server());
  auto burst = [](http::Session& s, int n, std::string path) -> Task<> {
    std::vector<Task<std::string>> calls;
    for (int i = 0; i < n; ++i) {
      calls.push_back([](http::Session& s, std::string p) -> Task<std::string> {
        co_return co_await (co_await s.get(p)).text();
      }(s, path));
    }
    co_await eddy::gather(std::move(calls));
  };

  http::SessionOptions so = base(srv.port());
  so.rate_limit.requests = 5;
  so.rate_limit.per = 1s;
  http::Session rated(so);
  auto start = eddy::now();
  co_await burst(rated, 10, "/echo");
  EXPECT_EQ(eddy::now() - start, 1s) << "5 at once, then one every 200 ms";

  so = base(srv.port());
  so.rate_limit.concurrent = 2;
  http::Session narrow(so);
  start = eddy::now();
  co_await burst(narrow, 6, "/slow/100");
  EXPECT_EQ(eddy::now() - start, 300ms) << "two at a time";
  EXPECT_EQ(f.stats.peak, 2);
  co_await rated.close();
  co_await narrow.close();
  co_await srv.shutdown();
}
