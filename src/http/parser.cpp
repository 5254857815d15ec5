// The strict HTTP/1.1 head parser and body decoder (see eddy/http/parser.hpp for the rules).
//
// A head is parsed in two passes: find_end() walks the lines as bytes arrive (rejecting bare
// LFs and enforcing the size limits early, so an attacker cannot make us buffer more than
// max_head_bytes), and once the blank line is in, one pass validates and indexes every field
// of the copy the Headers owns.
#include "eddy/http/parser.hpp"

#include <array>
#include <cstring>
#include <string>

#include "eddy/http/error.hpp"

namespace eddy::http {
namespace {

enum : std::uint8_t { kTchar = 1, kFieldChar = 2, kTargetChar = 4, kHex = 8 };

constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0x21; c <= 0x7e; ++c) t[c] |= kFieldChar | kTargetChar;
  for (int c = 0x80; c <= 0xff; ++c) t[c] |= kFieldChar;  // obs-text
  t[' '] |= kFieldChar;
  t['\t'] |= kFieldChar;
  for (int c = '0'; c <= '9'; ++c) t[c] |= kTchar | kHex;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kTchar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kTchar;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] |= kTchar;
  return t;
}
constexpr auto kTable = make_table();

inline bool is(char c, std::uint8_t cls) {
  return kTable[static_cast<unsigned char>(c)] & cls;
}
inline bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

[[noreturn]] void fail(int status, const char* what) {
  throw ProtocolError(status, std::string("invalid HTTP message: ") + what);
}

const char* skip_token(const char* p, const char* end) {
  while (p < end && is(*p, kTchar)) ++p;
  return p;
}

// One "name: value" line [p, end) (end at its CR). Returns the name's end and the trimmed
// value's bounds through the out-parameters.
void split_field(const char* p, const char* end, const char*& name_end, const char*& value,
                 const char*& value_end) {
  if (is_ows(*p)) fail(400, "obs-fold (a field line starting with whitespace)");
  const char* n = skip_token(p, end);
  if (n == p || n == end || *n != ':') {
    if (n != p && n != end && is_ows(*n))
      fail(400, "whitespace between a field name and its colon");
    fail(400, n == p ? "empty or non-token field name" : "non-token character in a field name");
  }
  const char* v = n + 1;
  while (v < end && is_ows(*v)) ++v;
  const char* ve = end;
  while (ve > v && is_ows(ve[-1])) --ve;
  for (const char* c = v; c < ve; ++c)
    if (!is(*c, kFieldChar)) fail(400, "control character in a field value");
  name_end = n;
  value = v;
  value_end = ve;
}

// Parses a Content-Length value ("42", or a list of equal values "42, 42") into `len`;
// `seen` says whether an earlier field gave one, which this one must then equal.
void content_length(std::string_view v, std::uint64_t& len, bool& seen) {
  std::size_t i = 0;
  for (;;) {
    std::size_t start = i;
    std::uint64_t n = 0;
    while (i < v.size() && v[i] >= '0' && v[i] <= '9') {
      if (n > (UINT64_MAX - 9) / 10) fail(400, "Content-Length overflows");
      n = n * 10 + static_cast<unsigned>(v[i] - '0');
      ++i;
    }
    if (i == start) fail(400, "Content-Length is not a number");
    if (seen && n != len) fail(400, "differing Content-Length values");
    len = n;
    seen = true;
    while (i < v.size() && is_ows(v[i])) ++i;
    if (i == v.size()) return;
    if (v[i] != ',') fail(400, "Content-Length is not a number");
    ++i;
    while (i < v.size() && is_ows(v[i])) ++i;
  }
}

