// The multipart/form-data parser (see eddy/http/multipart.hpp); the reader that runs it over a
// request body is in multipart.cpp.
//
// The parser keeps one buffer and a read position. Body data is handed out up to the last
// delimiter-length bytes, which might be the start of a delimiter split across reads; the
// buffer is compacted on feed(), so memory stays at about one read plus one delimiter.
#include "eddy/http/multipart.hpp"

#include "eddy/http/error.hpp"
#include "eddy/http/url.hpp"

namespace eddy::http {
namespace {

[[noreturn]] void fail(const char* what) {
  throw ProtocolError(400, std::string("malformed multipart body: ") + what);
}

bool is_tchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Calls fn(name, value) for each `; name=value` parameter after the first item of a header
// value (Content-Type, Content-Disposition); values may be quoted-strings. Returns the item.
template <class F>
std::string_view parameters(std::string_view v, F&& fn) {
  std::size_t semi = v.find(';');
  std::string_view item = trim(v.substr(0, semi));
  std::size_t i = semi == std::string_view::npos ? v.size() : semi + 1;
  while (i < v.size()) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == ';')) ++i;
    std::size_t name_start = i;
    while (i < v.size() && is_tchar(v[i])) ++i;
    std::string_view name = v.substr(name_start, i - name_start);
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    if (name.empty() || i >= v.size() || v[i] != '=') {
      while (i < v.size() && v[i] != ';') ++i;  // not a parameter: skip it
      continue;
    }
    ++i;
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t')) ++i;
    std::string value;
    if (i < v.size() && v[i] == '"') {
      for (++i; i < v.size() && v[i] != '"'; ++i) {
        if (v[i] == '\\' && i + 1 < v.size()) ++i;
        value += v[i];
      }
      ++i;
    } else {
      std::size_t start = i;
      while (i < v.size() && v[i] != ';') ++i;
      value = std::string(trim(v.substr(start, i - start)));
    }
    fn(name, std::move(value));
  }
  return item;
}

}  // namespace

std::string multipart_boundary(std::string_view content_type) {
  std::string boundary;
  std::string_view type = parameters(content_type, [&](std::string_view n, std::string v) {
    if (iequals(n, "boundary")) boundary = std::move(v);
  });
  if (!iequals(type.substr(0, 10), "multipart/")) return {};
  if (boundary.empty() || boundary.size() > 70) return {};
  for (char c : boundary)
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return {};
  return boundary;
}

MultipartParser::MultipartParser(std::string boundary, MultipartLimits limits)
    : delimiter_("\r\n--" + boundary), limits_(limits) {}

void MultipartParser::feed(std::string_view bytes) {
  compact();
  buf_.append(bytes);
}

void MultipartParser::compact() {
  if (pos_ > 0 && (pos_ >= buf_.size() || pos_ > 16 * 1024)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
}

bool MultipartParser::parse_head(std::string_view head) {
  part_ = Part{};
  std::size_t i = 0;
  while (i < head.size()) {
    std::size_t eol = head.find("\r\n", i);
    if (eol == std::string_view::npos) eol = head.size();
    std::string_view line = head.substr(i, eol - i);
    i = eol + 2;
    if (line.empty()) continue;
    if (line.front() == ' ' || line.front() == '\t') fail("folded part header");
    std::size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) fail("part header without a name");
    for (std::size_t k = 0; k < colon; ++k)
      if (!is_tchar(line[k])) fail("bad part header name");
    std::string_view value = trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        fail("control character in a part header");
    if (part_.headers.size() >= limits_.max_part_fields) fail("too many part header fields");
    part_.headers.add(line.substr(0, colon), value);
  }
  auto cd = part_.headers.get("Content-Disposition");
  if (!cd) fail("a part without Content-Disposition");
  bool has_name = false;
  std::optional<std::string> ext_filename;
  std::string_view kind = parameters(*cd, [&](std::string_view n, std::string v) {
    if (iequals(n, "name")) {
      part_.name = std::move(v);
      has_name = true;
    } else if (iequals(n, "filename")) {
      part_.filename = std::move(v);
    } else if (iequals(n, "filename*")) {  // RFC 5987: charset'lang'percent-encoded
      std::size_t q = v.find('\'');
      std::size_t q2 = q == std::string::npos ? q : v.find('\'', q + 1);
      if (q2 != std::string::npos) {
        try {
          ext_filename = percent_decode(std::string_view(v).substr(q2 + 1));
        } catch (const UrlError&) {
        }
      }
    }
  });
  if (!iequals(kind, "form-data")) fail("Content-Disposition is not form-data");
  if (!has_name) fail("a part without a name");
  if (ext_filename) part_.filename = std::move(ext_filename);
  part_.content_type = std::string(part_.headers.get_or("Content-Type", "text/plain"));
  return true;
}

