// The eddy HTTP server against real clients: curl, Python's aiohttp client and http.client,
// and wrk. Each runs as its own process on loopback, on the real clock.
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

// The byte at offset i of the test's large bodies: a pattern that catches misordered or
// dropped pieces, checked the same way on both sides.
char pattern(std::uint64_t i) {
  return static_cast<char>('a' + (i * 7 + i / 1024) % 26);
}

std::uint64_t checksum(std::string_view data, std::uint64_t offset, std::uint64_t sum) {
  for (std::size_t i = 0; i < data.size(); ++i)
    sum = (sum * 31 + static_cast<unsigned char>(data[i]) + offset + i) % 1000000007ull;
  return sum;
}

http::App test_app() {
  http::App app;
  app.get("/", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::text("Hello, World!");
  });
  app.post("/echo", [](http::Request& r) -> Task<http::Response> {
    std::string body = co_await r.body();
    http::Response resp = http::Response::bytes(std::move(body), r.content_type());
    co_return resp;
  });
  app.post("/json", [](http::Request& r) -> Task<http::Response> {
    nlohmann::json v = co_await r.json();
    co_return http::Response::json({{"got", v}, {"method", r.method()}});
  });
  // Streams the upload, however large, and answers with its size and checksum.
  app.put("/upload", [](http::Request& r) -> Task<http::Response> {
    std::uint64_t n = 0, sum = 0;
    for (;;) {
      std::string_view piece = co_await r.read_chunk();
      if (piece.empty()) break;
      sum = checksum(piece, n, sum);
      n += piece.size();
    }
    co_return http::Response::text(std::to_string(n) + " " + std::to_string(sum));
  });
  app.get("/download/{size}", [](http::Request& r) -> Task<http::Response> {
    std::uint64_t size = std::stoull(std::string(r.match("size")));
    co_return http::Response::stream([size](http::BodyWriter& w) -> Task<> {
      std::string piece;
      for (std::uint64_t off = 0; off < size; off += piece.size()) {
        piece.resize(std::min<std::uint64_t>(65536, size - off));
        for (std::size_t i = 0; i < piece.size(); ++i) piece[i] = pattern(off + i);
        co_await w.write(piece);
      }
    });
  });
  return app;
}

Task<std::pair<int, std::string>> sh(std::string cmd) {
  co_return co_await eddy::to_thread(eddy_test::run_command, "timeout 60 " + cmd);
}

http::ServerOptions opts() {
  http::ServerOptions o;
  o.port = 0;
  o.max_body_size = 64 << 20;
  return o;
}

}  // namespace

EDDY_REAL_TEST(HttpPeers, Curl) {
  http::App app = test_app();
  auto srv = co_await http::serve(app, opts());
  std::string base = "http://127.0.0.1:" + std::to_string(srv.port());

  auto [rc, out] = co_await sh("curl -s " + base + "/");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "Hello, World!");

  std::tie(rc, out) = co_await sh(
      "curl -s -H 'Content-Type: application/json' -d '{\"x\": [1, 2]}' " + base + "/json");
  EXPECT_EQ(out, R"({"got":{"x":[1,2]},"method":"POST"})");

  // HEAD, HTTP/1.0, and several requests over one kept-alive connection
  std::tie(rc, out) = co_await sh("curl -s -I " + base + "/");
  EXPECT_NE(out.find("HTTP/1.1 200 OK"), std::string::npos) << out;
  EXPECT_NE(out.find("Content-Length: 13"), std::string::npos) << out;
  std::tie(rc, out) = co_await sh("curl -s --http1.0 " + base + "/");
  EXPECT_EQ(out, "Hello, World!");
  std::tie(rc, out) = co_await sh("curl -sv " + base + "/ " + base + "/ " + base + "/ 2>&1");
  EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;

  // A chunked upload (curl sends Expect: 100-continue for it, too)
  eddy_test::TempDir dir;
  std::string file = dir / "upload.bin";
  std::string data(3 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = pattern(i);
  co_await eddy::fs::write_file(file, data);
  std::tie(rc, out) =
      co_await sh("curl -s -T " + file + " -H 'Transfer-Encoding: chunked' " + base + "/upload");
  EXPECT_EQ(out, std::to_string(data.size()) + " " + std::to_string(checksum(data, 0, 0)));
  std::tie(rc, out) = co_await sh("curl -s -o " + dir / "down.bin" + " -w '%{http_code}' " + base +
                                  "/download/" + std::to_string(data.size()));
  EXPECT_EQ(out, "200");
  EXPECT_TRUE(co_await eddy::fs::read_file(dir / "down.bin") == data);
  co_await srv.shutdown();
}

