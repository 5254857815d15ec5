// Small helpers shared by the test suites.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
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

}  // namespace eddy_test
