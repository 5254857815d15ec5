// The HTTP client: http::Session, aiohttp's ClientSession with its TCPConnector.
//
//   http::SessionOptions opts;
//   opts.base_url = "http://127.0.0.1:8080";
//   opts.timeout.total = 5s;
//   opts.connector.limit_per_host = 10;
//   http::Session s(opts);
//   http::ClientResponse r = co_await s.get("/users/1");
//   r.raise_for_status();                          // ClientResponseError for 4xx/5xx
//   nlohmann::json user = co_await r.json();
//   http::RequestOptions o;
//   o.body = http::json_body({{"name", "ada"}});
//   co_await s.post("/users", std::move(o));
//   co_await s.close();
//
// Connections are pooled per scheme://host:port and reused while the server keeps them
// alive, for up to `keepalive_timeout` idle. `limit` bounds the connections in use at once
// (all hosts), `limit_per_host` those to one host; a request waits its turn, first come first
// served, and the wait counts toward the `connect` timeout. A pooled connection the server
// closed just as it was reused fails before any response byte arrives: an idempotent request
// (GET, HEAD, OPTIONS, PUT, DELETE) is then sent once more on a fresh connection.
//
// A response holds its connection until its body has been read (read/text/json, or
// read_chunk until empty): then the connection goes back to the pool. A response dropped with
// its body unread, a cancelled request, or a failed one closes its connection instead, so no
// half-read connection is ever reused.
//
// Timeouts (aiohttp's ClientTimeout; zero means none): `total` for the whole exchange,
// reading the body included; `connect` for getting a connection (waiting for the pool
// included); `sock_connect` for one connect (and TLS handshake); `sock_read` for each wait for
// response bytes. Each raises eddy::TimeoutError naming the limit and the URL.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eddy/http/body.hpp"
#include "eddy/http/cookies.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/headers.hpp"
#include "eddy/http/parser.hpp"
#include "eddy/http/url.hpp"
#include "eddy/http/websocket.hpp"
#include "eddy/net/address.hpp"
#include "eddy/net/tls.hpp"
#include "eddy/task.hpp"

