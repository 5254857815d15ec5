// http::Session against real servers on loopback: nginx closing kept-alive connections every
// 5 requests (keepalive_requests 5, the server-side close the pool must survive), with gzip on;
// Python's aiohttp server; nginx over TLS with basic auth and client certificates; tinyproxy.
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"
#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
namespace http = eddy::http;
using eddy::Task;

namespace {

std::string nginx_conf(const std::string& dir, std::uint16_t port) {
  std::string user = ::geteuid() == 0 ? "user root;\n" : "";
  return user + "worker_processes 1;\ndaemon off;\npid " + dir + "/nginx.pid;\nlock_file " + dir +
         "/nginx.lock;\nerror_log " + dir +
         "/error.log warn;\nevents { worker_connections 1024; }\n"
         "http {\n  access_log off;\n  client_body_temp_path " +
         dir + "/cb;\n  proxy_temp_path " + dir + "/px;\n  fastcgi_temp_path " + dir +
         "/fc;\n  uwsgi_temp_path " + dir + "/uw;\n  scgi_temp_path " + dir +
         "/sc;\n  keepalive_requests 5;\n"
         "  gzip on;\n  gzip_min_length 100;\n  gzip_types text/plain;\n"
         "  server {\n    listen 127.0.0.1:" +
         std::to_string(port) +
         ";\n"
         "    location = /hello { default_type text/plain; return 200 \"Hello, World!\"; }\n"
         "    location /files/ { alias " +
         dir + "/files/; }\n  }\n}\n";
}

}  // namespace

EDDY_REAL_TEST(HttpClientPeers, NginxClosingEveryFiveRequestsLosesNothing) {
  eddy_test::TempDir dir;
  std::uint16_t port = eddy_test::free_port();
  ::mkdir((dir / "files").c_str(), 0755);
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i) + "\n";
  co_await eddy::fs::write_file(dir / "files/big.txt", text);
  co_await eddy::fs::write_file(dir / "nginx.conf", nginx_conf(dir.path(), port));
  eddy_test::Process nginx("nginx -p " + dir.path() + " -e " + dir / "error.log" + " -c " +
                           dir / "nginx.conf");
  co_await eddy_test::connect_when_up(port);

  http::SessionOptions so;
  so.base_url = "http://127.0.0.1:" + std::to_string(port);
  so.connector.limit = 8;
  http::Session s(so);
  int ok = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = co_await s.get("/hello");
    ok += r.status() == 200 && co_await r.text() == "Hello, World!";
  }
  EXPECT_EQ(ok, 100) << "sequential, every fifth connection closed by nginx";
  EXPECT_EQ(s.connections_opened(), 20u);

  std::vector<Task<bool>> calls;
  for (int i = 0; i < 200; ++i) {
    calls.push_back([](http::Session& s) -> Task<bool> {
      auto r = co_await s.get("/hello");
      co_return r.status() == 200 && co_await r.text() == "Hello, World!";
    }(s));
  }
  auto results = co_await eddy::gather(std::move(calls));
  EXPECT_EQ(std::count(results.begin(), results.end(), true), 200) << "200 at 8 connections";

  auto r = co_await s.get("/files/big.txt");
  EXPECT_EQ(r.headers().get_or("Content-Encoding", ""), "gzip");
  EXPECT_TRUE(co_await r.text() == text) << "nginx's gzip, decoded";
  EXPECT_EQ((co_await s.get("/files/missing")).status(), 404);
  co_await s.close();
}

namespace {
const char* kAiohttpServer = R"(
import sys
from aiohttp import web

async def hello(request):
    return web.json_response({"hello": request.query.get("name", "world")})

async def echo(request):
    return web.Response(body=await request.read(), content_type=request.content_type)

async def redirect(request):
    raise web.HTTPFound("/hello?name=redirected")

app = web.Application()
app.add_routes([web.get("/hello", hello), web.post("/echo", echo), web.get("/go", redirect)])
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
)";
}  // namespace

EDDY_REAL_TEST(HttpClientPeers, PythonAiohttpServer) {
  eddy_test::TempDir dir;
  std::uint16_t port = eddy_test::free_port();
  eddy_test::Process py("/usr/bin/python3 " + eddy_test::write_script(dir, "s.py", kAiohttpServer) +
                        " " + std::to_string(port));
  co_await eddy_test::connect_when_up(port);
  http::SessionOptions so;
  so.base_url = "http://127.0.0.1:" + std::to_string(port);
  http::Session s(so);
  http::RequestOptions q;
  q.params.add("name", "eddy");
  nlohmann::json v = co_await (co_await s.get("/hello", std::move(q))).json();
  EXPECT_EQ(v["hello"], "eddy");
  http::RequestOptions body;
  body.body = http::Body{std::string(300000, 'z'), "application/x-test"};
  auto r = co_await s.post("/echo", std::move(body));
  EXPECT_EQ(r.headers().get_or("Content-Type", ""), "application/x-test");
  EXPECT_EQ((co_await r.read()).size(), 300000u);
  v = co_await (co_await s.get("/go")).json();
  EXPECT_EQ(v["hello"], "redirected");
  EXPECT_EQ(s.connections_opened(), 1u) << "aiohttp keeps the connection alive throughout";
  co_await s.close();
}

