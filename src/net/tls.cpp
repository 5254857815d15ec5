// TLS on OpenSSL 3, between a StreamCore's buffers and its socket.
//
// Reads go through a socket BIO straight from the descriptor (with read-ahead, one recv per
// batch of records; no copy into a staging buffer). Writes go through a tiny custom BIO that
// appends ciphertext to the stream's output buffer, so the plain stream's flushing,
// backpressure and error handling serve TLS unchanged, and SSL_write never blocks.
// Renegotiation is refused, so a write never needs a read.
#include "eddy/net/tls.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <fmt/format.h>
#include <cerrno>
#include <ctime>

#include "eddy/cancel.hpp"
#include "eddy/net/address.hpp"
#include "net/stream_core.hpp"

namespace eddy::net {

namespace detail {

struct TlsContextImpl {
  SSL_CTX* ctx = nullptr;
  bool server = false;
  bool verify = false;
  std::string alpn_wire;  // length-prefixed protocol list (RFC 7301)
  ~TlsContextImpl() { SSL_CTX_free(ctx); }
};

namespace {

// OpenSSL's error queue as one line, cleared.
std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

[[noreturn]] void throw_tls(const std::string& what) {
  throw TlsError(fmt::format("TLS: {}: {}", what, openssl_errors()));
}

std::string alpn_wire(const std::vector<std::string>& protos) {
  std::string w;
  for (auto& p : protos) {
    if (p.empty() || p.size() > 255)
      throw TlsError("TLS: an ALPN protocol name must be 1-255 bytes");
    w += static_cast<char>(p.size());
    w += p;
  }
  return w;
}

// The write side: appends to the ByteBuffer set as the BIO's data before each SSL call.
BIO_METHOD* output_bio_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "eddy output");
    BIO_meth_set_write_ex(m, [](BIO* b, const char* data, size_t len, size_t* written) -> int {
      try {  // no C++ exception may cross OpenSSL's C frames
        static_cast<ByteBuffer*>(BIO_get_data(b))->append({data, len});
      } catch (...) {
        return 0;
      }
      *written = len;
      return 1;
    });
    BIO_meth_set_ctrl(
        m, [](BIO*, int cmd, long, void*) -> long { return cmd == BIO_CTRL_FLUSH ? 1 : 0; });
    BIO_meth_set_create(m, [](BIO* b) -> int {
      BIO_set_init(b, 1);
      return 1;
    });
    return m;
  }();
  return method;
}

void common_setup(SSL_CTX* ctx, bool allow_tls12, const std::string& ciphers) {
  SSL_CTX_set_min_proto_version(ctx, allow_tls12 ? TLS1_2_VERSION : TLS1_3_VERSION);
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_COMPRESSION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_read_ahead(ctx, 1);
  // Room for several records per recv (the default holds one); with RELEASE_BUFFERS an idle
  // connection gives it back, so it costs nothing while nothing arrives.
  SSL_CTX_set_default_read_buffer_len(ctx, 64 * 1024);
  if (!ciphers.empty() && SSL_CTX_set_cipher_list(ctx, ciphers.c_str()) != 1)
    throw_tls("cipher list '" + ciphers + "'");
}

void load_chain(SSL_CTX* ctx, const std::string& cert, const std::string& key) {
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1)
    throw_tls("certificate file '" + cert + "'");
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
    throw_tls("key file '" + key + "'");
  if (SSL_CTX_check_private_key(ctx) != 1)
    throw_tls("key '" + key + "' does not match '" + cert + "'");
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void* arg) {
  auto* impl = static_cast<TlsContextImpl*>(arg);
  auto* ours = reinterpret_cast<const unsigned char*>(impl->alpn_wire.data());
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, outlen, ours, static_cast<unsigned>(impl->alpn_wire.size()),
                            in, inlen) != OPENSSL_NPN_NEGOTIATED)
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  *out = chosen;
  return SSL_TLSEXT_ERR_OK;
}

std::string name_text(const X509_NAME* name) {
  BIO* b = BIO_new(BIO_s_mem());
  if (!b) return {};
  X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  std::string out(data, static_cast<std::size_t>(n > 0 ? n : 0));
  BIO_free(b);
  return out;
}

