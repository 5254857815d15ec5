#include "eddy/http/url.hpp"

#include <algorithm>
#include <array>

namespace eddy::http {
namespace {

// Character classes of RFC 3986 §2, one bit each.
enum : std::uint8_t {
  kUnreserved = 1,  // ALPHA DIGIT - . _ ~
  kSubDelim = 2,    // ! $ & ' ( ) * + , ; =
  kHex = 4,
  kSchemeChar = 8,  // ALPHA DIGIT + - .
  kLenient = 16,    // printable, outside RFC 3986, harmless in path, query and fragment
};

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    const bool digit = c >= '0' && c <= '9';
    if (alpha || digit || c == '-' || c == '.' || c == '_' || c == '~') t[c] |= kUnreserved;
    if (std::string_view("!$&'()*+,;=").find(static_cast<char>(c)) != std::string_view::npos) {
      t[c] |= kSubDelim;
    }
    if (digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')) t[c] |= kHex;
    if (alpha || digit || c == '+' || c == '-' || c == '.') t[c] |= kSchemeChar;
    if (std::string_view("\"<>[]^`{|}").find(static_cast<char>(c)) != std::string_view::npos) {
      t[c] |= kLenient;
    }
  }
  return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

bool is(char c, std::uint8_t cls) {
  return kClasses[static_cast<unsigned char>(c)] & cls;
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}
char to_upper(char c) {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
}
int hex_value(char c) {
  if (c <= '9') return c - '0';
  return to_lower(c) - 'a' + 10;
}
constexpr char kHexDigits[] = "0123456789ABCDEF";

void append_escape(std::string& out, unsigned char c) {
  out += '%';
  out += kHexDigits[c >> 4];
  out += kHexDigits[c & 15];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = to_lower(c);
  return out;
}

// The input, quoted for an error message: cut at 200 bytes, unprintable bytes escaped so a
// hostile URL cannot forge log lines.
std::string quote(std::string_view s) {
  constexpr std::size_t kMaxQuoted = 200;
  std::string out = "\"";
  for (std::size_t i = 0; i < s.size() && i < kMaxQuoted; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += "\\x";
      out += kHexDigits[c >> 4];
      out += kHexDigits[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (s.size() > kMaxQuoted) out += "...";
  return out;
}

[[noreturn]] void fail(std::string_view input, const std::string& problem) {
  throw UrlError("invalid URL " + quote(input) + ": " + problem);
}

// What a component may contain besides unreserved characters and escapes.
enum class Part { userinfo, host, path, query, fragment };

bool allowed(char c, Part part) {
  if (is(c, kUnreserved | kSubDelim)) return true;
  switch (part) {
    case Part::host:
      return false;
    case Part::userinfo:
      return c == ':';
    case Part::path:
      return c == ':' || c == '@' || c == '/' || is(c, kLenient);
    case Part::query:
      return c == ':' || c == '@' || c == '/' || c == '?' || is(c, kLenient);
    case Part::fragment:
      return c == ':' || c == '@' || c == '/' || c == '?' || c == '#' || is(c, kLenient);
  }
  return false;
}

// Checks input[begin, end) as a `part`; offsets in messages are into the whole input.
void check(std::string_view input, std::size_t begin, std::size_t end, Part part) {
  for (std::size_t i = begin; i < end; ++i) {
    const char c = input[i];
    if (c == '%') {
      if (i + 2 >= end || !is(input[i + 1], kHex) || !is(input[i + 2], kHex)) {
        fail(input, "invalid percent-encoding at offset " + std::to_string(i));
      }
      i += 2;
    } else if (!allowed(c, part)) {
      fail(input, "character not allowed at offset " + std::to_string(i));
    }
  }
}

// dec-octet "." dec-octet "." dec-octet "." dec-octet, no leading zeros (RFC 3986 §3.2.2).
bool valid_ipv4(std::string_view s) {
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
    std::size_t n = 0;
    int value = 0;
    while (n < s.size() && n < 4 && is_digit(s[n])) value = value * 10 + (s[n++] - '0');
    if (n == 0 || n > 3 || value > 255 || (n > 1 && s[0] == '0')) return false;
    s.remove_prefix(n);
  }
  return s.empty();
}

// RFC 3986 IPv6address: eight h16 groups, one "::" standing for at least one zero group, and
// optionally an IPv4 address as the last two groups.
bool valid_ipv6(std::string_view s) {
  int groups = 0;
  bool compressed = false;
  std::size_t i = 0;
  if (s.starts_with("::")) {
    compressed = true;
    i = 2;
  }
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && is(s[j], kHex)) ++j;
    if (j < s.size() && s[j] == '.') {
      if (!valid_ipv4(s.substr(i))) return false;
      groups += 2;
      break;
    }
    if (j == i || j - i > 4) return false;
    ++groups;
    i = j;
    if (i == s.size()) break;
    if (s[i] != ':' || i + 1 == s.size()) return false;
    ++i;
    if (s[i] == ':') {
      if (compressed) return false;
      compressed = true;
      ++i;
    }
  }
  return compressed ? groups <= 7 : groups == 8;
}

void parse_authority(std::string_view in, std::size_t begin, std::size_t end,
                     std::optional<std::string>& userinfo, std::string& host,
                     std::optional<std::uint16_t>& port, bool& ipv6) {
  const std::size_t at = in.substr(begin, end - begin).rfind('@');
  if (at != std::string_view::npos) {
    check(in, begin, begin + at, Part::userinfo);
    userinfo = std::string(in.substr(begin, at));
    begin += at + 1;
  }
  std::size_t port_at = std::string_view::npos;  // of the ':' before the port
  if (begin < end && in[begin] == '[') {
    const std::size_t close = in.find(']', begin);
    if (close == std::string_view::npos || close >= end) fail(in, "unterminated IPv6 address");
    const std::string_view literal = in.substr(begin + 1, close - begin - 1);
    if (!literal.empty() && to_lower(literal[0]) == 'v') {
      fail(in, "IPvFuture addresses are not supported");
    }
    if (!valid_ipv6(literal)) fail(in, "invalid IPv6 address");
    if (close + 1 < end) {
      if (in[close + 1] != ':') fail(in, "unexpected character after IPv6 address");
      port_at = close + 1;
    }
    host = lower(literal);
    ipv6 = true;
  } else {
    const std::size_t colon = in.substr(begin, end - begin).find(':');
    const std::size_t host_end = colon == std::string_view::npos ? end : begin + colon;
    check(in, begin, host_end, Part::host);
    host = lower(in.substr(begin, host_end - begin));
    if (colon != std::string_view::npos) port_at = host_end;
  }
  if (port_at == std::string_view::npos) return;
  unsigned value = 0;
  for (std::size_t i = port_at + 1; i < end; ++i) {
    if (!is_digit(in[i])) fail(in, "invalid port");
    value = value * 10 + static_cast<unsigned>(in[i] - '0');
    if (value > 65535) fail(in, "port out of range");
  }
  if (port_at + 1 < end) port = static_cast<std::uint16_t>(value);  // "host:" has no port
}

std::uint16_t default_port(std::string_view scheme) {
  if (scheme == "http" || scheme == "ws") return 80;
  if (scheme == "https" || scheme == "wss") return 443;
  return 0;
}

bool is_special(std::string_view scheme) {
  return default_port(scheme) != 0;
}

// RFC 3986 §5.2.4.
std::string remove_dot_segments(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  auto pop_segment = [&out] {
    const std::size_t slash = out.rfind('/');
    out.erase(slash == std::string::npos ? 0 : slash);
  };
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.remove_prefix(3);
    } else if (in.starts_with("./")) {
      in.remove_prefix(2);
    } else if (in.starts_with("/./")) {
      in.remove_prefix(2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../")) {
      in.remove_prefix(3);
      pop_segment();
    } else if (in == "/..") {
      in = "/";
      pop_segment();
    } else if (in == "." || in == "..") {
      in = {};
    } else {
      const std::size_t next = in.find('/', in[0] == '/' ? 1 : 0);
      const std::size_t n = next == std::string_view::npos ? in.size() : next;
      out.append(in.substr(0, n));
      in.remove_prefix(n);
    }
  }
  return out;
}

