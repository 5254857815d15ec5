// The brotli decoder for Content-Encoding: br (libbrotlidec), with the same bounded pieces
// as the zlib Inflater; and make_decompressor, which picks one for a Content-Encoding.
#include <brotli/decode.h>

#include <stdexcept>

#include "eddy/http/headers.hpp"
#include "gzip.hpp"

namespace eddy::http::detail {

struct BrotliDecoder::State {
  BrotliDecoderState* s = nullptr;
};

BrotliDecoder::BrotliDecoder() : b_(std::make_unique<State>()) {
  b_->s = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
  if (!b_->s) throw std::bad_alloc();
}

BrotliDecoder::~BrotliDecoder() {
  BrotliDecoderDestroyInstance(b_->s);
}

void BrotliDecoder::feed(std::string_view compressed) {
  in_.append(compressed);
}

std::string_view BrotliDecoder::pull(std::size_t max) {
  out_.clear();
  if (finished_) return {};
  out_.resize(max);
  auto* next_in = reinterpret_cast<const std::uint8_t*>(in_.data());
  std::size_t avail_in = in_.size();
  auto* next_out = reinterpret_cast<std::uint8_t*>(out_.data());
  std::size_t avail_out = out_.size();
  BrotliDecoderResult rc =
      BrotliDecoderDecompressStream(b_->s, &avail_in, &next_in, &avail_out, &next_out, nullptr);
  if (rc == BROTLI_DECODER_RESULT_ERROR)
    throw std::runtime_error(std::string("corrupt compressed body: brotli: ") +
                             BrotliDecoderErrorString(BrotliDecoderGetErrorCode(b_->s)));
  in_.erase(0, in_.size() - avail_in);
  out_.resize(out_.size() - avail_out);
  if (rc == BROTLI_DECODER_RESULT_SUCCESS) finished_ = true;
  return out_;
}

std::unique_ptr<Decompressor> make_decompressor(std::string_view coding) {
  if (iequals(coding, "gzip") || iequals(coding, "x-gzip"))
    return std::make_unique<Inflater>(false);
  if (iequals(coding, "deflate")) return std::make_unique<Inflater>(true);
  if (iequals(coding, "br")) return std::make_unique<BrotliDecoder>();
  return nullptr;
}

}  // namespace eddy::http::detail
