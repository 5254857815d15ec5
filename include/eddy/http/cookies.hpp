// Cookies (RFC 6265): the server's Cookie-header parser and Set-Cookie builder, and the
// client's cookie jar.
//
//   // server
//   for (auto [name, value] : http::parse_cookie_header(req.headers.get("Cookie"))) ...
//   http::SetCookie c{.name = "sid", .value = token, .path = "/", .max_age = 3600s,
//                     .secure = true, .http_only = true,
//                     .same_site = http::SetCookie::SameSite::lax};
//   res.headers.add("Set-Cookie", c.str());
//
//   // client
//   http::CookieJar jar;
//   jar.update(url, response_set_cookie_value, std::chrono::system_clock::now());
//   std::string cookie = jar.header_for(next_url, std::chrono::system_clock::now());
//
// Parsing is lenient, as browsers are (a malformed pair or attribute is skipped, not fatal);
// building is strict, so a server never emits a header another party could misread.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/error.hpp"
#include "eddy/http/url.hpp"

namespace eddy::http {

// A Set-Cookie value that is no cookie at all, or a SetCookie that cannot be serialised.
class CookieError : public Error {
 public:
  using Error::Error;
};

// The pairs of a request's Cookie header ("a=1; b=2"), in order, as views into `header`.
// Tolerates missing spaces and strips the DQUOTEs around a quoted value; skips a pair with
// no '=', a name that is not a token, or control characters. Stops after `max_pairs`.
std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(
    std::string_view header, std::size_t max_pairs = 200);

struct SetCookie {
  enum class SameSite : std::uint8_t { unset, strict, lax, none };

  // Every member has an initializer so designated initialisation may skip any of them
  // without -Wmissing-field-initializers.
  std::string name{};
  std::string value{};                  // as sent, including DQUOTEs if it was quoted
  std::optional<std::string> domain{};  // without a leading '.', lowercased by parse()
  std::optional<std::string> path{};
  std::optional<std::chrono::system_clock::time_point> expires{};
  std::optional<std::chrono::seconds> max_age{};  // may be zero or negative: delete now
  bool secure = false;
  bool http_only = false;
  SameSite same_site = SameSite::unset;

  // RFC 6265 §5.2, as a user agent reads it: unknown or malformed attributes are ignored,
  // the last of a repeated attribute wins, an Expires that no cookie-date parse accepts is
  // dropped, and an empty or relative Path means "the default path". CookieError when the
  // header has no '=' before the first ';', an empty name, control characters in the pair,
  // or a name and value longer than 4096 bytes together.
  static SetCookie parse(std::string_view header_value);

  // "name=value; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=60; Domain=d; Path=/; Secure;
  // HttpOnly; SameSite=Lax". CookieError if the name is not a token, the value holds a
  // character outside RFC 6265's cookie-octet (space is allowed inside DQUOTEs), or Domain or
  // Path holds ';' or a control character.
  std::string str() const;

  friend bool operator==(const SetCookie&, const SetCookie&) = default;
};

// The cookie store of an HTTP client (RFC 6265 §5.3 and §5.4). Without a public suffix list
// it refuses only single-label Domain attributes ("com", "localhost" unless that is the host
// itself). Lifetimes are capped at 400 days (RFC 6265bis). At most `max_per_domain` cookies are
// kept per domain and `max_total` overall; past that the oldest go first.
class CookieJar {
 public:
  using time_point = std::chrono::system_clock::time_point;

  explicit CookieJar(std::size_t max_per_domain = 50, std::size_t max_total = 3000)
      : max_per_domain_(max_per_domain), max_total_(max_total) {}

  // Stores (or, if already expired, deletes) the cookie of one Set-Cookie header received
  // from `request_url`. False if it was rejected: unparsable, a Domain the host is not in, a
  // Secure cookie from an insecure origin, or a URL without a host.
  bool update(const Url& request_url, std::string_view set_cookie_value, time_point now);

  // The Cookie header value for a request to `url` ("" if none): longer paths first, then
  // older cookies first. Secure cookies only go to https and wss.
  std::string header_for(const Url& url, time_point now) const;

  void clear() noexcept { cookies_.clear(); }
  std::size_t size() const noexcept { return cookies_.size(); }

 private:
  struct Cookie {
    std::string name;
    std::string value;
    std::string domain;
    std::string path;
    std::optional<time_point> expiry;  // nullopt: a session cookie
    time_point creation;
    std::uint64_t sequence;  // breaks ties between cookies created at the same instant
    bool host_only;
    bool secure;
  };

  void evict(const std::string& domain, time_point now);

  std::vector<Cookie> cookies_;
  std::uint64_t next_sequence_ = 0;
  std::size_t max_per_domain_;
  std::size_t max_total_;
};

}  // namespace eddy::http
