// libFuzzer target: the multipart/form-data parser. The first byte picks the boundary's
// length and the size of the pieces the body is fed in; every outcome but ProtocolError(400)
// or a clean parse is a bug, as is a part event out of order or data outside its buffer.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/http/error.hpp"
#include "eddy/http/multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  std::size_t blen = 1 + data[0] % 8;
  std::size_t step = 1 + data[1] % 64;
  if (size < 2 + blen) return 0;
  std::string boundary(reinterpret_cast<const char*>(data + 2), blen);
  std::string_view body(reinterpret_cast<const char*>(data + 2 + blen), size - 2 - blen);
  eddy::http::MultipartParser p(boundary,
                                {.max_parts = 64, .max_part_head = 512, .max_part_fields = 8});
  std::size_t fed = 0;
  bool in_part = false;
  try {
    for (int guard = 0; guard < 1000000; ++guard) {
      auto ev = p.poll();
      using K = eddy::http::MultipartParser::Kind;
      switch (ev.kind) {
        case K::need_more:
          if (fed >= body.size()) {
            p.feed_eof();
          } else {
            p.feed(body.substr(fed, step));
            fed += step;
          }
          break;
        case K::part:
          if (in_part || !p.part().headers.contains("Content-Disposition")) __builtin_trap();
          in_part = true;
          break;
        case K::data:
          if (!in_part || ev.data.empty() || ev.data.size() > body.size()) __builtin_trap();
          break;
        case K::part_end:
          if (!in_part) __builtin_trap();
          in_part = false;
          break;
        case K::done:
          return 0;
      }
    }
    __builtin_trap();  // no progress
  } catch (const eddy::http::ProtocolError& e) {
    if (e.status() != 400) __builtin_trap();
  }
  return 0;
}
