#include "eddy/http/cookies.hpp"

#include <algorithm>

#include "eddy/http/date.hpp"

namespace eddy::http {
namespace {

using Clock = std::chrono::system_clock;

constexpr std::size_t kMaxNameValue = 4096;  // RFC 6265bis §5.6 steps 6-7
constexpr std::size_t kMaxAttributeValue = 1024;
constexpr std::chrono::seconds kMaxLifetime = std::chrono::days{400};

bool is_ws(char c) {
  return c == ' ' || c == '\t';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ws(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ws(s.back())) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return to_lower(x) == to_lower(y);
         });
}

// Control characters other than HTAB (RFC 6265bis §5.6 step 2).
bool has_ctl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && u != '\t') || u == 0x7F;
  });
}

bool is_token(std::string_view s) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

bool is_cookie_octet(char c) {
  const auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

bool valid_cookie_value(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    v = v.substr(1, v.size() - 2);
    return std::all_of(v.begin(), v.end(), [](char c) { return c == ' ' || is_cookie_octet(c); });
  }
  return std::all_of(v.begin(), v.end(), is_cookie_octet);
}

// Max-Age: an optional '-' and digits (RFC 6265 §5.2.2), saturated far beyond any real use.
std::optional<std::chrono::seconds> parse_max_age(std::string_view v) {
  const bool negative = !v.empty() && v[0] == '-';
  if (negative) v.remove_prefix(1);
  if (v.empty()) return std::nullopt;
  constexpr std::int64_t kLimit = std::int64_t{1} << 40;
  std::int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = std::min(kLimit, n * 10 + (c - '0'));
  }
  return std::chrono::seconds{negative ? -n : n};
}

// RFC 6265 §5.1.3. An IP address only ever matches itself.
bool domain_match(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  if (host.size() <= domain.size() || !host.ends_with(domain) ||
      host[host.size() - domain.size() - 1] != '.') {
    return false;
  }
  const std::string_view last_label = host.substr(host.rfind('.') + 1);
  const bool ip = host.find(':') != std::string_view::npos ||
                  std::all_of(last_label.begin(), last_label.end(),
                              [](char c) { return c >= '0' && c <= '9'; });
  return !ip;
}

// RFC 6265 §5.1.4.
bool path_match(std::string_view request_path, std::string_view cookie_path) {
  if (request_path == cookie_path) return true;
  return request_path.starts_with(cookie_path) &&
         (cookie_path.back() == '/' || request_path[cookie_path.size()] == '/');
}

std::string default_path(std::string_view uri_path) {
  if (uri_path.empty() || uri_path[0] != '/') return "/";
  const std::size_t last = uri_path.rfind('/');
  return last == 0 ? "/" : std::string(uri_path.substr(0, last));
}

bool is_secure_scheme(std::string_view scheme) {
  return scheme == "https" || scheme == "wss";
}

Clock::time_point add_capped(Clock::time_point now, std::chrono::seconds lifetime) {
  lifetime = std::min(lifetime, kMaxLifetime);
  if (now > Clock::time_point::max() - lifetime) return Clock::time_point::max();
  return now + lifetime;
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(
    std::string_view header, std::size_t max_pairs) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  const auto pieces = static_cast<std::size_t>(std::count(header.begin(), header.end(), ';')) + 1;
  out.reserve(std::min(pieces, max_pairs));
  while (!header.empty() && out.size() < max_pairs) {
    const std::size_t semi = header.find(';');
    const std::string_view piece = header.substr(0, semi);
    header.remove_prefix(semi == std::string_view::npos ? header.size() : semi + 1);
    const std::size_t eq = piece.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view name = trim(piece.substr(0, eq));
    std::string_view value = trim(piece.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!is_token(name) || has_ctl(value)) continue;
    out.emplace_back(name, value);
  }
  return out;
}

