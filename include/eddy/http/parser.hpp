// The HTTP/1.1 message parser (RFC 9110, RFC 9112), shared by the server and the client.
//
//   http::HeadParser parser(limits);
//   http::RequestHead head;
//   std::size_t n = parser.parse_request(buffer, head);   // 0: the head is not all here yet
//   // head.method(), head.target(), head.headers, head.body, head.keep_alive ...
//   buffer.erase(0, n);
//   http::BodyDecoder body(head.body, head.content_length, limits);
//   while (!body.done()) { auto step = body.next(buffer, eof); ... step.data ... }
//
// Incremental: feed it the bytes received so far as often as they grow; it remembers how far
// it has looked for the end of the head, so a head that trickles in byte by byte costs linear
// time. Zero-copy: the head is copied once, into the Headers' own storage, and body data comes
// back as views into the caller's buffer.
//
// Strict, because leniency is how request smuggling happens. Each of these throws
// ProtocolError with the status a server answers (the connection must then be closed):
//   400  bare LF; obs-fold; whitespace before a colon; a non-token field name or method;
//        control characters in a value or the target; a malformed request line or version;
//        Transfer-Encoding together with Content-Length; differing Content-Lengths; a
//        non-numeric or overflowing length; a malformed chunk size, extension or chunk end;
//        Transfer-Encoding in HTTP/1.0; a final coding other than chunked; no or several Host
//        fields in HTTP/1.1
//   414  a request line over `max_request_line`
//   431  a head over `max_head_bytes` or with more than `max_headers` fields
//   413  a body over the limit the reader set (BodyDecoder's max_body)
//   417  an Expect other than 100-continue
//   501  a transfer coding other than chunked (gzip, ...)
//   505  an HTTP version other than 1.0 and 1.1
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "eddy/http/headers.hpp"

namespace eddy::http {

struct ParseLimits {
  std::size_t max_request_line = 8 * 1024;  // also the status line of a response
  std::size_t max_head_bytes = 32 * 1024;   // request line and every field, with CRLFs
  std::size_t max_headers = 100;
  std::size_t max_chunk_line = 1024;  // a chunk-size line with its extensions
  std::size_t max_trailer_bytes = 8 * 1024;
};

enum class BodyKind : std::uint8_t {
  none,         // no body at all (GET without framing, 204, 304, a response to HEAD)
  length,       // Content-Length bytes
  chunked,      // Transfer-Encoding: chunked
  until_close,  // a response without framing: everything until the peer closes
};

struct MessageHead {
  Headers headers;
  int version_minor = 1;  // HTTP/1.<version_minor>
  BodyKind body = BodyKind::none;
  std::uint64_t content_length = 0;  // with BodyKind::length
  bool keep_alive = true;            // from the version and Connection
  bool upgrade = false;              // Connection: upgrade with an Upgrade field

  void reset() noexcept;
};

struct RequestHead : MessageHead {
  std::string_view method() const noexcept { return view(method_off, method_len); }
  std::string_view target() const noexcept { return view(target_off, target_len); }
  bool expect_continue = false;

  std::uint32_t method_off = 0, method_len = 0, target_off = 0, target_len = 0;
  void reset() noexcept;

 private:
  std::string_view view(std::uint32_t off, std::uint32_t len) const noexcept {
    return {headers.raw().data() + off, len};
  }
};

struct ResponseHead : MessageHead {
  int status = 0;
  std::string_view reason() const noexcept {
    return {headers.raw().data() + reason_off, reason_len};
  }

  std::uint32_t reason_off = 0, reason_len = 0;
  void reset() noexcept;
};

class HeadParser {
 public:
  explicit HeadParser(const ParseLimits& limits = {}) : limits_(limits) {}

  // Parses the request head at the start of `buf`: its length once complete (then `out`
  // holds it), 0 while more bytes are needed. Throws ProtocolError.
  std::size_t parse_request(std::string_view buf, RequestHead& out);
  // Likewise for a response to a request with `request_method` (HEAD and CONNECT change how
  // the body is framed). A 1xx head is returned like any other: the caller reads on.
  std::size_t parse_response(std::string_view buf, ResponseHead& out,
                             std::string_view request_method = "GET");
  // Forgets the progress on a partial head. Not needed between messages: a complete parse
  // resets the parser for the next head.
  void reset() noexcept { scanned_ = start_ = lines_ = 0; }
  const ParseLimits& limits() const noexcept { return limits_; }

 private:
  std::size_t find_end(std::string_view buf, bool request);
  const char* take_head(std::string_view buf, std::size_t end, Headers& h);

  ParseLimits limits_;
  std::size_t scanned_ = 0;  // where the line being looked at starts
  std::size_t start_ = 0;    // where the start line starts (after skipped blank lines)
  std::size_t lines_ = 0;    // complete lines seen, the start line included
};

// Decodes a body's framing as bytes arrive: Content-Length counting, chunked decoding with
// trailers, or read-until-close.
class BodyDecoder {
 public:
  BodyDecoder() = default;
  // `max_body`: more decoded bytes than this throw ProtocolError(413).
  BodyDecoder(BodyKind kind, std::uint64_t length, const ParseLimits& limits = {},
              std::uint64_t max_body = UINT64_MAX);

  struct Step {
    std::size_t consumed = 0;  // bytes of the input used (framing and data)
    std::string_view data;     // body bytes: a view into the input, maybe empty
  };
  // Takes what it can from the front of `in`; `eof` says the peer has closed (ending an
  // until-close body, and making any other unfinished body an error). Call again with the
  // rest while consumed > 0 and !done().
  Step next(std::string_view in, bool eof);
  bool done() const noexcept { return state_ == State::done; }
  std::uint64_t received() const noexcept { return received_; }
  const Headers& trailers() const noexcept { return trailers_; }

 private:
  enum class State : std::uint8_t {
    length,
    chunk_size,
    chunk_data,
    chunk_crlf,
    trailers,
    until_close,
    done
  };
  std::size_t parse_chunk_size(std::string_view in);
  std::size_t parse_trailers(std::string_view in);
  void count(std::size_t n);

  State state_ = State::done;
  std::uint64_t remaining_ = 0;  // of the body (length) or of the chunk (chunk_data)
  std::uint64_t received_ = 0;
  std::uint64_t max_body_ = UINT64_MAX;
  std::size_t trailer_bytes_ = 0;
  ParseLimits limits_{};
  Headers trailers_;
};

}  // namespace eddy::http
