// libFuzzer target for what a WebSocket handshake parses from the peer: the
// Sec-WebSocket-Extensions offer (server) and answer (client), Sec-WebSocket-Key, and the
// token lists of Connection/Upgrade/Sec-WebSocket-Protocol. Never crashes, and traps when:
//  - an accepted offer's answer is not itself an answer the client side accepts, with the
//    same parameters seen from the other end;
//  - a negotiated window is outside 8..15;
//  - a token is empty or has surrounding whitespace.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>

#include "eddy/http/headers.hpp"
#include "http/ws/deflate.hpp"
#include "http/ws/handshake.hpp"

namespace {

namespace d = eddy::http::detail;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);

  std::string answer;
  if (auto p = d::accept_deflate_offer(in, answer)) {
    check(p->our_max_window_bits >= 8 && p->our_max_window_bits <= 15);
    check(p->their_max_window_bits >= 8 && p->their_max_window_bits <= 15);
    auto back = d::parse_deflate_answer(answer);  // must not throw: we wrote it
    check(back.has_value());
    check(back->our_max_window_bits == p->their_max_window_bits);
    check(back->their_max_window_bits == p->our_max_window_bits);
    check(back->our_no_context_takeover == p->their_no_context_takeover);
    check(back->their_no_context_takeover == p->our_no_context_takeover);
  }
  try {
    if (auto p = d::parse_deflate_answer(in))
      check(p->our_max_window_bits >= 8 && p->our_max_window_bits <= 15);
  } catch (const std::invalid_argument&) {
  }

  (void)d::valid_ws_key(in);
  eddy::http::Headers h;
  try {
    h.add("Sec-WebSocket-Protocol", in);
  } catch (const std::invalid_argument&) {
    return 0;  // CR, LF or NUL: no header holds that (the parser refuses it first)
  }
  for (std::string_view t : d::header_tokens(h, "Sec-WebSocket-Protocol")) {
    check(!t.empty());
    check(t.front() != ' ' && t.front() != '\t' && t.back() != ' ' && t.back() != '\t');
  }
  return 0;
}
