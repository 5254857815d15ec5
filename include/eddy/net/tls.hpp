// TLS on OpenSSL 3 (Python's ssl module, as asyncio and aiohttp use it).
//
//   // client: verification against the system store and SNI are on by default
//   net::Stream s = co_await net::open_tls_connection("example.com", 443);
//
//   // a private CA, a client certificate, HTTP/2-or-1.1 negotiation
//   auto ctx = net::TlsContext::client({.ca_file = "ca.pem", .cert_file = "me.pem",
//                                       .key_file = "me.key", .alpn = {"h2", "http/1.1"}});
//   net::Stream s = co_await net::open_tls_connection("api.internal", 8443, ctx);
//
//   // server: pass a context in ServeOptions; handlers get streams after the handshake
//   net::ServeOptions o;
//   o.tls = net::TlsContext::server({.cert_file = "cert.pem", .key_file = "key.pem"});
//
//   // STARTTLS (PostgreSQL's SSLRequest, SMTP): upgrade a connected stream in place
//   co_await net::start_tls(stream, "db.internal", {ctx});
//
// A TLS stream has exactly the plain stream's reader/writer API. `close()` sends
// close_notify before closing. A peer that closes without close_notify is read as EOF (as
// aiohttp does; protocols with their own framing detect truncation themselves).
//
// Failures: CertificateError (untrusted chain, expired, name mismatch) names OpenSSL's reason
// and the host; other handshake and protocol failures are TlsError; a handshake that takes
// longer than its timeout is TimeoutError. A failed or cancelled handshake closes the stream.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "eddy/net/stream.hpp"
#include "eddy/task.hpp"

namespace eddy::net {

struct TlsClientOptions {
  // Verify the peer's chain and that it was issued for the host name (or IP) connected to.
  // Turning this off is for tests against self-signed peers only.
  bool verify = true;
  // Trusted CAs (PEM file and/or hashed directory). Empty: the system store. When given,
  // only these are trusted (Python's create_default_context(cafile=...)).
  std::string ca_file{};
  std::string ca_path{};
  // A client certificate (chain PEM) and its key, for servers that ask for one.
  std::string cert_file{};
  std::string key_file{};
  // Protocols to offer through ALPN, in preference order ("h2", "http/1.1").
  std::vector<std::string> alpn{};
  // OpenSSL cipher list for TLS 1.2; empty: OpenSSL's defaults. TLS 1.3 suites are not
  // affected.
  std::string ciphers{};
  bool allow_tls12 = true;  // false: TLS 1.3 only. TLS 1.0/1.1 are never allowed.
};

struct TlsServerOptions {
  std::string cert_file;  // certificate chain, PEM, leaf first
  std::string key_file;   // its private key, PEM
  // Protocols this server speaks, in preference order; a client offering none of them is
  // refused (no_application_protocol), one offering no ALPN is served.
  std::vector<std::string> alpn{};
  // Ask for a client certificate and refuse clients without one trusted by `client_ca_file`.
  bool require_client_certificate = false;
  std::string client_ca_file{};
  std::string ciphers{};
  bool allow_tls12 = true;
};

namespace detail {
struct TlsContextImpl;
}

// A configured SSL_CTX: certificates loaded once, shared by every connection made with it
// (and across threads). Cheap to copy. A default-constructed context is empty: "no TLS".
class TlsContext {
 public:
  TlsContext() noexcept = default;
  // Throws TlsError if a certificate, key or CA file cannot be loaded.
  static TlsContext client(const TlsClientOptions& options = {});
  static TlsContext server(const TlsServerOptions& options);
  // The process-wide default client context (system store, verification on), made once.
  static TlsContext default_client();

  explicit operator bool() const noexcept { return impl_ != nullptr; }
  bool is_server() const noexcept;
  void* native_handle() const noexcept;  // the SSL_CTX*

  const detail::TlsContextImpl* impl() const noexcept { return impl_.get(); }

 private:
  std::shared_ptr<detail::TlsContextImpl> impl_;
};

// Not an aggregate on purpose: GCC 12 miscompiles an aggregate temporary with a std::string
// member inside a co_await expression (it is copied bitwise into the coroutine frame), and
// `co_await open_tls_connection(host, port)` makes one from the default argument. With
// constructors the temporary is built properly. See docs/ARCHITECTURE.md.
struct TlsConnectOptions {
  TlsConnectOptions() noexcept {}
  TlsConnectOptions(TlsContext ctx, std::string name = {})
      : context(std::move(ctx)), server_name(std::move(name)) {}

  TlsContext context{};  // empty: TlsContext::default_client()
  // The name to send as SNI and to verify the certificate against; empty: the host
  // connected to. An IP literal is checked against the certificate's IP addresses.
  std::string server_name{};
  std::chrono::milliseconds handshake_timeout{10'000};
};

// Client side of an upgrade: handshakes over `stream`, which from then on reads and writes
// through TLS. Bytes the peer sent before the handshake must not be buffered in `stream`.
Task<> start_tls(Stream& stream, std::string server_name, TlsConnectOptions options = {});
// Server side of an upgrade (ServeOptions::tls does this for every accepted connection).
Task<> accept_tls(Stream& stream, const TlsContext& context,
                  std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10));

}  // namespace eddy::net
