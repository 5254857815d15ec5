// Compression: gzip for responses (zlib): whole bodies, and streams flushed write by write so each
// server-sent event reaches the client at once instead of waiting in the compressor; and
// the client's decoders for gzip, deflate and brotli bodies.
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

// Decompresses a response body as it arrives, in bounded pieces, so a small compressed body
// cannot make one read return gigabytes (a "zip bomb" costs at most `max` bytes per pull).
class Decompressor {
 public:
  virtual ~Decompressor() = default;
  virtual void feed(std::string_view compressed) = 0;
  // Up to `max` decompressed bytes (valid until the next call); empty when it needs more
  // input or the stream has ended. Throws std::runtime_error on corrupt data.
  virtual std::string_view pull(std::size_t max) = 0;
  virtual bool finished() const noexcept = 0;
};

// The decoder for a Content-Encoding (gzip, x-gzip, deflate, br), or null for identity and
// codings eddy does not know (the body is then handed over as it came).
std::unique_ptr<Decompressor> make_decompressor(std::string_view content_encoding);

// gzip and deflate (zlib).
class Inflater final : public Decompressor {
 public:
  // `deflate`: the Content-Encoding was "deflate", which servers send both zlib-wrapped (as
  // RFC 9110 says) and raw; the first bytes decide.
  explicit Inflater(bool deflate);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  void feed(std::string_view compressed) override;
  std::string_view pull(std::size_t max) override;
  bool finished() const noexcept override { return finished_; }

 private:
  void init(int window_bits);
  struct State;
  std::unique_ptr<State> z_;
  std::string in_;   // fed and not yet consumed
  std::string out_;  // the last piece returned
  bool deflate_;
  bool started_ = false;
  bool finished_ = false;
};

// brotli (libbrotlidec).
class BrotliDecoder final : public Decompressor {
 public:
  BrotliDecoder();
  ~BrotliDecoder() override;
  BrotliDecoder(const BrotliDecoder&) = delete;
  BrotliDecoder& operator=(const BrotliDecoder&) = delete;

  void feed(std::string_view compressed) override;
  std::string_view pull(std::size_t max) override;
  bool finished() const noexcept override { return finished_; }

 private:
  struct State;
  std::unique_ptr<State> b_;
  std::string in_;
  std::string out_;
  bool finished_ = false;
};

}  // namespace eddy::http::detail