namespace eddy::http {

struct ClientTimeout {
  std::chrono::milliseconds total{300'000};
  std::chrono::milliseconds connect{0};
  std::chrono::milliseconds sock_connect{0};
  std::chrono::milliseconds sock_read{0};
};

// Retrying requests that failed in a way worth retrying: by default a ConnectionError or a
// 429/502/503/504 answer (a TimeoutError too with `timeouts`), for idempotent methods only (GET,
// HEAD, OPTIONS, PUT, DELETE). Attempt n (from 0) that fails waits base_delay * multiplier^n (at
// most max_delay, scaled by a random factor in [1 - jitter, 1]) — or what the answer's Retry-After
// says (seconds or an HTTP date), capped at max_delay. The last answer is returned (or its error
// rethrown).
struct RetryOptions {
  int attempts = 1;  // 1: no retries
  std::chrono::milliseconds base_delay{100};
  double multiplier = 2.0;
  std::chrono::milliseconds max_delay{30'000};
  double jitter = 0.0;
  std::vector<int> statuses{429, 502, 503, 504};
  bool connection_errors = true;
  bool timeouts = false;  // also retry after a TimeoutError (each attempt gets the full limits)
  bool idempotent_only = true;
  bool honour_retry_after = true;
};

// A per-host rate limit (what aiohttp users build by hand with semaphores and aiolimiter):
// at most `requests` request starts per `per` (a burst of `requests` at once, then evenly
// spaced; first come, first served), and at most `concurrent` requests in flight, each
// counted until its response body has been read. Zero turns a part off.
struct RateLimit {
  std::size_t requests = 0;
  std::chrono::milliseconds per{1000};
  std::size_t concurrent = 0;
};

// The connection pool (aiohttp's TCPConnector). There is no enable_cleanup_closed: a
// connection that is not reused is closed at once, TLS ones included, so no descriptor
// outlives its connection.
struct ConnectorOptions {
  std::size_t limit = 100;         // connections in use at once, all hosts; 0: no limit
  std::size_t limit_per_host = 0;  // to one scheme://host:port; 0: no limit
  std::chrono::milliseconds keepalive_timeout{15'000};  // idle time before a pooled one closes
  bool force_close = false;                             // one request per connection
  // For https; empty: the default (system store, verification on). A client certificate:
  // net::TlsContext::client({.cert_file = ..., .key_file = ...}).
  net::TlsContext tls{};
  // How long resolved addresses are cached (capped by their DNS TTL); unset: the loop's
  // shared resolver (10 s); zero: no cache.
  std::optional<std::chrono::seconds> ttl_dns_cache{};
};

// What a trace hook is told (aiohttp's TraceConfig signals). Valid during the call only.
struct TraceEvent {
  std::string_view method;
  const Url& url;                      // the request's URL (the new one for a redirect)
  int status = 0;                      // request_end, request_redirect
  std::chrono::nanoseconds elapsed{};  // since the request started, or the stage's time
  std::exception_ptr error{};          // request_exception
  std::span<const net::SocketAddress> addresses{};  // dns_resolvehost_end
};
using TraceHook = std::function<void(const TraceEvent&)>;

// Hooks called synchronously at each stage of a request, for logging and metrics. Stages:
// request_start (before anything), connection_queued_start/end (only when waiting for a
// pool limit), connection_reuseconn or connection_create_start/end (a new connection,
// with dns_resolvehost_start/end inside it for a name), request_redirect (per hop),
// request_end (the final response's head has arrived; elapsed is the time to it) or
// request_exception (the request failed; elapsed too). A hook must not throw.
struct TraceConfig {
  TraceHook on_request_start, on_request_end, on_request_exception, on_request_redirect;
  TraceHook on_connection_queued_start, on_connection_queued_end;
  TraceHook on_connection_create_start, on_connection_create_end, on_connection_reuseconn;
  TraceHook on_dns_resolvehost_start, on_dns_resolvehost_end;
};

struct SessionOptions {
  std::string base_url;  // relative request URLs are joined to it
  Headers headers;       // sent with every request (per-request headers override)
  ClientTimeout timeout{};
  ConnectorOptions connector{};
  bool raise_for_status = false;  // every response with status >= 400 throws
  // Redirects are followed up to this many (TooManyRedirects beyond); 301/302 turn a POST
  // into a GET and 303 anything but HEAD, dropping the body; 307/308 resend as they were.
  // Authorization and Cookie headers the caller set are not sent to another origin.
  int max_redirects = 10;
  RetryOptions retry{};
  RateLimit rate_limit{};  // for every host (scheme://host:port) separately
  bool cookies = true;     // keep a cookie jar (RFC 6265): store Set-Cookie, send Cookie
  ParseLimits limits{};
  std::uint64_t max_body = 1ull << 30;  // read()/text()/json() refuse more (ProtocolError 413)
  std::vector<TraceConfig> trace_configs{};
  // An HTTP proxy for every request ("http://user:pass@proxy:3128"): plain http requests
  // are sent to it in absolute form, https ones go through a CONNECT tunnel (TLS is then
  // end to end with the origin). Credentials become Proxy-Authorization: Basic.
  std::string proxy{};
};

// Not an aggregate, for the reason net::ServeOptions is not: GCC 12 copies an aggregate
// temporary built inside a co_await expression bitwise (see docs/ARCHITECTURE.md). Set the
// fields on a local, then pass it.
struct RequestOptions {
  RequestOptions() noexcept {}
  Headers headers{};
  QueryParams params{};  // appended to the URL's query
  std::optional<Body> body{};
  std::optional<ClientTimeout> timeout{};
  std::optional<bool> raise_for_status{};
  std::optional<bool> allow_redirects{};  // default: follow
  std::optional<RetryOptions> retry{};    // default: the session's
  // HTTP basic auth (user, password): "Authorization: Basic ..." (not sent across origins
  // on redirects, like any Authorization header).
  std::optional<std::pair<std::string, std::string>> auth{};
  std::optional<std::string> proxy{};  // default: the session's; "" for none
  // Cookies for this request only, sent after the jar's (name, value; not stored in the jar).
  std::vector<std::pair<std::string, std::string>> cookies{};
};

// A response with status >= 400 when raise_for_status asked for it.
class ClientResponseError : public HttpError {
 public:
  ClientResponseError(int status, std::string url, std::string body_excerpt);
  int status() const noexcept { return status_; }
  const std::string& url() const noexcept { return url_; }
  const std::string& body_excerpt() const noexcept { return excerpt_; }

