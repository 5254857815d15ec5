// Errors of the networking layer, beside eddy::OSError and eddy::ConnectionError
// (eddy/error.hpp), which sockets throw for failed system calls.
#pragma once

#include <cstddef>
#include <string>

#include "eddy/error.hpp"

namespace eddy::net {

// The stream ended before `expected` bytes (or a separator) arrived (asyncio's
// IncompleteReadError). `partial` holds what did arrive; it is no longer in the stream.
class IncompleteReadError : public Error {
 public:
  IncompleteReadError(std::string partial, std::size_t expected);
  std::string partial;
  std::size_t expected;  // 0 when a separator was expected
};

// A read_until/read_line found no separator within the stream's read limit, or read_to_eof
// met more than its maximum (asyncio's LimitOverrunError). Nothing was consumed: the data
// stays buffered, so the caller may still drain or reject it.
class LimitOverrunError : public Error {
 public:
  LimitOverrunError(const std::string& what, std::size_t consumed);
  std::size_t consumed;
};

// A name could not be resolved (Python's socket.gaierror). `not_found()` tells a name that
// does not exist (NXDOMAIN, or no address of the wanted family) from a failing resolver.
class DnsError : public Error {
 public:
  DnsError(const std::string& what, bool not_found);
  bool not_found() const noexcept { return not_found_; }

 private:
  bool not_found_;
};

// TLS failed: a handshake, a protocol error, a bad certificate file.
class TlsError : public Error {
 public:
  using Error::Error;
};

// The peer's certificate was not trusted or does not match the host name
// (ssl.SSLCertVerificationError); what() carries OpenSSL's reason.
class CertificateError : public TlsError {
 public:
  using TlsError::TlsError;
};

}  // namespace eddy::net
