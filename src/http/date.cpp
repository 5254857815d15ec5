#include "eddy/http/date.hpp"

#include <array>
#include <cstdint>

namespace eddy::http {
namespace {

using Clock = std::chrono::system_clock;
namespace chr = std::chrono;

constexpr std::array<std::string_view, 7> kDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                       "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDayNames = {
    "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonthNames = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
char to_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (to_lower(a[i]) != to_lower(b[i])) return false;
  }
  return true;
}

// 1-based month of a three-letter name, 0 if none.
int month_of(std::string_view name) {
  for (std::size_t i = 0; i < kMonthNames.size(); ++i) {
    if (iequals(name, kMonthNames[i])) return static_cast<int>(i) + 1;
  }
  return 0;
}

// Validates the calendar date and converts, saturating at the clock's range.
std::optional<Clock::time_point> make_time(int year, int month, int day, int hour, int minute,
                                           int second) {
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  const chr::year_month_day ymd{chr::year{year}, chr::month{static_cast<unsigned>(month)},
                                chr::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  const std::int64_t days = chr::sys_days{ymd}.time_since_epoch().count();
  const std::int64_t secs = days * 86400 + hour * 3600 + minute * 60 + second;
  constexpr std::int64_t kMax =
      chr::floor<chr::seconds>(Clock::time_point::max()).time_since_epoch().count();
  constexpr std::int64_t kMin =
      chr::ceil<chr::seconds>(Clock::time_point::min()).time_since_epoch().count();
  if (secs > kMax) return Clock::time_point::max();
  if (secs < kMin) return Clock::time_point::min();
  return Clock::time_point{chr::duration_cast<Clock::duration>(chr::seconds{secs})};
}

// A cursor over the fixed-layout formats of RFC 9110.
struct Reader {
  std::string_view s;

  bool literal(std::string_view lit) {
    if (s.size() < lit.size() || !iequals(s.substr(0, lit.size()), lit)) return false;
    s.remove_prefix(lit.size());
    return true;
  }
  bool number(std::size_t width, int& out) {
    if (s.size() < width) return false;
    out = 0;
    for (std::size_t i = 0; i < width; ++i) {
      if (!is_digit(s[i])) return false;
      out = out * 10 + (s[i] - '0');
    }
    s.remove_prefix(width);
    return true;
  }
  bool month(int& out) {
    if (s.size() < 3) return false;
    out = month_of(s.substr(0, 3));
    s.remove_prefix(3);
    return out != 0;
  }
  bool one_of(const auto& names) {
    for (std::string_view name : names) {
      if (literal(name)) return true;
    }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return number(2, h) && literal(":") && number(2, m) && literal(":") && number(2, sec);
  }
};

std::optional<Clock::time_point> parse_imf_fixdate(Reader r) {
  int day, month, year, h, m, sec;
  if (!r.one_of(kDayNames) || !r.literal(", ") || !r.number(2, day) || !r.literal(" ") ||
      !r.month(month) || !r.literal(" ") || !r.number(4, year) || !r.literal(" ") ||
      !r.time(h, m, sec) || !r.literal(" GMT") || !r.s.empty()) {
    return std::nullopt;
  }
  return make_time(year, month, day, h, m, sec);
}

std::optional<Clock::time_point> parse_rfc850(Reader r) {
  int day, month, yy, h, m, sec;
  if (!r.one_of(kLongDayNames) || !r.literal(", ") || !r.number(2, day) || !r.literal("-") ||
      !r.month(month) || !r.literal("-") || !r.number(2, yy) || !r.literal(" ") ||
      !r.time(h, m, sec) || !r.literal(" GMT") || !r.s.empty()) {
    return std::nullopt;
  }
  // RFC 9110 §5.6.7: a two-digit year more than 50 years ahead is the most recent past one.
  const int this_year =
      static_cast<int>(chr::year_month_day{chr::floor<chr::days>(Clock::now())}.year());
  int year = this_year / 100 * 100 + yy;
  if (year > this_year + 50) year -= 100;
  return make_time(year, month, day, h, m, sec);
}

std::optional<Clock::time_point> parse_asctime(Reader r) {
  int month, day, year, h, m, sec;
  if (!r.one_of(kDayNames) || !r.literal(" ") || !r.month(month) || !r.literal(" ")) {
    return std::nullopt;
  }
  if (r.literal(" ")) {
    if (!r.number(1, day)) return std::nullopt;
  } else if (!r.number(2, day)) {
    return std::nullopt;
  }
  if (!r.literal(" ") || !r.time(h, m, sec) || !r.literal(" ") || !r.number(4, year) ||
      !r.s.empty()) {
    return std::nullopt;
  }
  return make_time(year, month, day, h, m, sec);
}

bool is_cookie_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2F) || (c >= 0x3B && c <= 0x40) ||
         (c >= 0x5B && c <= 0x60) || (c >= 0x7B && c <= 0x7E);
}

