// gzip for responses (zlib): whole bodies, and streams flushed write by write so each
// server-sent event reaches the client at once instead of waiting in the compressor.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace eddy::http::detail {

// Whether an Accept-Encoding value allows gzip (listed, or "*", with q above 0).
bool accepts_gzip(std::string_view accept_encoding) noexcept;
// Whether a Content-Type is worth compressing (text, JSON, JavaScript, XML, SVG).
bool compressible(std::string_view content_type) noexcept;

class GzipStream {
 public:
  explicit GzipStream(int level = 6);
  ~GzipStream();
  GzipStream(const GzipStream&) = delete;
  GzipStream& operator=(const GzipStream&) = delete;

  // Compresses `data`; with `flush`, everything so far comes out (Z_SYNC_FLUSH).
  std::string write(std::string_view data, bool flush);
  // The rest and the gzip trailer.
  std::string finish();

 private:
  std::string run(std::string_view data, int mode);
  struct State;
  std::unique_ptr<State> z_;
};

std::string gzip(std::string_view data, int level = 6);

}  // namespace eddy::http::detail
