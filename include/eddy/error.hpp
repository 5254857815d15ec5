// eddy's error hierarchy.
//
// Everything a caller may want to handle derives from `eddy::Error` (a std::runtime_error).
// `eddy::Cancelled` deliberately does not: it is how cancellation unwinds a task, and a
// `catch (const std::exception&)` written to log and swallow errors must never swallow it
// (the lesson of Python's CancelledError moving to BaseException).
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace eddy {

// Thrown at a task's current await point when the task, or a cancel scope it is inside, is
// cancelled. Let it propagate: cleanup runs in destructors and `catch (...) { ...; throw; }`.
struct Cancelled {
  const char* what() const noexcept { return "eddy::Cancelled"; }
};

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A deadline set by `timeout`/`timeout_at` expired (asyncio.TimeoutError).
class TimeoutError : public Error {
 public:
  TimeoutError() : Error("operation timed out") {}
  using Error::Error;
};

// Awaiting or asking the result of a task that was cancelled (it did not fail, and the
// awaiting task was not itself cancelled, so this is not `Cancelled`).
class TaskCancelled : public Error {
 public:
  using Error::Error;
};

// A result was asked of a task that has not finished (asyncio.InvalidStateError).
class InvalidStateError : public Error {
 public:
  using Error::Error;
};

// Several tasks of one TaskGroup failed; every failure is kept, in the order they happened.
class ExceptionGroup : public Error {
 public:
  explicit ExceptionGroup(std::vector<std::exception_ptr> errors);
  const std::vector<std::exception_ptr>& exceptions() const noexcept { return errors_; }
  std::size_t size() const noexcept { return errors_.size(); }
  // Rethrows the first failure; handy when a caller only cares about the first cause.
  [[noreturn]] void rethrow_first() const { std::rethrow_exception(errors_.front()); }

 private:
  std::vector<std::exception_ptr> errors_;
};

// A system call failed (Python's OSError): `code()` is the errno value, `what()` says what
// was being done and to what ("connect to 10.0.0.1:80: Connection refused").
class OSError : public Error {
 public:
  OSError(int code, const std::string& what);
  int code() const noexcept { return code_; }

 private:
  int code_;
};

// The peer refused, reset or closed the connection, or it broke (Python's ConnectionError).
class ConnectionError : public OSError {
 public:
  using OSError::OSError;
};
class ConnectionRefusedError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
class ConnectionResetError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};
class BrokenPipeError : public ConnectionError {
 public:
  using ConnectionError::ConnectionError;
};

// Files (Python's names): ENOENT, EEXIST, EACCES/EPERM.
class FileNotFoundError : public OSError {
 public:
  using OSError::OSError;
};
class FileExistsError : public OSError {
 public:
  using OSError::OSError;
};
class PermissionError : public OSError {
 public:
  using OSError::OSError;
};

// Throws the OSError subclass that fits `code` (ECONNREFUSED -> ConnectionRefusedError, ...),
// with the message "<what>: <strerror>".
[[noreturn]] void throw_os_error(int code, const std::string& what);

// Describes an exception_ptr for logs: its what(), or a placeholder for non-std exceptions.
std::string describe(const std::exception_ptr& e);

}  // namespace eddy
