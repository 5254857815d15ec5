// HTTP dates (RFC 9110 §5.6.7) and the cookie-date algorithm (RFC 6265 §5.1.1). Pinned here:
//  - format_http_date writes IMF-fixdate, flooring sub-seconds, before and after the epoch;
//  - parse_http_date reads IMF-fixdate, RFC 850 and asctime, and nothing else (no 30 Feb,
//    no single-digit IMF day, no zone but GMT, no trailing bytes);
//  - RFC 850's two-digit years are never more than 50 years ahead;
//  - dates outside system_clock's range saturate instead of overflowing;
//  - the cookie-date parser accepts what browsers accept and refuses what RFC 6265 refuses.
#include "eddy/http/date.hpp"

#include <gtest/gtest.h>

#include <string>

namespace http = eddy::http;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

namespace {

Clock::time_point at(std::int64_t unix_seconds) {
  return Clock::time_point{std::chrono::seconds{unix_seconds}};
}

constexpr std::int64_t kRfcExample = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(http::format_http_date(at(0)), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http::format_http_date(at(kRfcExample)), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http::format_http_date(at(951782400)), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http::format_http_date(at(1709164800)), "Thu, 29 Feb 2024 00:00:00 GMT");
}

TEST(HttpDate, FormatTruncatesSubSecondsTowardsThePast) {
  EXPECT_EQ(http::format_http_date(at(kRfcExample) + 999ms), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(http::format_http_date(at(-1)), "Wed, 31 Dec 1969 23:59:59 GMT");
  EXPECT_EQ(http::format_http_date(at(0) - 1ns), "Wed, 31 Dec 1969 23:59:59 GMT");
}

TEST(HttpDate, FormatsTheEndsOfTheClockRange) {
  EXPECT_EQ(http::format_http_date(Clock::time_point::max()), "Fri, 11 Apr 2262 23:47:16 GMT");
  EXPECT_EQ(http::format_http_date(Clock::time_point::min()), "Tue, 21 Sep 1677 00:12:43 GMT");
}

TEST(HttpDate, ParsesAllThreeFormats) {
  EXPECT_EQ(http::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), at(kRfcExample));
  EXPECT_EQ(http::parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), at(kRfcExample));
  EXPECT_EQ(http::parse_http_date("Sun Nov  6 08:49:37 1994"), at(kRfcExample));
  EXPECT_EQ(http::parse_http_date("Sun Nov 06 08:49:37 1994"), at(kRfcExample));
  EXPECT_EQ(http::parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"), at(0));
  EXPECT_EQ(http::parse_http_date("Wed, 31 Dec 1969 23:59:59 GMT"), at(-1));
}

TEST(HttpDate, ParseIsCaseInsensitiveAndIgnoresSurroundingWhitespace) {
  EXPECT_EQ(http::parse_http_date("SUN, 06 NOV 1994 08:49:37 gmt"), at(kRfcExample));
  EXPECT_EQ(http::parse_http_date(" \tSun, 06 Nov 1994 08:49:37 GMT \t"), at(kRfcExample));
}

TEST(HttpDate, FormatThenParseRoundTrips) {
  // Every 97 hours and 13 seconds from 1900 to 2200: crosses leap days, centuries, 2000.
  for (std::int64_t t = -2208988800; t < 7258118400; t += 97 * 3600 + 13) {
    const std::string s = http::format_http_date(at(t));
    ASSERT_EQ(http::parse_http_date(s), at(t)) << s;
  }
}

TEST(HttpDate, ResolvesRfc850TwoDigitYearsAtMostFiftyYearsAhead) {
  const int this_year = static_cast<int>(
      std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(Clock::now())}.year());
  auto year_of = [](const std::string& yy) {
    auto t = http::parse_http_date("Monday, 01-Jan-" + yy + " 00:00:00 GMT");
    EXPECT_TRUE(t.has_value()) << yy;
    if (!t) return 0;
    return static_cast<int>(
        std::chrono::year_month_day{std::chrono::floor<std::chrono::days>(*t)}.year());
  };
  auto two_digits = [](int year) {
    std::string s = std::to_string(year % 100);
    return s.size() == 1 ? "0" + s : s;
  };
  EXPECT_EQ(year_of(two_digits(this_year + 10)), this_year + 10);
  EXPECT_EQ(year_of(two_digits(this_year - 10)), this_year - 10);
  EXPECT_EQ(year_of(two_digits(this_year + 60)), this_year - 40);
}

TEST(HttpDate, SaturatesOutsideTheClockRange) {
  EXPECT_EQ(http::parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Clock::time_point::max());
  EXPECT_EQ(http::parse_http_date("Mon, 01 Jan 1601 00:00:00 GMT"), Clock::time_point::min());
}

