// What the `eddy` subcommands share: durations as people type them ("10s", "250ms"),
// latencies as people read them, -H header lines, TLS flags, and the terminal status line.
#pragma once

#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <eddy/http.hpp>

#include "histogram.hpp"

namespace eddy::cli {

// A command-line mistake: printed as "eddy: <what>" with exit status 2.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "10s", "1.5s", "250ms", "100us", "2m", "1h"; a bare number is seconds.
std::chrono::microseconds parse_duration(std::string_view text);
// 1234 us -> "1.23ms", 2500000 -> "2.50s".
std::string format_us(double us);
// "Name: value" -> into `headers`; UsageError if there is no colon.
void add_header_line(http::Headers& headers, std::string_view line);

// Flags every command that makes requests accepts.
struct ClientFlags {
  std::vector<std::string> headers;  // -H
  std::string cacert;                // --cacert FILE
  std::string cert, key;             // --cert/--key: a client certificate
  bool insecure = false;             // -k: no certificate verification
  double timeout = 30;               // --timeout SECONDS (total, per request)
  double connect_timeout = 10;       // --connect-timeout SECONDS

  // SessionOptions with these applied (headers, TLS context, timeouts).
  http::SessionOptions session_options() const;
};

// A line on stderr rewritten in place ("\r...\x1b[K"), only when stderr is a terminal.
class StatusLine {
 public:
  StatusLine();
  bool enabled() const { return tty_; }
  void show(const std::string& text);
  void clear();  // before printing anything else

 private:
  bool tty_;
  bool shown_ = false;
};

// The latency block `eddy bench` and `eddy fetch` print: percentiles, then a histogram of
// the values up to p99.9 in ten equal-width rows (the slowest 0.1% are counted in the last).
void print_latency(std::FILE* out, const Histogram& h);

}  // namespace eddy::cli
