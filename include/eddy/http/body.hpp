// Request bodies for http::Session: bytes, text, JSON, forms, files and multipart forms sent
// from disk as they are read, and bodies a coroutine produces piece by piece.
//
//   o.body = http::json_body({{"name", "ada"}});
//   o.body = http::file_body("backup.tar");                    // streamed, Content-Length
//   http::MultipartForm form;
//   form.add("title", "holiday").add_file("photo", "beach.jpg");
//   o.body = form.body();                                        // streamed, exact length
//   o.body = http::stream_body([&] { return next_piece_fn(); });  // chunked
//
// A streamed body is opened anew each time it is sent: a retry, a stale keep-alive
// connection, or a 307/308 redirect send it again from the start. A body whose source can be
// read only once should throw from its opener the second time.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "eddy/http/url.hpp"
#include "eddy/task.hpp"

namespace eddy::http {

// The next piece of a streamed body; "" at the end.
using BodyPieces = std::function<Task<std::string>()>;

struct Body {
  std::string data;
  std::string content_type = "application/octet-stream";
  // When set, the body is streamed and `data` is not used: open() is called each time the
  // body is sent and gives the function that yields its pieces. With `length` the body is
  // sent with Content-Length (a source giving more or fewer bytes fails the request),
  // without it in chunked encoding.
  std::function<BodyPieces()> open{};
  std::optional<std::uint64_t> length{};

  bool streamed() const noexcept { return static_cast<bool>(open); }
};

Body json_body(const nlohmann::json& value);
Body form_body(const QueryParams& fields);  // application/x-www-form-urlencoded
Body text_body(std::string text);           // text/plain; charset=utf-8
Body stream_body(std::function<BodyPieces()> open,
                 std::string content_type = "application/octet-stream",
                 std::optional<std::uint64_t> length = std::nullopt);
// The file at `path`, read on the thread pool in 64 KiB pieces as it is sent. Its size is
// taken now (FileNotFoundError if it is missing); the Content-Type comes from the name.
Body file_body(std::string path, std::string content_type = {});

// A multipart/form-data body (an HTML form with file inputs, aiohttp's FormData): fields,
// in-memory files and files read from disk while sending. The body has an exact
// Content-Length, since file sizes are known when they are added.
class MultipartForm {
 public:
  MultipartForm();  // a random boundary
  MultipartForm& add(std::string name, std::string value);
  // A file part from disk; the filename sent defaults to the path's last component and the
  // Content-Type to one guessed from it. Throws FileNotFoundError if there is no such file.
  MultipartForm& add_file(std::string name, std::string path, std::string filename = {},
                          std::string content_type = {});
  MultipartForm& add_bytes(std::string name, std::string data, std::string filename,
                           std::string content_type = "application/octet-stream");

  const std::string& boundary() const noexcept { return boundary_; }
  Body body() const;

 private:
  struct Part {
    std::string head;  // "--boundary\r\nContent-Disposition: ...\r\n\r\n"
    std::string data;  // in memory, or
    std::string path;  // read from here
    std::uint64_t size = 0;
  };
  std::string boundary_;
  std::vector<Part> parts_;
};

}  // namespace eddy::http
