// Response factories and the Request accessors that need no connection.
#include <nlohmann/json.hpp>

#include "eddy/http/cookies.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/message.hpp"
#include "eddy/http/status.hpp"

namespace eddy::http {

Response::Response(int status_code, std::string body_text, std::string_view content_type)
    : status(status_code), body(std::move(body_text)) {
  headers.add("Content-Type", content_type);
}

Response Response::text(std::string body, int status) {
  return Response(status, std::move(body), "text/plain; charset=utf-8");
}

Response Response::html(std::string body, int status) {
  return Response(status, std::move(body), "text/html; charset=utf-8");
}

Response Response::json(const nlohmann::json& value, int status) {
  return Response(status, value.dump(), "application/json");
}

Response Response::bytes(std::string body, std::string_view content_type, int status) {
  return Response(status, std::move(body), content_type);
}

Response Response::redirect(std::string_view location, int status) {
  if (status < 300 || status > 399)
    throw std::invalid_argument("eddy::http::Response::redirect: status must be 3xx");
  Response r(status, std::string(reason_phrase(status)));
  r.headers.add("Location", location);
  return r;
}

Response Response::stream(StreamFn fn, std::string_view content_type, int status) {
  Response r(status);
  r.headers.add("Content-Type", content_type);
  r.stream_fn = std::move(fn);
  return r;
}

Response Response::event_stream(StreamFn fn) {
  Response r = stream(std::move(fn), "text/event-stream");
  r.headers.add("Cache-Control", "no-cache");
  return r;
}

Response Response::file(std::string path, std::string_view content_type) {
  Response r;
  r.file_path = std::move(path);
  if (!content_type.empty()) r.headers.add("Content-Type", content_type);
  return r;
}

void Response::set_cookie(const SetCookie& cookie) {
  headers.add("Set-Cookie", cookie.str());
}

void Response::delete_cookie(std::string_view name, std::string_view path) {
  SetCookie c;
  c.name = std::string(name);
  c.path = std::string(path);
  c.max_age = std::chrono::seconds(0);
  c.expires = std::chrono::system_clock::time_point{};  // 1970: for agents without Max-Age
  set_cookie(c);
}

// --- Request

Request::Request() = default;
Request::~Request() = default;

void Request::prepare() {
  std::string_view t = head_.target();
  query_.reset();
  cookies_.reset();
  values_.clear();
  match_.clear();
  body_failed_ = false;
  std::string_view path = t;
  if (!t.empty() && t.front() != '/' && t != "*" && method() != "CONNECT") {
    // absolute-form (a proxy-style request): the path starts after the authority
    std::size_t scheme_end = t.find("://");
    std::size_t slash =
        scheme_end == std::string_view::npos ? std::string_view::npos : t.find('/', scheme_end + 3);
    path = slash == std::string_view::npos ? std::string_view("/") : t.substr(slash);
  }
  std::size_t q = path.find('?');
  query_string_ = q == std::string_view::npos ? std::string_view() : path.substr(q + 1);
  raw_path_ = path.substr(0, q);
  if (std::size_t hash = query_string_.find('#'); hash != std::string_view::npos)
    query_string_ = query_string_.substr(0, hash);
  if (std::size_t hash = raw_path_.find('#'); hash != std::string_view::npos)
    raw_path_ = raw_path_.substr(0, hash);
  if (raw_path_.find('%') == std::string_view::npos) {
    path_ = raw_path_;
  } else {
    try {
      decoded_path_ = percent_decode(raw_path_);
    } catch (const UrlError&) {
      throw HttpException(Status::bad_request, "bad percent-encoding in the path");
    }
    path_ = decoded_path_;
  }
}

const QueryParams& Request::query() const {
  if (!query_) {
    try {
      query_ = QueryParams::parse(query_string_);
    } catch (const UrlError&) {
      throw HttpException(Status::bad_request, "malformed query string");
    }
  }
  return *query_;
}

std::string_view Request::content_type() const noexcept {
  std::string_view ct = head_.headers.get_or("Content-Type", "");
  std::size_t semi = ct.find(';');
  if (semi != std::string_view::npos) ct = ct.substr(0, semi);
  while (!ct.empty() && (ct.back() == ' ' || ct.back() == '\t')) ct.remove_suffix(1);
  return ct;
}

std::optional<std::string_view> Request::cookie(std::string_view name) const {
  if (!cookies_) {
    cookies_.emplace();
    for (std::string_view h : head_.headers.get_all("Cookie"))
      for (auto& kv : parse_cookie_header(h)) cookies_->push_back(kv);
  }
  for (auto& [k, v] : *cookies_)
    if (k == name) return v;
  return std::nullopt;
}

std::string_view Request::match(std::string_view name) const noexcept {
  for (auto& [k, v] : match_)
    if (k == name) return v;
  return {};
}

std::optional<std::uint64_t> Request::content_length() const noexcept {
  if (head_.body == BodyKind::length) return head_.content_length;
  if (head_.body == BodyKind::none) return 0;
  return std::nullopt;
}

Task<nlohmann::json> Request::json() {
  std::string b = co_await body();
  nlohmann::json v = nlohmann::json::parse(b, nullptr, /*allow_exceptions=*/false);
  if (v.is_discarded()) throw HttpException(Status::bad_request, "the body is not valid JSON");
  co_return v;
}

Task<QueryParams> Request::form() {
  if (content_type() != "application/x-www-form-urlencoded")
    throw HttpException(Status::unsupported_media_type,
                        "expected application/x-www-form-urlencoded");
  std::string b = co_await body();
  try {
    co_return QueryParams::parse(b);
  } catch (const UrlError&) {
    throw HttpException(Status::bad_request, "malformed form body");
  }
}

}  // namespace eddy::http