 private:
  int status_;
  std::string url_, excerpt_;
};

class TooManyRedirects : public HttpError {
 public:
  using HttpError::HttpError;
};

namespace detail {
struct Exchange;
struct Pool;
}  // namespace detail

class ClientResponse {
 public:
  ClientResponse();
  ClientResponse(ClientResponse&&) noexcept;
  ClientResponse& operator=(ClientResponse&&) noexcept;
  ~ClientResponse();

  int status() const noexcept;
  std::string_view reason() const noexcept;
  const Headers& headers() const noexcept;
  const Url& url() const noexcept;
  bool ok() const noexcept { return status() < 400; }
  // Throws ClientResponseError for a status >= 400 (with the start of the body, if read).
  void raise_for_status() const;

  Task<std::string> read();  // the whole body
  // The body as UTF-8: converted from the Content-Type's charset (or `encoding` if given;
  // UTF-8 when neither says). HttpError for an unknown charset, ProtocolError for bytes
  // that are not valid in it.
  Task<std::string> text(std::string encoding = {});
  // Content-Type's charset parameter, lowercased ("" if none).
  std::string charset() const;
  Task<nlohmann::json> json();  // ProtocolError if it is not JSON
  // The next piece of the body as it arrives, empty at the end; valid until the next call.
  Task<std::string_view> read_chunk();
  // The next line of the body without its "\n" (or "\r\n"); the last line may lack one;
  // nullopt at the end. A line longer than `max` is a ProtocolError (the body is not lines).
  Task<std::optional<std::string>> read_line(std::size_t max = 1 << 20);
  // The cookies this response set (its Set-Cookie fields; ones that do not parse are skipped).
  std::vector<SetCookie> cookies() const;
  // Gives the connection back now: to the pool if the body has been read, closed otherwise.
  void release() noexcept;

  explicit ClientResponse(std::unique_ptr<detail::Exchange> x) noexcept;

 private:
  std::unique_ptr<detail::Exchange> x_;
};

class Session {
 public:
  explicit Session(SessionOptions options = {});
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Task<ClientResponse> request(std::string method, std::string url, RequestOptions options = {});
  Task<ClientResponse> get(std::string url, RequestOptions o = {}) {
    return request("GET", std::move(url), std::move(o));
  }
  Task<ClientResponse> post(std::string url, RequestOptions o = {}) {
    return request("POST", std::move(url), std::move(o));
  }
  Task<ClientResponse> put(std::string url, RequestOptions o = {}) {
    return request("PUT", std::move(url), std::move(o));
  }
  Task<ClientResponse> patch(std::string url, RequestOptions o = {}) {
    return request("PATCH", std::move(url), std::move(o));
  }
  Task<ClientResponse> del(std::string url, RequestOptions o = {}) {
    return request("DELETE", std::move(url), std::move(o));
  }
  Task<ClientResponse> head(std::string url, RequestOptions o = {}) {
    return request("HEAD", std::move(url), std::move(o));
  }
  Task<ClientResponse> options(std::string url, RequestOptions o = {}) {
    return request("OPTIONS", std::move(url), std::move(o));
  }

  // A WebSocket to `url` (ws:// or wss://) on a new connection made with the session's
  // connector, proxy, cookies, default headers and timeouts (total and sock_read bound the
  // handshake). Throws WsHandshakeError (with the status) when the server does not answer
  // with a valid 101. The WebSocket is not counted in `limit` once open.
  Task<WebSocket> ws_connect(std::string url, WebSocketOptions ws = {}, RequestOptions o = {});

  // Closes every pooled connection; requests after this fail.
  Task<> close();

  std::size_t idle_connections() const noexcept;    // pooled, waiting for reuse
  std::size_t connections_opened() const noexcept;  // ever, by this session
  CookieJar& cookie_jar() noexcept { return jar_; }

 private:
  Task<ClientResponse> request_traced(std::string method, std::string url, RequestOptions o);
  Task<ClientResponse> request_plain(std::string method, std::string url, RequestOptions o);
  // The request's URL: joined to base_url, with `params` added to its query.
  Url resolve(const std::string& url, const QueryParams& params) const;
  // The Cookie value: the jar's matching cookies, then the request's own.
  std::string cookie_header(const Url& url, const RequestOptions& o) const;
  Task<ClientResponse> send(const std::string& method, const Url& url, const RequestOptions& o);
  Task<ClientResponse> send_retrying(const std::string& method, const Url& url,
                                     const RequestOptions& o);

  SessionOptions options_;
  std::shared_ptr<detail::Pool> pool_;
  CookieJar jar_;
};

}  // namespace eddy::http
