// Request bodies (see eddy/http/body.hpp): the in-memory ones, files and multipart forms
// streamed from disk.
#include "eddy/http/body.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>

#include "eddy/error.hpp"
#include "eddy/fs.hpp"
#include "file_response.hpp"

namespace eddy::http {

Body json_body(const nlohmann::json& value) {
  return {value.dump(), "application/json"};
}
Body form_body(const QueryParams& fields) {
  return {fields.str(), "application/x-www-form-urlencoded"};
}
Body text_body(std::string text) {
  return {std::move(text), "text/plain; charset=utf-8"};
}

Body stream_body(std::function<BodyPieces()> open, std::string content_type,
                 std::optional<std::uint64_t> length) {
  Body b;
  b.content_type = std::move(content_type);
  b.open = std::move(open);
  b.length = length;
  return b;
}

namespace {

constexpr std::size_t kPiece = 64 * 1024;

std::uint64_t file_size_now(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw_os_error(errno, path);
  if (!S_ISREG(st.st_mode)) throw_os_error(EISDIR, path);
  return static_cast<std::uint64_t>(st.st_size);
}

std::string base_name(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// One file's pieces: opened on the first call, closed after the last.
struct FileSource {
  std::string path;
  std::optional<fs::File> file;
  bool done = false;
};

Task<std::string> next_file_piece(std::shared_ptr<FileSource> s) {
  if (s->done) co_return std::string();
  if (!s->file) s->file.emplace(co_await fs::File::open(s->path));
  std::string piece = co_await s->file->read(kPiece);
  if (piece.empty()) {
    s->done = true;
    co_await s->file->close();
  }
  co_return piece;
}

// Quoted-string content for Content-Disposition, as browsers encode it (the HTML
// standard's multipart/form-data rules): '"' and line breaks become percent escapes.
std::string disposition_value(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '"')
      out += "%22";
    else if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

}  // namespace

Body file_body(std::string path, std::string content_type) {
  std::uint64_t size = file_size_now(path);
  if (content_type.empty()) content_type = std::string(detail::mime_type(path));
  return stream_body(
      [path]() -> BodyPieces {
        auto s = std::make_shared<FileSource>();
        s->path = path;
        return [s] { return next_file_piece(s); };
      },
      std::move(content_type), size);
}

MultipartForm::MultipartForm() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  boundary_ = "eddy-";
  for (int i = 0; i < 32; ++i) boundary_ += "0123456789abcdef"[hex(rd)];
}

MultipartForm& MultipartForm::add(std::string name, std::string value) {
  Part p;
  p.head = "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" +
           disposition_value(name) + "\"\r\n\r\n";
  p.size = value.size();
  p.data = std::move(value);
  parts_.push_back(std::move(p));
  return *this;
}

MultipartForm& MultipartForm::add_bytes(std::string name, std::string data, std::string filename,
                                        std::string content_type) {
  Part p;
  p.head = "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" +
           disposition_value(name) + "\"; filename=\"" + disposition_value(filename) +
           "\"\r\nContent-Type: " + content_type + "\r\n\r\n";
  p.size = data.size();
  p.data = std::move(data);
  parts_.push_back(std::move(p));
  return *this;
}

MultipartForm& MultipartForm::add_file(std::string name, std::string path, std::string filename,
                                       std::string content_type) {
  std::uint64_t size = file_size_now(path);
  if (filename.empty()) filename = base_name(path);
  if (content_type.empty()) content_type = std::string(detail::mime_type(filename));
  add_bytes(std::move(name), std::string(), std::move(filename), std::move(content_type));
  parts_.back().path = std::move(path);
  parts_.back().size = size;
  return *this;
}

namespace {

struct FormSource {
  std::vector<std::string> heads, data, paths;
  std::string closing;
  std::size_t part = 0;
  int stage = 0;  // 0: head, 1: data, 2: "\r\n"
  std::shared_ptr<FileSource> file;
};

Task<std::string> next_form_piece(std::shared_ptr<FormSource> s) {
  while (s->part < s->heads.size()) {
    std::size_t i = s->part;
    switch (s->stage) {
      case 0:
        s->stage = 1;
        co_return s->heads[i];
      case 1:
        if (s->paths[i].empty()) {
          s->stage = 2;
          if (!s->data[i].empty()) co_return s->data[i];
          break;
        }
        if (!s->file) {
          s->file = std::make_shared<FileSource>();
          s->file->path = s->paths[i];
        }
        if (std::string piece = co_await next_file_piece(s->file); !piece.empty()) co_return piece;
        s->file.reset();
        s->stage = 2;
        break;
      default:
        s->stage = 0;
        ++s->part;
        co_return std::string("\r\n");
    }
  }
  if (s->closing.empty()) co_return std::string();
  co_return std::exchange(s->closing, std::string());
}

}  // namespace

Body MultipartForm::body() const {
  std::uint64_t length = 0;
  auto proto = std::make_shared<FormSource>();
  for (const Part& p : parts_) {
    length += p.head.size() + p.size + 2;
    proto->heads.push_back(p.head);
    proto->data.push_back(p.data);
    proto->paths.push_back(p.path);
  }
  proto->closing = "--" + boundary_ + "--\r\n";
  length += proto->closing.size();
  return stream_body(
      [proto]() -> BodyPieces {
        auto s = std::make_shared<FormSource>(*proto);  // a fresh cursor for every sending
        return [s] { return next_form_piece(s); };
      },
      "multipart/form-data; boundary=" + boundary_, length);
}

}  // namespace eddy::http
