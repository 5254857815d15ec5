// WsHub: rooms and broadcasts that a slow reader cannot stall (see eddy/http/websocket.hpp).
#include <algorithm>

#include "eddy/http/websocket.hpp"

namespace eddy::http {

WsHub::Member::Member(Member&& o) noexcept
    : hub_(std::exchange(o.hub_, nullptr)), room_(std::move(o.room_)), ws_(o.ws_) {}

WsHub::Member& WsHub::Member::operator=(Member&& o) noexcept {
  if (this != &o) {
    leave();
    hub_ = std::exchange(o.hub_, nullptr);
    room_ = std::move(o.room_);
    ws_ = o.ws_;
  }
  return *this;
}

WsHub::Member::~Member() {
  leave();
}

void WsHub::Member::leave() noexcept {
  if (hub_) std::exchange(hub_, nullptr)->remove(room_, ws_);
}

WsHub::Member WsHub::join(std::string room, WebSocket& ws) {
  rooms_[room].push_back(&ws);
  return Member(this, std::move(room), &ws);
}

void WsHub::remove(const std::string& room, WebSocket* ws) noexcept {
  auto it = rooms_.find(room);
  if (it == rooms_.end()) return;
  std::erase(it->second, ws);
  if (it->second.empty()) rooms_.erase(it);
}

std::size_t WsHub::broadcast(std::string_view room, std::string_view data, bool binary,
                             const WebSocket* except) {
  auto it = rooms_.find(std::string(room));
  if (it == rooms_.end()) return 0;
  std::size_t sent = 0;
  std::vector<WebSocket*> slow;
  for (WebSocket* ws : it->second) {
    if (ws == except || ws->closing()) continue;
    if (ws->try_send(data, binary))
      ++sent;
    else
      slow.push_back(ws);
  }
  // Too slow: closed (its handler's receive() ends once the close is answered, or the
  // connection dies), and it stays a member until its handler's Member goes away.
  for (WebSocket* ws : slow) {
    ws->try_close(1008, "too slow");
    ++dropped_;
  }
  return sent;
}

std::size_t WsHub::size(std::string_view room) const {
  auto it = rooms_.find(std::string(room));
  return it == rooms_.end() ? 0 : it->second.size();
}

}  // namespace eddy::http