SetCookie SetCookie::parse(std::string_view header_value) {
  const std::size_t semi = header_value.find(';');
  const std::string_view pair = header_value.substr(0, semi);
  std::string_view attributes =
      semi == std::string_view::npos ? std::string_view() : header_value.substr(semi + 1);
  const std::size_t eq = pair.find('=');
  if (eq == std::string_view::npos) throw CookieError("Set-Cookie without '=': no cookie");
  SetCookie c;
  const std::string_view name = trim(pair.substr(0, eq));
  const std::string_view value = trim(pair.substr(eq + 1));
  if (name.empty()) throw CookieError("Set-Cookie with an empty name");
  if (has_ctl(name) || has_ctl(value)) throw CookieError("Set-Cookie with control characters");
  if (name.size() + value.size() > kMaxNameValue) throw CookieError("Set-Cookie over 4096 bytes");
  c.name = name;
  c.value = value;

  while (!attributes.empty()) {
    const std::size_t next = attributes.find(';');
    const std::string_view av = attributes.substr(0, next);
    attributes.remove_prefix(next == std::string_view::npos ? attributes.size() : next + 1);
    const std::size_t av_eq = av.find('=');
    const std::string_view key = trim(av.substr(0, av_eq));
    const std::string_view val =
        av_eq == std::string_view::npos ? std::string_view() : trim(av.substr(av_eq + 1));
    if (val.size() > kMaxAttributeValue) continue;
    if (iequals(key, "Expires")) {
      if (auto t = parse_cookie_date(val)) c.expires = t;
    } else if (iequals(key, "Max-Age")) {
      if (auto age = parse_max_age(val)) c.max_age = age;
    } else if (iequals(key, "Domain")) {
      if (val.empty()) continue;  // RFC 6265bis §5.6.3: ignore
      std::string domain(val.starts_with('.') ? val.substr(1) : val);
      for (char& ch : domain) ch = to_lower(ch);
      c.domain = std::move(domain);
    } else if (iequals(key, "Path")) {
      // An invalid Path still overrides an earlier one: with the default path (§5.2.4).
      c.path = val.starts_with('/') ? std::optional<std::string>(val) : std::nullopt;
    } else if (iequals(key, "Secure")) {
      c.secure = true;
    } else if (iequals(key, "HttpOnly")) {
      c.http_only = true;
    } else if (iequals(key, "SameSite")) {
      c.same_site = iequals(val, "Strict") ? SameSite::strict
                    : iequals(val, "Lax")  ? SameSite::lax
                    : iequals(val, "None") ? SameSite::none
                                           : SameSite::unset;
    }
  }
  return c;
}

std::string SetCookie::str() const {
  if (!is_token(name)) throw CookieError("cookie name is not a token");
  if (!valid_cookie_value(value))
    throw CookieError("invalid character in the value of cookie " + name);
  std::string out = name + "=" + value;
  if (expires) out += "; Expires=" + format_http_date(*expires);
  if (max_age) out += "; Max-Age=" + std::to_string(max_age->count());
  if (domain) {
    const bool ok = !domain->empty() && std::all_of(domain->begin(), domain->end(), [](char ch) {
      return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
             ch == '-' || ch == '.' || ch == '_';
    });
    if (!ok) throw CookieError("invalid Domain for cookie " + name);
    out += "; Domain=" + *domain;
  }
  if (path) {
    const bool ok = std::all_of(path->begin(), path->end(), [](char ch) {
      const auto u = static_cast<unsigned char>(ch);
      return u >= 0x20 && u < 0x7F && ch != ';';
    });
    if (!ok) throw CookieError("invalid Path for cookie " + name);
    out += "; Path=" + *path;
  }
  if (secure) out += "; Secure";
  if (http_only) out += "; HttpOnly";
  switch (same_site) {
    case SameSite::unset:
      break;
    case SameSite::strict:
      out += "; SameSite=Strict";
      break;
    case SameSite::lax:
      out += "; SameSite=Lax";
      break;
    case SameSite::none:
      out += "; SameSite=None";
      break;
  }
  return out;
}