TEST(HttpDate, RejectsMalformedDates) {
  for (const char* bad : {
           "",
           "Sun, 06 Nov 1994 08:49:37 UTC",     // zone other than GMT
           "Sun, 06 Nov 1994 08:49:37",         // no zone
           "Sun, 6 Nov 1994 08:49:37 GMT",      // IMF day must be two digits
           "Sun, 06 Nov 94 08:49:37 GMT",       // IMF year must be four digits
           "Sun,06 Nov 1994 08:49:37 GMT",      // missing space
           "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing bytes
           "Sun, 06 Nov 1994 8:49:37 GMT",      // one-digit hour
           "Sun, 06 Foo 1994 08:49:37 GMT",     // no such month
           "Xyz, 06 Nov 1994 08:49:37 GMT",     // no such day
           "Sun, 31 Feb 1994 08:49:37 GMT",     // no such date
           "Sun, 29 Feb 1900 08:49:37 GMT",     // 1900 is not a leap year
           "Sun, 00 Nov 1994 08:49:37 GMT",     // day zero
           "Sun, 06 Nov 1994 24:00:00 GMT",     // hour out of range
           "Sun, 06 Nov 1994 08:60:00 GMT",     // minute out of range
           "Sun, 06 Nov 1994 08:49:60 GMT",     // second out of range
           "Sun, 06 Nov 1994 08:49:3a GMT",     // not a digit
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 year has two digits
           "Sun, 06-Nov-94 08:49:37 GMT",       // RFC 850 needs the long day name
           "Sunday, 06 Nov 94 08:49:37 GMT",    // RFC 850 uses dashes
           "Sun Nov 6 08:49:37 1994",           // asctime pads the day with a space
           "Sun Nov  6 08:49:37 94",            // asctime year has four digits
           "Sun Nov  6 08:49:37 1994 GMT",      // trailing bytes
           "784111777",
       }) {
    EXPECT_FALSE(http::parse_http_date(bad).has_value()) << bad;
  }
}

TEST(CookieDate, ParsesTheFormsServersSend) {
  const auto expected = at(1623233894);  // Wed, 09 Jun 2021 10:18:14 GMT
  for (const char* s : {
           "Wed, 09 Jun 2021 10:18:14 GMT",
           "Wed, 09-Jun-2021 10:18:14 GMT",
           "Wed, 09-Jun-21 10:18:14 GMT",
           "Wednesday, 09-Jun-21 10:18:14 GMT",
           "Wed Jun  9 10:18:14 2021",
           "9 jun 21 10:18:14",
           "10:18:14 2021 JUNE 09",
           "Wed, 09 Jun 2021 10:18:14GMT",
           "  ;;xyz 09 Jun 2021 10:18:14 +0000 more stuff",
       }) {
    EXPECT_EQ(http::parse_cookie_date(s), expected) << s;
  }
}

TEST(CookieDate, MapsTwoDigitYearsLikeBrowsers) {
  EXPECT_EQ(http::parse_cookie_date("Thu, 01 Jan 70 00:00:00 GMT"), at(0));
  EXPECT_EQ(http::parse_cookie_date("Thu, 1 Jan 1970 0:0:0 GMT"), at(0));
  EXPECT_EQ(http::parse_cookie_date("Sat, 01 Jan 00 00:00:00 GMT"), at(946684800));
  EXPECT_EQ(http::parse_cookie_date("01 Jan 69 00:00:00"), at(3124224000));
}

TEST(CookieDate, RejectsWhatRfc6265Rejects) {
  for (const char* bad : {
           "",
           "Wed, 09 Jun 2021 GMT",        // no time
           "Wed, Jun 2021 10:18:14 GMT",  // no day of month (2021 is no 1-2 digit day)
           "Wed, 09 2021 10:18:14 GMT",   // no month
           "Wed, 09 Jun 10:18:14 GMT",    // no year
           "09 Jun 1600 10:18:14",        // before 1601
           "32 Jun 2021 10:18:14",        // day out of range
           "31 Jun 2021 10:18:14",        // no such date
           "09 Jun 2021 24:00:00",        // hour out of range
           "09 Jun 2021 10:60:00",        // minute out of range
           "09 Jun 2021 10:18:60",        // second out of range
           "2021-06-09 10:18:14",         // numeric month
           "09 Jun 2021 123:18:14",       // not a time, and nothing else is one
           "09 Jun 20211 10:18:14",       // five-digit year
       }) {
    EXPECT_FALSE(http::parse_cookie_date(bad).has_value()) << bad;
  }
}

TEST(CookieDate, SaturatesFarFutureYears) {
  EXPECT_EQ(http::parse_cookie_date("Fri, 31 Dec 9999 23:59:59 GMT"), Clock::time_point::max());
}

}  // namespace
