// Text in other charsets, for ClientResponse::text(): iconv (glibc) converts to UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace eddy::http::detail {

// The charset parameter of a Content-Type value, lowercased and unquoted ("" if none).
std::string charset_of(std::string_view content_type);
// True for the names of UTF-8 and its subset US-ASCII, which need no conversion.
bool is_utf8(std::string_view charset) noexcept;
// `bytes` in `charset`, as UTF-8. Throws std::invalid_argument for a charset iconv does not
// know, std::range_error for bytes that are not valid in it.
std::string to_utf8(std::string_view bytes, const std::string& charset);

}  // namespace eddy::http::detail
