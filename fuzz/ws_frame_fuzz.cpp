// libFuzzer target for WebSocket's receiving side: the input is what a client sends after the
// handshake, read by an eddy server-side WebSocket (over a socketpair, on a real loop) until
// it closes, on the virtual clock. The first byte picks the options (permessage-deflate, no context
// takeover, a small message limit). Never crashes, never hangs, and traps when:
//  - a text message it returns is not UTF-8, or a text or binary one is over the limit;
//  - it ends with a close code that may not end a connection.
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eddy/eddy.hpp"
#include "eddy/http/websocket.hpp"
#include "eddy/net/stream.hpp"
#include "eddy/testing/virtual_clock.hpp"
#include "http/ws/core.hpp"

namespace {

namespace http = eddy::http;
namespace d = eddy::http::detail;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

eddy::Task<> read_all(std::string_view input) {
  int fds[2];
  check(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0);
  std::uint8_t flags = input.empty() ? 0 : static_cast<std::uint8_t>(input[0]);
  if (!input.empty()) input.remove_prefix(1);
  eddy::net::Stream client = eddy::net::Stream::adopt(fds[0]);
  eddy::net::Stream server = eddy::net::Stream::adopt(fds[1]);
  client.write(input);
  co_await client.shutdown_write();
  // The client reads whatever the server answers, so no flush waits on a full socket.
  auto discard = [&]() -> eddy::Task<> {
    char buf[4096];
    while (co_await client.read_some(buf) > 0) {
    }
  };
  auto reader = eddy::spawn(discard());

  auto core = std::make_unique<d::WsCore>();
  core->s = &server;
  core->opts.max_message_size = (flags & 4) ? 100 : 1 << 16;
  core->opts.autoping = !(flags & 8);
  core->opts.close_timeout = std::chrono::milliseconds(100);
  if (flags & 1) {
    d::DeflateParams p;
    p.their_no_context_takeover = flags & 2;
    core->deflate = std::make_unique<d::MessageDeflate>(p);
  }
  http::WebSocket ws(std::move(core));
  for (int i = 0; i < 10000; ++i) {
    auto m = co_await ws.receive();
    if (!m) break;
    bool data = m->type == http::WsMessage::text || m->type == http::WsMessage::binary;
    check(!data || m->data.size() <= ((flags & 4) ? 100u : 1u << 16));  // pings: up to 125
    if (m->type == http::WsMessage::text) check(d::Utf8Validator::valid(m->data));
  }
  server.abort();
  co_await std::move(reader);
  if (ws.closed()) {
    std::uint16_t code = ws.close_code();
    check(code == 1005 || code == 1006 || d::valid_close_code(code));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 20) return 0;
  // The virtual clock: close_timeout and heartbeats pass at once instead of in real time.
  eddy::testing::run_virtual(read_all(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}
