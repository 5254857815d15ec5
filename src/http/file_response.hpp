// Deciding what a Response::file answers: RFC 9110's conditional requests (§13) and a single
// byte range (§14), worked out from the request and the file's metadata before anything is
// sent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/http/message.hpp"

namespace eddy::http::detail {

// The Content-Type for a file name's extension (application/octet-stream if unknown).
std::string_view mime_type(std::string_view path) noexcept;

struct FilePlan {
  int status = 200;
  int fd = -1;  // open when there is a body to send; the caller closes it
  std::uint64_t offset = 0, length = 0;
  Headers headers;  // ETag, Last-Modified, Content-Range, Accept-Ranges, Content-Type
};

// Opens `path` and decides the status, headers and byte range to send for `req`.
FilePlan plan_file(const Request& req, const std::string& path, std::string_view content_type);

}  // namespace eddy::http::detail