std::int64_t asn1_time_to_unix(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<std::int64_t>(timegm(&tm));
}

class OpenSslEngine final : public TlsEngine {
 public:
  OpenSslEngine(const TlsContextImpl& ctx, int fd) : ssl_(SSL_new(ctx.ctx)) {
    if (!ssl_) throw_tls("SSL_new");
    BIO* rbio = BIO_new_socket(fd, BIO_NOCLOSE);
    wbio_ = BIO_new(output_bio_method());
    if (!rbio || !wbio_) {
      BIO_free(rbio);
      BIO_free(wbio_);
      SSL_free(ssl_);
      throw_tls("BIO_new");
    }
    SSL_set_bio(ssl_, rbio, wbio_);  // the SSL owns both now
  }
  ~OpenSslEngine() override { SSL_free(ssl_); }

  SSL* ssl() const noexcept { return ssl_; }

  // 1: done; 0: needs the socket to become readable. Throws on failure.
  int handshake(ByteBuffer& out, const std::string& peer) {
    BIO_set_data(wbio_, &out);
    ERR_clear_error();
    int r = SSL_do_handshake(ssl_);
    if (r == 1) return 1;
    int e = SSL_get_error(ssl_, r);
    if (e == SSL_ERROR_WANT_READ) return 0;
    // OpenSSL records a verify result even with verification off: only call it a certificate
    // problem when the handshake failed because of it.
    long v = SSL_get_verify_result(ssl_);
    if (v != X509_V_OK && e == SSL_ERROR_SSL &&
        ERR_GET_REASON(ERR_peek_error()) == SSL_R_CERTIFICATE_VERIFY_FAILED)
      throw CertificateError(fmt::format("TLS: certificate verify failed for '{}': {}", peer,
                                         X509_verify_cert_error_string(v)));
    if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
      int err = errno;
      if (err == 0 || err == EAGAIN)
        throw TlsError(
            fmt::format("TLS: handshake with '{}': the peer closed the connection", peer));
      throw_os_error(err, fmt::format("TLS handshake with '{}'", peer));
    }
    throw_tls(fmt::format("handshake with '{}'", peer));
  }

  long read(std::span<char> dst, ByteBuffer& out) override {
    BIO_set_data(wbio_, &out);
    ERR_clear_error();
    std::size_t n = 0;
    int r = SSL_read_ex(ssl_, dst.data(), dst.size(), &n);
    if (r == 1) return static_cast<long>(n);
    switch (SSL_get_error(ssl_, r)) {
      case SSL_ERROR_WANT_READ:
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      case SSL_ERROR_SYSCALL:
        if (ERR_peek_error() == 0) {
          if (errno == 0) return 0;
          throw_os_error(errno, "TLS read");
        }
        [[fallthrough]];
      default:
        throw_tls("read");
    }
  }

  bool has_buffered_plaintext() const noexcept override { return SSL_pending(ssl_) > 0; }

  void write(std::string_view plain, ByteBuffer& out) override {
    BIO_set_data(wbio_, &out);
    ERR_clear_error();
    std::size_t n = 0;
    if (SSL_write_ex(ssl_, plain.data(), plain.size(), &n) != 1) throw_tls("write");
  }

  void shutdown(ByteBuffer& out) noexcept override {
    BIO_set_data(wbio_, &out);
    ERR_clear_error();
    if (SSL_is_init_finished(ssl_)) SSL_shutdown(ssl_);  // queues close_notify
    ERR_clear_error();
  }

  std::string alpn() const override {
    const unsigned char* p = nullptr;
    unsigned len = 0;
    SSL_get0_alpn_selected(ssl_, &p, &len);
    return std::string(reinterpret_cast<const char*>(p), len);
  }

  std::string version() const override { return SSL_get_version(ssl_); }

  std::optional<PeerCertificate> peer_certificate() const override {
    X509* cert = SSL_get1_peer_certificate(ssl_);
    if (!cert) return std::nullopt;
    PeerCertificate pc;
    pc.subject = name_text(X509_get_subject_name(cert));
    pc.issuer = name_text(X509_get_issuer_name(cert));
    char cn[256];
    if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn) > 0)
      pc.common_name = cn;
    if (auto* sans = static_cast<GENERAL_NAMES*>(
            X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
      for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
        const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
        if (g->type == GEN_DNS) {
          const ASN1_IA5STRING* s = g->d.dNSName;
          pc.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                                    ASN1_STRING_length(s));
        } else if (g->type == GEN_IPADD) {
          const ASN1_OCTET_STRING* s = g->d.iPAddress;
          int len = ASN1_STRING_length(s);
          char text[INET6_ADDRSTRLEN] = {};
          if (len == 4 || len == 16)
            inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(s), text, sizeof text);
          pc.ip_addresses.emplace_back(text);
        }
      }
      GENERAL_NAMES_free(sans);
    }
    if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
      if (char* hex = BN_bn2hex(bn)) {
        pc.serial = hex;
        OPENSSL_free(hex);
      }
      BN_free(bn);
    }
    pc.not_before = asn1_time_to_unix(X509_get0_notBefore(cert));
    pc.not_after = asn1_time_to_unix(X509_get0_notAfter(cert));
    pc.verified =
        SSL_get_verify_result(ssl_) == X509_V_OK && SSL_get_verify_mode(ssl_) != SSL_VERIFY_NONE;
    X509_free(cert);
    return pc;
  }

 private:
  SSL* ssl_;
  BIO* wbio_;
};