// Folds one Transfer-Encoding field into what the earlier ones said: whether the codings end
// in chunked, and whether anything else (or chunked twice) was there.
void transfer_encoding(std::string_view v, bool& last_chunked, bool& other) {
  std::size_t i = 0;
  while (i <= v.size()) {
    std::size_t comma = v.find(',', i);
    if (comma == std::string_view::npos) comma = v.size();
    std::string_view item = v.substr(i, comma - i);
    while (!item.empty() && is_ows(item.front())) item.remove_prefix(1);
    while (!item.empty() && is_ows(item.back())) item.remove_suffix(1);
    if (!item.empty()) {                  // empty list elements are allowed (RFC 9110 §5.6.1)
      std::size_t semi = item.find(';');  // coding parameters
      std::string_view coding = item.substr(0, semi);
      while (!coding.empty() && is_ows(coding.back())) coding.remove_suffix(1);
      if (coding.empty() ||
          skip_token(coding.data(), coding.data() + coding.size()) != coding.data() + coding.size())
        fail(400, "malformed Transfer-Encoding");
      if (iequals(coding, "chunked")) {
        if (last_chunked || semi != std::string_view::npos) other = true;  // chunked twice
        last_chunked = true;
      } else {
        if (last_chunked) other = true;  // a coding after chunked
        last_chunked = false;
        other = true;
      }
    }
    i = comma + 1;
  }
}

// What the fields say about framing and the connection, gathered in one pass.
struct Framing {
  bool cl_seen = false, te_seen = false, te_chunked = false, te_other = false;
  bool conn_close = false, conn_keep_alive = false, conn_upgrade = false, upgrade_field = false;
  int hosts = 0;
  bool expect_continue = false, expect_other = false;
  std::uint64_t length = 0;
};

// Dispatches on length and first letter so most fields cost two compares.
void note_field(std::string_view name, std::string_view value, Framing& f) {
  switch (name.size()) {
    case 4:
      if (iequals(name, "host")) ++f.hosts;
      break;
    case 6:
      if (iequals(name, "expect")) {
        if (iequals(value, "100-continue"))
          f.expect_continue = true;
        else
          f.expect_other = true;
      }
      break;
    case 7:
      if (iequals(name, "upgrade")) f.upgrade_field = true;
      break;
    case 10:
      if (iequals(name, "connection")) {
        if (has_token(value, "close")) f.conn_close = true;
        if (has_token(value, "keep-alive")) f.conn_keep_alive = true;
        if (has_token(value, "upgrade")) f.conn_upgrade = true;
      }
      break;
    case 14:
      if (iequals(name, "content-length")) content_length(value, f.length, f.cl_seen);
      break;
    case 17:
      if (iequals(name, "transfer-encoding")) {
        f.te_seen = true;
        transfer_encoding(value, f.te_chunked, f.te_other);
      }
      break;
    default:
      break;
  }
}

// Indexes the field lines of `h.raw()` from `pos` to the blank line, checking each.
Framing index_fields(Headers& h, std::size_t pos) {
  Framing f;
  const std::string& raw = h.raw();
  const char* base = raw.data();
  for (;;) {
    const char* ls = base + pos;
    const char* nl = static_cast<const char*>(std::memchr(ls, '\n', raw.size() - pos));
    const char* le = nl - 1;  // find_end() saw every LF preceded by CR
    if (le == ls) break;      // the blank line
    const char *name_end, *value, *value_end;
    split_field(ls, le, name_end, value, value_end);
    h.add_parsed({static_cast<std::uint32_t>(ls - base), static_cast<std::uint32_t>(name_end - ls),
                  static_cast<std::uint32_t>(value - base),
                  static_cast<std::uint32_t>(value_end - value)});
    note_field({ls, static_cast<std::size_t>(name_end - ls)},
               {value, static_cast<std::size_t>(value_end - value)}, f);
    pos = static_cast<std::size_t>(nl + 1 - base);
  }
  return f;
}

// "HTTP/1.1" at p (8 bytes known present): the minor version, or a failure.
int parse_version(const char* p) {
  if (std::memcmp(p, "HTTP/", 5) != 0 || !is(p[5], kHex) || p[5] > '9' || p[6] != '.' ||
      !is(p[7], kHex) || p[7] > '9')
    fail(400, "malformed HTTP version");
  if (p[5] != '1') fail(505, "unsupported HTTP version");
  return p[7] - '0';  // 1.2 and later minors are treated as 1.1 (RFC 9110 §2.5)
}

}  // namespace

void MessageHead::reset() noexcept {
  headers.clear();
  version_minor = 1;
  body = BodyKind::none;
  content_length = 0;
  keep_alive = true;
  upgrade = false;
}

void RequestHead::reset() noexcept {
  MessageHead::reset();
  expect_continue = false;
  method_off = method_len = target_off = target_len = 0;
}

void ResponseHead::reset() noexcept {
  MessageHead::reset();
  status = 0;
  reason_off = reason_len = 0;
}

