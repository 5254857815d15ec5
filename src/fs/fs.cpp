// eddy::fs: blocking file system calls moved to the thread pool.
//
// A File's calls are serialised by a Lock and each runs as a small detached "runner" task
// that holds the lock until its thread call has finished. The caller waits for the runner;
// if the caller is cancelled first, the call is marked abandoned and the runner undoes what
// can be undone (bytes a read took go back to the front of the read buffer; a file opened for
// nobody is closed). Only the runner's thread touches the descriptor and the read buffer, one
// call at a time, so there is no data race and nothing is lost.
#include "eddy/fs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <stdexcept>
#include <type_traits>

#include "eddy/cancel.hpp"
#include "eddy/error.hpp"
#include "eddy/executor.hpp"
#include "eddy/runtime.hpp"
#include "eddy/sync.hpp"

namespace eddy::fs {

static_assert(std::is_trivially_copyable_v<WriteOptions>,
              "WriteOptions is built in co_await expressions: see GCC 12 in docs/ARCHITECTURE.md");

namespace detail {

struct FileState {
  std::string path;
  int fd = -1;       // touched by thread calls only (and the destructor)
  std::string rbuf;  // read ahead of the caller's position
  bool eof = false;
  bool closed = false;  // loop side: close() was called
  eddy::Lock lock;
  ~FileState() {
    if (fd >= 0) ::close(fd);
  }
};

namespace {

constexpr std::size_t kChunk = 64 * 1024;

struct Call {
  std::function<void(FileState&)> work;
  std::function<void(FileState&)> undo;  // on the loop, if the caller gave up
  std::exception_ptr error;
  bool abandoned = false;
  eddy::Event done;
};

void run_work(std::shared_ptr<FileState> s, std::shared_ptr<Call> c) {
  try {
    c->work(*s);
  } catch (...) {
    c->error = std::current_exception();
  }
}

Task<> runner(std::shared_ptr<FileState> s, std::shared_ptr<Call> c, eddy::Lock::Guard guard) {
  try {
    // The thread keeps its own references: if this task is destroyed at loop shutdown, the
    // call still finishes safely.
    // Shielded: even at loop exit the lock is held until the thread has really finished, so
    // two thread calls never touch one file at once.
    co_await eddy::shield(eddy::to_thread(&run_work, s, c));
  } catch (...) {
    c->error = std::current_exception();
  }
  if (c->abandoned && c->undo && !c->error) c->undo(*s);
  guard = {};  // the next call may start
  c->done.set();
}

// Runs `c` under the file's lock and waits for it.
Task<> dispatch(std::shared_ptr<FileState> s, std::shared_ptr<Call> c) {
  auto guard = co_await s->lock.acquire();
  eddy::spawn(runner(s, c, std::move(guard)));
  try {
    co_await c->done.wait();
  } catch (const Cancelled&) {
    c->abandoned = true;
    throw;
  }
  if (c->error) std::rethrow_exception(c->error);
}

[[noreturn]] void fail(const std::string& what, const std::string& path) {
  throw_os_error(errno, what + " " + path);
}

// Reads until `want` bytes are buffered or EOF.
void fill(FileState& st, std::size_t want) {
  while (st.rbuf.size() < want && !st.eof) {
    std::size_t chunk = kChunk;
    if (want == SIZE_MAX) {
      struct stat sb;
      if (::fstat(st.fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
        chunk = std::max<std::size_t>(chunk, static_cast<std::size_t>(sb.st_size) + 1);
    } else {
      chunk = std::max(chunk, want - st.rbuf.size());
    }
    std::size_t old = st.rbuf.size();
    st.rbuf.resize(old + chunk);
    ssize_t n;
    do {
      n = ::read(st.fd, st.rbuf.data() + old, chunk);
    } while (n < 0 && errno == EINTR);
    st.rbuf.resize(old + static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
    if (n < 0) fail("read", st.path);
    if (n == 0) st.eof = true;
  }
}

std::string take(FileState& st, std::size_t n) {
  n = std::min(n, st.rbuf.size());
  std::string out = st.rbuf.substr(0, n);
  st.rbuf.erase(0, n);
  return out;
}

void write_all(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Read-ahead moved the descriptor past the caller's position: move it back before a write
// or a relative seek, as Python's buffered files do.
void drop_read_ahead(FileState& st) {
  if (!st.rbuf.empty()) {
    if (::lseek(st.fd, -static_cast<off_t>(st.rbuf.size()), SEEK_CUR) < 0) fail("seek", st.path);
    st.rbuf.clear();
  }
  st.eof = false;
}

int parse_mode(const std::string& mode) {
  int flags = 0;
  bool plus = false;
  char kind = 0;
  for (char ch : mode) {
    if (ch == '+') {
      plus = true;
    } else if (ch == 'b') {
    } else if ((ch == 'r' || ch == 'w' || ch == 'a' || ch == 'x') && !kind) {
      kind = ch;
    } else {
      throw std::invalid_argument("eddy::fs: invalid file mode '" + mode + "'");
    }
  }
  switch (kind) {
    case 'r':
      flags = plus ? O_RDWR : O_RDONLY;
      break;
    case 'w':
      flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC;
      break;
    case 'a':
      flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND;
      break;
    case 'x':
      flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_EXCL;
      break;
    default:
      throw std::invalid_argument("eddy::fs: invalid file mode '" + mode + "'");
  }
  return flags | O_CLOEXEC;
}

std::string read_whole(std::string path) {
  FileState st;
  st.path = std::move(path);
  st.fd = ::open(st.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (st.fd < 0) fail("open", st.path);
  fill(st, SIZE_MAX);
  return std::move(st.rbuf);
}

void write_whole(std::string path, std::string data, WriteOptions o) {
  if (o.atomic && o.append)
    throw std::invalid_argument("eddy::fs: atomic and append exclude each other");
  if (!o.atomic) {
    int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (o.append ? O_APPEND : O_TRUNC);
    int fd = ::open(path.c_str(), flags, o.mode);
    if (fd < 0) fail("open", path);
    try {
      write_all(fd, data, path);
      if (o.sync && ::fsync(fd) < 0) fail("fsync", path);
    } catch (...) {
      ::close(fd);
      throw;
    }
    if (::close(fd) < 0) fail("close", path);
    return;
  }
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) fail("create a temporary file for", path);
  try {
    write_all(fd, data, tmp);
    if (::fchmod(fd, o.mode) < 0) fail("chmod", tmp);
    if (::fsync(fd) < 0) fail("fsync", tmp);
    if (::close(fd) < 0) {
      fd = -1;
      fail("close", tmp);
    }
    fd = -1;
    if (::rename(tmp.c_str(), path.c_str()) < 0) fail("rename " + tmp + " to", path);
  } catch (...) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    throw;
  }
  if (o.sync) {  // make the rename itself durable
    std::string dir =
        path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/') + 1);
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
}

bool path_exists(std::string path) {
  struct stat sb;
  return ::stat(path.c_str(), &sb) == 0;
}

std::uint64_t path_size(std::string path) {
  struct stat sb;
  if (::stat(path.c_str(), &sb) < 0) fail("stat", path);
  return static_cast<std::uint64_t>(sb.st_size);
}

void unlink_path(std::string path) {
  if (::unlink(path.c_str()) < 0) fail("remove", path);
}

void rename_path(std::string from, std::string to) {
  if (::rename(from.c_str(), to.c_str()) < 0) fail("rename " + from + " to", to);
}

}  // namespace

}  // namespace detail

using detail::Call;
using detail::FileState;

Task<std::string> read_file(std::string path) {
  co_return co_await to_thread(&detail::read_whole, std::move(path));
}

Task<> write_file(std::string path, std::string data, WriteOptions options) {
  co_await to_thread(&detail::write_whole, std::move(path), std::move(data), options);
}

Task<bool> exists(std::string path) {
  co_return co_await to_thread(&detail::path_exists, std::move(path));
}

Task<std::uint64_t> file_size(std::string path) {
  co_return co_await to_thread(&detail::path_size, std::move(path));
}

Task<> remove(std::string path) {
  co_await to_thread(&detail::unlink_path, std::move(path));
}

Task<> rename(std::string from, std::string to) {
  co_await to_thread(&detail::rename_path, std::move(from), std::move(to));
}

File::File() noexcept = default;
File::File(File&&) noexcept = default;
File& File::operator=(File&&) noexcept = default;
File::~File() = default;  // the state closes the descriptor when its last call is done

namespace {
std::shared_ptr<FileState> checked(const std::shared_ptr<FileState>& s) {
  if (!s || s->closed) throw InvalidStateError("eddy::fs: I/O on a closed file");
  return s;
}
}  // namespace

Task<File> File::open(std::string path, std::string mode) {
  int flags = detail::parse_mode(mode);
  File f;
  f.s_ = std::make_shared<FileState>();
  f.s_->path = std::move(path);
  auto call = std::make_shared<Call>();
  call->work = [flags](FileState& st) {
    st.fd = ::open(st.path.c_str(), flags, 0644);
    if (st.fd < 0) detail::fail("open", st.path);
  };
  co_await detail::dispatch(f.s_, call);  // abandoned: the state (and fd) dies with the runner
  co_return f;
}

Task<std::string> File::read(std::size_t max) {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  auto out = std::make_shared<std::string>();
  call->work = [max, out](FileState& st) {
    detail::fill(st, max);
    *out = detail::take(st, max);
  };
  call->undo = [out](FileState& st) { st.rbuf.insert(0, *out); };
  co_await detail::dispatch(s, call);
  co_return std::move(*out);
}

Task<std::string> File::read_line() {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  auto out = std::make_shared<std::string>();
  call->work = [out](FileState& st) {
    std::size_t scanned = 0;
    for (;;) {
      std::size_t nl = st.rbuf.find('\n', scanned);
      if (nl != std::string::npos) {
        *out = detail::take(st, nl + 1);
        return;
      }
      scanned = st.rbuf.size();
      if (st.eof) {
        *out = detail::take(st, st.rbuf.size());
        return;
      }
      detail::fill(st, st.rbuf.size() + 1);
    }
  };
  call->undo = [out](FileState& st) { st.rbuf.insert(0, *out); };
  co_await detail::dispatch(s, call);
  co_return std::move(*out);
}

AsyncGenerator<std::string> File::lines() {
  for (;;) {
    std::string line = co_await read_line();
    if (line.empty()) co_return;
    co_yield std::move(line);
  }
}

Task<> File::write(std::string data) {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  call->work = [data = std::move(data)](FileState& st) {
    detail::drop_read_ahead(st);
    detail::write_all(st.fd, data, st.path);
  };
  co_await detail::dispatch(s, call);
}

Task<> File::sync() {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  call->work = [](FileState& st) {
    if (::fsync(st.fd) < 0) detail::fail("fsync", st.path);
  };
  co_await detail::dispatch(s, call);
}

Task<std::uint64_t> File::seek(std::int64_t offset, int whence) {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  auto pos = std::make_shared<std::uint64_t>(0);
  call->work = [offset, whence, pos](FileState& st) {
    detail::drop_read_ahead(st);
    off_t r = ::lseek(st.fd, static_cast<off_t>(offset), whence);
    if (r < 0) detail::fail("seek", st.path);
    *pos = static_cast<std::uint64_t>(r);
  };
  co_await detail::dispatch(s, call);
  co_return *pos;
}

Task<std::uint64_t> File::size() {
  auto s = checked(s_);
  auto call = std::make_shared<Call>();
  auto size = std::make_shared<std::uint64_t>(0);
  call->work = [size](FileState& st) {
    struct stat sb;
    if (::fstat(st.fd, &sb) < 0) detail::fail("stat", st.path);
    *size = static_cast<std::uint64_t>(sb.st_size);
  };
  co_await detail::dispatch(s, call);
  co_return *size;
}

Task<> File::close() {
  if (!s_ || s_->closed) co_return;
  auto s = s_;
  s->closed = true;  // no new calls; the ones queued before still run
  auto call = std::make_shared<Call>();
  call->work = [](FileState& st) {
    int fd = std::exchange(st.fd, -1);
    if (fd >= 0 && ::close(fd) < 0 && errno != EINTR) detail::fail("close", st.path);
  };
  co_await detail::dispatch(s, call);
}

bool File::is_open() const noexcept {
  return s_ && !s_->closed;
}

const std::string& File::path() const noexcept {
  static const std::string empty;
  return s_ ? s_->path : empty;
}

}  // namespace eddy::fs
