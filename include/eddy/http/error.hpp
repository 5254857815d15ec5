// The errors of eddy's HTTP layer.
//
//   ProtocolError   the peer broke HTTP/1.1 (a malformed or smuggling-shaped message, a limit
//                   exceeded). `status()` is what a server answers with: 400, 413, 414, 431,
//                   501 or 505. The connection cannot be trusted afterwards and is closed.
//   HttpException   thrown by a handler to answer with a status (aiohttp's web.HTTPNotFound and
//                   friends): `throw http::HttpException(404)` or with a body and headers.
#pragma once

#include <string>

#include "eddy/error.hpp"
#include "eddy/http/headers.hpp"

namespace eddy::http {

class HttpError : public Error {
 public:
  using Error::Error;
};

class ProtocolError : public HttpError {
 public:
  ProtocolError(int status, const std::string& what) : HttpError(what), status_(status) {}
  int status() const noexcept { return status_; }

 private:
  int status_;
};

class HttpException : public HttpError {
 public:
  // The body defaults to the reason phrase, as text/plain.
  explicit HttpException(int status, std::string body = {}, Headers headers = {});
  int status() const noexcept { return status_; }
  const std::string& body() const noexcept { return body_; }
  const Headers& headers() const noexcept { return headers_; }

 private:
  int status_;
  std::string body_;
  Headers headers_;
};

}  // namespace eddy::http
