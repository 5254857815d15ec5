// http::Session: the connection pool, one exchange per request, and response bodies (see
// eddy/http/client.hpp for the rules).
#include "eddy/http/client.hpp"

#include <fmt/format.h>

#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "charset.hpp"
#include "eddy/cancel.hpp"
#include "eddy/http/date.hpp"
#include "eddy/net/dns.hpp"
#include "eddy/net/tcp.hpp"
#include "eddy/retry.hpp"
#include "eddy/sync/semaphore.hpp"
#include "eddy/time.hpp"
#include "gzip.hpp"
#include "ws/core.hpp"
#include "ws/handshake.hpp"

namespace eddy::http {

namespace detail {

struct Pool {
  Pool(const ConnectorOptions& o, std::vector<TraceConfig> t) : opts(o), traces(std::move(t)) {
    if (o.limit) total = std::make_unique<Semaphore>(o.limit);
    if (o.ttl_dns_cache) {
      net::ResolverOptions ro;
      ro.max_ttl = *o.ttl_dns_cache;
      resolver = std::make_unique<net::Resolver>(ro);
    }
  }
  ConnectorOptions opts;
  std::vector<TraceConfig> traces;
  std::unique_ptr<net::Resolver> resolver;  // with ttl_dns_cache; else the loop's
  std::unique_ptr<Semaphore> total;
  std::unordered_map<std::string, std::unique_ptr<Semaphore>> per_host;
  struct Idle {
    net::Stream stream;
    TimePoint since;
  };
  std::unordered_map<std::string, std::vector<Idle>> idle;
  std::size_t opened = 0;
  bool closed = false;

  // Per-host rate limits: GCRA's theoretical arrival time, and the in-flight semaphore.
  struct Rate {
    TimePoint tat{};
    std::unique_ptr<Semaphore> concurrent;
  };
  std::unordered_map<std::string, Rate> rates;

  Semaphore* host_limit(const std::string& key) {
    if (!opts.limit_per_host) return nullptr;
    auto& s = per_host[key];
    if (!s) s = std::make_unique<Semaphore>(opts.limit_per_host);
    return s.get();
  }
  // The most recently used idle connection that is still fresh, if any.
  std::optional<net::Stream> take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return std::nullopt;
    auto& v = it->second;
    TimePoint oldest_ok = now() - opts.keepalive_timeout;
    while (!v.empty()) {
      Idle c = std::move(v.back());
      v.pop_back();
      // A connection with bytes or EOF waiting was closed or misused by the server.
      if (c.since >= oldest_ok && c.stream.buffered().empty() && !c.stream.at_eof())
        return std::move(c.stream);
      c.stream.abort();
    }
    return std::nullopt;
  }
  std::size_t idle_count() const {
    std::size_t n = 0;
    for (auto& [k, v] : idle) n += v.size();
    return n;
  }
};

// One request's connection and response, from the head onwards.
struct Exchange {
  std::shared_ptr<Pool> pool;
  std::string key;
  net::Stream stream;
  Semaphore::Permit total_permit, host_permit, rate_permit;
  std::string method;
  Url url;
  std::string url_text;
  ResponseHead head;
  BodyDecoder body;
  TimePoint deadline = TimePoint::max();  // `total`
  std::chrono::milliseconds sock_read{0};
  std::chrono::milliseconds total_limit{0};
  std::uint64_t max_body = 0;
  std::size_t pending = 0;  // body bytes handed out, consumed on the next read
  bool eof = false;
  bool failed = false;
  std::string excerpt;                     // the body's start, for ClientResponseError
  std::string line_buf, line_out;          // read_line's partial line, and its hand-back
  std::unique_ptr<Decompressor> inflater;  // Content-Encoding gzip, deflate or br

  ~Exchange() { finish(); }

  void finish() noexcept {
    if (!stream) return;
    if (pending) {
      stream.consume(pending);
      pending = 0;
    }
    bool reusable = !failed && body.done() && head.keep_alive && !pool->opts.force_close &&
                    !pool->closed && stream.buffered().empty() && !eof;
    if (reusable) {
      pool->idle[key].push_back({std::move(stream), now()});
    } else {
      stream.abort();
    }
    stream = net::Stream();
    host_permit.release();
    total_permit.release();
    rate_permit.release();
  }
};

namespace {

[[noreturn]] void timed_out(const char* which, std::chrono::milliseconds limit,
                            const std::string& method, const std::string& url) {
  throw TimeoutError(fmt::format("{} timeout ({} ms) on {} {}", which, limit.count(), method, url));
}

// Waits for more response bytes within `sock_read` and the total deadline.
Task<bool> fill(Exchange& x) {
  TimePoint d = x.deadline;
  bool by_read = false;
  if (x.sock_read.count() > 0) {
    TimePoint r = eddy::detail::deadline_after(x.sock_read);
    if (r < d) {
      d = r;
      by_read = true;
    }
  }
  if (d == TimePoint::max()) co_return co_await x.stream.fill();
  std::optional<bool> got = co_await move_on_at(d, x.stream.fill());
  if (!got) {
    x.failed = true;
    if (by_read) timed_out("sock_read", x.sock_read, x.method, x.url_text);
    timed_out("total", x.total_limit, x.method, x.url_text);
  }
  co_return *got;
}

bool idempotent(std::string_view m) {
  return m == "GET" || m == "HEAD" || m == "OPTIONS" || m == "PUT" || m == "DELETE" || m == "TRACE";
}

}  // namespace
}  // namespace detail

