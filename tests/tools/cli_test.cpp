// The `eddy` program as a user runs it: each test starts an eddy server in this process,
// runs the built binary through /bin/sh against it and checks what it printed, its exit
// status, and what the server saw.
#include <algorithm>
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

// Runs the eddy binary with `args` (a shell fragment), stderr folded into stdout.
Task<std::pair<int, std::string>> eddy_cli(const std::string& args) {
  co_return co_await eddy::to_thread(eddy_test::run_command,
                                     "timeout 60 " EDDY_CLI " " + args + " 2>&1");
}

bool has(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// What the test server saw: requests, and how many were being handled at once.
struct Seen {
  int requests = 0, in_flight = 0, max_in_flight = 0, flaky_calls = 0;
};

http::App test_app(Seen& seen) {
  http::App app;
  app.use([&seen](http::Request& req, const http::Handler& next) -> Task<http::Response> {
    ++seen.requests;
    seen.max_in_flight = std::max(seen.max_in_flight, ++seen.in_flight);
    struct Done {
      Seen& s;
      ~Done() { --s.in_flight; }
    } done{seen};
    co_return co_await next(req);
  });
  app.get("/hello", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::text("Hello, World!");
  });
  app.any("/echo", [](http::Request& r) -> Task<http::Response> {
    std::string body = co_await r.body();
    co_return http::Response::json({{"method", r.method()},
                                    {"type", r.content_type()},
                                    {"x", r.header("X-Test").value_or("")},
                                    {"body", body}});
  });
  app.get("/slow/{n}", [](http::Request&) -> Task<http::Response> {
    co_await eddy::sleep(30ms);
    co_return http::Response::text("slow");
  });
  app.get("/moved", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::redirect("/hello");
  });
  // 503 on the first call, then fine: what --retries is for.
  app.get("/flaky", [&seen](http::Request&) -> Task<http::Response> {
    if (seen.flaky_calls++ == 0) co_return http::Response::text("busy", 503);
    co_return http::Response::text("better");
  });
  return app;
}

http::ServerOptions local() {
  http::ServerOptions o;
  o.port = 0;
  return o;
}

}  // namespace

EDDY_REAL_TEST(EddyCli, GetPrintsTheBodyAndSendsWhatItIsTold) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local());
  std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

  auto [rc, out] = co_await eddy_cli("get " + base + "/hello");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "Hello, World!");

  std::tie(rc, out) = co_await eddy_cli("get -i " + base + "/hello");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 200 OK\n")) << out;
  EXPECT_TRUE(has(out, "Content-Length: 13\n")) << out;
  EXPECT_TRUE(out.ends_with("\n\nHello, World!")) << out;

  std::tie(rc, out) = co_await eddy_cli("get -d 'a=1&b=2' -H 'X-Test: yes' " + base + "/echo");
  nlohmann::json v = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(v["method"], "POST") << out;
  EXPECT_EQ(v["type"], "application/x-www-form-urlencoded");
  EXPECT_EQ(v["body"], "a=1&b=2");
  EXPECT_EQ(v["x"], "yes");

  std::tie(rc, out) = co_await eddy_cli("get -X PUT --json '{\"k\": [1]}' " + base + "/echo");
  v = nlohmann::json::parse(out, nullptr, false);
  EXPECT_EQ(v["method"], "PUT") << out;
  EXPECT_EQ(v["type"], "application/json");
  EXPECT_EQ(v["body"], R"({"k":[1]})");

  // Redirects are followed unless asked not to.
  std::tie(rc, out) = co_await eddy_cli("get " + base + "/moved");
  EXPECT_EQ(out, "Hello, World!");
  std::tie(rc, out) = co_await eddy_cli("get -i --no-redirects " + base + "/moved");
  EXPECT_TRUE(out.starts_with("HTTP/1.1 302 Found\n")) << out;
  EXPECT_TRUE(has(out, "Location: /hello\n")) << out;

  // Exit statuses: 0 for a 404 unless -f (then 22, as curl), 1 for a failed request,
  // 2 for a usage mistake; errors name what went wrong.
  std::tie(rc, out) = co_await eddy_cli("get " + base + "/missing");
  EXPECT_EQ(rc, 0);
  std::tie(rc, out) = co_await eddy_cli("get -f " + base + "/missing");
  EXPECT_EQ(rc, 22);
  std::uint16_t dead = eddy_test::free_port();
  std::tie(rc, out) = co_await eddy_cli("get http://127.0.0.1:" + std::to_string(dead) + "/");
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(out.starts_with("eddy: ") && has(out, "refused")) << out;
  std::tie(rc, out) = co_await eddy_cli("get --json '{nope' " + base + "/echo");
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(has(out, "not valid JSON")) << out;
  std::tie(rc, out) = co_await eddy_cli("get -H 'no colon' " + base + "/hello");
  EXPECT_EQ(rc, 2);
  std::tie(rc, out) = co_await eddy_cli("get 'http://[bad/'");
  EXPECT_EQ(rc, 1);
  EXPECT_TRUE(out.starts_with("eddy: ")) << out;
  co_await srv.shutdown();
}

