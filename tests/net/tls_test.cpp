// TLS streams: eddy with itself, and with real peers (openssl s_server/s_client, Python's
// ssl module). Certificates come from make_certs.sh: a test CA, a server certificate for
// localhost/127.0.0.1/::1, a client certificate, a self-signed "rogue" one. Rules pinned here
// (docs/semantics.md, "TLS"):
//  - verification is on by default: an untrusted chain or a name mismatch is a
//    CertificateError naming the reason and the host; verify=false accepts anything;
//  - ALPN picks the server's first protocol the client offers;
//  - close() sends close_notify: the peer reads a clean EOF;
//  - a server requiring client certificates never runs the handler for a client without one;
//  - a handshake past its timeout is TimeoutError; failed and cancelled handshakes leave no
//    descriptor behind.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"
#include "support/net_helpers.hpp"

using namespace std::chrono_literals;
namespace net = eddy::net;

namespace {

const eddy_test::TempDir& certs() {
  static eddy_test::TempDir dir;
  static const bool made = [] {
    std::string cmd = std::string(EDDY_TEST_SOURCE_DIR) + "/net/make_certs.sh " + dir.path();
    if (std::system(cmd.c_str()) != 0) throw std::runtime_error("make_certs.sh failed");
    return true;
  }();
  (void)made;
  return dir;
}

net::TlsContext server_context(std::vector<std::string> alpn = {}) {
  return net::TlsContext::server({.cert_file = certs() / "server.pem",
                                  .key_file = certs() / "server.key",
                                  .alpn = std::move(alpn)});
}

net::TlsConnectOptions trusting(std::vector<std::string> alpn = {}) {
  net::TlsConnectOptions o;
  o.context = net::TlsContext::client({.ca_file = certs() / "ca.pem", .alpn = std::move(alpn)});
  return o;
}

eddy::Task<> echo(net::Stream& s) {
  char buf[16384];
  while (std::size_t n = co_await s.read_some(buf)) {
    s.write({buf, n});
    co_await s.drain();
  }
}

eddy::Task<net::Server> tls_echo_server(net::TlsContext ctx) {
  net::ServeOptions o;
  o.tls = std::move(ctx);
  co_return co_await net::serve(echo, "127.0.0.1", 0, o);
}

// What a failed connect threw, as text ("" if it did not fail).
template <class E>
eddy::Task<std::string> failure_of(eddy::Task<net::Stream> connect) {
  try {
    auto s = co_await std::move(connect);
    co_return "";
  } catch (const E& e) {
    co_return e.what();
  }
}

bool contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

EDDY_TEST(Tls, EchoWithAlpnAndCleanClose) {
  auto server_ctx = server_context({"http/1.1", "h2"});
  auto client_opts = trusting({"h2", "http/1.1"});
  auto server = co_await tls_echo_server(server_ctx);
  auto s = co_await net::open_tls_connection("localhost", server.port(), client_opts);
  EXPECT_TRUE(s.is_tls());
  EXPECT_EQ(s.alpn_protocol(), "http/1.1") << "the server's preference wins";
  auto cert = s.peer_certificate();
  EDDY_CO_ASSERT(cert.has_value());
  EXPECT_EQ(cert->common_name, "localhost");
  EXPECT_EQ(cert->issuer, "CN=eddy test CA");
  EXPECT_EQ(cert->dns_names, std::vector<std::string>{"localhost"});
  EXPECT_EQ(cert->ip_addresses, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_TRUE(cert->verified);
  EXPECT_LT(cert->not_before, cert->not_after);
  EXPECT_FALSE(cert->serial.empty());
  s.write("hello over tls\n");
  EXPECT_EQ(co_await s.read_line(), "hello over tls\n");
  co_await s.shutdown_write();  // close_notify: the server's read sees EOF and its handler ends
  EXPECT_EQ(co_await s.read_to_eof(), "");
  co_await s.close();
  co_await server.shutdown(1s);
}

EDDY_TEST(Tls, BulkBothWaysThroughBackpressure) {
  auto server = co_await tls_echo_server(server_context());
  auto s = co_await net::open_tls_connection("127.0.0.1", server.port(), trusting());
  std::string data(4 << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 7919 >> 5);
  auto writer = eddy::spawn([&]() -> eddy::Task<> {
    for (std::size_t off = 0; off < data.size(); off += 100'000) {
      s.write(std::string_view(data).substr(off, 100'000));
      co_await s.drain();
    }
  });
  std::string back = co_await s.read_exactly(data.size());
  co_await writer;
  EXPECT_TRUE(back == data) << "4 MiB echoed intact through TLS";
  co_await server.shutdown(1s);
}

EDDY_TEST(Tls, UntrustedCertificateIsRejectedByDefault) {
  auto server = co_await tls_echo_server(server_context());
  // The default context trusts only the system store, which does not know the test CA.
  std::string why = co_await failure_of<net::CertificateError>(
      net::open_tls_connection("localhost", server.port()));
  EXPECT_TRUE(contains(why, "certificate verify failed")) << why;
  EXPECT_TRUE(contains(why, "localhost")) << why;
  EXPECT_TRUE(contains(why, "issuer")) << why;

  auto rogue_ctx = net::TlsContext::server(
      {.cert_file = certs() / "rogue.pem", .key_file = certs() / "rogue.key"});
  auto rogue = co_await tls_echo_server(rogue_ctx);
  why = co_await failure_of<net::CertificateError>(
      net::open_tls_connection("localhost", rogue.port(), trusting()));
  EXPECT_TRUE(contains(why, "self-signed")) << why;

  net::TlsConnectOptions lax;
  lax.context = net::TlsContext::client({.verify = false});
  auto s = co_await net::open_tls_connection("localhost", rogue.port(), lax);
  s.write("ok");
  EXPECT_EQ(co_await s.read(), "ok");
  co_await server.shutdown(1s);
  co_await rogue.shutdown(1s);
}

EDDY_TEST(Tls, HostNameMustMatch) {
  auto server = co_await tls_echo_server(server_context());
  auto o = trusting();
  o.server_name = "db.internal";  // the certificate is for localhost and 127.0.0.1 only
  std::string why = co_await failure_of<net::CertificateError>(
      net::open_tls_connection("127.0.0.1", server.port(), o));
  EXPECT_TRUE(contains(why, "mismatch")) << why;
  EXPECT_TRUE(contains(why, "db.internal")) << why;
  // An IP literal is checked against the certificate's IP addresses.
  auto s = co_await net::open_tls_connection("127.0.0.1", server.port(), trusting());
  EXPECT_TRUE(s.is_tls());
  co_await server.shutdown(1s);
}

EDDY_TEST(Tls, ClientCertificateRequired) {
  int handled = 0;
  std::string client_cn;
  net::ServeOptions so;
  so.tls = net::TlsContext::server({.cert_file = certs() / "server.pem",
                                    .key_file = certs() / "server.key",
                                    .require_client_certificate = true,
                                    .client_ca_file = certs() / "ca.pem"});
  auto server = co_await net::serve(
      [&](net::Stream& s) -> eddy::Task<> {
        ++handled;
        if (auto c = s.peer_certificate(); c && c->verified) client_cn = c->common_name;
        co_await echo(s);
      },
      "127.0.0.1", 0, so);
  // Without a certificate: TLS 1.3 lets the client finish its handshake first, so the
  // server's refusal arrives as an alert at the first read.
  bool refused = false;
  try {
    auto s = co_await net::open_tls_connection("localhost", server.port(), trusting());
    s.write("let me in");
    co_await s.read();
  } catch (const net::TlsError&) {
    refused = true;
  } catch (const eddy::ConnectionError&) {
    refused = true;
  }
  EXPECT_TRUE(refused);
  EXPECT_EQ(handled, 0) << "the handler never saw an unauthenticated client";

  net::TlsConnectOptions with_cert;
  with_cert.context = net::TlsContext::client({.ca_file = certs() / "ca.pem",
                                               .cert_file = certs() / "client.pem",
                                               .key_file = certs() / "client.key"});
  auto s = co_await net::open_tls_connection("localhost", server.port(), with_cert);
  s.write("mutual");
  EXPECT_EQ(co_await s.read(), "mutual");
  EXPECT_EQ(handled, 1);
  EXPECT_EQ(client_cn, "eddy client") << "the server sees who the verified client is";
  co_await server.shutdown(1s);
}

EDDY_TEST(Tls, BadFilesAreClearErrors) {
  try {
    net::TlsContext::server({.cert_file = "/nonexistent.pem", .key_file = "/nonexistent.key"});
    ADD_FAILURE() << "loaded a missing certificate";
  } catch (const net::TlsError& e) {
    EXPECT_TRUE(contains(e.what(), "/nonexistent.pem")) << e.what();
  }
  EXPECT_THROW(net::TlsContext::server(
                   {.cert_file = certs() / "server.pem", .key_file = certs() / "client.key"}),
               net::TlsError);
  EXPECT_THROW(net::TlsContext::client({.ca_file = "/nonexistent-ca.pem"}), net::TlsError);
  co_return;
}

EDDY_TEST(Tls, HandshakeTimeoutAndCancellationLeakNothing) {
  // A peer that accepts TCP and never speaks TLS.
  auto silent = net::Listener::bind(*net::SocketAddress::parse("127.0.0.1", 0));
  std::vector<net::Stream> held;
  std::size_t before = eddy_test::open_fd_count();
  auto o = trusting();
  o.handshake_timeout = 500ms;
  auto start = eddy::now();
  std::string why = co_await failure_of<eddy::TimeoutError>(
      net::open_tls_connection("127.0.0.1", silent.port(), o));
  EXPECT_TRUE(contains(why, "TLS handshake")) << why;
  EXPECT_GE(eddy::now() - start, 500ms);
  held.push_back(co_await silent.accept());

  // Cancel 1,000 handshakes with a real server at every point: after 0, 1, ... 59 loop turns.
  auto server = co_await tls_echo_server(server_context());
  auto opts = trusting();
  for (int n = 0; n < 1000; ++n) {
    auto h = eddy::spawn(net::open_tls_connection("localhost", server.port(), opts));
    for (int i = 0; i < n % 60; ++i) co_await eddy::yield_now();
    h.cancel();
    try {
      auto s = co_await h;  // it may have finished first: then it is closed here
    } catch (const eddy::TaskCancelled&) {
    }
  }
  co_await server.shutdown(1s);
  held.clear();
  EXPECT_EQ(eddy_test::open_fd_count(), before);
}

// --- real peers, on the real clock

namespace {
using eddy_test::free_port;

// Connects until the peer process listens (it takes a moment to start).
eddy::Task<net::Stream> connect_when_up(std::uint16_t port, net::TlsConnectOptions o) {
  for (int i = 0;; ++i) {
    try {
      co_return co_await net::open_tls_connection("localhost", port, o);
    } catch (const eddy::ConnectionRefusedError&) {
      if (i == 100) throw;
    }
    co_await eddy::sleep(50ms);
  }
}
}  // namespace

EDDY_REAL_TEST(TlsPeers, EddyClientWithOpensslServer) {
  std::uint16_t port = free_port();
  eddy_test::Process s_server("openssl s_server -quiet -rev -accept " + std::to_string(port) +
                              " -cert " + (certs() / "server.pem") + " -key " +
                              (certs() / "server.key") + " >/dev/null 2>&1");
  auto s = co_await connect_when_up(port, trusting());
  s.write("hello openssl\n");
  EXPECT_EQ(co_await s.read_line(), "lssnepo olleh\n")
      << "s_server -rev answers each line reversed";
  co_await s.close();
}

EDDY_REAL_TEST(TlsPeers, OpensslClientWithEddyServer) {
  // s_client keeps reading after its input ends, so this server closes after one line.
  net::ServeOptions so;
  so.tls = server_context();
  auto server = co_await net::serve(
      [](net::Stream& s) -> eddy::Task<> {
        s.write(co_await s.read_line());
        co_await s.close();
      },
      "127.0.0.1", 0, so);
  std::string cmd =
      "printf 'from s_client\\n' | timeout 20 openssl s_client -quiet -verify_return_error "
      "-CAfile " +
      (certs() / "ca.pem") +
      " -servername localhost -connect 127.0.0.1:" + std::to_string(server.port()) + " 2>/dev/null";
  auto [status, out] = co_await eddy::to_thread(eddy_test::run_command, cmd);
  EXPECT_EQ(out, "from s_client\n");
  co_await server.shutdown(1s);
}

EDDY_REAL_TEST(TlsPeers, PythonSslClientWithEddyServer) {
  auto server_ctx = server_context({"http/1.1"});
  auto server = co_await tls_echo_server(server_ctx);
  std::string script =
      "import socket, ssl, sys\n"
      "ctx = ssl.create_default_context(cafile=sys.argv[1])\n"
      "ctx.set_alpn_protocols(['http/1.1'])\n"
      "with socket.create_connection(('127.0.0.1', int(sys.argv[2]))) as raw:\n"
      "    with ctx.wrap_socket(raw, server_hostname='localhost') as s:\n"
      "        s.sendall(b'from python\\n' * 1000)\n"
      "        got = b''\n"
      "        while len(got) < 12000:\n"
      "            got += s.recv(65536)\n"
      "        print(s.selected_alpn_protocol(), s.version(), got == b'from python\\n' * 1000)\n";
  std::string path = certs() / "client.py";
  {
    std::FILE* f = std::fopen(path.c_str(), "w");
    std::fputs(script.c_str(), f);
    std::fclose(f);
  }
  auto [status, out] = co_await eddy::to_thread(
      eddy_test::run_command, "timeout 20 python3 " + path + " " + (certs() / "ca.pem") + " " +
                                  std::to_string(server.port()));
  EXPECT_EQ(status, 0);
  EXPECT_EQ(out, "http/1.1 TLSv1.3 True\n");
  co_await server.shutdown(1s);
}
