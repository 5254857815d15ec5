// Small helpers shared by the test suites.
#pragma once

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "eddy/eddy.hpp"

namespace eddy_test {

// A task that finishes with `v` after `d`.
inline eddy::Task<int> after(eddy::Duration d, int v) {
  co_await eddy::sleep(d);
  co_return v;
}

// A task that fails with an exception of type E carrying `msg` after `d`.
template <class E = std::runtime_error>
eddy::Task<int> fail_after(eddy::Duration d, std::string msg) {
  co_await eddy::sleep(d);
  throw E(msg);
}

// Collects what the loop logs (RunOptions::log) for later inspection.
struct LogCapture {
  std::vector<std::string> lines;
  auto sink() {
    return [this](std::string_view s) { lines.emplace_back(s); };
  }
  // True if one logged line contains every one of `parts`.
  bool has(std::initializer_list<std::string_view> parts) const {
    for (const auto& l : lines) {
      bool all = true;
      for (auto p : parts) all = all && l.find(p) != std::string::npos;
      if (all) return true;
    }
    return false;
  }
};

// Descriptors open in this process (for leak checks around cancelled operations).
inline std::size_t open_fd_count() {
  std::size_t n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// Runs `cmd` with /bin/sh and returns (exit status, what it printed on stdout). It blocks:
// call it through eddy::to_thread(run_command, cmd).
inline std::pair<int, std::string> run_command(std::string cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// A real peer running in the background (openssl s_server, a Python server), started with
// /bin/sh -c and killed when this goes away.
class Process {
 public:
  explicit Process(const std::string& cmd) {
    std::string line = "exec " + cmd;
    const char* argv[] = {"/bin/sh", "-c", line.c_str(), nullptr};
    if (::posix_spawn(&pid_, "/bin/sh", nullptr, nullptr, const_cast<char**>(argv), ::environ) != 0)
      throw std::runtime_error("cannot start: " + cmd);
  }
  ~Process() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  pid_t pid() const noexcept { return pid_; }

 private:
  pid_t pid_ = -1;
};

// A fresh temporary directory, removed with everything in it when this goes away.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/eddy-test-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const noexcept { return path_; }
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

}  // namespace eddy_test

#if __has_include("eddy/net/address.hpp")
#include <ostream>

#include "eddy/net/address.hpp"
namespace eddy::net {
// So GoogleTest prints addresses as "127.0.0.1:80" in failures.
inline void PrintTo(const SocketAddress& a, std::ostream* os) {
  *os << a.to_string();
}
}  // namespace eddy::net
#endif

// A coroutine test on the real clock, for tests that wait on real I/O from other processes
// (on the virtual clock, a timeout would fire before a real peer could answer). The body
// gets 60 s; a hang fails the test instead of stalling the suite.
#define EDDY_REAL_TEST(suite, name)                                                          \
  static ::eddy::Task<void> eddy_real_body_##suite##_##name();                               \
  TEST(suite, name) {                                                                        \
    ::eddy::run([]() -> ::eddy::Task<void> {                                                 \
      co_await ::eddy::timeout(std::chrono::seconds(60), eddy_real_body_##suite##_##name()); \
    }());                                                                                    \
  }                                                                                          \
  static ::eddy::Task<void> eddy_real_body_##suite##_##name()
