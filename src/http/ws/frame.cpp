// WebSocket frame headers and masking (see frame.hpp).
#include "frame.hpp"

#include <sys/random.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace eddy::http::detail {

bool parse_frame_header(std::string_view buf, bool rsv1_allowed, std::uint64_t max_payload,
                        FrameHeader& out, FrameError& err) noexcept {
  out.header_size = 0;
  if (buf.size() < 2) return true;
  auto b0 = static_cast<std::uint8_t>(buf[0]);
  auto b1 = static_cast<std::uint8_t>(buf[1]);
  out.fin = b0 & 0x80;
  out.rsv1 = b0 & 0x40;
  if ((b0 & 0x30) || (out.rsv1 && !rsv1_allowed)) {
    err = {1002, "reserved bits set"};
    return false;
  }
  std::uint8_t op = b0 & 0x0F;
  if ((op > 2 && op < 8) || op > 10) {
    err = {1002, "unknown opcode"};
    return false;
  }
  out.opcode = static_cast<Opcode>(op);
  out.masked = b1 & 0x80;
  std::uint64_t len = b1 & 0x7F;
  std::size_t need = 2;
  if (is_control(out.opcode)) {
    if (!out.fin) {
      err = {1002, "fragmented control frame"};
      return false;
    }
    if (len > 125) {
      err = {1002, "control frame longer than 125 bytes"};
      return false;
    }
    if (out.rsv1) {
      err = {1002, "compressed control frame"};
      return false;
    }
  }
  if (len == 126) {
    need += 2;
    if (buf.size() < need) return true;
    len = (std::uint64_t(std::uint8_t(buf[2])) << 8) | std::uint8_t(buf[3]);
  } else if (len == 127) {
    need += 8;
    if (buf.size() < need) return true;
    len = 0;
    for (int i = 0; i < 8; ++i) len = (len << 8) | std::uint8_t(buf[2 + i]);
    if (len >> 63) {
      err = {1002, "payload length with the top bit set"};
      return false;
    }
  }
  if (len > max_payload && !is_control(out.opcode)) {
    err = {1009, "message too big"};
    return false;
  }
  if (out.masked) {
    if (buf.size() < need + 4) return true;
    std::memcpy(out.mask, buf.data() + need, 4);
    need += 4;
  }
  out.length = len;
  out.header_size = need;
  return true;
}

void apply_mask(char* data, std::size_t n, const std::uint8_t mask[4],
                std::uint64_t offset) noexcept {
  static_assert(std::endian::native == std::endian::little, "the word mask assumes little-endian");
  // The key as a word, rotated so that its first byte lines up with data[0], then doubled:
  // eight bytes per XOR, and the tail takes its bytes from the same word.
  std::uint32_t key;
  std::memcpy(&key, mask, 4);
  unsigned rot = static_cast<unsigned>(offset & 3) * 8;
  if (rot) key = (key >> rot) | (key << (32 - rot));
  std::uint64_t wide = key | (std::uint64_t{key} << 32);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    std::uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= wide;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < n; ++i)
    data[i] = static_cast<char>(data[i] ^ static_cast<char>(wide >> (8 * (i & 7))));
}

std::size_t write_frame_header(char* h, Opcode op, bool fin, bool rsv1, std::uint64_t length,
                               const std::uint8_t* mask) noexcept {
  std::size_t n = 2;
  h[0] = static_cast<char>((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | static_cast<std::uint8_t>(op));
  std::uint8_t m = mask ? 0x80 : 0;
  if (length < 126) {
    h[1] = static_cast<char>(m | length);
  } else if (length <= 0xFFFF) {
    h[1] = static_cast<char>(m | 126);
    h[2] = static_cast<char>(length >> 8);
    h[3] = static_cast<char>(length);
    n = 4;
  } else {
    h[1] = static_cast<char>(m | 127);
    for (int i = 0; i < 8; ++i) h[2 + i] = static_cast<char>(length >> (56 - 8 * i));
    n = 10;
  }
  if (mask) {
    std::memcpy(h + n, mask, 4);
    n += 4;
  }
  return n;
}

void append_frame_header(std::string& out, Opcode op, bool fin, bool rsv1, std::uint64_t length,
                         const std::uint8_t* mask) noexcept {
  char h[kMaxFrameHeader];
  out.append(h, write_frame_header(h, op, fin, rsv1, length, mask));
}

void random_bytes(void* out, std::size_t n) {
  auto* p = static_cast<unsigned char*>(out);
  while (n > 0) {
    ssize_t got = ::getrandom(p, n, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    p += got;
    n -= static_cast<std::size_t>(got);
  }
}

bool valid_close_code(unsigned code) noexcept {
  if (code >= 3000 && code <= 4999) return true;
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

}  // namespace eddy::http::detail
