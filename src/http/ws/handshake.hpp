// What both sides of the WebSocket handshake check (handshake.cpp, client.cpp).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "eddy/http/headers.hpp"

namespace eddy::http::detail {

// Sec-WebSocket-Accept for a Sec-WebSocket-Key: base64(SHA-1(key + the RFC's GUID)).
std::string ws_accept_key(std::string_view key);
// A Sec-WebSocket-Key must be the base64 of 16 bytes.
bool valid_ws_key(std::string_view key);
// The comma-separated tokens of every `name` field, trimmed.
std::vector<std::string_view> header_tokens(const Headers& h, std::string_view name);
bool has_header_token(const Headers& h, std::string_view name, std::string_view token);
// Every `name` field joined with ", ".
std::string joined(const Headers& h, std::string_view name);

}  // namespace eddy::http::detail