// Without an authority, a path starting "//" would read back as one; "/." keeps it a path
// (the WHATWG URL standard's fix for the same hole in RFC 3986).
void protect_path(std::string& path, bool has_authority) {
  if (!has_authority && path.starts_with("//")) path.insert(0, "/.");
}

// §6.2.2.1-2: uppercase escapes, decode unreserved ones, and encode what RFC 3986 leaves out.
std::string normalize_escapes(std::string_view s, bool lowercase) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%' && i + 2 < s.size()) {  // escapes were checked by parse()
      const auto v = static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      if (is(v, kUnreserved)) {
        out += lowercase ? to_lower(v) : v;
      } else {
        out += '%';
        out += to_upper(s[i + 1]);
        out += to_upper(s[i + 2]);
      }
      i += 2;
    } else if (is(c, kLenient) || c == '#') {
      append_escape(out, static_cast<unsigned char>(c));
    } else {
      out += lowercase ? to_lower(c) : c;
    }
  }
  return out;
}

std::string decode_form(std::string_view s) {
  if (s.find_first_of("%+") == std::string_view::npos) return std::string(s);
  return percent_decode(s, true);
}

}  // namespace

std::string percent_encode(std::string_view s, std::string_view keep) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is(c, kUnreserved) || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      append_escape(out, static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (c == '%') {
      if (i + 2 >= s.size() || !is(s[i + 1], kHex) || !is(s[i + 2], kHex)) {
        throw UrlError("invalid percent-encoding at offset " + std::to_string(i) + " in " +
                       quote(s));
      }
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += plus_is_space && c == '+' ? ' ' : c;
    }
  }
  return out;
}