// Walks complete lines from where the last call stopped. Returns the head's end (just past
// its blank line) or 0. Leading blank lines before a request line are skipped (RFC 9112
// §2.2), a few of them.
std::size_t HeadParser::find_end(std::string_view buf, bool request) {
  const char* base = buf.data();
  std::size_t pos = scanned_;
  for (;;) {
    const char* nl = pos < buf.size()
                         ? static_cast<const char*>(std::memchr(base + pos, '\n', buf.size() - pos))
                         : nullptr;
    bool first = lines_ == 0;
    if (!nl) {
      // A trailing CR may be the start of the CRLF: it does not count against the limits.
      std::size_t partial = buf.size() - pos;
      std::size_t cr = partial && buf.back() == '\r';
      if (first && partial - cr > limits_.max_request_line)
        fail(request ? 414 : 400, "request line too long");
      if (buf.size() - start_ - cr > limits_.max_head_bytes) fail(431, "header section too large");
      scanned_ = pos;
      return 0;
    }
    std::size_t at = static_cast<std::size_t>(nl - base);
    if (at == pos || base[at - 1] != '\r') fail(400, "bare LF (lines must end in CRLF)");
    std::size_t len = at - 1 - pos;  // without the CRLF
    pos = at + 1;
    if (pos - start_ > limits_.max_head_bytes + 2) fail(431, "header section too large");
    if (len == 0) {
      if (!first) return pos;
      if (!request || pos > 8) fail(400, "empty line before the start line");
      start_ = pos;
      continue;
    }
    if (first) {
      if (len > limits_.max_request_line) fail(request ? 414 : 400, "request line too long");
    } else if (lines_ > limits_.max_headers) {
      fail(431, "too many header fields");
    }
    ++lines_;
  }
}

// Copies the head find_end() delimited (without skipped blank lines) into `h`, readies the
// parser for the next head, and returns where the start line ends (its CR) in the copy.
const char* HeadParser::take_head(std::string_view buf, std::size_t end, Headers& h) {
  std::size_t start = start_;
  reset();
  std::string& raw = h.raw();
  raw.assign(buf.data() + start, end - start);
  return static_cast<const char*>(std::memchr(raw.data(), '\n', raw.size())) - 1;
}

