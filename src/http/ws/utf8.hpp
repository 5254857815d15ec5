// Incremental UTF-8 validation for WebSocket text (RFC 6455 §8.1: an endpoint fails the
// connection with 1007 as soon as it sees invalid UTF-8, even mid-message, so validation has
// to run on each piece as it arrives, carrying a partial sequence across pieces).
//
// Well-formed sequences per Unicode's Table 3-7: no overlong forms, no surrogates
// (ED A0..BF), nothing above U+10FFFF.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace eddy::http::detail {

class Utf8Validator {
 public:
  // False as soon as `s` (continuing what came before) cannot be UTF-8.
  bool feed(std::string_view s) noexcept {
    const auto* p = reinterpret_cast<const unsigned char*>(s.data());
    const unsigned char* end = p + s.size();
    while (p < end) {
      if (need_ == 0) {
        // ASCII runs, eight bytes at a time: the common case for chat and JSON.
        while (end - p >= 8) {
          std::uint64_t w;
          std::memcpy(&w, p, 8);
          if (w & 0x8080808080808080ull) break;
          p += 8;
        }
        if (p == end) break;
        unsigned char c = *p++;
        if (c < 0x80) continue;
        if (!lead(c)) return false;
      } else {
        unsigned char c = *p++;
        if (c < lo_ || c > hi_) return false;
        --need_;
        lo_ = 0x80;
        hi_ = 0xBF;
      }
    }
    return true;
  }
  // True when no sequence is left open (a message may end here).
  bool complete() const noexcept { return need_ == 0; }
  void reset() noexcept { need_ = 0, lo_ = 0x80, hi_ = 0xBF; }

  static bool valid(std::string_view s) noexcept {
    Utf8Validator v;
    return v.feed(s) && v.complete();
  }

 private:
  // The continuation bytes a lead byte calls for, and the range of the first of them.
  bool lead(unsigned char c) noexcept {
    lo_ = 0x80;
    hi_ = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      need_ = 1;
    } else if (c == 0xE0) {
      need_ = 2, lo_ = 0xA0;  // no overlong 3-byte forms
    } else if (c == 0xED) {
      need_ = 2, hi_ = 0x9F;  // no surrogates
    } else if (c >= 0xE1 && c <= 0xEF) {
      need_ = 2;
    } else if (c == 0xF0) {
      need_ = 3, lo_ = 0x90;  // no overlong 4-byte forms
    } else if (c >= 0xF1 && c <= 0xF3) {
      need_ = 3;
    } else if (c == 0xF4) {
      need_ = 3, hi_ = 0x8F;  // nothing above U+10FFFF
    } else {
      return false;  // a continuation byte first, C0, C1, F5..FF
    }
    return true;
  }

  std::uint8_t need_ = 0;
  unsigned char lo_ = 0x80, hi_ = 0xBF;
};

}  // namespace eddy::http::detail
