// Response::file: conditional requests and ranges (see file_response.hpp).
#include "file_response.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <optional>
#include <vector>

#include "eddy/http/server.hpp"

#include "eddy/error.hpp"
#include "eddy/executor.hpp"
#include "eddy/http/date.hpp"
#include "eddy/http/error.hpp"
#include "eddy/http/url.hpp"

namespace eddy::http::detail {
namespace {

struct Mime {
  std::string_view ext, type;
};
constexpr Mime kMimes[] = {
    {"html", "text/html; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"js", "text/javascript; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"txt", "text/plain; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"xml", "application/xml"},
    {"svg", "image/svg+xml"},
    {"png", "image/png"},
    {"jpg", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"gif", "image/gif"},
    {"webp", "image/webp"},
    {"ico", "image/x-icon"},
    {"pdf", "application/pdf"},
    {"wasm", "application/wasm"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"mp4", "video/mp4"},
    {"webm", "video/webm"},
    {"mp3", "audio/mpeg"},
    {"zip", "application/zip"},
    {"gz", "application/gzip"},
    {"tar", "application/x-tar"},
};

std::string hex(std::uint64_t v) {
  char buf[20];
  auto r = std::to_chars(buf, buf + sizeof buf, v, 16);
  return std::string(buf, r.ptr);
}

// Whether `list` (an If-None-Match / If-Match value) names `etag`. `weak`: compare the
// opaque tags only (If-None-Match); otherwise a W/ tag never matches (If-Match).
bool etag_matches(std::string_view list, std::string_view etag, bool weak) {
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (list[i] == ' ' || list[i] == '\t' || list[i] == ',')) ++i;
    if (i >= list.size()) break;
    if (list[i] == '*') return true;
    bool is_weak = list.compare(i, 2, "W/") == 0;
    if (is_weak) i += 2;
    if (i >= list.size() || list[i] != '"') return false;  // malformed: no match
    std::size_t end = list.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    std::string_view tag = list.substr(i, end + 1 - i);
    if (tag == etag && (weak || !is_weak)) return true;
    i = end + 1;
  }
  return false;
}

std::optional<std::uint64_t> number(std::string_view s) {
  std::uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

// A single byte range from a Range value: {first, last} inclusive, "unsatisfiable" as
// first > last, or nothing when the header is to be ignored (malformed, several ranges).
std::optional<std::pair<std::uint64_t, std::uint64_t>> byte_range(std::string_view v,
                                                                  std::uint64_t size) {
  if (!v.starts_with("bytes=")) return std::nullopt;
  v.remove_prefix(6);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  if (v.find(',') != std::string_view::npos) return std::nullopt;  // several: send it all
  std::size_t dash = v.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  std::string_view a = v.substr(0, dash), b = v.substr(dash + 1);
  if (a.empty()) {  // suffix: the last n bytes
    auto n = number(b);
    if (!n) return std::nullopt;
    if (*n == 0 || size == 0) return std::pair<std::uint64_t, std::uint64_t>{1, 0};
    return std::pair<std::uint64_t, std::uint64_t>{size - std::min(*n, size), size - 1};
  }
  auto first = number(a);
  if (!first) return std::nullopt;
  std::uint64_t last = size ? size - 1 : 0;
  if (!b.empty()) {
    auto l = number(b);
    if (!l || *l < *first) return std::nullopt;
    last = std::min(*l, last);
  }
  if (*first >= size) return std::pair<std::uint64_t, std::uint64_t>{1, 0};
  return std::pair<std::uint64_t, std::uint64_t>{*first, last};
}

}  // namespace

std::string_view mime_type(std::string_view path) noexcept {
  std::size_t dot = path.rfind('.');
  std::size_t slash = path.rfind('/');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash))
    return "application/octet-stream";
  std::string_view ext = path.substr(dot + 1);
  for (const Mime& m : kMimes)
    if (iequals(m.ext, ext)) return m.type;
  return "application/octet-stream";
}

