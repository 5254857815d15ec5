// libFuzzer target for the cookie and date parsers: parse_cookie_header, SetCookie::parse and
// str(), CookieJar, parse_http_date and parse_cookie_date must never crash, and traps when:
//  - a parsed pair is not a view into the input;
//  - a SetCookie that serialises does not parse back to the same name and value;
//  - a parsed date does not format and parse back to itself.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/http/cookies.hpp"
#include "eddy/http/date.hpp"

namespace {

namespace http = eddy::http;
using Clock = std::chrono::system_clock;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_date(std::optional<Clock::time_point> t) {
  if (!t || *t == Clock::time_point::max() || *t == Clock::time_point::min()) return;
  check(http::parse_http_date(http::format_http_date(*t)) == *t);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const Clock::time_point now{std::chrono::seconds{1700000000}};

  for (auto [name, value] : http::parse_cookie_header(in)) {
    check(!name.empty() && inside(name, in) && inside(value, in));
  }

  check_date(http::parse_http_date(in));
  check_date(http::parse_cookie_date(in));

  try {
    const http::SetCookie c = http::SetCookie::parse(in);
    try {
      const http::SetCookie back = http::SetCookie::parse(c.str());
      check(back.name == c.name && back.value == c.value);
    } catch (const http::CookieError&) {  // parse is lenient, str() strict
    }
  } catch (const http::CookieError&) {
  }

  static const http::Url kUrls[] = {http::Url::parse("https://www.example.com/a/b"),
                                    http::Url::parse("http://example.com/"),
                                    http::Url::parse("http://[::1]:8080/x")};
  http::CookieJar jar;
  for (const http::Url& url : kUrls) jar.update(url, in, now);
  for (const http::Url& url : kUrls) {
    const std::string header = jar.header_for(url, now);
    for (auto [name, value] : http::parse_cookie_header(header)) check(!name.empty());
  }
  return 0;
}
