// Files without blocking the loop (aiofiles): every call runs its system calls on the default
// thread pool, so a slow disk stalls only the task that waits for it.
//
//   std::string cfg = co_await eddy::fs::read_file("/etc/app.toml");
//   co_await eddy::fs::write_file("state.json", json, {.atomic = true});   // all or nothing
//
//   auto f = co_await eddy::fs::File::open("access.log");
//   auto lines = f.lines();
//   while (auto line = co_await lines.next()) count(*line);
//
// Cancellation: awaiting any call is a cancellation point, but a system call already handed
// to a thread finishes there (threads cannot be interrupted). A cancelled read loses nothing:
// what it read stays buffered in the File for the next read. A cancelled write may still
// happen. Calls on one File run one at a time, in the order made, even across cancellations.
//
// Errors are eddy::OSError subclasses, as in Python: FileNotFoundError, FileExistsError,
// PermissionError, each naming the path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "eddy/generator.hpp"
#include "eddy/task.hpp"

namespace eddy::fs {

struct WriteOptions {
  // Write a temporary file beside the target, fsync it and rename it over the target: readers
  // see the old content or the new, never a mix, even after a crash.
  bool atomic = false;
  bool sync = false;    // fsync before returning (implied by atomic for the data)
  bool append = false;  // add to the end instead of replacing (not with atomic)
  mode_t mode = 0644;   // permissions of a file this creates
};

// The whole file. Throws FileNotFoundError and friends.
Task<std::string> read_file(std::string path);
Task<> write_file(std::string path, std::string data, WriteOptions options = {});

Task<bool> exists(std::string path);
Task<std::uint64_t> file_size(std::string path);
Task<> remove(std::string path);  // FileNotFoundError if it is not there
Task<> rename(std::string from, std::string to);

namespace detail {
struct FileState;
}

class File {
 public:
  File() noexcept;
  File(File&&) noexcept;
  File& operator=(File&&) noexcept;
  // Closes the descriptor (once no call of this File is running on a thread any more).
  ~File();

  // Python's modes: "r", "w" (truncate), "a" (append), "x" (create, fail if it exists),
  // each with an optional "+" for reading and writing; "b" is accepted and ignored.
  static Task<File> open(std::string path, std::string mode = "r");

  // Up to `max` bytes (default: the rest of the file); "" at EOF.
  Task<std::string> read(std::size_t max = SIZE_MAX);
  // One line including its '\n' (the last may lack it); "" at EOF.
  Task<std::string> read_line();
  // Every remaining line, one per next(). The File must outlive the generator.
  AsyncGenerator<std::string> lines();
  Task<> write(std::string data);
  // fsync: the data is on disk when this returns.
  Task<> sync();
  // Moves the position (SEEK_SET/SEEK_CUR/SEEK_END); returns the new offset.
  Task<std::uint64_t> seek(std::int64_t offset, int whence = SEEK_SET);
  Task<std::uint64_t> size();
  Task<> close();

  bool is_open() const noexcept;
  const std::string& path() const noexcept;

 private:
  std::shared_ptr<detail::FileState> s_;
};

}  // namespace eddy::fs