bool CookieJar::update(const Url& request_url, std::string_view set_cookie_value, time_point now) {
  const std::string& host = request_url.host();
  if (host.empty()) return false;
  SetCookie sc;
  try {
    sc = SetCookie::parse(set_cookie_value);
  } catch (const CookieError&) {
    return false;
  }
  const bool secure_origin = is_secure_scheme(request_url.scheme());
  if (sc.secure && !secure_origin) return false;  // RFC 6265bis §5.7 step 8

  Cookie c{std::move(sc.name), std::move(sc.value), {}, {}, {}, now, 0, true, sc.secure};
  if (sc.max_age) {
    c.expiry = *sc.max_age <= std::chrono::seconds::zero() ? time_point::min()
                                                           : add_capped(now, *sc.max_age);
  } else if (sc.expires) {
    c.expiry = std::min(*sc.expires, add_capped(now, kMaxLifetime));
  }

  std::string domain = sc.domain.value_or("");
  // Without a public suffix list, a single label stands in for one: "com" must not let one
  // site set cookies for all others. It is fine as the host itself (§5.3 step 5).
  if (!domain.empty() && domain.find('.') == std::string::npos) {
    if (domain != host) return false;
    domain.clear();
  }
  if (domain.empty()) {
    c.domain = host;
  } else {
    if (!domain_match(host, domain)) return false;
    c.domain = std::move(domain);
    c.host_only = false;
  }
  c.path = sc.path ? std::move(*sc.path) : default_path(request_url.path());

  // RFC 6265bis §5.7 step 16: an insecure origin may not shadow a Secure cookie.
  if (!c.secure && !secure_origin) {
    for (const Cookie& old : cookies_) {
      if (old.secure && old.name == c.name &&
          (domain_match(c.domain, old.domain) || domain_match(old.domain, c.domain)) &&
          path_match(c.path, old.path)) {
        return false;
      }
    }
  }

  auto old = std::find_if(cookies_.begin(), cookies_.end(), [&](const Cookie& o) {
    return o.name == c.name && o.domain == c.domain && o.path == c.path;
  });
  if (old != cookies_.end()) {
    c.creation = old->creation;
    c.sequence = old->sequence;
    cookies_.erase(old);
  } else {
    c.sequence = next_sequence_++;
  }
  if (c.expiry && *c.expiry <= now) return true;  // that was a deletion
  std::string stored_domain = c.domain;
  cookies_.push_back(std::move(c));
  evict(stored_domain, now);
  return true;
}

void CookieJar::evict(const std::string& domain, time_point now) {
  std::erase_if(cookies_, [&](const Cookie& c) { return c.expiry && *c.expiry <= now; });
  auto remove_oldest = [this](auto&& pred) {
    auto oldest = cookies_.end();
    for (auto it = cookies_.begin(); it != cookies_.end(); ++it) {
      if (pred(*it) && (oldest == cookies_.end() || it->sequence < oldest->sequence)) oldest = it;
    }
    cookies_.erase(oldest);
  };
  auto in_domain = [&](const Cookie& c) { return c.domain == domain; };
  while (static_cast<std::size_t>(std::count_if(cookies_.begin(), cookies_.end(), in_domain)) >
         max_per_domain_) {
    remove_oldest(in_domain);
  }
  while (cookies_.size() > max_total_) remove_oldest([](const Cookie&) { return true; });
}

std::string CookieJar::header_for(const Url& url, time_point now) const {
  const std::string& host = url.host();
  if (host.empty()) return {};
  const bool secure = is_secure_scheme(url.scheme());
  const std::string_view path = url.path().empty() ? std::string_view("/") : url.path();
  std::vector<const Cookie*> matches;
  for (const Cookie& c : cookies_) {
    if (c.expiry && *c.expiry <= now) continue;
    if (c.host_only ? host != c.domain : !domain_match(host, c.domain)) continue;
    if (!path_match(path, c.path) || (c.secure && !secure)) continue;
    matches.push_back(&c);
  }
  std::sort(matches.begin(), matches.end(), [](const Cookie* a, const Cookie* b) {
    if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
    if (a->creation != b->creation) return a->creation < b->creation;
    return a->sequence < b->sequence;
  });
  std::string out;
  for (const Cookie* c : matches) {
    if (!out.empty()) out += "; ";
    out += c->name;
    out += '=';
    out += c->value;
  }
  return out;
}

}  // namespace eddy::http