MultipartParser::Event MultipartParser::poll() {
  std::string_view dash_boundary = std::string_view(delimiter_).substr(2);
  for (;;) {
    std::string_view in = std::string_view(buf_).substr(pos_);
    switch (state_) {
      case State::preamble: {
        if (!checked_start_) {  // the body may open with the boundary, without a CRLF
          if (in.size() < dash_boundary.size() && dash_boundary.starts_with(in)) {
            if (eof_) fail("no boundary");
            return {};
          }
          checked_start_ = true;
          if (in.starts_with(dash_boundary)) {
            pos_ += dash_boundary.size();
            state_ = State::after_boundary;
            continue;
          }
        }
        std::size_t f = in.find(delimiter_);
        if (f != std::string_view::npos) {
          pos_ += f + delimiter_.size();
          state_ = State::after_boundary;
          continue;
        }
        if (eof_) fail("no boundary");
        // Drop the preamble but keep what could start a delimiter.
        if (in.size() >= delimiter_.size()) pos_ += in.size() - (delimiter_.size() - 1);
        return {};
      }
      case State::after_boundary: {
        if (in.size() < 2) {
          if (eof_) fail("the body ended after a boundary");
          return {};
        }
        if (in.starts_with("--")) {
          state_ = State::done;
          return {Kind::done, {}};
        }
        std::size_t k = 0;
        while (k < in.size() && k < 256 && (in[k] == ' ' || in[k] == '\t')) ++k;
        if (k + 2 > in.size()) {
          if (eof_ || k >= 256) fail("a boundary not followed by CRLF");
          return {};
        }
        if (in[k] != '\r' || in[k + 1] != '\n') fail("a boundary not followed by CRLF");
        if (++parts_ > limits_.max_parts) fail("too many parts");
        pos_ += k + 2;
        state_ = State::head;
        continue;
      }
      case State::head: {
        std::size_t end;
        if (in.starts_with("\r\n")) {
          end = 0;
        } else {
          std::size_t f = in.find("\r\n\r\n");
          if (f == std::string_view::npos || f > limits_.max_part_head) {
            if (in.size() > limits_.max_part_head + 4) fail("part header section too large");
            if (eof_) fail("the body ended inside a part header");
            return {};
          }
          end = f + 2;
        }
        parse_head(in.substr(0, end));
        pos_ += end + 2;
        state_ = State::body;
        return {Kind::part, {}};
      }
      case State::body: {
        std::size_t f = in.find(delimiter_);
        if (f == 0) {
          pos_ += delimiter_.size();
          state_ = State::after_boundary;
          return {Kind::part_end, {}};
        }
        if (f != std::string_view::npos) {
          pos_ += f;
          return {Kind::data, in.substr(0, f)};
        }
        std::size_t safe = in.size() >= delimiter_.size() ? in.size() - (delimiter_.size() - 1) : 0;
        if (safe > 0) {
          pos_ += safe;
          return {Kind::data, in.substr(0, safe)};
        }
        if (eof_) fail("the body ended inside a part");
        return {};
      }
      case State::done:
        return {Kind::done, {}};
    }
  }
}

}  // namespace eddy::http
