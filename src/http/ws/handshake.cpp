// The WebSocket opening handshake, server side (RFC 6455 §4.2): checking the request,
// choosing a subprotocol and permessage-deflate, answering 101 and running the handler;
// and App::ws. The client side is Session::ws_connect (client.cpp).
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core.hpp"
#include "eddy/http/server.hpp"
#include "eddy/http/status.hpp"
#include "handshake.hpp"

namespace eddy::http {

namespace detail {

std::string ws_accept_key(std::string_view key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string in(key);
  in.append(kGuid);
  // The digest is fetched from OpenSSL's provider once: SHA1() fetches it on every call.
  static EVP_MD* const sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  unsigned char digest[SHA_DIGEST_LENGTH];
  if (!sha1 || !EVP_Digest(in.data(), in.size(), digest, nullptr, sha1, nullptr))
    throw std::runtime_error("eddy::http: SHA-1 is not available from OpenSSL");
  char out[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out), digest, SHA_DIGEST_LENGTH);
  return std::string(out, static_cast<std::size_t>(n));
}

bool valid_ws_key(std::string_view key) {
  // base64 of 16 bytes: 22 characters and "==".
  if (key.size() != 24 || key.substr(22) != "==") return false;
  unsigned char raw[18];
  return EVP_DecodeBlock(raw, reinterpret_cast<const unsigned char*>(key.data()), 24) == 18;
}

std::vector<std::string_view> header_tokens(const Headers& h, std::string_view name) {
  std::vector<std::string_view> out;
  for (std::string_view v : h.get_all(name)) {
    while (!v.empty()) {
      auto comma = v.find(',');
      std::string_view t = v.substr(0, comma);
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
      if (!t.empty()) out.push_back(t);
      if (comma == std::string_view::npos) break;
      v.remove_prefix(comma + 1);
    }
  }
  return out;
}

bool has_header_token(const Headers& h, std::string_view name, std::string_view token) {
  for (std::string_view v : h.get_all(name))
    if (has_token(v, token)) return true;
  return false;
}

std::string joined(const Headers& h, std::string_view name) {
  std::string out;
  for (std::string_view v : h.get_all(name)) {
    if (!out.empty()) out += ", ";
    out.append(v);
  }
  return out;
}

}  // namespace detail

Response websocket_upgrade(Request& req, WsHandler handler, WebSocketOptions options) {
  const Headers& h = req.headers();
  if (req.method() != "GET" || req.version_minor() < 1)
    throw HttpException(Status::bad_request, "a WebSocket handshake is a GET over HTTP/1.1");
  if (!detail::has_header_token(h, "Upgrade", "websocket") ||
      !detail::has_header_token(h, "Connection", "upgrade"))
    throw HttpException(Status::bad_request, "not a WebSocket handshake (Upgrade: websocket)");
  if (h.get_or("Sec-WebSocket-Version", "") != "13") {
    Headers hs;
    hs.set("Sec-WebSocket-Version", "13");
    throw HttpException(426, "WebSocket version 13 only", std::move(hs));
  }
  std::string_view key = h.get_or("Sec-WebSocket-Key", "");
  if (!detail::valid_ws_key(key))
    throw HttpException(Status::bad_request, "Sec-WebSocket-Key is not 16 bytes of base64");
  if (options.check_origin && !options.check_origin(h.get_or("Origin", "")))
    throw HttpException(Status::forbidden, "origin not allowed");

  Response r(101);
  r.headers.set("Upgrade", "websocket");
  r.headers.set("Sec-WebSocket-Accept", detail::ws_accept_key(key));
  std::string protocol;
  if (!options.protocols.empty()) {
    auto offered = detail::header_tokens(h, "Sec-WebSocket-Protocol");
    for (const std::string& p : options.protocols) {
      if (std::find(offered.begin(), offered.end(), p) != offered.end()) {
        protocol = p;
        r.headers.set("Sec-WebSocket-Protocol", p);
        break;
      }
    }
  }
  std::optional<detail::DeflateParams> deflate;
  if (options.compress) {
    std::string answer;
    deflate = detail::accept_deflate_offer(detail::joined(h, "Sec-WebSocket-Extensions"), answer);
    if (deflate) r.headers.set("Sec-WebSocket-Extensions", answer);
  }
  r.upgrade_fn = [&req, handler = std::move(handler), options = std::move(options), protocol,
                  deflate](net::Stream& s) -> Task<> {
    auto core = std::make_unique<detail::WsCore>();
    core->s = &s;
    core->opts = options;
    core->protocol = protocol;
    if (deflate) core->deflate = std::make_unique<detail::MessageDeflate>(*deflate);
    core->init_heartbeat();
    WebSocket ws(std::move(core));
    // A graceful shutdown says goodbye with 1001 (going away); the handler's receive()
    // then sees the peer's close and returns nullopt.
    req.on_shutdown([&ws] { ws.try_close(1001, "server shutting down"); });
    co_await handler(req, ws);
    if (!ws.closed()) co_await ws.close();
  };
  return r;
}

App& App::ws(std::string_view pattern, WsHandler handler, WebSocketOptions options) {
  return get(
      pattern,
      [handler = std::move(handler), options = std::move(options)](Request& req) -> Task<Response> {
        co_return websocket_upgrade(req, handler, options);
      });
}

}  // namespace eddy::http
