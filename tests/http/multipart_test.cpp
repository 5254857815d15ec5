// multipart/form-data: the parser on its own (every split of the input gives the same parts;
// each malformed shape is a 400) and uploads from curl -F to a server streaming them.
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

namespace http = eddy::http;
using eddy::Task;

namespace {

struct Got {
  std::string name, filename, type, data;
  bool operator==(const Got&) const = default;
};

// Feeds `body` in pieces of `step` bytes and collects every part.
std::vector<Got> parse(std::string_view boundary, std::string_view body, std::size_t step,
                       http::MultipartLimits limits = {}) {
  http::MultipartParser p{std::string(boundary), limits};
  std::vector<Got> out;
  std::size_t fed = 0;
  for (;;) {
    auto ev = p.poll();
    switch (ev.kind) {
      case http::MultipartParser::Kind::need_more:
        if (fed >= body.size()) {
          p.feed_eof();
        } else {
          p.feed(body.substr(fed, step));
          fed += step;
        }
        break;
      case http::MultipartParser::Kind::part:
        out.push_back({p.part().name, p.part().filename.value_or("-"), p.part().content_type, ""});
        break;
      case http::MultipartParser::Kind::data:
        out.back().data.append(ev.data);
        break;
      case http::MultipartParser::Kind::part_end:
        break;
      case http::MultipartParser::Kind::done:
        return out;
    }
  }
}

int status_of(std::string_view boundary, std::string_view body, http::MultipartLimits l = {}) {
  try {
    parse(boundary, body, 7, l);
  } catch (const http::ProtocolError& e) {
    return e.status();
  }
  return 0;
}

const std::string kBody =
    "preamble to ignore\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"title\"\r\n"
    "\r\n"
    "Hello\r\nWorld\r\n"
    "--XyZ  \r\n"
    "Content-Disposition: form-data; name=\"file\"; filename=\"a \\\"q\\\".txt\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "--XyZ is not a delimiter without CRLF before it\r\n-XyZ neither\r\n"
    "--XyZ\r\n"
    "Content-Disposition: form-data; name=\"u\"; filename*=UTF-8''%C3%A9t%C3%A9.txt\r\n"
    "\r\n"
    "\r\n"
    "--XyZ--\r\n"
    "epilogue to ignore";

}  // namespace

TEST(Multipart, ParsesPartsWhateverTheSplit) {
  std::vector<Got> want = {
      {"title", "-", "text/plain", "Hello\r\nWorld"},
      {"file", "a \"q\".txt", "application/octet-stream",
       "--XyZ is not a delimiter without CRLF before it\r\n-XyZ neither"},
      {"u", "été.txt", "text/plain", ""},
  };
  EXPECT_EQ(parse("XyZ", kBody, kBody.size()), want);
  for (std::size_t step = 1; step < 40; ++step)
    EXPECT_EQ(parse("XyZ", kBody, step), want) << "fed " << step << " bytes at a time";
}

TEST(Multipart, BodyMayStartWithTheBoundary) {
  std::string body = "--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--";
  for (std::size_t step = 1; step <= body.size(); ++step)
    EXPECT_EQ(parse("b", body, step), (std::vector<Got>{{"x", "-", "text/plain", "1"}}));
}

TEST(Multipart, MalformedBodiesAre400) {
  std::string part = "Content-Disposition: form-data; name=x\r\n\r\nv\r\n";
  EXPECT_EQ(status_of("b", "no boundary at all"), 400);
  EXPECT_EQ(status_of("b", "--b\r\n" + part), 400) << "no closing delimiter";
  EXPECT_EQ(status_of("b", "--b\r\nContent-Type: text/plain\r\n\r\nv\r\n--b--"), 400)
      << "no Content-Disposition";
  EXPECT_EQ(status_of("b", "--b\r\nContent-Disposition: attachment; name=x\r\n\r\nv\r\n--b--"),
            400);
  EXPECT_EQ(status_of("b", "--b\r\nContent-Disposition: form-data\r\n\r\nv\r\n--b--"), 400)
      << "no name";
  EXPECT_EQ(status_of("b", "--b\r\nContent-Disposition: form-data; name=x\r\n folded\r\n\r\n--b--"),
            400);
  EXPECT_EQ(status_of("b", "--bjunk\r\n" + part + "--b--"), 400) << "garbage after a boundary";
  EXPECT_EQ(status_of("b", "--b\r\nX: " + std::string(9000, 'a') + "\r\n" + part + "--b--"), 400);
  std::string many;
  for (int i = 0; i < 4; ++i) many += "--b\r\n" + part;
  EXPECT_EQ(status_of("b", many + "--b--", {.max_parts = 3}), 400);
  EXPECT_EQ(status_of("b", many + "--b--", {.max_parts = 4}), 0);
}

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(http::multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(http::multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b:c\""),
            "a b:c");
  EXPECT_EQ(http::multipart_boundary("multipart/form-data"), "");
  EXPECT_EQ(http::multipart_boundary("text/plain; boundary=abc"), "");
  EXPECT_EQ(http::multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'x')), "");
}

EDDY_REAL_TEST(Multipart, CurlUploadIsStreamed) {
  http::App app;
  app.post("/upload", [](http::Request& req) -> Task<http::Response> {
    http::MultipartReader form(req);
    std::string out;
    while (auto part = co_await form.next()) {
      std::size_t n = 0, biggest = 0;
      for (;;) {
        std::string_view d = co_await form.read_chunk();
        if (d.empty()) break;
        n += d.size();
        biggest = std::max(biggest, d.size());
      }
      out += part->name + "=" + part->filename.value_or("-") + ":" + std::to_string(n) + ";";
      if (biggest > (1 << 20)) out += "unbounded!";
    }
    co_return http::Response::text(out);
  });
  app.post("/field", [](http::Request& req) -> Task<http::Response> {
    http::MultipartReader form(req);
    auto part = co_await form.next();
    std::string value = "none";
    if (part) value = co_await form.read_all();  // (GCC 12 miscompiles co_await inside ?:)
    co_return http::Response::text(value);
  });
  http::ServerOptions o;
  o.port = 0;
  o.max_body_size = 64 << 20;
  auto srv = co_await http::serve(app, o);
  eddy_test::TempDir dir;
  co_await eddy::fs::write_file(dir / "big.bin", std::string(5 << 20, 'z'));
  std::string url = "http://127.0.0.1:" + std::to_string(srv.port());
  auto [rc, out] = co_await eddy::to_thread(
      eddy_test::run_command,
      "timeout 30 curl -s -F title=hi -F 'doc=@" + dir / "big.bin" + "' " + url + "/upload");
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out, "title=-:2;doc=big.bin:5242880;");
  std::tie(rc, out) = co_await eddy::to_thread(
      eddy_test::run_command, "timeout 30 curl -s -F 'note=two words' " + url + "/field");
  EXPECT_EQ(out, "two words");
  std::tie(rc, out) = co_await eddy::to_thread(
      eddy_test::run_command,
      "timeout 30 curl -s -o /dev/null -w '%{http_code}' -d x=1 " + url + "/field");
  EXPECT_EQ(out, "415") << "not multipart";
  co_await srv.shutdown();
}