EDDY_REAL_TEST(EddyCli, FetchRunsNAtATimeRetriesAndSummarises) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local());
  std::string base = "http://127.0.0.1:" + std::to_string(srv.port());
  eddy_test::TempDir dir;
  std::string list = "# twelve slow ones, then the odd cases\n\n";
  for (int i = 0; i < 12; ++i) list += base + "/slow/" + std::to_string(i) + "\n";
  std::uint16_t dead = eddy_test::free_port();
  list +=
      base + "/missing\n  http://127.0.0.1:" + std::to_string(dead) + "/x  \n" + base + "/flaky\n";
  co_await eddy::fs::write_file(dir / "urls.txt", list);

  auto [rc, out] = co_await eddy_cli("fetch -c 3 --retries 1 --each " + dir / "urls.txt");
  EXPECT_EQ(rc, 1) << "some URLs failed";
  EXPECT_EQ(seen.max_in_flight, 3) << "never more than -c at once, and that many were used";
  EXPECT_EQ(seen.flaky_calls, 2) << "the 503 was retried once";
  EXPECT_TRUE(has(out, "Fetched 15 URLs in ")) << out;
  EXPECT_TRUE(has(out, "  ok      13\n  failed  2\n")) << out;
  EXPECT_TRUE(has(out, "    HTTP 404                     1\n")) << out;
  EXPECT_TRUE(has(out, "    connection refused           1\n")) << out;
  EXPECT_TRUE(has(out, "200\t4\t")) << "a line per URL: status, bytes, time, URL\n" << out;
  EXPECT_TRUE(has(out, "\t" + base + "/flaky\n")) << out;
  EXPECT_TRUE(has(out, "Percentiles")) << out;

  // From stdin, all fine: exit 0. An empty list is a usage error.
  std::tie(rc, out) = co_await eddy::to_thread(
      eddy_test::run_command, "printf '" + base + "/hello\\n' | timeout 60 " EDDY_CLI " fetch -");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out, "  ok      1\n  failed  0\n")) << out;
  std::tie(rc, out) = co_await eddy_cli("fetch /dev/null");
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(has(out, "no URLs")) << out;
  co_await srv.shutdown();
}

EDDY_REAL_TEST(EddyCli, BenchKeepsConnectionsAliveAndReports) {
  Seen seen;
  http::App app = test_app(seen);
  auto srv = co_await http::serve(app, local());
  std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

  auto [rc, out] = co_await eddy_cli("bench -n 500 -c 8 -d 30s " + base + "/hello");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(seen.requests, 500) << "-n is exact";
  EXPECT_TRUE(has(out, "Requests      500 in ")) << out;
  EXPECT_TRUE(has(out, ", 8 connections opened\n")) << "kept alive: one per -c\n" << out;
  EXPECT_TRUE(has(out, "Requests/sec: ")) << out;
  EXPECT_TRUE(has(out, "connect 0, read 0, timeout 0; status >= 400: 0\n")) << out;
  EXPECT_TRUE(has(out, "Latency histogram\n")) << out;

  // -c is how many requests are in flight at once.
  seen = Seen{};
  std::tie(rc, out) = co_await eddy_cli("bench -n 40 -c 8 " + base + "/slow/1");
  EXPECT_EQ(seen.requests, 40);
  EXPECT_EQ(seen.max_in_flight, 8) << out;

  // Two threads for a short duration; 404s are counted as such.
  std::tie(rc, out) = co_await eddy_cli("bench -c 4 -t 2 -d 300ms " + base + "/missing");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_TRUE(has(out, "2 threads and 4 connections")) << out;
  EXPECT_FALSE(has(out, "status >= 400: 0\n")) << out;

  std::tie(rc, out) = co_await eddy_cli("bench -d 10x " + base + "/hello");
  EXPECT_EQ(rc, 2);
  EXPECT_TRUE(has(out, "unknown unit")) << out;
  co_await srv.shutdown();
}

EDDY_REAL_TEST(EddyCli, ServeServesADirectory) {
  eddy_test::TempDir dir;
  co_await eddy::fs::write_file(dir / "a.txt", "file a");
  co_await eddy::fs::write_file(dir / ".secret", "no");
  ::mkdir((dir / "site").c_str(), 0755);
  co_await eddy::fs::write_file(dir / "site/index.html", "<p>site</p>");
  std::uint16_t port = eddy_test::free_port();
  eddy_test::Process server(EDDY_CLI " serve " + dir.path() + " -q --port " + std::to_string(port) +
                            " > /dev/null");
  (co_await eddy_test::connect_when_up(port)).abort();
  std::string base = "http://127.0.0.1:" + std::to_string(port);

  http::Session s;
  auto r = co_await s.get(base + "/a.txt");
  EXPECT_EQ(co_await r.text(), "file a");
  EXPECT_EQ(r.headers().get_or("Accept-Ranges", ""), "bytes");
  r = co_await s.get(base + "/");
  std::string listing = co_await r.text();
  EXPECT_TRUE(has(listing, "<a href=\"a.txt\">a.txt</a>")) << listing;
  EXPECT_TRUE(has(listing, "<a href=\"site/\">site/</a>")) << listing;
  EXPECT_FALSE(has(listing, "secret")) << listing;
  r = co_await s.get(base + "/site");  // redirected to /site/, then the index
  EXPECT_EQ(r.url().path(), "/site/");
  EXPECT_EQ(co_await r.text(), "<p>site</p>");
  r = co_await s.get(base + "/.secret");
  EXPECT_EQ(r.status(), 404);
  co_await r.read();
  co_await s.close();
}