ClientResponseError::ClientResponseError(int status, std::string url, std::string excerpt)
    : HttpError(
          fmt::format("HTTP {} from {}{}{}", status, url, excerpt.empty() ? "" : ": ", excerpt)),
      status_(status),
      url_(std::move(url)),
      excerpt_(std::move(excerpt)) {}

// --- ClientResponse

ClientResponse::ClientResponse() = default;
ClientResponse::ClientResponse(std::unique_ptr<detail::Exchange> x) noexcept : x_(std::move(x)) {}
ClientResponse::ClientResponse(ClientResponse&&) noexcept = default;
ClientResponse& ClientResponse::operator=(ClientResponse&&) noexcept = default;
ClientResponse::~ClientResponse() = default;

int ClientResponse::status() const noexcept {
  return x_ ? x_->head.status : 0;
}
std::string_view ClientResponse::reason() const noexcept {
  return x_ ? x_->head.reason() : "";
}
const Headers& ClientResponse::headers() const noexcept {
  static const Headers kNone;
  return x_ ? x_->head.headers : kNone;
}
const Url& ClientResponse::url() const noexcept {
  static const Url kNone;
  return x_ ? x_->url : kNone;
}

void ClientResponse::raise_for_status() const {
  if (x_ && x_->head.status >= 400)
    throw ClientResponseError(x_->head.status, x_->url_text, x_->excerpt.substr(0, 200));
}

void ClientResponse::release() noexcept {
  if (x_) x_->finish();
}

Task<std::string_view> ClientResponse::read_chunk() {
  if (!x_ || !x_->stream) co_return std::string_view();
  detail::Exchange& x = *x_;
  if (x.pending) {
    x.stream.consume(x.pending);
    x.pending = 0;
  }
  if (!x.line_buf.empty()) {  // what read_line took but has not returned yet comes first
    x.line_out = std::move(x.line_buf);
    x.line_buf.clear();
    co_return x.line_out;
  }
  for (;;) {
    if (x.inflater) {
      std::string_view out;
      std::string corrupt;
      try {
        out = x.inflater->pull(256 * 1024);
      } catch (const std::runtime_error& e) {
        corrupt = e.what();
      }
      if (!corrupt.empty()) {
        x.failed = true;
        throw ProtocolError(400, corrupt + " from " + x.url_text);
      }
      if (!out.empty()) {
        if (x.excerpt.size() < 200) x.excerpt.append(out.substr(0, 200 - x.excerpt.size()));
        co_return out;
      }
    }
    if (x.body.done()) break;
    BodyDecoder::Step step;
    try {
      step = x.body.next(x.stream.buffered(), x.eof);
    } catch (...) {
      x.failed = true;
      throw;
    }
    if (step.consumed) {
      if (!step.data.empty() && !x.inflater) {
        x.pending = step.consumed;
        if (x.excerpt.size() < 200) x.excerpt.append(step.data.substr(0, 200 - x.excerpt.size()));
        co_return step.data;
      }
      if (x.inflater) x.inflater->feed(step.data);
      x.stream.consume(step.consumed);
      continue;
    }
    if (x.body.done()) continue;
    if (!co_await detail::fill(x)) x.eof = true;
  }
  if (x.inflater && !x.inflater->finished() && x.body.received() > 0) {
    x.failed = true;
    throw ProtocolError(400, "truncated compressed body from " + x.url_text);
  }
  x.finish();  // the body is complete: the connection can serve the next request
  co_return std::string_view();
}

Task<std::string> ClientResponse::read() {
  std::string out;
  if (!x_) co_return out;
  std::uint64_t limit = x_->max_body;
  for (;;) {
    std::string_view piece = co_await read_chunk();
    if (piece.empty()) break;
    if (out.size() + piece.size() > limit) {
      x_->failed = true;
      throw ProtocolError(413, "response body larger than max_body from " + x_->url_text);
    }
    out.append(piece);
  }
  co_return out;
}

Task<std::optional<std::string>> ClientResponse::read_line(std::size_t max) {
  if (!x_) co_return std::nullopt;
  for (;;) {
    std::string& buf = x_->line_buf;
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      std::string line = buf.substr(0, nl > 0 && buf[nl - 1] == '\r' ? nl - 1 : nl);
      buf.erase(0, nl + 1);
      co_return line;
    }
    if (buf.size() > max) {
      x_->failed = true;
      throw ProtocolError(
          400, fmt::format("a line longer than {} bytes in the body of {}", max, x_->url_text));
    }
    std::string got = std::move(buf);  // out of the way: read_chunk hands line_buf back first
    buf.clear();
    std::string_view piece = co_await read_chunk();
    if (piece.empty()) {
      if (got.empty()) co_return std::nullopt;
      co_return got;  // the last line, without a newline
    }
    got.append(piece);
    x_->line_buf = std::move(got);
  }
}

