// WebSocket frames (RFC 6455 §5): the header codec and masking, shared by client and server.
// Payloads are not copied here: the parser reports where a frame's payload starts and how
// long it is, and the caller unmasks it where it lies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace eddy::http::detail {

enum class Opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

inline bool is_control(Opcode op) noexcept {
  return static_cast<std::uint8_t>(op) & 0x8;
}

struct FrameHeader {
  bool fin = false;
  bool rsv1 = false;  // permessage-deflate: the message is compressed
  Opcode opcode = Opcode::continuation;
  bool masked = false;
  std::uint8_t mask[4] = {};
  std::uint64_t length = 0;     // of the payload
  std::size_t header_size = 0;  // 2 to 14 bytes
};

// A frame that breaks the protocol: the connection fails with `code` (1002 protocol error,
// 1009 too big) and `what` as the close reason.
struct FrameError {
  std::uint16_t code;
  const char* what;
};

// The header at the start of `buf`, if all of it is there (header_size 0 otherwise). Checks
// what the header alone can tell: reserved bits (rsv1 only if `rsv1_allowed`), known
// opcodes, control frames unfragmented and at most 125 bytes, the 64-bit length's top bit,
// and data frames longer than `max_payload` (1009). Masking rules are the caller's (they depend on
// the side). Returns false with `err` set on a violation.
bool parse_frame_header(std::string_view buf, bool rsv1_allowed, std::uint64_t max_payload,
                        FrameHeader& out, FrameError& err) noexcept;

// XORs `n` bytes at `data` with the mask, starting at byte `offset` of the frame's payload
// (so a payload unmasked in pieces comes out right).
void apply_mask(char* data, std::size_t n, const std::uint8_t mask[4],
                std::uint64_t offset) noexcept;

// Writes a frame header (with the mask key when `mask` is given) at `out`, which has room
// for kMaxFrameHeader bytes; returns its size.
constexpr std::size_t kMaxFrameHeader = 14;
std::size_t write_frame_header(char* out, Opcode op, bool fin, bool rsv1, std::uint64_t length,
                               const std::uint8_t* mask) noexcept;

// Appends a frame header to `out` (with the mask key when `mask` is given).
void append_frame_header(std::string& out, Opcode op, bool fin, bool rsv1, std::uint64_t length,
                         const std::uint8_t* mask) noexcept;

// `n` bytes from the kernel's CSPRNG (getrandom(2)), for masking keys and handshake nonces
// (RFC 6455 §10.3: unpredictable). Not OpenSSL's RAND_bytes: its first call sets up a DRBG,
// about 8 million instructions (1.5 ms) that a plain ws:// client has no other use for.
// Throws std::system_error if the kernel refuses.
void random_bytes(void* out, std::size_t n);

// Close codes a peer may send (§7.4.1 and the IANA registry; 1004-1006 and 1015 never go on
// the wire), and the ones in the private-use ranges.
bool valid_close_code(unsigned code) noexcept;

}  // namespace eddy::http::detail