std::size_t HeadParser::parse_request(std::string_view buf, RequestHead& out) {
  std::size_t end = find_end(buf, true);
  if (!end) return 0;
  out.reset();
  const char* le = take_head(buf, end, out.headers);
  Headers& h = out.headers;
  const char* p = h.raw().data();

  const char* m = skip_token(p, le);
  if (m == p || *m != ' ') fail(400, "malformed request line (method)");
  const char* t = m + 1;
  const char* te = t;
  while (te < le && is(*te, kTargetChar)) ++te;
  if (te == t || *te != ' ' || le - (te + 1) != 8) fail(400, "malformed request line (target)");
  out.version_minor = parse_version(te + 1);
  out.method_off = 0;
  out.method_len = static_cast<std::uint32_t>(m - p);
  out.target_off = static_cast<std::uint32_t>(t - p);
  out.target_len = static_cast<std::uint32_t>(te - t);
  std::string_view method = out.method(), target = out.target();
  if (method == "CONNECT") {
    if (target.front() == '/') fail(400, "CONNECT needs an authority-form target");
  } else if (target == "*") {
    if (method != "OPTIONS") fail(400, "asterisk-form target outside OPTIONS");
  } else if (target.front() != '/') {
    // absolute-form: scheme ":" ...
    std::size_t colon = target.find(':');
    bool scheme = colon != std::string_view::npos && colon > 0;
    for (std::size_t i = 0; scheme && i < colon; ++i) {
      char c = target[i];
      scheme = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
               (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    }
    if (!scheme) fail(400, "malformed request target");
  }

  h.reserve(16);
  Framing f = index_fields(h, static_cast<std::size_t>(le + 2 - p));
  bool http11 = out.version_minor >= 1;
  if (f.te_seen) {
    if (!http11) fail(400, "Transfer-Encoding in an HTTP/1.0 request");
    if (f.cl_seen) fail(400, "both Transfer-Encoding and Content-Length");
    if (!f.te_chunked) fail(400, "a Transfer-Encoding that does not end in chunked");
    if (f.te_other) fail(501, "unsupported transfer coding");
    out.body = BodyKind::chunked;
  } else if (f.cl_seen && f.length > 0) {
    out.body = BodyKind::length;
    out.content_length = f.length;
  }
  if (http11 ? f.hosts != 1 : f.hosts > 1) fail(400, "a request needs exactly one Host field");
  if (f.expect_other) fail(417, "unsupported expectation");
  out.expect_continue = http11 && f.expect_continue;
  out.keep_alive = http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  out.upgrade = f.conn_upgrade && f.upgrade_field;
  return end;
}

std::size_t HeadParser::parse_response(std::string_view buf, ResponseHead& out,
                                       std::string_view request_method) {
  std::size_t end = find_end(buf, false);
  if (!end) return 0;
  out.reset();
  const char* le = take_head(buf, end, out.headers);
  Headers& h = out.headers;
  const char* p = h.raw().data();
  // HTTP-version SP 3DIGIT [SP reason]: the SP before an empty reason is often left out
  if (le - p < 12 || p[8] != ' ') fail(400, "malformed status line");
  out.version_minor = parse_version(p);
  int status = 0;
  for (int i = 9; i < 12; ++i) {
    if (p[i] < '0' || p[i] > '9') fail(400, "malformed status code");
    status = status * 10 + (p[i] - '0');
  }
  if (status < 100) fail(400, "malformed status code");
  out.status = status;
  if (le - p > 12) {
    if (p[12] != ' ') fail(400, "malformed status line");
    for (const char* c = p + 13; c < le; ++c)
      if (!is(*c, kFieldChar)) fail(400, "control character in the reason phrase");
    out.reason_off = 13;
    out.reason_len = static_cast<std::uint32_t>(le - (p + 13));
  }

  h.reserve(16);
  Framing f = index_fields(h, static_cast<std::size_t>(le + 2 - p));
  bool http11 = out.version_minor >= 1;
  out.keep_alive = http11 ? !f.conn_close : (f.conn_keep_alive && !f.conn_close);
  out.upgrade = status == 101;
  if (f.te_seen && f.cl_seen) fail(400, "both Transfer-Encoding and Content-Length");
  bool no_body = request_method == "HEAD" || status < 200 || status == 204 || status == 304 ||
                 (request_method == "CONNECT" && status < 300);
  if (no_body) {
    out.body = BodyKind::none;
  } else if (f.te_seen) {
    if (f.te_chunked && f.te_other) fail(501, "unsupported transfer coding");
    out.body = f.te_chunked ? BodyKind::chunked : BodyKind::until_close;
  } else if (f.cl_seen) {
    out.body = f.length > 0 ? BodyKind::length : BodyKind::none;
    out.content_length = f.length;
  } else {
    out.body = BodyKind::until_close;
  }
  if (out.body == BodyKind::until_close) out.keep_alive = false;
  return end;
}

// --- bodies

BodyDecoder::BodyDecoder(BodyKind kind, std::uint64_t length, const ParseLimits& limits,
                         std::uint64_t max_body)
    : max_body_(max_body), limits_(limits) {
  switch (kind) {
    case BodyKind::none:
      state_ = State::done;
      break;
    case BodyKind::length:
      if (length > max_body) fail(413, "body larger than allowed");
      remaining_ = length;
      state_ = length ? State::length : State::done;
      break;
    case BodyKind::chunked:
      state_ = State::chunk_size;
      break;
    case BodyKind::until_close:
      state_ = State::until_close;
      break;
  }
}

void BodyDecoder::count(std::size_t n) {
  received_ += n;
  if (received_ > max_body_) fail(413, "body larger than allowed");
}

BodyDecoder::Step BodyDecoder::next(std::string_view in, bool eof) {
  switch (state_) {
    case State::done:
      return {};
    case State::length:
    case State::chunk_data: {
      if (in.empty()) {
        if (eof) fail(400, "the connection closed inside the body");
        return {};
      }
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(in.size(), remaining_));
      remaining_ -= n;
      received_ += n;
      if (remaining_ == 0) state_ = state_ == State::length ? State::done : State::chunk_crlf;
      return {n, in.substr(0, n)};
    }
    case State::until_close:
      if (in.empty()) {
        if (eof) state_ = State::done;
        return {};
      }
      count(in.size());
      return {in.size(), in};
    case State::chunk_crlf:
      if (in.size() >= 2) {
        if (in[0] != '\r' || in[1] != '\n') fail(400, "chunk data not followed by CRLF");
        state_ = State::chunk_size;
        return {2, {}};
      }
      if (!in.empty() && in[0] != '\r') fail(400, "chunk data not followed by CRLF");
      if (eof) fail(400, "the connection closed inside the body");
      return {};
    case State::chunk_size: {
      std::size_t n = parse_chunk_size(in);
      if (!n && eof) fail(400, "the connection closed inside the body");
      return {n, {}};
    }
    case State::trailers: {
      std::size_t n = parse_trailers(in);
      if (!n && eof) fail(400, "the connection closed inside the trailers");
      return {n, {}};
    }
  }
  return {};
}