std::vector<SetCookie> ClientResponse::cookies() const {
  std::vector<SetCookie> out;
  if (!x_) return out;
  for (std::string_view v : x_->head.headers.get_all("Set-Cookie")) {
    try {
      out.push_back(SetCookie::parse(v));
    } catch (const CookieError&) {
    }
  }
  return out;
}

std::string ClientResponse::charset() const {
  return x_ ? detail::charset_of(x_->head.headers.get_or("Content-Type", "")) : std::string();
}

Task<std::string> ClientResponse::text(std::string encoding) {
  std::string cs = encoding.empty() ? charset() : encoding;
  std::string raw = co_await read();
  if (detail::is_utf8(cs)) co_return raw;
  try {
    co_return detail::to_utf8(raw, cs);
  } catch (const std::invalid_argument&) {
    throw HttpError("cannot decode the body of " + x_->url_text + ": unknown charset " + cs);
  } catch (const std::range_error&) {
    throw ProtocolError(400, "the body of " + x_->url_text + " is not valid " + cs);
  }
}

Task<nlohmann::json> ClientResponse::json() {
  std::string text = co_await read();
  nlohmann::json v = nlohmann::json::parse(text, nullptr, false);
  if (v.is_discarded())
    throw ProtocolError(400, "response body from " + x_->url_text + " is not JSON");
  co_return v;
}

// --- Session

Session::Session(SessionOptions options)
    : options_(std::move(options)),
      pool_(std::make_shared<detail::Pool>(options_.connector, options_.trace_configs)) {}

Session::~Session() {
  pool_->closed = true;
  for (auto& [k, v] : pool_->idle)
    for (auto& c : v) c.stream.abort();
  pool_->idle.clear();
}

std::size_t Session::idle_connections() const noexcept {
  return pool_->idle_count();
}
std::size_t Session::connections_opened() const noexcept {
  return pool_->opened;
}

Task<> Session::close() {
  pool_->closed = true;
  std::vector<net::Stream> all;
  for (auto& [k, v] : pool_->idle)
    for (auto& c : v) all.push_back(std::move(c.stream));
  pool_->idle.clear();
  for (auto& s : all) co_await shield(s.close());
}

