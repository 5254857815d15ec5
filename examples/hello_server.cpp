// The TechEmpower-style benchmark server, and the smallest http::App.
//
//   hello_server --port 8080 [--workers N]   GET / or /plaintext: "Hello, World!" (text/plain)
//                                            GET /json: {"message":"Hello, World!"}
//   hello_server --self-test                 serve on a free port, check both routes, exit 0
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <eddy/net.hpp>
#include <string>

namespace http = eddy::http;
using eddy::Task;

http::App make_app() {
  http::App app;
  auto hello = [](http::Request&) -> Task<http::Response> {
    co_return http::Response::text("Hello, World!");
  };
  app.get("/", hello);
  app.get("/plaintext", hello);
  app.get("/json", [](http::Request&) -> Task<http::Response> {
    co_return http::Response::json({{"message", "Hello, World!"}});
  });
  return app;
}

// Asks over a raw socket, so the check depends on nothing but the server under test.
Task<std::string> fetch(std::uint16_t port, std::string path) {
  auto s = co_await eddy::net::open_connection("127.0.0.1", port);
  s.write("GET " + path + " HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
  co_return co_await s.read_to_eof();
}

Task<int> self_test() {
  http::App app = make_app();
  http::ServerOptions opts;
  opts.port = 0;
  http::Server srv = co_await http::serve(app, opts);
  std::string plain = co_await fetch(srv.port(), "/");
  std::string json = co_await fetch(srv.port(), "/json");
  std::string missing = co_await fetch(srv.port(), "/nope");
  co_await srv.shutdown();
  bool ok = plain.starts_with("HTTP/1.1 200 OK\r\n") && plain.ends_with("\r\n\r\nHello, World!") &&
            plain.find("Content-Type: text/plain") != std::string::npos &&
            json.ends_with("\r\n\r\n{\"message\":\"Hello, World!\"}") &&
            json.find("Content-Type: application/json") != std::string::npos &&
            missing.starts_with("HTTP/1.1 404 Not Found\r\n");
  std::printf("%s\n--\n%s\n--\n%s\n", plain.c_str(), json.c_str(), missing.c_str());
  co_return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  http::ServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test")) return eddy::run(self_test());
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
      opts.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc) {
      opts.workers = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--host") && i + 1 < argc) {
      opts.host = argv[++i];
    } else if (!std::strcmp(argv[i], "--access-log")) {
      opts.access_log = true;
    } else {
      std::fprintf(stderr,
                   "usage: %s [--port N] [--workers N] [--host H] [--access-log] | --self-test\n",
                   argv[0]);
      return 2;
    }
  }
  http::run_app(make_app, opts);
}