namespace {
const char* kAiohttpClient = R"(
import asyncio, sys, aiohttp

def pattern(i): return ord('a') + (i * 7 + i // 1024) % 26

def checksum(data, offset, s):
    for i, b in enumerate(data):
        s = (s * 31 + b + offset + i) % 1000000007
    return s

async def main(base, size):
    async with aiohttp.ClientSession() as s:
        async with s.get(base + "/") as r:
            assert r.status == 200 and await r.text() == "Hello, World!"
        async with s.post(base + "/json", json={"a": [1, "two"]}) as r:
            assert (await r.json()) == {"got": {"a": [1, "two"]}, "method": "POST"}
        async def gen():
            for off in range(0, size, 65536):
                yield bytes(pattern(off + i) for i in range(min(65536, size - off)))
        async with s.put(base + "/upload", data=gen()) as r:
            want = checksum(bytes(pattern(i) for i in range(size)), 0, 0)
            assert await r.text() == f"{size} {want}", await r.text()
        async with s.get(base + f"/download/{size}") as r:
            body = await r.read()
            assert len(body) == size and all(b == pattern(i) for i, b in enumerate(body))
        # 50 concurrent requests over the session's pool
        texts = await asyncio.gather(*[s.post(base + "/echo", data=str(i).encode()) for i in range(50)])
        assert [await t.text() for t in texts] == [str(i) for i in range(50)]
    print("ok")

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
)";

const char* kHttpClient = R"(
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for i in range(3):  # one connection, kept alive
    c.request("POST", "/echo", body=b"x" * (i * 1000), headers={"Content-Type": "a/b"})
    r = c.getresponse()
    assert r.status == 200 and r.read() == b"x" * (i * 1000) and r.getheader("Content-Type") == "a/b"
c.request("GET", "/missing")
r = c.getresponse(); r.read()
assert r.status == 404
c.request("DELETE", "/")
r = c.getresponse(); r.read()
assert r.status == 405 and r.getheader("Allow") == "GET, HEAD", r.getheader("Allow")
print("ok")
)";
}  // namespace

EDDY_REAL_TEST(HttpPeers, PythonAiohttpClient) {
  http::App app = test_app();
  auto srv = co_await http::serve(app, opts());
  eddy_test::TempDir dir;
  auto [rc, out] = co_await sh(
      "/usr/bin/python3 " + eddy_test::write_script(dir, "c.py", kAiohttpClient) +
      " http://127.0.0.1:" + std::to_string(srv.port()) + " " + std::to_string(1 << 20));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "ok\n");
  co_await srv.shutdown();
}

EDDY_REAL_TEST(HttpPeers, PythonHttpClient) {
  http::App app = test_app();
  auto srv = co_await http::serve(app, opts());
  eddy_test::TempDir dir;
  auto [rc, out] =
      co_await sh("/usr/bin/python3 " + eddy_test::write_script(dir, "c.py", kHttpClient) + " " +
                  std::to_string(srv.port()));
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "ok\n");
  co_await srv.shutdown();
}

EDDY_REAL_TEST(HttpPeers, WrkLoadHasNoErrors) {
  http::App app = test_app();
  auto srv = co_await http::serve(app, opts());
  auto [rc, out] =
      co_await sh("wrk -t1 -c16 -d1s http://127.0.0.1:" + std::to_string(srv.port()) + "/");
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("Requests/sec"), std::string::npos) << out;
  EXPECT_EQ(out.find("Non-2xx"), std::string::npos) << out;
  EXPECT_EQ(out.find("Socket errors"), std::string::npos) << out;
  co_await srv.shutdown();
}

// HTTPS: the same App behind TLS, with curl verifying against the test CA.
EDDY_REAL_TEST(HttpPeers, CurlOverTls) {
  eddy_test::TempDir certs;
  auto [made, _] = co_await sh(std::string(EDDY_TEST_SOURCE_DIR) + "/net/make_certs.sh " +
                               certs.path() + " > /dev/null 2>&1");
  EDDY_CO_ASSERT(made == 0);
  http::App app = test_app();
  http::ServerOptions o = opts();
  o.tls = eddy::net::TlsContext::server(
      {.cert_file = certs / "server.pem", .key_file = certs / "server.key", .alpn = {"http/1.1"}});
  auto srv = co_await http::serve(app, o);
  std::string url = "https://localhost:" + std::to_string(srv.port());
  auto [rc, out] =
      co_await sh("curl -s --cacert " + certs / "ca.pem" + " " + url + "/ " + url + "/");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "Hello, World!Hello, World!") << "two requests on one TLS connection";
  std::tie(rc, out) = co_await sh("curl -s -o /dev/null " + url + "/");
  EXPECT_NE(rc, 0) << "curl refuses the certificate without the test CA";
  co_await srv.shutdown();
}

#ifdef EDDY_HELLO_SERVER
// run_app with workers: two loops share the port; SIGTERM stops both gracefully (exit 0).
EDDY_REAL_TEST(HttpPeers, HelloServerWithTwoWorkers) {
  std::uint16_t port = eddy_test::free_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  std::string script = std::string(EDDY_HELLO_SERVER) + " --port " + std::to_string(port) +
                       " --workers 2 > /dev/null & pid=$!; "
                       "for i in $(seq 50); do curl -s " +
                       url +
                       "/ > /dev/null && break; sleep 0.1; done; "
                       "n=0; for i in $(seq 20); do [ \"$(curl -s " +
                       url +
                       "/json)\" = "
                       "'{\"message\":\"Hello, World!\"}' ] && n=$((n+1)); done; "
                       "kill -TERM $pid; wait $pid; echo \"$n $?\"";
  std::string quoted;
  for (char c : script) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  auto [rc, out] = co_await sh("sh -c '" + quoted + "'");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "20 0\n") << "every request answered; both workers exited cleanly";
}
#endif
