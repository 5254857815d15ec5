// Response::file and App::add_static: what a browser or a CDN relies on.
//  - 200 with Content-Type from the extension, Content-Length, ETag, Last-Modified,
//    Accept-Ranges; HEAD without the body; large files intact (sendfile);
//  - 304 for a matching If-None-Match or an unchanged If-Modified-Since; 412 for a failed
//    If-Match; If-None-Match wins over If-Modified-Since;
//  - one byte range: 206 with Content-Range for a-b, a-, -n; 416 when unsatisfiable; a stale
//    If-Range gets the whole file;
//  - add_static never leaves its directory: "..", encoded dots, dot-files and symlinks
//    pointing out are 404.
#include <unistd.h>

#include <string>

#include "client_support.hpp"
#include "eddy/eddy.hpp"
#include "eddy/http.hpp"
#include "eddy/testing/gtest.hpp"
#include "support/helpers.hpp"

namespace http = eddy::http;
using eddy::Task;
using eddy_test::exchange;
using eddy_test::get;
using eddy_test::local_server;

EDDY_TEST(HttpFiles, ServesWithValidatorsAndRanges) {
  eddy_test::TempDir dir;
  std::string body = "0123456789abcdefghij";
  co_await eddy::fs::write_file(dir / "page.html", body);
  std::string big(8 << 20, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 % 251);
  co_await eddy::fs::write_file(dir / "big.bin", big);
  http::App app;
  app.add_static("/static", dir.path());
  app.get("/direct", [&dir](http::Request&) -> Task<http::Response> {
    co_return http::Response::file(dir / "page.html", "text/x-custom");
  });
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();

  auto r = co_await exchange(p, get("/static/page.html"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Accept-Ranges"), "bytes");
  std::string etag = r.header("ETag");
  std::string modified = r.header("Last-Modified");
  EXPECT_TRUE(etag.starts_with("\"") && etag.ends_with("\"")) << etag;
  EXPECT_TRUE(modified.ends_with(" GMT")) << modified;
  EXPECT_EQ((co_await exchange(p, get("/direct"))).header("Content-Type"), "text/x-custom");

  r = co_await exchange(p, "HEAD /static/page.html HTTP/1.1\r\nHost: t\r\n\r\n", "HEAD");
  EXPECT_EQ(r.header("Content-Length"), "20");
  EXPECT_EQ(r.body, "");

  r = co_await exchange(p, get("/static/page.html", "If-None-Match: \"x\", " + etag + "\r\n"));
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.header("ETag"), etag);
  r = co_await exchange(p, get("/static/page.html", "If-None-Match: W/" + etag + "\r\n"));
  EXPECT_EQ(r.status, 304) << "If-None-Match compares weakly";
  r = co_await exchange(p, get("/static/page.html", "If-Modified-Since: " + modified + "\r\n"));
  EXPECT_EQ(r.status, 304);
  r = co_await exchange(p, get("/static/page.html", "If-Modified-Since: " + modified +
                                                        "\r\nIf-None-Match: \"other\"\r\n"));
  EXPECT_EQ(r.status, 200) << "If-None-Match decides when both are sent";
  r = co_await exchange(
      p, get("/static/page.html", "If-Modified-Since: Sat, 01 Jan 2000 00:00:00 GMT\r\n"));
  EXPECT_EQ(r.status, 200);
  r = co_await exchange(p, get("/static/page.html", "If-Match: \"other\"\r\n"));
  EXPECT_EQ(r.status, 412);
  r = co_await exchange(p, get("/static/page.html", "If-Match: " + etag + "\r\n"));
  EXPECT_EQ(r.status, 200);

  r = co_await exchange(p, get("/static/page.html", "Range: bytes=2-5\r\n"));
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.body, "2345");
  EXPECT_EQ(r.header("Content-Range"), "bytes 2-5/20");
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=15-\r\n"));
  EXPECT_EQ(r.body, "fghij");
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=-3\r\n"));
  EXPECT_EQ(r.body, "hij");
  EXPECT_EQ(r.header("Content-Range"), "bytes 17-19/20");
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=10-100\r\n"));
  EXPECT_EQ(r.body, "abcdefghij") << "the end is clamped to the file";
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=20-\r\n"));
  EXPECT_EQ(r.status, 416);
  EXPECT_EQ(r.header("Content-Range"), "bytes */20");
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=0-1,5-6\r\n"));
  EXPECT_EQ(r.status, 200) << "several ranges: the whole file";
  r = co_await exchange(p, get("/static/page.html", "Range: bytes=2-5\r\nIf-Range: \"stale\"\r\n"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, body);
  r = co_await exchange(p,
                        get("/static/page.html", "Range: bytes=2-5\r\nIf-Range: " + etag + "\r\n"));
  EXPECT_EQ(r.status, 206);

  r = co_await exchange(p, get("/static/big.bin"));
  EXPECT_EQ(r.header("Content-Type"), "application/octet-stream");
  EXPECT_TRUE(r.body == big) << "8 MiB through sendfile, intact (" << r.body.size() << " bytes)";
  r = co_await exchange(p, get("/static/big.bin", "Range: bytes=4194304-4194313\r\n"));
  EXPECT_EQ(r.body, big.substr(4194304, 10));
  co_await srv.shutdown();
}

EDDY_TEST(HttpFiles, StaticNeverLeavesItsDirectory) {
  eddy_test::TempDir outside;
  co_await eddy::fs::write_file(outside / "secret.txt", "secret");
  eddy_test::TempDir dir;
  co_await eddy::fs::write_file(dir / "ok.txt", "ok");
  co_await eddy::fs::write_file(dir / ".env", "hidden");
  ::mkdir((dir / "sub").c_str(), 0755);
  co_await eddy::fs::write_file(dir / "sub/inner.txt", "inner");
  EXPECT_EQ(::symlink((outside / "secret.txt").c_str(), (dir / "link.txt").c_str()), 0);
  http::App app;
  app.add_static("/s", dir.path());
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();
  EXPECT_EQ((co_await exchange(p, get("/s/ok.txt"))).body, "ok");
  EXPECT_EQ((co_await exchange(p, get("/s/sub/inner.txt"))).body, "inner");
  for (const char* path : {"/s/../secret.txt", "/s/%2e%2e/secret.txt", "/s/sub/../../secret.txt",
                           "/s/sub%2f..%2f..%2fsecret.txt", "/s/.env", "/s/link.txt", "/s/sub",
                           "/s/missing.txt", "/s/", "/s/ok.txt%00.png"}) {
    auto r = co_await exchange(p, get(path));
    EXPECT_TRUE(r.status == 404 || r.status == 400) << path << " -> " << r.status;
    EXPECT_EQ(r.body.find("secret"), std::string::npos) << path;
  }
  co_await srv.shutdown();
}

// Directories with StaticOptions: the slash redirect (so relative links work), the index
// file, and a listing that escapes names and leaves dot-files out.
EDDY_TEST(HttpFiles, StaticDirectoriesGetIndexOrListing) {
  eddy_test::TempDir dir;
  co_await eddy::fs::write_file(dir / "a b.txt", "spaced");
  co_await eddy::fs::write_file(dir / "<x>.txt", "odd");
  co_await eddy::fs::write_file(dir / ".env", "hidden");
  ::mkdir((dir / "site").c_str(), 0755);
  co_await eddy::fs::write_file(dir / "site/index.html", "<h1>home</h1>");
  ::mkdir((dir / "empty").c_str(), 0755);
  http::App app;
  http::StaticOptions so;
  so.index_file = "index.html";
  so.show_index = true;
  app.add_static("/s", dir.path(), so);
  http::App plain;
  plain.add_static("/", dir.path());
  app.add_subapp("/plain", std::move(plain));
  auto srv = co_await http::serve(app, local_server());
  auto p = srv.port();

  auto r = co_await exchange(p, get("/s"));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.headers.get_or("Location", ""), "/s/");
  r = co_await exchange(p, get("/s/site?x=1"));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.headers.get_or("Location", ""), "/s/site/?x=1");
  r = co_await exchange(p, get("/s/site/"));
  EXPECT_EQ(r.body, "<h1>home</h1>") << "the index file";
  r = co_await exchange(p, get("/s/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.get_or("Content-Type", ""), "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<a href=\"a%20b.txt\">a b.txt</a>"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("&lt;x&gt;.txt</a>"), std::string::npos) << "names are escaped";
  EXPECT_EQ(r.body.find("<x>"), std::string::npos);
  EXPECT_NE(r.body.find("<a href=\"site/\">site/</a>"), std::string::npos);
  EXPECT_EQ(r.body.find(".env"), std::string::npos) << "dot-files are not listed";
  EXPECT_EQ((co_await exchange(p, get("/s/a%20b.txt"))).body, "spaced");
  EXPECT_EQ((co_await exchange(p, get("/s/empty/"))).status, 200);
  EXPECT_EQ((co_await exchange(p, get("/s/a%20b.txt/"))).status, 404) << "a file is no directory";
  // Without options a directory stays 404, as before.
  EXPECT_EQ((co_await exchange(p, get("/plain/site/"))).status, 404);
  EXPECT_EQ((co_await exchange(p, get("/plain/"))).status, 404);
  EXPECT_EQ((co_await exchange(p, get("/plain/site/index.html"))).body, "<h1>home</h1>");
  co_await srv.shutdown();
}