Task<> handshake(Stream& s, OpenSslEngine& eng, const std::string& peer) {
  StreamCore& c = *s.core();
  for (;;) {
    int done = eng.handshake(c.wbuf, peer);
    // WANT_READ means recv just said EAGAIN: clear the flag now, before the flush below can
    // suspend, or an edge arriving meanwhile would be wiped out and never come again.
    if (!done && !c.hup) c.rd_ready = false;
    c.flush_now();
    co_await s.flush();  // our flight must reach the peer before we wait for its answer
    if (done) co_return;
    co_await c.readable();
  }
}

// Installs the engine, handshakes within the timeout; on any failure closes the stream.
Task<> secure(Stream& s, const TlsContextImpl& ctx, std::string peer,
              std::chrono::milliseconds limit, void (*configure)(SSL*, const std::string&)) {
  StreamCore* c = s.core();
  if (!c || c->fd < 0) throw ConnectionError(EBADF, "TLS: the stream is closed");
  if (c->tls) throw InvalidStateError("eddy: the stream is already TLS");
  if (!c->rbuf.empty())
    throw InvalidStateError("eddy: start_tls with unread plaintext buffered in the stream");
  auto eng = std::make_unique<OpenSslEngine>(ctx, c->fd);
  configure(eng->ssl(), peer);
  OpenSslEngine& e = *eng;
  c->tls = std::move(eng);
  std::exception_ptr failure;
  try {
    if (limit.count() > 0) {
      co_await eddy::timeout(limit, handshake(s, e, peer));
    } else {
      co_await handshake(s, e, peer);
    }
  } catch (const TimeoutError&) {
    failure = std::make_exception_ptr(TimeoutError(
        fmt::format("TLS handshake with '{}' timed out after {} ms", peer, limit.count())));
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    c->flush_now();  // best effort: let the peer see our alert rather than a bare reset
    s.abort();
    std::rethrow_exception(failure);
  }
}

void configure_client(SSL* ssl, const std::string& name) {
  SSL_set_connect_state(ssl);
  if (name.empty()) return;
  if (is_ip_literal(name)) {
    // No SNI for addresses (RFC 6066); verify against the certificate's IP SANs.
    std::string ip = name.front() == '[' ? name.substr(1, name.size() - 2) : name;
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ip.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
    // "*.example.com" matches "a.example.com" only, never "a-b*.example.com" (as Python).
    SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  }
}

void configure_server(SSL* ssl, const std::string&) {
  SSL_set_accept_state(ssl);
}

}  // namespace

}  // namespace detail

