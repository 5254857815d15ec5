// Shared by the HTTP request and response fuzz targets: the invariants a parsed message must
// keep, and decoding a body in pieces (as a connection's buffer grows) to compare with
// decoding it at once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "eddy/http/error.hpp"
#include "eddy/http/parser.hpp"

namespace http_fuzz {

namespace http = eddy::http;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && (c == '\0' || !std::strchr("!#$%&'*+-.^_`|~", c))) return false;
  }
  return true;
}

bool is_text(std::string_view v) {  // visible characters, SP, HTAB and obs-text
  for (char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

bool is_clean_value(std::string_view v) {
  const auto ows = [](char c) { return c == ' ' || c == '\t'; };
  return is_text(v) && (v.empty() || (!ows(v.front()) && !ows(v.back())));
}

struct Body {
  std::string data;
  std::size_t consumed = 0;
  bool done = false;
  int status = 0;
  std::string trailers;
};

// Feeds `in` (everything after the head; the peer closed after it) to a decoder `piece` bytes
// more at a time, keeping unconsumed bytes at the front as a connection's buffer does.
Body decode(http::BodyKind kind, std::uint64_t length, std::string_view in,
            const http::ParseLimits& limits, std::uint64_t max_body, std::size_t piece) {
  Body out;
  try {
    http::BodyDecoder decoder(kind, length, limits, max_body);
    std::size_t avail = std::min(piece, in.size());
    while (!decoder.done()) {
      const bool eof = avail == in.size();
      const std::string_view window = in.substr(out.consumed, avail - out.consumed);
      const http::BodyDecoder::Step step = decoder.next(window, eof);
      check(step.consumed <= window.size() && step.data.size() <= step.consumed);
      if (!step.data.empty()) check(inside(step.data, window));
      out.data.append(step.data);
      out.consumed += step.consumed;
      if (step.consumed == 0 && !decoder.done()) {
        check(!eof);  // at EOF a body ends or is an error; waiting for more would hang
        avail = std::min(avail + piece, in.size());
      }
    }
    out.done = true;
    check(decoder.received() == out.data.size());
    if (kind == http::BodyKind::length) check(out.data.size() == length);
    if (kind == http::BodyKind::until_close) check(out.consumed == in.size());
    if (kind != http::BodyKind::chunked) check(decoder.trailers().empty());
    for (auto [name, value] : decoder.trailers()) {
      check(is_token(name) && is_clean_value(value));
      out.trailers.append(name).append(":").append(value).append("\n");
    }
    check(decoder.trailers().size() <= limits.max_headers);
  } catch (const http::ProtocolError& e) {
    out.status = e.status();
  }
  return out;
}

// How much data came before an error may depend on the pieces (an until-close body over
// max_body), so errors compare by status alone.
bool same(const Body& a, const Body& b) {
  if (a.status || b.status) return a.status == b.status;
  return a.data == b.data && a.consumed == b.consumed && a.done == b.done &&
         a.trailers == b.trailers;
}

struct Config {
  http::ParseLimits limits;
  std::uint64_t max_body;
};

// Limits small enough that inputs the fuzzer makes reach every limit check.
inline Config small_config() {
  Config c;
  c.limits.max_request_line = 48;
  c.limits.max_head_bytes = 160;
  c.limits.max_headers = 6;
  c.limits.max_chunk_line = 12;
  c.limits.max_trailer_bytes = 40;
  c.max_body = 300;
  return c;
}

// Decodes the body that follows a head both in pieces and at once, and traps unless they
// agree. Returns how many bytes of `rest` the body took, or -1 if it did not complete.
inline long check_body(http::BodyKind kind, std::uint64_t length, std::string_view rest,
                       const Config& config, std::size_t piece) {
  const Body body = decode(kind, length, rest, config.limits, config.max_body, piece);
  const Body at_once = decode(kind, length, rest, config.limits, config.max_body, rest.size() + 1);
  check(same(body, at_once));
  if (!body.done) return -1;
  check(body.consumed <= rest.size());
  return static_cast<long>(body.consumed);
}

// Runs `read` on the input with the default limits and with small ones.
template <class F>
int run_both(const std::uint8_t* data, std::size_t size, F read) {
  if (size == 0) return 0;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  static const Config kDefault{{}, UINT64_MAX};
  static const Config kSmall = small_config();
  try {
    read(input, kDefault);
    read(input, kSmall);
  } catch (...) {  // every rejection is a ProtocolError, caught where it can happen
    __builtin_trap();
  }
  return 0;
}

}  // namespace http_fuzz
