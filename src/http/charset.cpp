// Charset conversion for response text (see charset.hpp).
#include "charset.hpp"

#include <iconv.h>

#include <cerrno>
#include <stdexcept>

#include "eddy/http/headers.hpp"

namespace eddy::http::detail {

std::string charset_of(std::string_view ct) {
  std::size_t i = ct.find(';');
  while (i != std::string_view::npos) {
    std::string_view rest = ct.substr(i + 1);
    std::size_t end = rest.find(';');
    std::string_view param = rest.substr(0, end);
    while (!param.empty() && (param.front() == ' ' || param.front() == '\t'))
      param.remove_prefix(1);
    if (param.size() > 8 && iequals(param.substr(0, 8), "charset=")) {
      std::string_view v = param.substr(8);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      std::string out(v);
      for (char& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
      return out;
    }
    i = end == std::string_view::npos ? end : i + 1 + end;
  }
  return {};
}

bool is_utf8(std::string_view cs) noexcept {
  return cs.empty() || iequals(cs, "utf-8") || iequals(cs, "utf8") || iequals(cs, "us-ascii") ||
         iequals(cs, "ascii");
}

std::string to_utf8(std::string_view bytes, const std::string& charset) {
  iconv_t cd = ::iconv_open("UTF-8", charset.c_str());
  if (cd == reinterpret_cast<iconv_t>(-1))
    throw std::invalid_argument("unknown charset " + charset);
  std::string out;
  out.resize(bytes.size() * 2 + 16);
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  std::size_t done = 0;
  for (;;) {
    char* o = out.data() + done;
    std::size_t o_left = out.size() - done;
    std::size_t rc = ::iconv(cd, in_left ? &in : nullptr, &in_left, &o, &o_left);
    done = out.size() - o_left;
    if (rc != static_cast<std::size_t>(-1)) {
      if (in_left == 0) break;
      continue;
    }
    if (errno == E2BIG) {
      out.resize(out.size() * 2);
      continue;
    }
    ::iconv_close(cd);
    throw std::range_error("bytes that are not valid " + charset);
  }
  ::iconv_close(cd);
  out.resize(done);
  return out;
}

}  // namespace eddy::http::detail
