// MultipartReader: the multipart parser run over a request's body as it arrives.
#include "eddy/http/multipart.hpp"
#include "eddy/http/error.hpp"

namespace eddy::http {

// --- the reader over a request

namespace {
std::string boundary_of(Request& req) {
  std::string b = multipart_boundary(req.headers().get_or("Content-Type", ""));
  if (b.empty() || req.content_type() != "multipart/form-data")
    throw HttpException(415, "expected multipart/form-data with a boundary");
  return b;
}
}  // namespace

MultipartReader::MultipartReader(Request& req, MultipartLimits limits)
    : req_(req), parser_(boundary_of(req), limits) {}

Task<MultipartParser::Event> MultipartReader::poll() {
  for (;;) {
    MultipartParser::Event ev;
    std::string bad;
    try {
      ev = parser_.poll();
    } catch (const ProtocolError& e) {
      bad = e.what();
    }
    if (!bad.empty()) throw HttpException(400, bad);
    if (ev.kind != MultipartParser::Kind::need_more) co_return ev;
    std::string_view chunk = co_await req_.read_chunk();
    if (chunk.empty())
      parser_.feed_eof();
    else
      parser_.feed(chunk);
  }
}

Task<std::optional<Part>> MultipartReader::next() {
  while (in_part_) {
    if ((co_await read_chunk()).empty()) break;
  }
  MultipartParser::Event ev = co_await poll();
  if (ev.kind != MultipartParser::Kind::part) co_return std::nullopt;
  in_part_ = true;
  co_return parser_.part();
}

Task<std::string_view> MultipartReader::read_chunk() {
  if (!in_part_) co_return std::string_view();
  MultipartParser::Event ev = co_await poll();
  if (ev.kind == MultipartParser::Kind::data) co_return ev.data;
  in_part_ = false;
  co_return std::string_view();
}

Task<std::string> MultipartReader::read_all(std::size_t limit) {
  std::string out;
  for (;;) {
    std::string_view d = co_await read_chunk();
    if (d.empty()) break;
    if (out.size() + d.size() > limit) throw HttpException(413, "form field larger than allowed");
    out.append(d);
  }
  co_return out;
}

}  // namespace eddy::http
