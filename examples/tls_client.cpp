// An HTTPS request over a raw TLS stream: resolve, connect with Happy Eyeballs, handshake
// with SNI and certificate verification (on by default), ALPN, then HTTP/1.1 by hand.
//
//   tls_client example.com                  GET / from example.com:443, system trust store
//   tls_client host 8443 --ca ca.pem        trust a private CA instead
//   tls_client --self-test CERTDIR          serve TLS locally with CERTDIR's test certificates
//                                           (tests/net/make_certs.sh) and fetch from it
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/net.hpp>
#include <string>

namespace net = eddy::net;
using namespace std::chrono_literals;

eddy::Task<int> fetch(std::string host, std::uint16_t port, std::string ca_file) {
  net::TlsClientOptions tls;
  tls.ca_file = ca_file;  // empty: the system store
  tls.alpn = {"http/1.1"};
  net::TlsConnectOptions opts(net::TlsContext::client(tls));
  opts.handshake_timeout = 5s;
  net::ConnectOptions connect;
  connect.timeout = 10s;
  net::Stream s = co_await net::open_tls_connection(host, port, opts, connect);
  std::printf("connected to %s (%s, ALPN %s)\n", s.peer_address().to_string().c_str(),
              s.tls_version().c_str(),
              s.alpn_protocol().empty() ? "none" : s.alpn_protocol().c_str());
  s.write("GET / HTTP/1.1\r\nHost: " + host +
          "\r\nConnection: close\r\nUser-Agent: eddy-tls-client\r\n\r\n");
  std::string status = co_await s.read_line();
  std::printf("%s", status.c_str());
  std::string rest = co_await s.read_to_eof(16 << 20);
  std::printf("(%zu more bytes)\n", rest.size());
  co_await s.close();  // sends close_notify
  co_return status.rfind("HTTP/1.1 200", 0) == 0 ? 0 : 1;
}

// A one-route HTTPS server for the self-test (eddy's real HTTP server is eddy::http).
eddy::Task<int> self_test(std::string certs) {
  net::ServeOptions so;
  so.tls = net::TlsContext::server({.cert_file = certs + "/server.pem",
                                    .key_file = certs + "/server.key",
                                    .alpn = {"http/1.1"}});
  auto server = co_await net::serve(
      [](net::Stream& s) -> eddy::Task<> {
        co_await s.read_until("\r\n\r\n");  // the request head; this server ignores it
        s.write("HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n");
        co_await s.close();
      },
      "127.0.0.1", 0, so);
  int rc = co_await fetch("localhost", server.port(), certs + "/ca.pem");
  co_await server.shutdown(1s);
  co_return rc;
}

int main(int argc, char** argv) {
  if (argc == 3 && !std::strcmp(argv[1], "--self-test")) return eddy::run(self_test(argv[2]));
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr, "usage: %s HOST [PORT] [--ca FILE] | --self-test CERTDIR\n", argv[0]);
    return 2;
  }
  std::string host = argv[1];
  std::uint16_t port = 443;
  std::string ca;
  for (int i = 2; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--ca") && i + 1 < argc) {
      ca = argv[++i];
    } else {
      port = static_cast<std::uint16_t>(std::atoi(argv[i]));
    }
  }
  try {
    return eddy::run(fetch(host, port, ca));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "tls_client: %s\n", e.what());
    return 1;
  }
}
