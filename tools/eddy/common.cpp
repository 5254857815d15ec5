// Shared pieces of the `eddy` program (see common.hpp).
#include "common.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>

namespace eddy::cli {

std::chrono::microseconds parse_duration(std::string_view text) {
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  std::string_view unit(end);
  if (end == s.c_str() || !(v >= 0) || std::isinf(v))
    throw UsageError("not a duration: '" + s + "' (try 10s, 250ms, 2m)");
  double us;
  if (unit.empty() || unit == "s")
    us = v * 1e6;
  else if (unit == "ms")
    us = v * 1e3;
  else if (unit == "us")
    us = v;
  else if (unit == "m")
    us = v * 60e6;
  else if (unit == "h")
    us = v * 3600e6;
  else
    throw UsageError("unknown unit in duration '" + s + "' (use us, ms, s, m or h)");
  return std::chrono::microseconds(static_cast<std::int64_t>(us));
}

std::string format_us(double us) {
  if (us < 1000) return fmt::format("{:.0f}us", us);
  if (us < 1e6) return fmt::format("{:.2f}ms", us / 1e3);
  return fmt::format("{:.2f}s", us / 1e6);
}

void add_header_line(http::Headers& headers, std::string_view line) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos || colon == 0)
    throw UsageError("a header is 'Name: value', not '" + std::string(line) + "'");
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  headers.add(line.substr(0, colon), value);
}

http::SessionOptions ClientFlags::session_options() const {
  http::SessionOptions o;
  for (auto& h : headers) add_header_line(o.headers, h);
  auto ms = [](double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
  };
  o.timeout.total = ms(timeout);
  o.timeout.sock_connect = ms(connect_timeout);
  if (insecure || !cacert.empty() || !cert.empty()) {
    net::TlsClientOptions t;
    t.verify = !insecure;
    t.ca_file = cacert;
    t.cert_file = cert;
    t.key_file = key.empty() ? cert : key;
    o.connector.tls = net::TlsContext::client(t);
  }
  return o;
}

StatusLine::StatusLine() : tty_(::isatty(STDERR_FILENO) == 1) {}

void StatusLine::show(const std::string& text) {
  if (!tty_) return;
  std::fprintf(stderr, "\r%s\x1b[K", text.c_str());
  std::fflush(stderr);
  shown_ = true;
}

void StatusLine::clear() {
  if (!tty_ || !shown_) return;
  std::fprintf(stderr, "\r\x1b[K");
  std::fflush(stderr);
  shown_ = false;
}

void print_latency(std::FILE* out, const Histogram& h) {
  if (!h.count()) return;
  std::fprintf(out, "Latency     avg %s  stdev %s  min %s  max %s\n", format_us(h.mean()).c_str(),
               format_us(h.stdev()).c_str(), format_us(double(h.min())).c_str(),
               format_us(double(h.max())).c_str());
  std::fprintf(out, "Percentiles ");
  for (double p : {0.5, 0.75, 0.9, 0.99, 0.999})
    std::fprintf(out, " p%g %s", p * 100, format_us(double(h.percentile(p))).c_str());
  std::fprintf(out, "\n\nLatency histogram\n");
  // Ten equal-width rows from the minimum to p99.9; slower outliers join the last row.
  std::uint64_t lo = h.min(), hi = std::max(h.percentile(0.999), lo + 10);
  constexpr int kRows = 10;
  double width = double(hi - lo) / kRows;
  std::uint64_t n[kRows] = {};
  h.each([&](std::uint64_t v, std::uint64_t count) {
    int r = v <= lo ? 0 : static_cast<int>(double(v - lo) / width);
    n[std::min(r, kRows - 1)] += count;
  });
  std::uint64_t biggest = std::max<std::uint64_t>(1, *std::max_element(n, n + kRows));
  for (int r = 0; r < kRows; ++r) {
    double upto = r == kRows - 1 ? double(h.max()) : double(lo) + width * (r + 1);
    std::string bar(static_cast<std::size_t>(40.0 * double(n[r]) / double(biggest)), '#');
    std::fprintf(out, "  <= %9s  %10llu  %s\n", format_us(upto).c_str(),
                 static_cast<unsigned long long>(n[r]), bar.c_str());
  }
}

}  // namespace eddy::cli