namespace {

// The request head, and the body too when it is in memory. `absolute`: the request-target
// in absolute form, for a proxy.
std::string serialize_request(const std::string& method, const Url& url, const Headers& defaults,
                              const RequestOptions& o, const std::string& cookies,
                              const std::string& proxy_auth, bool absolute) {
  std::string out;
  out.reserve(256);
  out += method;
  out += ' ';
  if (absolute) out.append(url.scheme()).append("://").append(url.authority());
  out += url.target();
  out += " HTTP/1.1\r\nHost: ";
  out += url.authority();
  out += "\r\n";
  auto skip = [&](std::string_view name) {
    return iequals(name, "Host") || iequals(name, "Content-Length") ||
           iequals(name, "Transfer-Encoding") || o.headers.contains(name);
  };
  for (auto [n, v] : defaults) {
    if (skip(n)) continue;
    out.append(n).append(": ").append(v).append("\r\n");
  }
  for (auto [n, v] : o.headers) {
    if (iequals(n, "Host") || iequals(n, "Content-Length") || iequals(n, "Transfer-Encoding"))
      continue;
    out.append(n).append(": ").append(v).append("\r\n");
  }
  if (!defaults.contains("User-Agent") && !o.headers.contains("User-Agent"))
    out += "User-Agent: eddy/0.1\r\n";
  if (!cookies.empty()) out.append("Cookie: ").append(cookies).append("\r\n");
  if (!proxy_auth.empty()) out.append("Proxy-Authorization: ").append(proxy_auth).append("\r\n");
  if (!defaults.contains("Accept-Encoding") && !o.headers.contains("Accept-Encoding"))
    out += "Accept-Encoding: gzip, deflate, br\r\n";
  if (o.body) {
    if (!o.headers.contains("Content-Type") && !defaults.contains("Content-Type"))
      out.append("Content-Type: ").append(o.body->content_type).append("\r\n");
    if (!o.body->streamed())
      out.append("Content-Length: ").append(std::to_string(o.body->data.size())).append("\r\n");
    else if (o.body->length)
      out.append("Content-Length: ").append(std::to_string(*o.body->length)).append("\r\n");
    else
      out += "Transfer-Encoding: chunked\r\n";
  } else if (method == "POST" || method == "PUT" || method == "PATCH") {
    out += "Content-Length: 0\r\n";
  }
  out += "\r\n";
  if (o.body && !o.body->streamed()) out += o.body->data;
  return out;
}

// A streamed body, piece by piece (chunked without a length), each piece drained before the
// next is asked for, so a slow server holds back the source.
Task<> send_stream_body(net::Stream& s, const Body& b, const std::string& url_text) {
  BodyPieces next = b.open();
  std::uint64_t sent = 0;
  for (;;) {
    std::string piece = co_await next();
    if (piece.empty()) break;
    sent += piece.size();
    if (b.length && sent > *b.length)
      throw HttpError(fmt::format("the request body for {} is longer than its length ({} bytes)",
                                  url_text, *b.length));
    if (!b.length) s.write(fmt::format("{:x}\r\n", piece.size()));
    s.write(piece);
    if (!b.length) s.write("\r\n");
    co_await s.drain();
  }
  if (b.length && sent != *b.length)
    throw HttpError(fmt::format("the request body for {} ended after {} of its {} bytes", url_text,
                                sent, *b.length));
  if (!b.length) s.write("0\r\n\r\n");
}

// Where a request goes through a proxy, parsed once.
struct ProxyRoute {
  Url url;
  std::string auth;  // "Basic ..." or ""
};

std::string basic_credentials(std::string_view user, std::string_view password) {
  std::string plain = std::string(user) + ":" + std::string(password);
  std::string b64(4 * ((plain.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()),
                          reinterpret_cast<const unsigned char*>(plain.data()),
                          static_cast<int>(plain.size()));
  b64.resize(static_cast<std::size_t>(n));
  return "Basic " + b64;
}

std::optional<ProxyRoute> parse_proxy(const std::string& text) {
  if (text.empty()) return std::nullopt;
  ProxyRoute r{Url::parse(text), {}};
  if (r.url.scheme() != "http")
    throw UrlError("eddy::http::Session: proxies are spoken to in plain http: " + text);
  if (!r.url.user().empty())
    r.auth = basic_credentials(percent_decode(r.url.user()), percent_decode(r.url.password()));
  return r;
}

void emit(const detail::Pool& pool, TraceHook TraceConfig::*hook, const TraceEvent& e) {
  for (const TraceConfig& t : pool.traces)
    if (t.*hook) (t.*hook)(e);
}

std::chrono::nanoseconds since(TimePoint t0) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(now() - t0);
}

// Opens a tunnel through the proxy to url's host and port (CONNECT), for TLS to go through.
Task<> open_tunnel(net::Stream& s, const Url& url, const ProxyRoute& proxy) {
  std::string target = url.host() + ":" + std::to_string(url.effective_port());
  std::string req = "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
  if (!proxy.auth.empty()) req += "Proxy-Authorization: " + proxy.auth + "\r\n";
  req += "\r\n";
  s.write(req);
  co_await s.drain();
  HeadParser parser;
  ResponseHead head;
  for (;;) {
    std::size_t n = parser.parse_response(s.buffered(), head, "CONNECT");
    if (n) {
      s.consume(n);
      break;
    }
    if (!co_await s.fill())
      throw ConnectionError(ECONNRESET, "the proxy closed the connection during CONNECT " + target);
  }
  if (head.status < 200 || head.status > 299)
    throw HttpError(fmt::format("the proxy {} refused CONNECT {}: {} {}", proxy.url.authority(),
                                target, head.status, head.reason()));
}

// Waits for the host's rate limit: a slot among `requests` per `per` (GCRA: a burst of
// `requests`, then one every per/requests), then a place among `concurrent`.
Task<> respect_rate_limit(detail::Pool& pool, const std::string& key, detail::Exchange& x,
                          const RateLimit& limit) {
  detail::Pool::Rate& r = pool.rates[key];
  if (limit.requests) {
    Duration interval = std::chrono::duration_cast<Duration>(limit.per) / limit.requests;
    Duration tolerance = std::chrono::duration_cast<Duration>(limit.per) - interval;
    TimePoint t = now();
    TimePoint start = std::max(t, r.tat - tolerance);
    r.tat = std::max(r.tat, t) + interval;  // reserved now: callers are served in order
    if (start > t) co_await sleep_until(start);
  }
  if (limit.concurrent) {
    if (!r.concurrent) r.concurrent = std::make_unique<Semaphore>(limit.concurrent);
    x.rate_permit = co_await r.concurrent->acquire();
  }
}

// A connection for `x`: permits first (fair, FIFO), then an idle pooled connection or a new one
// (to the proxy, if any: for https, a CONNECT tunnel through it, then TLS with the origin).
Task<> acquire_connection(detail::Exchange& x, detail::Pool& pool, const Url& url, ClientTimeout t,
                          bool& reused, const ProxyRoute* proxy, bool fresh = false) {
  bool tracing = !pool.traces.empty();
  TraceEvent ev{.method = x.method, .url = url};
  Semaphore* host = pool.host_limit(x.key);
  bool queued = tracing && ((pool.total && pool.total->locked()) || (host && host->locked()));
  TimePoint t0 = tracing ? now() : TimePoint();
  if (queued) emit(pool, &TraceConfig::on_connection_queued_start, ev);
  if (pool.total) x.total_permit = co_await pool.total->acquire();
  if (host) x.host_permit = co_await host->acquire();
  if (queued) {
    ev.elapsed = since(t0);
    emit(pool, &TraceConfig::on_connection_queued_end, ev);
  }
  if (auto idle = fresh ? std::nullopt : pool.take_idle(x.key)) {
    x.stream = std::move(*idle);
    reused = true;
    if (tracing) emit(pool, &TraceConfig::on_connection_reuseconn, ev);
    co_return;
  }
  if (tracing) {
    t0 = now();
    emit(pool, &TraceConfig::on_connection_create_start, ev);
  }
  const Url& peer = proxy ? proxy->url : url;
  auto port = static_cast<std::uint16_t>(peer.effective_port());
  std::vector<net::SocketAddress> addrs;
  if (auto ip = net::SocketAddress::parse(peer.host(), port)) {
    addrs.push_back(*ip);
  } else {
    TimePoint d0 = tracing ? now() : TimePoint();
    if (tracing) emit(pool, &TraceConfig::on_dns_resolvehost_start, ev);
    net::Resolver& r = pool.resolver ? *pool.resolver : net::default_resolver();
    addrs = net::interleave_families(co_await r.resolve(peer.host(), port));
    if (tracing) {
      TraceEvent dns{.method = x.method, .url = url, .elapsed = since(d0), .addresses = addrs};
      emit(pool, &TraceConfig::on_dns_resolvehost_end, dns);
    }
  }
  net::ConnectOptions co;
  co.timeout = t.sock_connect;
  try {
    x.stream = co_await net::connect(std::move(addrs), co);
  } catch (const TimeoutError&) {
    detail::timed_out("sock_connect", t.sock_connect, x.method, x.url_text);
  }
  if (url.scheme() == "https") {
    if (proxy) co_await open_tunnel(x.stream, url, *proxy);
    net::TlsConnectOptions tls;
    if (pool.opts.tls) tls.context = pool.opts.tls;
    co_await net::start_tls(x.stream, url.host(), std::move(tls));
  }
  ++pool.opened;
  if (tracing) {
    ev.elapsed = since(t0);
    emit(pool, &TraceConfig::on_connection_create_end, ev);
  }
}

// acquire_connection within the `connect` limit (waiting for the pool included) and x's
// total deadline; TimeoutError naming whichever ran out.
Task<> connect_in_time(detail::Exchange& x, detail::Pool& pool, const Url& url, ClientTimeout t,
                       bool& reused, const ProxyRoute* proxy, bool fresh) {
  TimePoint connect_deadline = x.deadline;
  if (t.connect.count() > 0)
    connect_deadline = std::min(connect_deadline, eddy::detail::deadline_after(t.connect));
  bool got = co_await move_on_at(connect_deadline,
                                 acquire_connection(x, pool, url, t, reused, proxy, fresh));
  if (got) co_return;
  if (connect_deadline == x.deadline) detail::timed_out("total", t.total, x.method, x.url_text);
  detail::timed_out("connect", t.connect, x.method, x.url_text);
}

}  // namespace

