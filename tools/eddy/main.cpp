// eddy: the command-line face of eddy's HTTP stack.
//
//   eddy get https://example.com/ -i                  # a request, the body on stdout
//   eddy fetch -c 20 --retries 3 urls.txt             # many URLs, N at a time, a summary
//   eddy bench http://127.0.0.1:8080/ -c 64 -d 10s    # a load generator like wrk
//   eddy serve ./public --port 8000                   # a static file server
//
// Exit status: 0 on success, 1 when a request (or any of them) failed, 2 for a usage error,
// 22 for `get -f` on an HTTP error status.
#include <cstdio>
#include <exception>

#include <CLI/CLI.hpp>

#include "commands.hpp"

namespace {

using namespace eddy::cli;

void client_flags(CLI::App* cmd, ClientFlags& f) {
  cmd->add_option("-H,--header", f.headers, "A request header, 'Name: value' (repeatable)");
  cmd->add_option("--timeout", f.timeout, "Seconds for each request, all included")
      ->capture_default_str();
  cmd->add_option("--connect-timeout", f.connect_timeout, "Seconds for each connect")
      ->capture_default_str();
  cmd->add_option("--cacert", f.cacert, "Trust only the CAs in this PEM file");
  cmd->add_option("--cert", f.cert, "A client certificate (PEM) to present");
  cmd->add_option("--key", f.key, "The client certificate's key (default: in --cert)");
  cmd->add_flag("-k,--insecure", f.insecure, "Do not verify TLS certificates");
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"eddy: HTTP from the command line, on eddy's client and server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "eddy 0.1.0");

  GetArgs get;
  auto* g = app.add_subcommand("get", "Make one request and print the body");
  g->add_option("url", get.url, "The URL")->required();
  g->add_option("-X,--request", get.method, "The method (default GET; POST with a body)");
  g->add_option("-d,--data", get.data, "A body, sent as a form (@FILE reads a file)");
  g->add_option("--json", get.json, "A JSON body (@FILE reads a file)");
  g->add_flag("-i,--include", get.include, "Print the status line and headers too");
  g->add_flag("--no-redirects", get.no_redirects, "Do not follow redirects");
  g->add_flag("-f,--fail", get.fail, "Exit with 22 on an HTTP status >= 400");
  g->add_option("-o,--output", get.output, "Write the body to FILE");
  client_flags(g, get.client);

  FetchArgs fetch;
  auto* f = app.add_subcommand("fetch", "Fetch every URL in FILE (or stdin), N at a time");
  f->add_option("file", fetch.input, "One URL per line; - for stdin")->capture_default_str();
  f->add_option("-c,--concurrency", fetch.concurrency, "Requests at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  f->add_option("--retries", fetch.retries, "Retries per URL (connection errors, 429, 5xx)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100));
  f->add_flag("--each", fetch.each, "Print a line per URL: status, bytes, ms, URL");
  client_flags(f, fetch.client);

  BenchArgs bench;
  std::string duration = "10s";
  auto* b = app.add_subcommand("bench", "Load-test a URL (like wrk)");
  b->add_option("url", bench.url, "The URL")->required();
  b->add_option("-c,--connections", bench.connections, "Connections kept open")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  b->add_option("-t,--threads", bench.threads, "Threads, each with its own loop")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  b->add_option("-d,--duration", duration, "How long (10s, 500ms, 2m)")->capture_default_str();
  b->add_option("-n,--requests", bench.requests, "Stop after this many requests");
  b->add_option("-X,--method", bench.method, "The method")->capture_default_str();
  b->add_option("--body", bench.data, "A request body");
  b->add_option("--cpus", bench.cpus, "Pin the threads to these CPUs");
  client_flags(b, bench.client);

  ServeArgs serve;
  auto* s = app.add_subcommand("serve", "Serve a directory over HTTP");
  s->add_option("dir", serve.dir, "The directory")
      ->capture_default_str()
      ->check(CLI::ExistingDirectory);
  s->add_option("--host", serve.host, "Address to listen on")->capture_default_str();
  s->add_option("-p,--port", serve.port, "Port (0: any free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  s->add_option("-w,--workers", serve.workers, "Threads sharing the port")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  s->add_flag("-q,--quiet", serve.quiet, "No access log");

  CLI11_PARSE(app, argc, argv);

  try {
    if (*g) return run_get(get);
    if (*f) return run_fetch(fetch);
    if (*b) {
      bench.duration = parse_duration(duration);
      return run_bench(bench);
    }
    if (*s) return run_serve(serve);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "eddy: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "eddy: %s\n", e.what());
    return 1;
  }
  return 2;
}
