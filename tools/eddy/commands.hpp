// The `eddy` subcommands: what each takes (filled in by main.cpp from the command line) and
// the function that runs it and returns the exit status.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common.hpp"

namespace eddy::cli {

// eddy get URL: one request, the body on stdout (curl's everyday use, with aiohttp's defaults:
// redirects followed, gzip accepted).
struct GetArgs {
  ClientFlags client;
  std::string url;
  std::string method;    // -X; default GET, or POST with a body
  std::string data;      // -d: the body as given (application/x-www-form-urlencoded)
  std::string json;      // --json: the body as JSON (checked before sending)
  bool include = false;  // -i: the status line and headers first
  bool no_redirects = false;
  bool fail = false;   // -f: exit 22 on a status >= 400 (as curl)
  std::string output;  // -o FILE instead of stdout
};
int run_get(const GetArgs& a);

// eddy fetch [FILE|-]: every URL listed (one per line; blank lines and #comments skipped),
// `concurrency` at a time, each retried on connection errors and 429/5xx; then a summary.
struct FetchArgs {
  ClientFlags client;
  std::string input = "-";
  int concurrency = 10;
  int retries = 2;
  bool each = false;  // one line per URL on stdout: status, bytes, ms, URL (or the error)
};
int run_fetch(const FetchArgs& a);

// eddy bench URL: a load generator like wrk: `connections` kept-alive connections over
// `threads` loops for `duration` (or `requests` in all), then throughput and latency.
struct BenchArgs {
  ClientFlags client;
  std::string url;
  int connections = 64;
  int threads = 1;
  std::chrono::microseconds duration{10'000'000};
  std::uint64_t requests = 0;  // 0: until the duration is over
  std::string method = "GET";
  std::string data;
  std::vector<int> cpus;  // pin thread i to cpus[i % size]
};
int run_bench(const BenchArgs& a);

// eddy serve [DIR]: the directory over HTTP (index.html or a listing for directories).
struct ServeArgs {
  std::string dir = ".";
  std::string host = "127.0.0.1";
  int port = 8000;
  int workers = 1;
  bool quiet = false;  // no access log
};
int run_serve(const ServeArgs& a);

}  // namespace eddy::cli