std::string encode_path_segment(std::string_view s) {
  return percent_encode(s, "!$&'()*+,;=:@");
}

std::string encode_query_component(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (is(c, kUnreserved)) {
      out += c;
    } else if (c == ' ') {
      out += '+';
    } else {
      append_escape(out, static_cast<unsigned char>(c));
    }
  }
  return out;
}

// ---- QueryParams ------------------------------------------------------------------------

QueryParams QueryParams::parse(std::string_view raw, std::size_t max_pairs) {
  QueryParams q;
  const auto separators = static_cast<std::size_t>(std::count(raw.begin(), raw.end(), '&'));
  q.pairs_.reserve(std::min(separators + 1, max_pairs));
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw.remove_prefix(amp == std::string_view::npos ? raw.size() : amp + 1);
    if (pair.empty()) continue;
    if (q.pairs_.size() == max_pairs) {
      throw UrlError("more than " + std::to_string(max_pairs) + " query parameters");
    }
    const std::size_t eq = pair.find('=');
    q.pairs_.emplace_back(decode_form(pair.substr(0, eq)), eq == std::string_view::npos
                                                               ? std::string()
                                                               : decode_form(pair.substr(eq + 1)));
  }
  return q;
}

std::optional<std::string_view> QueryParams::get(std::string_view name) const {
  for (const auto& [n, v] : pairs_) {
    if (n == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryParams::get_all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [n, v] : pairs_) {
    if (n == name) out.emplace_back(v);
  }
  return out;
}

bool QueryParams::contains(std::string_view name) const {
  return get(name).has_value();
}

QueryParams& QueryParams::add(std::string_view name, std::string_view value) {
  pairs_.emplace_back(name, value);
  return *this;
}

QueryParams& QueryParams::set(std::string_view name, std::string_view value) {
  auto first = std::find_if(pairs_.begin(), pairs_.end(), [&](auto& p) { return p.first == name; });
  if (first == pairs_.end()) return add(name, value);
  first->second = value;
  pairs_.erase(std::remove_if(first + 1, pairs_.end(), [&](auto& p) { return p.first == name; }),
               pairs_.end());
  return *this;
}

QueryParams& QueryParams::remove(std::string_view name) {
  std::erase_if(pairs_, [&](auto& p) { return p.first == name; });
  return *this;
}

std::string QueryParams::str() const {
  std::string out;
  for (const auto& [name, value] : pairs_) {
    if (!out.empty()) out += '&';
    out += encode_query_component(name);
    out += '=';
    out += encode_query_component(value);
  }
  return out;
}

// ---- Url --------------------------------------------------------------------------------

Url Url::parse(std::string_view in, std::size_t max_length) {
  if (in.size() > max_length) {
    fail(in, "longer than " + std::to_string(max_length) + " bytes");
  }
  // Bytes never valid anywhere get one clear message before structure is looked at.
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c <= 0x20 || c >= 0x7F || c == '\\') {
      fail(in, "invalid character at offset " + std::to_string(i));
    }
  }
  Url u;
  std::size_t pos = 0;
  const std::size_t delim = in.find_first_of(":/?#");
  if (delim != std::string_view::npos && in[delim] == ':') {
    // Without a valid scheme this is no URI, and as a relative reference its first segment
    // could not contain ':' (RFC 3986 §4.2).
    const std::string_view scheme = in.substr(0, delim);
    if (scheme.empty() || !is_alpha(scheme[0]) ||
        !std::all_of(scheme.begin(), scheme.end(), [](char c) { return is(c, kSchemeChar); })) {
      fail(in, "invalid scheme");
    }
    u.scheme_ = lower(scheme);
    pos = delim + 1;
  }
  if (in.substr(pos).starts_with("//")) {
    pos += 2;
    std::size_t end = in.find_first_of("/?#", pos);
    if (end == std::string_view::npos) end = in.size();
    parse_authority(in, pos, end, u.userinfo_, u.host_, u.port_, u.ipv6_);
    u.has_authority_ = true;
    if (u.host_.empty() && is_special(u.scheme_)) fail(in, "empty host");
    pos = end;
  }
  std::size_t end = in.find_first_of("?#", pos);
  if (end == std::string_view::npos) end = in.size();
  check(in, pos, end, Part::path);
  u.path_ = in.substr(pos, end - pos);
  pos = end;
  if (pos < in.size() && in[pos] == '?') {
    end = in.find('#', ++pos);
    if (end == std::string_view::npos) end = in.size();
    check(in, pos, end, Part::query);
    u.query_ = in.substr(pos, end - pos);
    pos = end;
  }
  if (pos < in.size()) {  // at '#'
    check(in, pos + 1, in.size(), Part::fragment);
    u.fragment_ = in.substr(pos + 1);
  }
  return u;
}

