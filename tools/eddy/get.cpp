// eddy get: one request, the body streamed to stdout (or -o FILE) as it arrives.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>

#include <eddy/eddy.hpp>
#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace eddy::cli {
namespace {

// "@path" reads the file; anything else is the text itself (curl's -d convention).
std::string data_argument(const std::string& arg) {
  if (!arg.starts_with("@")) return arg;
  std::ifstream in(arg.substr(1), std::ios::binary);
  if (!in) throw UsageError("cannot read " + arg.substr(1));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Task<int> get(const GetArgs& a, std::FILE* out) {
  http::Session session(a.client.session_options());
  http::RequestOptions o;
  if (!a.json.empty()) {
    auto v = nlohmann::json::parse(data_argument(a.json), nullptr, false);
    if (v.is_discarded()) throw UsageError("--json: not valid JSON");
    o.body = http::json_body(v);
  } else if (!a.data.empty()) {
    o.body = http::Body{data_argument(a.data), "application/x-www-form-urlencoded"};
  }
  o.allow_redirects = !a.no_redirects;
  std::string method = a.method.empty() ? (o.body ? "POST" : "GET") : a.method;
  http::ClientResponse r = co_await session.request(method, a.url, std::move(o));
  if (a.include) {
    std::fprintf(out, "HTTP/1.1 %d %.*s\n", r.status(), static_cast<int>(r.reason().size()),
                 r.reason().data());
    for (auto [name, value] : r.headers())
      std::fprintf(out, "%.*s: %.*s\n", static_cast<int>(name.size()), name.data(),
                   static_cast<int>(value.size()), value.data());
    std::fprintf(out, "\n");
  }
  for (;;) {
    std::string_view piece = co_await r.read_chunk();
    if (piece.empty()) break;
    if (std::fwrite(piece.data(), 1, piece.size(), out) != piece.size())
      throw std::runtime_error("cannot write the body");
  }
  std::fflush(out);
  co_await session.close();
  co_return a.fail&& r.status() >= 400 ? 22 : 0;
}

}  // namespace

int run_get(const GetArgs& a) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(nullptr, &std::fclose);
  std::FILE* out = stdout;
  if (!a.output.empty()) {
    file.reset(std::fopen(a.output.c_str(), "wb"));
    if (!file) throw UsageError("cannot write " + a.output);
    out = file.get();
  }
  return eddy::run(get(a, out));
}

}  // namespace eddy::cli
