// gzip via zlib (see gzip.hpp).
#include "gzip.hpp"

#include <zlib.h>

#include <stdexcept>

#include "eddy/http/headers.hpp"

namespace eddy::http::detail {

struct GzipStream::State {
  z_stream z{};
};

GzipStream::GzipStream(int level) : z_(std::make_unique<State>()) {
  // 15 + 16: a gzip header and trailer rather than zlib's; 8: zlib's default memory level.
  if (deflateInit2(&z_->z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("eddy::http: deflateInit2 failed");
}

GzipStream::~GzipStream() {
  deflateEnd(&z_->z);
}

std::string GzipStream::run(std::string_view data, int mode) {
  std::string out;
  z_stream& z = z_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  for (;;) {
    std::size_t have = out.size();
    out.resize(have + std::max<std::size_t>(deflateBound(&z, z.avail_in), 64));
    z.next_out = reinterpret_cast<Bytef*>(out.data() + have);
    z.avail_out = static_cast<uInt>(out.size() - have);
    int rc = deflate(&z, mode);
    out.resize(out.size() - z.avail_out);
    if (rc == Z_STREAM_ERROR) throw std::runtime_error("eddy::http: deflate failed");
    if (mode == Z_FINISH ? rc == Z_STREAM_END : (z.avail_in == 0 && z.avail_out != 0)) break;
  }
  return out;
}

std::string GzipStream::write(std::string_view data, bool flush) {
  return run(data, flush ? Z_SYNC_FLUSH : Z_NO_FLUSH);
}

std::string GzipStream::finish() {
  return run({}, Z_FINISH);
}

std::string gzip(std::string_view data, int level) {
  GzipStream g(level);
  std::string out = g.write(data, false);
  out += g.finish();
  return out;
}

struct Inflater::State {
  z_stream z{};
  bool live = false;
};

Inflater::Inflater(bool deflate) : z_(std::make_unique<State>()), deflate_(deflate) {
  init(15 + 32);  // zlib or gzip, told apart by the header
}

Inflater::~Inflater() {
  if (z_->live) inflateEnd(&z_->z);
}

void Inflater::init(int window_bits) {
  if (z_->live) inflateEnd(&z_->z);
  z_->z = z_stream{};
  if (inflateInit2(&z_->z, window_bits) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  z_->live = true;
}

void Inflater::feed(std::string_view compressed) {
  in_.append(compressed);
}

std::string_view Inflater::pull(std::size_t max) {
  out_.clear();
  if (finished_ || in_.empty()) return {};
  z_stream& z = z_->z;
  out_.resize(max);
  z.next_in = reinterpret_cast<Bytef*>(in_.data());
  z.avail_in = static_cast<uInt>(in_.size());
  z.next_out = reinterpret_cast<Bytef*>(out_.data());
  z.avail_out = static_cast<uInt>(out_.size());
  int rc = inflate(&z, Z_NO_FLUSH);
  if (rc == Z_DATA_ERROR && deflate_ && !started_) {  // raw deflate after all
    init(-15);
    z.next_in = reinterpret_cast<Bytef*>(in_.data());
    z.avail_in = static_cast<uInt>(in_.size());
    z.next_out = reinterpret_cast<Bytef*>(out_.data());
    z.avail_out = static_cast<uInt>(out_.size());
    rc = inflate(&z, Z_NO_FLUSH);
  }
  if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
    throw std::runtime_error(std::string("corrupt compressed body: ") +
                             (z.msg ? z.msg : "inflate"));
  started_ = true;
  in_.erase(0, in_.size() - z.avail_in);
  out_.resize(out_.size() - z.avail_out);
  if (rc == Z_STREAM_END) finished_ = true;
  return out_;
}

bool accepts_gzip(std::string_view v) noexcept {
  std::size_t i = 0;
  while (i < v.size()) {
    std::size_t comma = v.find(',', i);
    if (comma == std::string_view::npos) comma = v.size();
    std::string_view item = v.substr(i, comma - i);
    i = comma + 1;
    std::size_t semi = item.find(';');
    std::string_view coding = item.substr(0, semi);
    while (!coding.empty() && coding.front() == ' ') coding.remove_prefix(1);
    while (!coding.empty() && coding.back() == ' ') coding.remove_suffix(1);
    if (!iequals(coding, "gzip") && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view q = item.substr(semi + 1);
    while (!q.empty() && q.front() == ' ') q.remove_prefix(1);
    // "q=0", "q=0.0", "q=0.000" refuse; anything else accepts
    if (q.size() >= 3 && (q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
      std::string_view n = q.substr(2);
      bool zero = !n.empty() && n[0] == '0';
      for (std::size_t k = 1; zero && k < n.size(); ++k) zero = n[k] == '0' || n[k] == '.';
      if (zero) return false;
    }
    return true;
  }
  return false;
}

bool compressible(std::string_view ct) noexcept {
  std::size_t semi = ct.find(';');
  ct = ct.substr(0, semi);
  return ct.starts_with("text/") || ct.ends_with("/json") || ct.ends_with("+json") ||
         ct.ends_with("/javascript") || ct.ends_with("/xml") || ct.ends_with("+xml") ||
         ct == "image/svg+xml";
}

}  // namespace eddy::http::detail