std::string_view Url::user() const noexcept {
  if (!userinfo_) return {};
  return std::string_view(*userinfo_).substr(0, userinfo_->find(':'));
}

std::string_view Url::password() const noexcept {
  if (!userinfo_) return {};
  const std::size_t colon = userinfo_->find(':');
  return colon == std::string::npos ? std::string_view()
                                    : std::string_view(*userinfo_).substr(colon + 1);
}

std::uint16_t Url::effective_port() const noexcept {
  return port_ ? *port_ : default_port(scheme_);
}

std::string Url::authority() const {
  std::string out;
  if (ipv6_) {
    out = "[" + host_ + "]";
  } else {
    out = host_;
  }
  if (port_) out += ":" + std::to_string(*port_);
  return out;
}

std::string Url::target() const {
  std::string out = path_.empty() ? "/" : path_;
  if (query_) out += "?" + *query_;
  return out;
}

QueryParams Url::query_params() const {
  return query_ ? QueryParams::parse(*query_) : QueryParams();
}

std::string Url::str() const {
  std::string out;
  if (!scheme_.empty()) out += scheme_ + ":";
  if (has_authority_) {
    out += "//";
    if (userinfo_) out += *userinfo_ + "@";
    out += authority();
  }
  out += path_;
  if (query_) out += "?" + *query_;
  if (fragment_) out += "#" + *fragment_;
  return out;
}

