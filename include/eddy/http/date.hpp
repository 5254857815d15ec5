// HTTP dates: the Date, Last-Modified, Expires and If-Modified-Since formats.
//
//   res.headers.set("Date", http::format_http_date(std::chrono::system_clock::now()));
//   //                                 -> "Sun, 06 Nov 1994 08:49:37 GMT"
//   if (auto since = http::parse_http_date(req.headers.get("If-Modified-Since"))) ...
//
// Locale-free and timezone-free: everything is UTC arithmetic on the proleptic Gregorian
// calendar, so a server's output never depends on the process environment. Times outside
// what system_clock can hold (roughly years 1678..2261 with libstdc++) saturate to its min or
// max rather than overflow, so "Expires: Fri, 31 Dec 9999 ..." still means "far future".
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eddy::http {

// IMF-fixdate (RFC 9110 §5.6.7), the only format a sender may generate. Sub-second parts are
// truncated towards the past.
std::string format_http_date(std::chrono::system_clock::time_point t);

// IMF-fixdate, or one of the obsolete forms recipients must still accept: RFC 850
// ("Sunday, 06-Nov-94 08:49:37 GMT", two-digit years resolved as RFC 9110 says: never more
// than 50 years ahead of now) and asctime ("Sun Nov  6 08:49:37 1994"). Names are matched
// case-insensitively; surrounding whitespace is ignored. nullopt for anything else, including
// dates that do not exist (30 Feb) and out-of-range fields.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view s);

// The forgiving cookie-date algorithm of RFC 6265 §5.1.1, which user agents apply to a
// Set-Cookie Expires attribute: any order, any delimiters, the first token that looks like a
// time, a day, a month and a year wins ("Wed, 09-Jun-2021 10:18:14 GMT", "9 jun 21 10:18:14").
std::optional<std::chrono::system_clock::time_point> parse_cookie_date(std::string_view s);

}  // namespace eddy::http