TlsContext TlsContext::client(const TlsClientOptions& o) {
  auto impl = std::make_shared<detail::TlsContextImpl>();
  impl->ctx = SSL_CTX_new(TLS_client_method());
  if (!impl->ctx) detail::throw_tls("SSL_CTX_new");
  detail::common_setup(impl->ctx, o.allow_tls12, o.ciphers);
  impl->verify = o.verify;
  if (o.verify) {
    SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_PEER, nullptr);
    if (!o.ca_file.empty() || !o.ca_path.empty()) {
      if (SSL_CTX_load_verify_locations(impl->ctx, o.ca_file.empty() ? nullptr : o.ca_file.c_str(),
                                        o.ca_path.empty() ? nullptr : o.ca_path.c_str()) != 1)
        detail::throw_tls("CA file '" + o.ca_file + o.ca_path + "'");
    } else if (SSL_CTX_set_default_verify_paths(impl->ctx) != 1) {
      detail::throw_tls("the system certificate store");
    }
  } else {
    SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_NONE, nullptr);
  }
  if (!o.cert_file.empty())
    detail::load_chain(impl->ctx, o.cert_file, o.key_file.empty() ? o.cert_file : o.key_file);
  if (!o.alpn.empty()) {
    impl->alpn_wire = detail::alpn_wire(o.alpn);
    SSL_CTX_set_alpn_protos(impl->ctx,
                            reinterpret_cast<const unsigned char*>(impl->alpn_wire.data()),
                            static_cast<unsigned>(impl->alpn_wire.size()));
  }
  TlsContext t;
  t.impl_ = std::move(impl);
  return t;
}

TlsContext TlsContext::server(const TlsServerOptions& o) {
  auto impl = std::make_shared<detail::TlsContextImpl>();
  impl->server = true;
  impl->ctx = SSL_CTX_new(TLS_server_method());
  if (!impl->ctx) detail::throw_tls("SSL_CTX_new");
  detail::common_setup(impl->ctx, o.allow_tls12, o.ciphers);
  detail::load_chain(impl->ctx, o.cert_file, o.key_file);
  if (o.require_client_certificate) {
    if (o.client_ca_file.empty())
      throw TlsError("TLS: require_client_certificate needs client_ca_file");
    if (SSL_CTX_load_verify_locations(impl->ctx, o.client_ca_file.c_str(), nullptr) != 1)
      detail::throw_tls("client CA file '" + o.client_ca_file + "'");
    SSL_CTX_set_verify(impl->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  if (!o.alpn.empty()) {
    impl->alpn_wire = detail::alpn_wire(o.alpn);
    SSL_CTX_set_alpn_select_cb(impl->ctx, &detail::select_alpn, impl.get());
  }
  TlsContext t;
  t.impl_ = std::move(impl);
  return t;
}

TlsContext TlsContext::default_client() {
  static const TlsContext ctx = client();  // loading the system store costs milliseconds
  return ctx;
}

bool TlsContext::is_server() const noexcept {
  return impl_ && impl_->server;
}

void* TlsContext::native_handle() const noexcept {
  return impl_ ? impl_->ctx : nullptr;
}

Task<> start_tls(Stream& stream, std::string server_name, TlsConnectOptions options) {
  TlsContext ctx = options.context ? options.context : TlsContext::default_client();
  if (ctx.is_server()) throw std::invalid_argument("eddy: start_tls needs a client TlsContext");
  std::string name = options.server_name.empty() ? server_name : options.server_name;
  if (name.empty() && ctx.impl()->verify)
    throw std::invalid_argument(
        "eddy: start_tls needs a server name to verify the certificate against");
  co_await detail::secure(stream, *ctx.impl(), std::move(name), options.handshake_timeout,
                          &detail::configure_client);
}

Task<> accept_tls(Stream& stream, const TlsContext& context,
                  std::chrono::milliseconds handshake_timeout) {
  if (!context.is_server())
    throw std::invalid_argument("eddy: accept_tls needs a server TlsContext");
  TlsContext keep = context;  // the caller's may go away while we wait
  std::string peer = stream.peer_address().to_string();
  co_await detail::secure(stream, *keep.impl(), std::move(peer), handshake_timeout,
                          &detail::configure_server);
}

}  // namespace eddy::net
