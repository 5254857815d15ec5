// multipart/form-data (RFC 7578): file uploads, streamed part by part (aiohttp's
// MultipartReader).
//
//   app.post("/upload", [](http::Request& req) -> Task<http::Response> {
//     auto form = http::MultipartReader(req);            // 415 if not multipart/form-data
//     while (auto part = co_await form.next()) {
//       if (part->filename) {                          // a file: stream it to disk
//         auto f = co_await eddy::fs::File::open("/tmp/" + sanitize(*part->filename), "w");
//         while (true) {
//           std::string_view data = co_await form.read_chunk();
//           if (data.empty()) break;
//           co_await f.write(std::string(data));
//         }
//       } else {
//         std::string value = co_await form.read_all();   // a plain field
//       }
//     }
//     co_return http::Response::text("ok");
//   });
//
// Memory stays bounded whatever the upload's size: data is handed out as it arrives. A part
// that is not read is skipped by next(). Malformed input (a missing boundary, a part head
// over 8 KiB or with more than 32 fields, more than 1,000 parts, a body that ends before the
// closing delimiter) throws ProtocolError(400), which the server answers with 400.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "eddy/http/headers.hpp"
#include "eddy/http/message.hpp"
#include "eddy/task.hpp"

namespace eddy::http {

struct MultipartLimits {
  std::size_t max_parts = 1000;
  std::size_t max_part_head = 8 * 1024;
  std::size_t max_part_fields = 32;
};

struct Part {
  Headers headers;
  std::string name;                     // Content-Disposition's name
  std::optional<std::string> filename;  // filename (or filename*, decoded), for file fields
  std::string content_type;             // "text/plain" when the part does not say
};

// The byte-level parser, independent of any socket (what the reader and the fuzz target use).
class MultipartParser {
 public:
  explicit MultipartParser(std::string boundary, MultipartLimits limits = {});

  void feed(std::string_view bytes);
  void feed_eof() noexcept { eof_ = true; }

  enum class Kind { need_more, part, data, part_end, done };
  struct Event {
    Kind kind = Kind::need_more;
    std::string_view data;  // Kind::data: valid until the next feed() or poll()
  };
  // The next thing in the input. Kind::part: part() describes the part just begun.
  Event poll();
  const Part& part() const noexcept { return part_; }

 private:
  enum class State { preamble, after_boundary, head, body, done };
  bool parse_head(std::string_view head);
  void compact();

  std::string delimiter_;  // "\r\n--" + boundary
  MultipartLimits limits_;
  std::string buf_;
  std::size_t pos_ = 0;
  bool eof_ = false;
  bool checked_start_ = false;
  State state_ = State::preamble;
  std::size_t parts_ = 0;
  Part part_;
};

// The boundary parameter of a multipart Content-Type, or "" if there is none (or it is
// malformed: RFC 2046 allows 1 to 70 characters).
std::string multipart_boundary(std::string_view content_type);

class MultipartReader {
 public:
  // Throws HttpException(415) unless the request is multipart/form-data with a boundary.
  explicit MultipartReader(Request& req, MultipartLimits limits = {});

  // Skips what is left of the current part; the next part, or nullopt after the last.
  Task<std::optional<Part>> next();
  // The current part's data as it arrives; empty at its end.
  Task<std::string_view> read_chunk();
  // All of the current part (up to `limit` bytes, else ProtocolError 413).
  Task<std::string> read_all(std::size_t limit = 1 << 20);

 private:
  Task<MultipartParser::Event> poll();

  Request& req_;
  MultipartParser parser_;
  bool in_part_ = false;
};

}  // namespace eddy::http