namespace {
bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}
std::string origin(const Url& u) {
  return u.scheme() + "://" + u.authority();
}
}  // namespace

Url Session::resolve(const std::string& url_in, const QueryParams& params) const {
  Url url =
      options_.base_url.empty() ? Url::parse(url_in) : Url::parse(options_.base_url).join(url_in);
  if (params.empty()) return url;
  QueryParams q = url.query() ? QueryParams::parse(*url.query()) : QueryParams();
  for (auto& [k, v] : params) q.add(k, v);
  return url.with_query(q);
}

std::string Session::cookie_header(const Url& url, const RequestOptions& o) const {
  std::string cookies =
      options_.cookies ? jar_.header_for(url, std::chrono::system_clock::now()) : std::string();
  for (auto& [name, value] : o.cookies) {
    if (!cookies.empty()) cookies += "; ";
    cookies.append(name).append("=").append(value);
  }
  return cookies;
}

Task<ClientResponse> Session::request(std::string method, std::string url, RequestOptions o) {
  if (pool_->traces.empty()) return request_plain(std::move(method), std::move(url), std::move(o));
  return request_traced(std::move(method), std::move(url), std::move(o));
}

Task<ClientResponse> Session::request_traced(std::string method, std::string url_in,
                                             RequestOptions o) {
  TimePoint t0 = now();
  try {
    co_return co_await request_plain(method, url_in, std::move(o));
  } catch (...) {
    Url u = Url::parse(url_in);
    TraceEvent ev{
        .method = method, .url = u, .elapsed = since(t0), .error = std::current_exception()};
    emit(*pool_, &TraceConfig::on_request_exception, ev);
    throw;
  }
}