FilePlan plan_file(const Request& req, const std::string& path, std::string_view content_type) {
  FilePlan plan;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      plan.status = 404;
    else if (errno == EACCES)
      plan.status = 403;
    else
      throw_os_error(errno, "open " + path);
    return plan;
  }
  struct stat st {};
  if (::fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    plan.status = 404;
    return plan;
  }
  auto size = static_cast<std::uint64_t>(st.st_size);
  auto mtime = std::chrono::system_clock::from_time_t(st.st_mtim.tv_sec);
  std::string etag = "\"" +
                     hex(static_cast<std::uint64_t>(st.st_mtim.tv_sec) * 1000000000ull +
                         static_cast<std::uint64_t>(st.st_mtim.tv_nsec)) +
                     "-" + hex(size) + "\"";
  std::string last_modified = format_http_date(mtime);
  plan.headers.add("ETag", etag);
  plan.headers.add("Last-Modified", last_modified);

  // RFC 9110 §13.2.2: the preconditions, in this order.
  const Headers& h = req.headers();
  bool get_or_head = req.method() == "GET" || req.method() == "HEAD";
  int status = 200;
  if (auto im = h.get("If-Match")) {
    if (!etag_matches(*im, etag, false)) status = 412;
  } else if (auto ius = h.get("If-Unmodified-Since")) {
    auto t = parse_http_date(*ius);
    if (t && mtime > *t) status = 412;
  }
  if (status == 200) {
    if (auto inm = h.get("If-None-Match")) {
      if (etag_matches(*inm, etag, true)) status = get_or_head ? 304 : 412;
    } else if (auto ims = h.get("If-Modified-Since"); ims && get_or_head) {
      auto t = parse_http_date(*ims);
      if (t && mtime <= *t) status = 304;
    }
  }
  plan.headers.add("Content-Type", content_type.empty() ? mime_type(path) : content_type);
  if (status != 200) {
    ::close(fd);
    plan.status = status;
    return plan;
  }
  plan.headers.add("Accept-Ranges", "bytes");
  plan.offset = 0;
  plan.length = size;
  auto range = h.get("Range");
  if (range && req.method() == "GET") {
    bool honour = true;
    if (auto ir = h.get("If-Range"))  // only if the client's copy is still this one
      honour = ir->starts_with("\"") ? *ir == etag : *ir == last_modified;
    if (auto r = honour ? byte_range(*range, size) : std::nullopt) {
      if (r->first > r->second) {
        ::close(fd);
        plan.status = 416;
        plan.headers.add("Content-Range", "bytes */" + std::to_string(size));
        return plan;
      }
      plan.status = 206;
      plan.offset = r->first;
      plan.length = r->second - r->first + 1;
      plan.headers.add("Content-Range", "bytes " + std::to_string(r->first) + "-" +
                                            std::to_string(r->second) + "/" + std::to_string(size));
    }
  }
  plan.fd = fd;
  return plan;
}

}  // namespace eddy::http::detail

namespace eddy::http {

namespace {

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// The listing of `dir` (its entries but dot-files, sorted, directories marked with '/'), as
// a page titled with the request path. Blocking: run on the thread pool.
std::string listing(const std::string& dir, const std::string& shown_path) {
  std::vector<std::pair<std::string, bool>> entries;  // name, is a directory
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name.empty() || name.front() == '.') continue;
      struct stat st {};
      bool is_dir = ::stat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
      entries.emplace_back(std::move(name), is_dir);
    }
    ::closedir(d);
  }
  std::sort(entries.begin(), entries.end());
  std::string title = html_escape("Index of " + shown_path);
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + title +
                    "</title></head>\n<body><h1>" + title + "</h1>\n<ul>\n";
  for (auto& [name, is_dir] : entries) {
    std::string shown = name + (is_dir ? "/" : "");
    out += "<li><a href=\"" + html_escape(encode_path_segment(name)) + (is_dir ? "/" : "") + "\">" +
           html_escape(shown) + "</a></li>\n";
  }
  out += "</ul>\n</body></html>\n";
  return out;
}

}  // namespace

App& App::add_static(std::string_view prefix, std::string directory, StaticOptions options) {
  std::string p(prefix);
  while (!p.empty() && p.back() == '/') p.pop_back();
  char* root = ::realpath(directory.c_str(), nullptr);
  if (!root) throw_os_error(errno, "add_static: " + directory);
  std::string base(root);
  std::free(root);
  auto handler = [base, options](Request& req) -> Task<Response> {
    std::string_view rel = req.match("path");
    // Every segment but a trailing empty one (a directory asked for with its slash): no "..",
    // no dot-files, nothing odd.
    std::size_t i = 0;
    while (i < rel.size()) {
      std::size_t slash = rel.find('/', i);
      if (slash == std::string_view::npos) slash = rel.size();
      std::string_view seg = rel.substr(i, slash - i);
      if (seg.empty() || seg.front() == '.' || seg.find('\0') != std::string_view::npos ||
          seg.find('\\') != std::string_view::npos)
        throw HttpException(404);
      i = slash + 1;
    }
    std::string full = base + "/" + std::string(rel);
    char* real = ::realpath(full.c_str(), nullptr);
    if (!real) throw HttpException(404);
    std::string resolved(real);
    std::free(real);
    if (resolved != base && !resolved.starts_with(base + "/")) throw HttpException(404);
    struct stat st {};
    if (::stat(resolved.c_str(), &st) != 0) throw HttpException(404);
    if (!S_ISDIR(st.st_mode)) {
      if (rel.empty() || rel.back() == '/') throw HttpException(404);  // "file/" is no file
      co_return Response::file(std::move(resolved));
    }
    if (options.index_file.empty() && !options.show_index) throw HttpException(404);
    if (req.raw_path().empty() || req.raw_path().back() != '/') {
      // Relative links in the page resolve against the directory only with the slash.
      std::string to = std::string(req.raw_path()) + "/";
      if (auto q = req.query_string(); !q.empty()) to.append("?").append(q);
      co_return Response::redirect(to, 301);
    }
    if (!options.index_file.empty()) {
      std::string index = resolved + "/" + options.index_file;
      struct stat ist {};
      if (::stat(index.c_str(), &ist) == 0 && S_ISREG(ist.st_mode))
        co_return Response::file(std::move(index));
    }
    if (!options.show_index) throw HttpException(404);
    std::string shown(req.path());
    auto make = [resolved, shown] { return listing(resolved, shown); };
    std::string page = co_await to_thread(std::move(make));
    co_return Response::html(std::move(page));
  };
  get(p + "/{path:.*}", handler);
  if (!p.empty()) get(p, handler);  // "/static" itself: redirected to "/static/"
  return *this;
}

}  // namespace eddy::http