// Reads min..max digits from the front of `s`; they must not be followed by another digit.
bool leading_digits(std::string_view& s, std::size_t min, std::size_t max, int& out) {
  std::size_t n = 0;
  out = 0;
  while (n < s.size() && n < max && is_digit(s[n])) out = out * 10 + (s[n++] - '0');
  if (n < min || (n < s.size() && is_digit(s[n]))) return false;
  s.remove_prefix(n);
  return true;
}

bool cookie_time(std::string_view t, int& h, int& m, int& sec) {
  if (!leading_digits(t, 1, 2, h) || t.empty() || t[0] != ':') return false;
  t.remove_prefix(1);
  if (!leading_digits(t, 1, 2, m) || t.empty() || t[0] != ':') return false;
  t.remove_prefix(1);
  return leading_digits(t, 1, 2, sec);
}

}  // namespace

std::string format_http_date(Clock::time_point t) {
  const auto secs = chr::floor<chr::seconds>(t);
  const auto days = chr::floor<chr::days>(secs);
  const chr::year_month_day ymd{days};
  const chr::hh_mm_ss hms{secs - days};
  const unsigned weekday = chr::weekday{days}.c_encoding();

  std::string out = "Sun, 00 Jan 0000 00:00:00 GMT";
  auto put2 = [&](std::size_t at, unsigned v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  out.replace(0, 3, kDayNames[weekday]);
  put2(5, static_cast<unsigned>(ymd.day()));
  out.replace(8, 3, kMonthNames[static_cast<unsigned>(ymd.month()) - 1]);
  const auto year = static_cast<unsigned>(static_cast<int>(ymd.year()));  // 1677..2262
  put2(12, year / 100 % 100);
  put2(14, year % 100);
  put2(17, static_cast<unsigned>(hms.hours().count()));
  put2(20, static_cast<unsigned>(hms.minutes().count()));
  put2(23, static_cast<unsigned>(hms.seconds().count()));
  return out;
}

std::optional<Clock::time_point> parse_http_date(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.size() > 3 && s[3] == ',') return parse_imf_fixdate(Reader{s});
  if (s.find(',') != std::string_view::npos) return parse_rfc850(Reader{s});
  return parse_asctime(Reader{s});
}

std::optional<Clock::time_point> parse_cookie_date(std::string_view s) {
  bool found_time = false, found_day = false, found_month = false, found_year = false;
  int h = 0, m = 0, sec = 0, day = 0, month = 0, year = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_cookie_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_cookie_delimiter(static_cast<unsigned char>(s[i]))) ++i;
    std::string_view token = s.substr(start, i - start);
    if (token.empty()) break;

    std::string_view t = token;
    if (!found_time && cookie_time(t, h, m, sec)) {
      found_time = true;
    } else if (t = token; !found_day && leading_digits(t, 1, 2, day)) {
      found_day = true;
    } else if (!found_month && token.size() >= 3 && (month = month_of(token.substr(0, 3)))) {
      found_month = true;
    } else if (t = token; !found_year && leading_digits(t, 2, 4, year)) {
      found_year = true;
    }
  }
  if (!found_time || !found_day || !found_month || !found_year) return std::nullopt;
  if (year >= 70 && year <= 99) year += 1900;
  if (year >= 0 && year <= 69) year += 2000;
  if (day < 1 || day > 31 || year < 1601) return std::nullopt;
  return make_time(year, month, day, h, m, sec);
}

}  // namespace eddy::http