Task<ClientResponse> Session::request_plain(std::string method, std::string url_in,
                                            RequestOptions o) {
  if (pool_->closed) throw InvalidStateError("eddy::http::Session is closed");
  bool tracing = !pool_->traces.empty();
  TimePoint t0 = tracing ? now() : TimePoint();
  Url url = resolve(url_in, o.params);
  o.params = QueryParams();
  if (o.auth) {  // basic auth becomes an ordinary Authorization header
    o.headers.set("Authorization", basic_credentials(o.auth->first, o.auth->second));
    o.auth.reset();
  }
  if (tracing)
    emit(*pool_, &TraceConfig::on_request_start, TraceEvent{.method = method, .url = url});
  const std::string first_origin = origin(url);
  bool follow = o.allow_redirects.value_or(true);
  bool raise = o.raise_for_status.value_or(options_.raise_for_status);
  o.raise_for_status = false;  // decided here, after the redirects
  for (int hops = 0;; ++hops) {
    ClientResponse resp = co_await send_retrying(method, url, o);
    int st = resp.status();
    auto location = resp.headers().get("Location");
    if (!follow || !is_redirect(st) || !location) {
      if (tracing) {
        TraceEvent ev{.method = method, .url = url, .status = st, .elapsed = since(t0)};
        emit(*pool_, &TraceConfig::on_request_end, ev);
      }
      if (st >= 400 && raise) {
        co_await resp.read();  // for the error's excerpt
        resp.raise_for_status();
      }
      co_return resp;
    }
    if (hops >= options_.max_redirects)
      throw TooManyRedirects(fmt::format("more than {} redirects from {} {}",
                                         options_.max_redirects, method, url.str()));
    Url next = url.join(*location);
    if (tracing) {
      TraceEvent ev{.method = method, .url = next, .status = st, .elapsed = since(t0)};
      emit(*pool_, &TraceConfig::on_request_redirect, ev);
    }
    if ((st == 303 && method != "HEAD") || ((st == 301 || st == 302) && method == "POST")) {
      method = "GET";
      o.body.reset();
    }
    if (origin(next) != first_origin) {  // credentials stay with their origin
      o.headers.remove("Authorization");
      o.headers.remove("Cookie");
    }
    co_await eddy::move_on_after(std::chrono::seconds(1), resp.read());  // reuse if small
    url = std::move(next);
  }
}

namespace {
// What the answer's Retry-After asks for (seconds or an HTTP date), if anything.
std::optional<std::chrono::milliseconds> retry_after(const ClientResponse& r) {
  auto v = r.headers().get("Retry-After");
  if (!v || v->empty()) return std::nullopt;
  if (v->find_first_not_of("0123456789") == std::string_view::npos && v->size() < 10)
    return std::chrono::seconds(std::stoll(std::string(*v)));
  if (auto when = parse_http_date(*v)) {
    auto d = *when - std::chrono::system_clock::now();
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(d));
  }
  return std::nullopt;
}
}  // namespace

Task<ClientResponse> Session::send_retrying(const std::string& method, const Url& url,
                                            const RequestOptions& o) {
  const RetryOptions& p = o.retry ? *o.retry : options_.retry;
  bool allowed = !p.idempotent_only || detail::idempotent(method);
  RetryPolicy backoff;
  backoff.base_delay = p.base_delay;
  backoff.multiplier = p.multiplier;
  backoff.max_delay = p.max_delay;
  backoff.jitter = p.jitter;
  for (int attempt = 0;; ++attempt) {
    bool last = !allowed || attempt + 1 >= p.attempts;
    std::optional<ClientResponse> resp;
    try {
      resp.emplace(co_await send(method, url, o));
    } catch (const ConnectionError&) {
      if (last || !p.connection_errors) throw;  // else: back off and try again
    } catch (const TimeoutError&) {
      if (last || !p.timeouts) throw;
    }
    Duration delay = eddy::detail::backoff_delay(backoff, attempt);
    if (resp) {
      int st = resp->status();
      if (last || std::find(p.statuses.begin(), p.statuses.end(), st) == p.statuses.end())
        co_return std::move(*resp);
      if (p.honour_retry_after)
        if (auto ra = retry_after(*resp)) delay = std::min<Duration>(*ra, p.max_delay);
      co_await eddy::move_on_after(std::chrono::seconds(1), resp->read());  // reuse if small
    }
    co_await eddy::sleep(delay);
  }
}