Url Url::join(std::string_view reference) const {
  if (!is_absolute())
    throw UrlError("cannot resolve " + quote(reference) + " against the relative URL " +
                   quote(str()));
  Url r = parse(reference);
  Url t;
  if (r.is_absolute()) {
    t = std::move(r);
    t.path_ = remove_dot_segments(t.path_);
  } else {
    if (r.has_authority_) {
      t = std::move(r);
      t.path_ = remove_dot_segments(t.path_);
    } else {
      t.fragment_ = std::move(r.fragment_);
      if (r.path_.empty()) {
        t.path_ = path_;
        t.query_ = r.query_ ? std::move(r.query_) : query_;
      } else {
        if (r.path_[0] == '/') {
          t.path_ = remove_dot_segments(r.path_);
        } else if (has_authority_ && path_.empty()) {  // §5.2.3 merge
          t.path_ = remove_dot_segments("/" + r.path_);
        } else {
          const std::size_t slash = path_.rfind('/');
          const std::string merged =
              (slash == std::string::npos ? std::string() : path_.substr(0, slash + 1)) + r.path_;
          t.path_ = remove_dot_segments(merged);
        }
        t.query_ = std::move(r.query_);
      }
      t.userinfo_ = userinfo_;
      t.host_ = host_;
      t.port_ = port_;
      t.ipv6_ = ipv6_;
      t.has_authority_ = has_authority_;
    }
    t.scheme_ = scheme_;
  }
  // "///x" against an http base: RFC 3986 gives an empty host, which parse() refuses too.
  if (t.has_authority_ && t.host_.empty() && is_special(t.scheme_)) {
    throw UrlError("resolving " + quote(reference) + " against " + quote(str()) +
                   " gives an empty host");
  }
  protect_path(t.path_, t.has_authority_);
  return t;
}

Url Url::normalized() const {
  Url n = *this;
  if (userinfo_) n.userinfo_ = normalize_escapes(*userinfo_, false);
  n.host_ = normalize_escapes(host_, true);
  n.path_ = normalize_escapes(path_, false);
  if (is_absolute() || n.path_.starts_with('/')) n.path_ = remove_dot_segments(n.path_);
  protect_path(n.path_, has_authority_);
  if (n.path_.empty() && has_authority_ && is_special(scheme_)) n.path_ = "/";
  if (query_) n.query_ = normalize_escapes(*query_, false);
  if (fragment_) n.fragment_ = normalize_escapes(*fragment_, false);
  if (port_ && *port_ == default_port(scheme_)) n.port_.reset();
  return n;
}

Url Url::with_path(std::string_view path) const {
  check(path, 0, path.size(), Part::path);
  if (has_authority_ && !path.empty() && path[0] != '/') {
    fail(path, "a path after a host must start with '/'");
  }
  if (!has_authority_ && path.starts_with("//"))
    fail(path, "a path without a host cannot start with '//'");
  if (!has_authority_ && scheme_.empty() &&
      path.substr(0, path.find('/')).find(':') != std::string_view::npos) {
    fail(path, "the first segment of a relative path cannot contain ':'");
  }
  Url u = *this;
  u.path_ = path;
  return u;
}

Url Url::with_query(const QueryParams& params) const {
  Url u = *this;
  if (params.empty()) {
    u.query_.reset();
  } else {
    u.query_ = params.str();
  }
  return u;
}

Url Url::with_fragment(std::optional<std::string_view> fragment) const {
  Url u = *this;
  if (fragment) {
    check(*fragment, 0, fragment->size(), Part::fragment);
    u.fragment_ = std::string(*fragment);
  } else {
    u.fragment_.reset();
  }
  return u;
}

}  // namespace eddy::http
