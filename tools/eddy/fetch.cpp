// eddy fetch: the articles' fetch_all as a tool. Every URL listed, N at a time over one
// session (so connections are reused per host), each retried with backoff on connection
// errors, timeouts and 429/5xx; a progress bar on a terminal; then what happened.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>

#include <fmt/format.h>
#include <eddy/eddy.hpp>

#include "commands.hpp"

namespace eddy::cli {
namespace {

std::vector<std::string> read_urls(const std::string& input) {
  std::ifstream file;
  std::istream* in = &std::cin;
  if (input != "-") {
    file.open(input);
    if (!file) throw UsageError("cannot read " + input);
    in = &file;
  }
  std::vector<std::string> urls;
  std::string line;
  while (std::getline(*in, line)) {
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos || line[b] == '#') continue;
    auto e = line.find_last_not_of(" \t\r");
    urls.push_back(line.substr(b, e - b + 1));
  }
  return urls;
}

// A failure's reason, short enough to count by (the summary groups failures by it).
std::string reason_of(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const TimeoutError& t) {
    std::string_view what = t.what();  // "sock_read timeout (5000 ms) on GET ..."
    return "timeout (" + std::string(what.substr(0, what.find(' '))) + ")";
  } catch (const ConnectionRefusedError&) {
    return "connection refused";
  } catch (const ConnectionResetError&) {
    return "connection reset";
  } catch (const ConnectionError&) {
    return "connection error";
  } catch (const net::DnsError&) {
    return "DNS lookup failed";
  } catch (const net::CertificateError&) {
    return "certificate rejected";
  } catch (const net::TlsError&) {
    return "TLS error";
  } catch (const http::UrlError&) {
    return "bad URL";
  } catch (const http::TooManyRedirects&) {
    return "too many redirects";
  } catch (const http::ProtocolError&) {
    return "bad response";
  } catch (const std::exception&) {
    return "error";
  }
}

struct Tally {
  std::size_t done = 0, ok = 0;
  std::map<std::string, std::size_t> failed;  // reason -> count
  Histogram latency;                          // microseconds, every answered URL
  std::uint64_t bytes = 0;
};

std::string progress_bar(const Tally& t, std::size_t total, double secs) {
  constexpr std::size_t kWidth = 30;
  std::size_t filled = total ? kWidth * t.done / total : kWidth;
  std::size_t failed = t.done - t.ok;
  return fmt::format("[{}{}] {}/{}  ok {}  failed {}  {:.1f} req/s", std::string(filled, '#'),
                     std::string(kWidth - filled, '.'), t.done, total, t.ok, failed,
                     secs > 0 ? double(t.done) / secs : 0.0);
}

Task<int> fetch_all(const FetchArgs& a, std::vector<std::string> urls) {
  http::SessionOptions so = a.client.session_options();
  so.connector.limit = static_cast<std::size_t>(a.concurrency);
  so.retry.attempts = a.retries + 1;
  so.retry.jitter = 0.2;
  so.retry.statuses = {429, 500, 502, 503, 504};
  so.retry.timeouts = true;
  http::Session session(so);
  Tally t;
  StatusLine status;
  std::size_t next = 0;
  auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };

  auto one = [&](std::size_t i) -> Task<> {
    const std::string& url = urls[i];
    auto t0 = std::chrono::steady_clock::now();
    std::string outcome;
    std::uint64_t size = 0;
    bool ok = false;
    try {
      http::ClientResponse r = co_await session.get(url);
      for (;;) {
        std::string_view piece = co_await r.read_chunk();
        if (piece.empty()) break;
        size += piece.size();
      }
      ok = r.status() < 400;
      outcome = std::to_string(r.status());
      if (!ok) ++t.failed["HTTP " + outcome];
    } catch (const Cancelled&) {
      throw;
    } catch (...) {
      outcome = reason_of(std::current_exception());
      ++t.failed[outcome];
    }
    auto us =
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    ++t.done;
    t.bytes += size;
    if (ok) {
      ++t.ok;
      t.latency.record(static_cast<std::uint64_t>(us));
    }
    if (a.each) {
      status.clear();
      std::printf("%s\t%llu\t%.1fms\t%s\n", outcome.c_str(), static_cast<unsigned long long>(size),
                  double(us) / 1000, url.c_str());
      std::fflush(stdout);
    }
  };
  auto worker = [&]() -> Task<> {
    while (next < urls.size()) co_await one(next++);
  };

  auto ticker = [&]() -> Task<> {  // the bar, redrawn until the last URL is done
    while (t.done < urls.size()) {
      status.show(progress_bar(t, urls.size(), elapsed()));
      co_await sleep(std::chrono::milliseconds(100));
    }
  };

  {
    TaskGroup workers;
    for (int w = 0; w < a.concurrency && w < static_cast<int>(urls.size()); ++w)
      workers.spawn(worker());
    if (status.enabled()) workers.spawn(ticker());
    co_await workers.join();
  }
  status.clear();
  double secs = elapsed();
  co_await session.close();

  std::printf("Fetched %zu URLs in %.2f s (%.1f req/s), %d at a time, up to %d retries each\n",
              urls.size(), secs, secs > 0 ? double(urls.size()) / secs : 0.0, a.concurrency,
              a.retries);
  std::printf("  ok      %zu\n  failed  %zu\n", t.ok, t.done - t.ok);
  std::vector<std::pair<std::string, std::size_t>> reasons(t.failed.begin(), t.failed.end());
  std::stable_sort(reasons.begin(), reasons.end(),
                   [](auto& x, auto& y) { return x.second > y.second; });
  for (auto& [why, n] : reasons) std::printf("    %-28s %zu\n", why.c_str(), n);
  std::printf("  received %.1f KiB\n", double(t.bytes) / 1024);
  if (t.latency.count()) {
    std::printf("\n");
    print_latency(stdout, t.latency);
  }
  co_return t.ok == urls.size() ? 0 : 1;
}

}  // namespace

int run_fetch(const FetchArgs& a) {
  std::vector<std::string> urls = read_urls(a.input);
  if (urls.empty()) throw UsageError("no URLs in " + (a.input == "-" ? "stdin" : a.input));
  return eddy::run(fetch_all(a, std::move(urls)));
}

}  // namespace eddy::cli
