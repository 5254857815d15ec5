// URLs (RFC 3986): parsing, reference resolution, normalisation, percent-encoding and
// query strings.
//
//   auto u = http::Url::parse("https://user@Example.com:8443/a/b?x=1&y=two#top");
//   u.host();            // "example.com"
//   u.effective_port();  // 8443
//   u.target();          // "/a/b?x=1&y=two", what goes on the request line
//   u.join("../c?z");    // https://user@example.com:8443/c?z
//   u.query_params().get("y");                        // "two"
//   u.with_query(http::QueryParams{}.add("q", "a b"))  // ...?q=a+b
//
// Components are kept as they appeared (still percent-encoded), except that scheme and host
// are lowercased; decode them with percent_decode where a decoded form is wanted. Input must
// be ASCII with no spaces or control characters: callers percent-encode first. In the path,
// query and fragment, the printable characters RFC 3986 leaves out but that appear in real
// requests (" < > [ ] ^ ` { | } and, in a fragment, #) are accepted; normalized() encodes
// them. A backslash is always refused, because browsers read it as '/'.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/error.hpp"

namespace eddy::http {

// Invalid URL, percent-encoding or query string. The message names the problem and quotes
// the input (truncated, with control and non-ASCII bytes escaped).
class UrlError : public Error {
 public:
  using Error::Error;
};

// Encodes every byte except the unreserved ones (ALPHA DIGIT - . _ ~) and those in `keep`.
std::string percent_encode(std::string_view s, std::string_view keep = "");
// Decodes %XX escapes (and '+' to space if asked); throws UrlError on a malformed escape.
std::string percent_decode(std::string_view s, bool plus_is_space = false);
// One path segment: '/' and '?' are encoded, the sub-delimiters and ':' '@' are kept.
std::string encode_path_segment(std::string_view s);
// A form-encoded (application/x-www-form-urlencoded) name or value: space becomes '+'.
std::string encode_query_component(std::string_view s);

// Decoded query parameters in order, names may repeat (a multimap).
class QueryParams {
 public:
  using value_type = std::pair<std::string, std::string>;
  using const_iterator = std::vector<value_type>::const_iterator;
  static constexpr std::size_t kDefaultMaxPairs = 1000;

  QueryParams() = default;

  // Form-urlencoded rules: '&'-separated, '+' is a space, a pair without '=' has an empty
  // value, empty pairs are skipped. UrlError on a bad escape or more than `max_pairs` pairs.
  static QueryParams parse(std::string_view raw, std::size_t max_pairs = kDefaultMaxPairs);

  std::optional<std::string_view> get(std::string_view name) const;  // the first
  std::vector<std::string_view> get_all(std::string_view name) const;
  bool contains(std::string_view name) const;

  QueryParams& add(std::string_view name, std::string_view value);
  // Replaces every `name` with one pair, where the first one was (or at the end).
  QueryParams& set(std::string_view name, std::string_view value);
  QueryParams& remove(std::string_view name);

  std::size_t size() const noexcept { return pairs_.size(); }
  bool empty() const noexcept { return pairs_.empty(); }
  const_iterator begin() const noexcept { return pairs_.begin(); }
  const_iterator end() const noexcept { return pairs_.end(); }

  std::string str() const;  // form-encoded, without the leading '?'

  friend bool operator==(const QueryParams&, const QueryParams&) = default;

 private:
  std::vector<value_type> pairs_;
};

class Url {
 public:
  static constexpr std::size_t kDefaultMaxLength = 64 * 1024;

  Url() = default;  // the empty relative reference

  // An absolute URL or a relative reference ("//host/p", "/p?q", "p", "?q", "#f", "").
  // UrlError for anything else, or for input longer than `max_length`.
  static Url parse(std::string_view input, std::size_t max_length = kDefaultMaxLength);

  const std::string& scheme() const noexcept { return scheme_; }  // "" if relative
  bool is_absolute() const noexcept { return !scheme_.empty(); }
  bool has_authority() const noexcept { return has_authority_; }
  std::string_view user() const noexcept;      // raw userinfo before the first ':'
  std::string_view password() const noexcept;  // raw userinfo after it
  // Lowercased; an IPv6 literal without its brackets. Empty for "mailto:x" and "file:///p".
  const std::string& host() const noexcept { return host_; }
  bool is_ipv6() const noexcept { return ipv6_; }
  std::optional<std::uint16_t> port() const noexcept { return port_; }
  // The explicit port, else the scheme's (http/ws 80, https/wss 443), else 0.
  std::uint16_t effective_port() const noexcept;
  const std::string& path() const noexcept { return path_; }
  const std::optional<std::string>& query() const noexcept { return query_; }  // without '?'
  const std::optional<std::string>& fragment() const noexcept { return fragment_; }

  // host[:port], IPv6 in brackets: the Host header. Unlike RFC 3986's authority it leaves out
  // the userinfo, which must never be sent in the clear.
  std::string authority() const;
  // The origin-form request target: the path ("/" if empty) and "?query".
  std::string target() const;
  QueryParams query_params() const;
  std::string str() const;

  // RFC 3986 §5.2 (strict): resolves `reference` against this URL, which must be absolute.
  // UrlError for a relative base, an invalid reference, or an http(s)/ws(s) result whose host
  // is empty ("///x"), which parse() would refuse as well.
  Url join(std::string_view reference) const;
  // Lowercase scheme and host, no default port, no dot segments (for absolute paths), every
  // escape uppercase and unreserved characters decoded, "/" for an empty http(s)/ws(s) path.
  Url normalized() const;

  // Copies with one part replaced. Path and fragment are raw (already encoded) and checked
  // as parse() would; an empty QueryParams removes the query, nullopt the fragment.
  Url with_path(std::string_view path) const;
  Url with_query(const QueryParams& params) const;
  Url with_fragment(std::optional<std::string_view> fragment) const;

  friend bool operator==(const Url&, const Url&) = default;

 private:
  std::string scheme_;
  std::optional<std::string> userinfo_;
  std::string host_;
  std::string path_;
  std::optional<std::string> query_;
  std::optional<std::string> fragment_;
  std::optional<std::uint16_t> port_;
  bool has_authority_ = false;
  bool ipv6_ = false;
};

}  // namespace eddy::http