Task<ClientResponse> Session::send(const std::string& method, const Url& url,
                                   const RequestOptions& o) {
  detail::Pool& pool = *pool_;
  if (pool.closed) throw InvalidStateError("eddy::http::Session is closed");
  if (url.scheme() != "http" && url.scheme() != "https")
    throw UrlError("eddy::http::Session: not an http(s) URL: " + url.str());
  if (url.host().empty()) throw UrlError("eddy::http::Session: no host in " + url.str());
  ClientTimeout t = o.timeout.value_or(options_.timeout);
  std::string url_text = url.str();
  std::string key = url.scheme() + "://" + url.authority();
  if (url.scheme() == "http" && !url.port()) key += ":80";
  if (url.scheme() == "https" && !url.port()) key += ":443";
  std::optional<ProxyRoute> proxy = parse_proxy(o.proxy ? *o.proxy : options_.proxy);
  bool via_proxy = proxy && url.scheme() == "http";  // absolute-form requests to the proxy
  if (via_proxy)
    key = "proxy " + proxy->url.authority();
  else if (proxy)
    key += " via " + proxy->url.authority();
  std::string cookies = cookie_header(url, o);
  std::string wire = serialize_request(method, url, options_.headers, o, cookies,
                                       via_proxy ? proxy->auth : std::string(), via_proxy);
  TimePoint total_deadline =
      t.total.count() > 0 ? eddy::detail::deadline_after(t.total) : TimePoint::max();

  for (int attempt = 0;; ++attempt) {
    auto x = std::make_unique<detail::Exchange>();
    x->pool = pool_;
    x->key = key;
    x->method = method;
    x->url = url;
    x->url_text = url_text;
    x->deadline = total_deadline;
    x->sock_read = t.sock_read;
    x->total_limit = t.total;
    x->max_body = options_.max_body;

    // 0. the host's rate limit (waiting here counts toward `total` only)
    if (options_.rate_limit.requests || options_.rate_limit.concurrent) {
      bool in_time = co_await move_on_at(total_deadline,
                                         respect_rate_limit(pool, key, *x, options_.rate_limit));
      if (!in_time) detail::timed_out("total", t.total, method, url_text);
    }

    // 1. a connection: from the pool, or a new one (the `connect` timeout covers both)
    bool reused = false;
    co_await connect_in_time(*x, pool, url, t, reused, proxy ? &*proxy : nullptr, false);

    // 2. the request, then the response head
    bool stale = false;  // a reused connection died before answering: retry on a fresh one
    std::exception_ptr error;
    // A server may answer (413, 401) and close before taking the whole body: then its
    // answer is what the caller gets, and the connection is not reused.
    std::exception_ptr send_error;
    try {
      try {
        x->stream.write(wire);
        if (o.body && o.body->streamed()) co_await send_stream_body(x->stream, *o.body, url_text);
        co_await x->stream.drain();
      } catch (const ConnectionError&) {
        if (x->stream.buffered().empty() && reused) throw;  // stale: retried below
        send_error = std::current_exception();
      }
      HeadParser parser(options_.limits);
      for (;;) {
        std::size_t n = parser.parse_response(x->stream.buffered(), x->head, method);
        if (n) {
          x->stream.consume(n);
          if (x->head.status >= 100 && x->head.status < 200 && x->head.status != 101) continue;
          break;
        }
        if (!co_await detail::fill(*x)) {
          if (send_error) std::rethrow_exception(send_error);
          if (reused && x->stream.buffered().empty()) stale = true;
          throw ConnectionError(ECONNRESET, "the server closed the connection before answering " +
                                                method + " " + url_text);
        }
      }
    } catch (const ConnectionError&) {
      x->failed = true;
      if (reused && x->stream.buffered().empty()) stale = true;
      error = std::current_exception();
    } catch (...) {
      x->failed = true;
      throw;
    }
    if (error) {
      if (stale && attempt == 0 && detail::idempotent(method)) continue;
      std::rethrow_exception(error);
    }
    if (send_error) x->head.keep_alive = false;
    x->body = BodyDecoder(x->head.body, x->head.content_length, options_.limits);
    if (options_.cookies) {
      auto now = std::chrono::system_clock::now();
      for (std::string_view c : x->head.headers.get_all("Set-Cookie")) jar_.update(url, c, now);
    }
    if (method != "HEAD")
      x->inflater = detail::make_decompressor(x->head.headers.get_or("Content-Encoding", ""));
    bool no_body = x->head.body == BodyKind::none;
    ClientResponse resp(std::move(x));
    if (no_body) co_await resp.read_chunk();  // gives the connection back at once
    if (resp.status() >= 400 && o.raise_for_status.value_or(false)) resp.raise_for_status();
    co_return resp;
  }
}

}  // namespace eddy::http