// HTTPS against nginx with a CA the test makes; basic auth checked by nginx itself.
EDDY_REAL_TEST(HttpClientPeers, NginxOverTlsWithBasicAuth) {
  eddy_test::TempDir dir;
  auto [made, _] = co_await eddy::to_thread(
      eddy_test::run_command,
      std::string(EDDY_TEST_SOURCE_DIR) + "/net/make_certs.sh " + dir.path() + " > /dev/null 2>&1");
  EDDY_CO_ASSERT(made == 0);
  // "ada:secret", hashed with openssl's apr1 as nginx's htpasswd files are
  auto [rc, hash] =
      co_await eddy::to_thread(eddy_test::run_command, std::string("openssl passwd -apr1 secret"));
  EDDY_CO_ASSERT(rc == 0);
  co_await eddy::fs::write_file(dir / "htpasswd", "ada:" + hash);
  ::mkdir((dir / "files").c_str(), 0755);
  co_await eddy::fs::write_file(dir / "files/welcome.txt", "welcome");
  std::uint16_t port = eddy_test::free_port();
  std::string conf = nginx_conf(dir.path(), port);
  std::uint16_t mtls_port = eddy_test::free_port();
  std::string certs = "    ssl_certificate " + dir / "server.pem" + ";\n    ssl_certificate_key " +
                      dir / "server.key" + ";\n";
  std::string tls_server =
      "  server {\n    listen 127.0.0.1:" + std::to_string(port) + " ssl;\n" + certs +
      "    location /private/ { auth_basic \"x\"; auth_basic_user_file " + dir / "htpasswd" +
      "; alias " + dir / "files/" + "; }\n  }\n" +
      // a server that wants a client certificate from the test CA
      "  server {\n    listen 127.0.0.1:" + std::to_string(mtls_port) + " ssl;\n" + certs +
      "    ssl_verify_client on;\n    ssl_client_certificate " + dir / "ca.pem" + ";\n" +
      "    location / { default_type text/plain; return 200 \"$ssl_client_s_dn\"; }\n  }\n}\n";
  conf = conf.substr(0, conf.find("  server {")) + tls_server;  // only the TLS server
  co_await eddy::fs::write_file(dir / "nginx.conf", conf);
  eddy_test::Process nginx("nginx -p " + dir.path() + " -e " + dir / "error.log" + " -c " +
                           dir / "nginx.conf");
  co_await eddy_test::connect_when_up(port);

  http::SessionOptions so;
  so.base_url = "https://localhost:" + std::to_string(port);
  so.connector.tls = eddy::net::TlsContext::client({.ca_file = dir / "ca.pem"});
  http::Session s(so);
  auto denied = co_await s.get("/private/welcome.txt");
  EXPECT_EQ(denied.status(), 401);
  co_await denied.read();
  http::RequestOptions o;
  o.auth = std::make_pair(std::string("ada"), std::string("secret"));
  auto r = co_await s.get("/private/welcome.txt", std::move(o));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(co_await r.text(), "welcome");
  EXPECT_EQ(s.connections_opened(), 1u) << "one TLS connection, kept alive";
  co_await s.close();

  http::SessionOptions untrusted;
  untrusted.base_url = so.base_url;  // the system store does not know the test CA
  http::Session u(untrusted);
  bool refused = false;
  try {
    co_await u.get("/private/welcome.txt");
  } catch (const eddy::net::CertificateError&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
  co_await u.close();

  // A client certificate, for the server that asks for one.
  std::string mtls = "https://localhost:" + std::to_string(mtls_port) + "/";
  http::SessionOptions without;
  without.connector.tls = eddy::net::TlsContext::client({.ca_file = dir / "ca.pem"});
  http::Session w(without);
  auto no_cert = co_await w.get(mtls);
  EXPECT_EQ(no_cert.status(), 400) << "nginx: no required SSL certificate was sent";
  co_await no_cert.read();
  co_await w.close();
  http::SessionOptions with;
  with.connector.tls = eddy::net::TlsContext::client(
      {.ca_file = dir / "ca.pem", .cert_file = dir / "client.pem", .key_file = dir / "client.key"});
  http::Session c(with);
  auto r2 = co_await c.get(mtls);
  EXPECT_EQ(r2.status(), 200);
  EXPECT_EQ(co_await r2.text(), "CN=eddy client");
  co_await c.close();
}

namespace {
// tinyproxy in the foreground on `port`, asking for ada:secret.
std::string tinyproxy_conf(std::uint16_t port) {
  return "Port " + std::to_string(port) +
         "\nListen 127.0.0.1\nTimeout 30\nMaxClients 64\nLogLevel Error\n"
         "Allow 127.0.0.1\nBasicAuth ada secret\nDisableViaHeader No\n" +
         std::string(::geteuid() == 0 ? "User root\nGroup root\n" : "");
}
}  // namespace

// Through a real proxy: plain http in absolute form, https through a CONNECT tunnel with TLS
// end to end (the test CA still verifies nginx), proxy credentials from the proxy URL.
EDDY_REAL_TEST(HttpClientPeers, ThroughTinyproxy) {
  eddy_test::TempDir dir;
  auto [made, _] = co_await eddy::to_thread(
      eddy_test::run_command,
      std::string(EDDY_TEST_SOURCE_DIR) + "/net/make_certs.sh " + dir.path() + " > /dev/null 2>&1");
  EDDY_CO_ASSERT(made == 0);
  std::uint16_t port = eddy_test::free_port(), tls_port = eddy_test::free_port();
  std::string conf = nginx_conf(dir.path(), port);
  conf.resize(conf.rfind('}'));  // reopen http {} for a TLS server
  conf += "  server {\n    listen 127.0.0.1:" + std::to_string(tls_port) +
          " ssl;\n    ssl_certificate " + dir / "server.pem" + ";\n    ssl_certificate_key " +
          dir / "server.key" +
          ";\n    location / { default_type text/plain; return 200 \"secure $host\"; }\n  }\n}\n";
  co_await eddy::fs::write_file(dir / "nginx.conf", conf);
  eddy_test::Process nginx("nginx -p " + dir.path() + " -e " + dir / "error.log" + " -c " +
                           dir / "nginx.conf");
  std::uint16_t proxy_port = eddy_test::free_port();
  co_await eddy::fs::write_file(dir / "tinyproxy.conf", tinyproxy_conf(proxy_port));
  eddy_test::Process proxy("tinyproxy -d -c " + dir / "tinyproxy.conf" + " 2> " +
                           dir / "tinyproxy.log");
  co_await eddy_test::connect_when_up(port);
  co_await eddy_test::connect_when_up(tls_port);
  co_await eddy_test::connect_when_up(proxy_port);

  http::SessionOptions so;
  so.proxy = "http://ada:secret@127.0.0.1:" + std::to_string(proxy_port);
  so.connector.tls = eddy::net::TlsContext::client({.ca_file = dir / "ca.pem"});
  http::Session s(so);
  auto r = co_await s.get("http://127.0.0.1:" + std::to_string(port) + "/hello");
  EXPECT_EQ(r.status(), 200);
  EXPECT_NE(r.headers().get_or("Via", "").find("tinyproxy"), std::string_view::npos)
      << "it went through the proxy";
  EXPECT_EQ(co_await r.text(), "Hello, World!");
  for (int i = 0; i < 3; ++i) {
    auto t = co_await s.get("https://localhost:" + std::to_string(tls_port) + "/x");
    EXPECT_EQ(t.status(), 200);
    EXPECT_EQ(co_await t.text(), "secure localhost");
  }
  EXPECT_EQ(s.connections_opened(), 2u) << "one to the proxy for http, one tunnel kept alive";
  co_await s.close();

  http::SessionOptions wrong = so;
  wrong.proxy = "http://ada:nope@127.0.0.1:" + std::to_string(proxy_port);
  http::Session bad(wrong);
  auto denied = co_await bad.get("http://127.0.0.1:" + std::to_string(port) + "/hello");
  EXPECT_TRUE(denied.status() == 407 || denied.status() == 401)  // tinyproxy 1.11 says 401
      << denied.status();
  co_await denied.read();
  bool refused = false;
  try {
    co_await bad.get("https://localhost:" + std::to_string(tls_port) + "/x");
  } catch (const http::HttpError& e) {
    refused = std::string_view(e.what()).find("refused CONNECT") != std::string_view::npos;
  }
  EXPECT_TRUE(refused) << "CONNECT refused, with the proxy's status in the error";
  co_await bad.close();
}