// chunk-size [ chunk-ext ] CRLF, where chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] )
std::size_t BodyDecoder::parse_chunk_size(std::string_view in) {
  if (in.empty()) return 0;
  std::size_t scan = std::min(in.size(), limits_.max_chunk_line + 2);
  const char* p = in.data();
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', scan));
  if (!nl) {
    if (in.size() >= limits_.max_chunk_line + 2) fail(400, "chunk size line too long");
    return 0;
  }
  if (nl == p || nl[-1] != '\r') fail(400, "bare LF in a chunk size line");
  const char* end = nl - 1;
  std::uint64_t size = 0;
  const char* c = p;
  for (; c < end && is(*c, kHex); ++c) {
    if (size >> 60) fail(400, "chunk size overflows");
    unsigned d = *c <= '9' ? unsigned(*c - '0') : unsigned((*c | 0x20) - 'a' + 10);
    size = size * 16 + d;
  }
  if (c == p) fail(400, "malformed chunk size");
  while (c < end) {  // extensions: checked, then ignored
    while (c < end && is_ows(*c)) ++c;
    if (c == end || *c != ';') fail(400, "malformed chunk extension");
    ++c;
    while (c < end && is_ows(*c)) ++c;
    const char* name = c;
    c = skip_token(c, end);
    if (c == name) fail(400, "malformed chunk extension");
    while (c < end && is_ows(*c)) ++c;
    if (c < end && *c == '=') {
      ++c;
      while (c < end && is_ows(*c)) ++c;
      if (c < end && *c == '"') {
        for (++c;; ++c) {
          if (c == end) fail(400, "unterminated quoted chunk extension");
          if (*c == '"') break;
          if (*c == '\\' && ++c == end) fail(400, "unterminated quoted chunk extension");
          if (!is(*c, kFieldChar)) fail(400, "control character in a chunk extension");
        }
        ++c;
      } else {
        const char* v = c;
        c = skip_token(c, end);
        if (c == v) fail(400, "malformed chunk extension");
      }
    }
  }
  if (size == 0) {
    state_ = State::trailers;
  } else {
    if (received_ + size > max_body_ || received_ + size < received_)
      fail(413, "body larger than allowed");
    remaining_ = size;
    state_ = State::chunk_data;
  }
  return static_cast<std::size_t>(nl + 1 - p);
}

// One trailer field line (or the blank line that ends the body) per call.
std::size_t BodyDecoder::parse_trailers(std::string_view in) {
  if (in.empty()) return 0;
  std::size_t budget = limits_.max_trailer_bytes + 2;
  std::size_t used = trailer_bytes_;  // the earlier trailer lines, as sent
  std::size_t scan = std::min(in.size(), budget > used ? budget - used : 0);
  const char* p = in.data();
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', scan));
  if (!nl) {
    if (in.size() >= scan && used + in.size() >= budget) fail(431, "trailer section too large");
    return 0;
  }
  if (nl == p || nl[-1] != '\r') fail(400, "bare LF in the trailer section");
  const char* le = nl - 1;
  if (le == p) {
    state_ = State::done;
    return 2;
  }
  if (trailers_.size() >= limits_.max_headers) fail(431, "too many trailer fields");
  const char *name_end, *value, *value_end;
  split_field(p, le, name_end, value, value_end);
  trailers_.add({p, static_cast<std::size_t>(name_end - p)},
                {value, static_cast<std::size_t>(value_end - value)});
  trailer_bytes_ += static_cast<std::size_t>(nl + 1 - p);
  return static_cast<std::size_t>(nl + 1 - p);
}

}  // namespace eddy::http
