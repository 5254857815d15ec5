// permessage-deflate (RFC 7692): negotiating it in the handshake, and compressing and
// decompressing whole messages with zlib's raw deflate.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::http::detail {

// What the two sides agreed on. "Ours" and "theirs" rather than client and server: each side
// compresses with its own parameters and decompresses the other's.
struct DeflateParams {
  bool our_no_context_takeover = false;    // reset our compressor after each message
  bool their_no_context_takeover = false;  // the peer resets its compressor
  int our_max_window_bits = 15;            // our compressor's window
  int their_max_window_bits = 15;          // the peer's window (our decompressor's)
};

// Server: the first acceptable permessage-deflate offer in a Sec-WebSocket-Extensions value
// (offers with unknown, repeated or malformed parameters are declined), and the response
// field for it. nullopt: none acceptable, answer without the extension.
std::optional<DeflateParams> accept_deflate_offer(std::string_view extensions,
                                                  std::string& response);
// Client: what we offer.
std::string deflate_offer();
// Client: the server's answer (its Sec-WebSocket-Extensions); nullopt if it did not accept.
// Throws std::invalid_argument for an answer that breaks RFC 7692 (the handshake fails).
std::optional<DeflateParams> parse_deflate_answer(std::string_view extensions);

// One side's compressor and decompressor for the connection's life.
class MessageDeflate {
 public:
  explicit MessageDeflate(const DeflateParams& p);
  ~MessageDeflate();
  MessageDeflate(const MessageDeflate&) = delete;
  MessageDeflate& operator=(const MessageDeflate&) = delete;

  // A whole message compressed, without the trailing 00 00 FF FF (§7.2.1).
  std::string compress(std::string_view message);
  // Decompresses a message's payload piece by piece into `out`; returns false when `out`
  // would pass `max` bytes (the message is too big: 1009). Throws std::runtime_error on
  // corrupt data (1007). `last`: the message's final piece (the tail is added back).
  bool decompress(std::string_view piece, bool last, std::string& out, std::size_t max);

 private:
  struct State;
  std::unique_ptr<State> z_;
  DeflateParams p_;
};

}  // namespace eddy::http::detail