namespace eddy::http {

WsHandshakeError::WsHandshakeError(int status, std::string message)
    : HttpError(std::move(message)), status_(status) {}

Task<WebSocket> Session::ws_connect(std::string url_in, WebSocketOptions wo, RequestOptions o) {
  detail::Pool& pool = *pool_;
  if (pool.closed) throw InvalidStateError("eddy::http::Session is closed");
  Url url = resolve(url_in, o.params);
  // ws and wss travel as http and https until the 101.
  if (url.scheme() == "ws" || url.scheme() == "wss")
    url = Url::parse((url.scheme() == "ws" ? "http" : "https") +
                     url.str().substr(url.scheme().size()));
  if (url.scheme() != "http" && url.scheme() != "https")
    throw UrlError("eddy::http::Session::ws_connect: not a ws(s) URL: " + url_in);
  ClientTimeout t = o.timeout.value_or(options_.timeout);
  auto x = std::make_unique<detail::Exchange>();
  x->pool = pool_;
  x->key = url.scheme() + "://" + url.authority() + " websocket";
  x->method = "GET";
  x->url = url;
  x->url_text = url.str();
  x->sock_read = t.sock_read;
  x->total_limit = t.total;
  x->deadline = t.total.count() > 0 ? eddy::detail::deadline_after(t.total) : TimePoint::max();
  std::optional<ProxyRoute> proxy = parse_proxy(o.proxy ? *o.proxy : options_.proxy);
  bool reused = false;
  co_await connect_in_time(*x, pool, url, t, reused, proxy ? &*proxy : nullptr, true);
  // Plain ws through a proxy needs a tunnel as much as wss does (https ones have theirs).
  if (proxy && url.scheme() == "http") co_await open_tunnel(x->stream, url, *proxy);

  // The opening handshake (RFC 6455 §4.1).
  unsigned char nonce[16];
  detail::random_bytes(nonce, sizeof nonce);
  char key[25];
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(key), nonce, sizeof nonce);
  std::string req = "GET " + url.target() + " HTTP/1.1\r\nHost: " + url.authority() +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " +
                    std::string(key, 24) + "\r\nSec-WebSocket-Version: 13\r\n";
  if (!wo.protocols.empty()) {
    req += "Sec-WebSocket-Protocol: ";
    for (std::size_t i = 0; i < wo.protocols.size(); ++i) req += (i ? ", " : "") + wo.protocols[i];
    req += "\r\n";
  }
  if (wo.compress) req += "Sec-WebSocket-Extensions: " + detail::deflate_offer() + "\r\n";
  if (o.auth) req += "Authorization: " + basic_credentials(o.auth->first, o.auth->second) + "\r\n";
  auto skip = [](std::string_view n) {
    return iequals(n, "Host") || iequals(n, "Upgrade") || iequals(n, "Connection") ||
           iequals(n, "Content-Length") || iequals(n, "Transfer-Encoding") ||
           (n.size() > 14 && iequals(n.substr(0, 14), "Sec-WebSocket-"));
  };
  for (auto [n, v] : options_.headers)
    if (!skip(n) && !o.headers.contains(n)) req.append(n).append(": ").append(v).append("\r\n");
  for (auto [n, v] : o.headers)
    if (!skip(n)) req.append(n).append(": ").append(v).append("\r\n");
  std::string cookies = cookie_header(url, o);
  if (!cookies.empty()) req += "Cookie: " + cookies + "\r\n";
  req += "\r\n";
  x->stream.write(req);
  co_await x->stream.drain();
  HeadParser parser(options_.limits);
  for (;;) {
    std::size_t n = parser.parse_response(x->stream.buffered(), x->head, "GET");
    if (n) {
      x->stream.consume(n);
      break;
    }
    if (!co_await detail::fill(*x))
      throw ConnectionError(ECONNRESET,
                            "the server closed the connection during the WebSocket "
                            "handshake with " +
                                x->url_text);
  }
  const Headers& h = x->head.headers;
  auto refuse = [&](std::string why) -> WsHandshakeError {
    return WsHandshakeError(x->head.status,
                            "WebSocket handshake with " + x->url_text + " failed: " + why);
  };
  if (x->head.status != 101)
    throw refuse(fmt::format("status {} {}", x->head.status, x->head.reason()));
  if (!detail::has_header_token(h, "Upgrade", "websocket") ||
      !detail::has_header_token(h, "Connection", "upgrade"))
    throw refuse("no Upgrade: websocket in the answer");
  if (h.get_or("Sec-WebSocket-Accept", "") != detail::ws_accept_key(std::string_view(key, 24)))
    throw refuse("wrong Sec-WebSocket-Accept");
  std::string protocol(h.get_or("Sec-WebSocket-Protocol", ""));
  if (!protocol.empty() &&
      std::find(wo.protocols.begin(), wo.protocols.end(), protocol) == wo.protocols.end())
    throw refuse("a subprotocol that was not offered: " + protocol);
  std::optional<detail::DeflateParams> deflate;
  std::string extensions = detail::joined(h, "Sec-WebSocket-Extensions");
  if (!extensions.empty()) {
    if (!wo.compress) throw refuse("an extension that was not offered");
    try {
      deflate = detail::parse_deflate_answer(extensions);
    } catch (const std::invalid_argument& e) {
      throw refuse(e.what());
    }
  }
  if (options_.cookies) {
    auto now = std::chrono::system_clock::now();
    for (std::string_view c : h.get_all("Set-Cookie")) jar_.update(url, c, now);
  }

  auto core = std::make_unique<detail::WsCore>();
  core->owned = std::move(x->stream);
  core->s = &core->owned;
  core->client = true;
  core->opts = std::move(wo);
  core->protocol = std::move(protocol);
  if (deflate) core->deflate = std::make_unique<detail::MessageDeflate>(*deflate);
  core->init_heartbeat();
  co_return WebSocket(std::move(core));
}

}  // namespace eddy::http
