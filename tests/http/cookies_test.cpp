// Cookies (RFC 6265). Pinned here:
//  - a Cookie header parses leniently (spacing, quotes, junk pairs skipped) and is capped;
//  - Set-Cookie parses as user agents do (§5.2): attribute case, last-wins, bad attributes
//    ignored, Max-Age and Expires, the Domain dot; and what makes it no cookie at all;
//  - SetCookie::str emits exactly the expected header and refuses injectable values;
//  - the jar's storage (§5.3) and retrieval (§5.4): domain-match, host-only, default path,
//    path-match, Secure, expiry, replacement, ordering, caps; RFC 6265 §3.1's examples.
#include "eddy/http/cookies.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace http = eddy::http;
using http::CookieError;
using http::CookieJar;
using http::SetCookie;
using http::Url;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

namespace {

using Pairs = std::vector<std::pair<std::string_view, std::string_view>>;

const Clock::time_point kNow = Clock::time_point{std::chrono::seconds{1700000000}};

TEST(CookieHeader, ParsesPairsInOrder) {
  EXPECT_EQ(http::parse_cookie_header("a=1; b=2"), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(http::parse_cookie_header("a=1;b=2"), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(http::parse_cookie_header("  a = 1 ;\tb=2 ; "), (Pairs{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(http::parse_cookie_header("a=1; a=2"), (Pairs{{"a", "1"}, {"a", "2"}}));
  EXPECT_EQ(http::parse_cookie_header("a=; b=x=y"), (Pairs{{"a", ""}, {"b", "x=y"}}));
  EXPECT_TRUE(http::parse_cookie_header("").empty());
}

TEST(CookieHeader, StripsQuotesAndReturnsViewsIntoTheHeader) {
  const std::string header = "a=\"quoted value\"; b=\"; c=\"\"";
  const Pairs pairs = http::parse_cookie_header(header);
  EXPECT_EQ(pairs, (Pairs{{"a", "quoted value"}, {"b", "\""}, {"c", ""}}));
  EXPECT_EQ(pairs[0].second.data(), header.data() + 3);
}

TEST(CookieHeader, SkipsMalformedPairs) {
  EXPECT_EQ(http::parse_cookie_header("novalue; a=1; =x; b c=2; d\x01=3; e=4\x7f; f=5"),
            (Pairs{{"a", "1"}, {"f", "5"}}));
}

TEST(CookieHeader, StopsAtTheCap) {
  std::string header;
  for (int i = 0; i < 300; ++i) header += "k" + std::to_string(i) + "=v; ";
  const Pairs pairs = http::parse_cookie_header(header);
  ASSERT_EQ(pairs.size(), 200u);
  EXPECT_EQ(pairs.back().first, "k199");
  EXPECT_EQ(http::parse_cookie_header("a=1; b=2; c=3", 2).size(), 2u);
}

TEST(SetCookieParse, Rfc6265Examples) {
  SetCookie c = SetCookie::parse("SID=31d4d96e407aad42; Path=/; Domain=example.com");
  EXPECT_EQ(c.name, "SID");
  EXPECT_EQ(c.value, "31d4d96e407aad42");
  EXPECT_EQ(c.path, "/");
  EXPECT_EQ(c.domain, "example.com");
  EXPECT_FALSE(c.secure);

  c = SetCookie::parse("SID=31d4d96e407aad42; Path=/; Secure; HttpOnly");
  EXPECT_TRUE(c.secure);
  EXPECT_TRUE(c.http_only);
  EXPECT_FALSE(c.domain.has_value());

  c = SetCookie::parse("lang=en-US; Expires=Wed, 09 Jun 2021 10:18:14 GMT");
  EXPECT_EQ(c.expires, Clock::time_point{std::chrono::seconds{1623233894}});
  EXPECT_FALSE(c.max_age.has_value());
}

TEST(SetCookieParse, AttributesAreCaseInsensitiveAndLastWins) {
  const SetCookie c = SetCookie::parse(
      " n = v ;secure;HTTPONLY; max-age=10; MAX-AGE=20; path=/a; PATH=/b; domain=A.example;"
      " DOMAIN=.B.Example; samesite=strict; SameSite=LAX; Unknown=1; Expires");
  EXPECT_EQ(c.name, "n");
  EXPECT_EQ(c.value, "v");
  EXPECT_TRUE(c.secure);
  EXPECT_TRUE(c.http_only);
  EXPECT_EQ(c.max_age, 20s);
  EXPECT_EQ(c.path, "/b");
  EXPECT_EQ(c.domain, "b.example");
  EXPECT_EQ(c.same_site, SetCookie::SameSite::lax);
  EXPECT_FALSE(c.expires.has_value());
}

TEST(SetCookieParse, IgnoresMalformedAttributes) {
  SetCookie c = SetCookie::parse("a=b; Max-Age=abc; Max-Age=+5; Max-Age=1e3; Max-Age=-; Max-Age=");
  EXPECT_FALSE(c.max_age.has_value());
  EXPECT_EQ(SetCookie::parse("a=b; Max-Age=-1").max_age, -1s);
  EXPECT_EQ(SetCookie::parse("a=b; Max-Age=0").max_age, 0s);
  EXPECT_GT(*SetCookie::parse("a=b; Max-Age=99999999999999999999999").max_age, 1000000000s);

  c = SetCookie::parse("a=b; Expires=Wed, 09 Jun 2021 10:18:14 GMT; Expires=not a date");
  EXPECT_TRUE(c.expires.has_value());  // the bad one is dropped, not the good one

  EXPECT_EQ(SetCookie::parse("a=b; Domain=x.example; Domain=").domain, "x.example");
  EXPECT_EQ(SetCookie::parse("a=b; Domain=.").domain, "");
  // An empty or relative Path means the default path, even after a valid one.
  EXPECT_FALSE(SetCookie::parse("a=b; Path=/x; Path=rel").path.has_value());
  EXPECT_FALSE(SetCookie::parse("a=b; Path=").path.has_value());
  EXPECT_EQ(SetCookie::parse("a=b; SameSite=Strict; SameSite=Bogus").same_site,
            SetCookie::SameSite::unset);
  EXPECT_FALSE(SetCookie::parse("a=b; Path=/" + std::string(1100, 'p')).path.has_value());
}

TEST(SetCookieParse, KeepsQuotesAndInnerSpaces) {
  EXPECT_EQ(SetCookie::parse("a=\"x y\"").value, "\"x y\"");
  EXPECT_EQ(SetCookie::parse("a= x y ").value, "x y");
  EXPECT_EQ(SetCookie::parse("a=").value, "");
}

TEST(SetCookieParse, RejectsWhatIsNoCookie) {
  for (const std::string& bad : std::vector<std::string>{
           "",
           "novalue",
           "novalue; Path=/",
           "=value",
           "  =value",
           "a=b\x01",
           "a\x7f=b",
           "a=b\nSet-Cookie: c=d",
           "a=" + std::string(4096, 'v'),
       }) {
    EXPECT_THROW(SetCookie::parse(bad), CookieError) << bad;
  }
  EXPECT_NO_THROW(SetCookie::parse("a=" + std::string(4095, 'v')));
  EXPECT_NO_THROW(SetCookie::parse("a=b\tc"));  // HTAB is allowed
}

TEST(SetCookieStr, SerialisesEveryAttribute) {
  SetCookie c{.name = "sid",
              .value = "abc123",
              .domain = "example.com",
              .path = "/app",
              .expires = Clock::time_point{std::chrono::seconds{784111777}},
              .max_age = 3600s,
              .secure = true,
              .http_only = true,
              .same_site = SetCookie::SameSite::strict};
  EXPECT_EQ(c.str(),
            "sid=abc123; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Max-Age=3600; "
            "Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Strict");
  EXPECT_EQ(SetCookie::parse(c.str()), c);
  c.same_site = SetCookie::SameSite::none;
  EXPECT_TRUE(c.str().ends_with("; SameSite=None"));
  c.same_site = SetCookie::SameSite::lax;
  EXPECT_TRUE(c.str().ends_with("; SameSite=Lax"));
  EXPECT_EQ((SetCookie{.name = "a", .value = ""}).str(), "a=");
  EXPECT_EQ((SetCookie{.name = "a", .value = "\"x y\""}).str(), "a=\"x y\"");
  EXPECT_EQ((SetCookie{.name = "a", .value = "b", .max_age = -1s}).str(), "a=b; Max-Age=-1");
}

TEST(SetCookieStr, RefusesWhatCouldBeMisread) {
  auto str_of = [](std::string name, std::string value) {
    return SetCookie{.name = std::move(name), .value = std::move(value)}.str();
  };
  for (const char* name : {"", "a b", "a;b", "a=b", "a,b", "a\"b", "a\x01", "\xc3\xa9", "(a)"}) {
    EXPECT_THROW(str_of(name, "v"), CookieError) << name;
  }
  for (const char* value : {"a b", "a;b", "a,b", "a\\b", "a\"b", "\"", "\"a\"b\"", "a\tb", "\x7f",
                            "\xc3\xa9", "a\r\nSet-Cookie: x=y"}) {
    EXPECT_THROW(str_of("n", value), CookieError) << value;
  }
  EXPECT_THROW((SetCookie{.name = "a", .value = "b", .domain = "x.com;Secure"}).str(), CookieError);
  EXPECT_THROW((SetCookie{.name = "a", .value = "b", .domain = ""}).str(), CookieError);
  EXPECT_THROW((SetCookie{.name = "a", .value = "b", .path = "/a;b"}).str(), CookieError);
  EXPECT_THROW((SetCookie{.name = "a", .value = "b", .path = "/\r\nX: y"}).str(), CookieError);
  EXPECT_NO_THROW(str_of("!#$%&'*+-.^_`|~09AZaz", "!#$%&'()*+-./09:<=>?@AZ[]^_`az{|}~"));
}

// ---- CookieJar ----------------------------------------------------------------------------

struct Jar {
  CookieJar jar;
  bool set(const char* url, std::string_view header, Clock::time_point at = kNow) {
    return jar.update(Url::parse(url), header, at);
  }
  std::string get(const char* url, Clock::time_point at = kNow) const {
    return jar.header_for(Url::parse(url), at);
  }
};

TEST(CookieJar, Rfc6265Section3Examples) {
  Jar j;
  EXPECT_TRUE(j.set("https://www.example.com/", "SID=31d4d96e407aad42; Path=/; Secure; HttpOnly"));
  EXPECT_TRUE(j.set("https://www.example.com/", "lang=en-US; Path=/; Domain=example.com"));
  EXPECT_EQ(j.get("https://www.example.com/"), "SID=31d4d96e407aad42; lang=en-US");
  EXPECT_EQ(j.get("https://example.com/"), "lang=en-US");     // SID is host-only
  EXPECT_EQ(j.get("http://www.example.com/"), "lang=en-US");  // SID is Secure
  EXPECT_TRUE(j.set("https://www.example.com/",
                    "lang=; Path=/; Domain=example.com; Expires=Sun, 06 Nov 1994 08:49:37 GMT"));
  EXPECT_EQ(j.get("https://www.example.com/"), "SID=31d4d96e407aad42");
  EXPECT_EQ(j.jar.size(), 1u);
}

TEST(CookieJar, HostOnlyWithoutDomain) {
  Jar j;
  EXPECT_TRUE(j.set("http://Example.COM/", "a=1"));
  EXPECT_EQ(j.get("http://example.com/"), "a=1");
  EXPECT_EQ(j.get("http://EXAMPLE.com:8080/x"), "a=1");  // cookies ignore ports
  EXPECT_EQ(j.get("http://www.example.com/"), "");
  EXPECT_EQ(j.get("http://other.com/"), "");
}

TEST(CookieJar, DomainAttributeCoversSubdomains) {
  Jar j;
  EXPECT_TRUE(j.set("http://www.example.com/", "a=1; Domain=.EXAMPLE.com"));
  EXPECT_EQ(j.get("http://example.com/"), "a=1");
  EXPECT_EQ(j.get("http://www.example.com/"), "a=1");
  EXPECT_EQ(j.get("http://a.b.example.com/"), "a=1");
  EXPECT_EQ(j.get("http://badexample.com/"), "");
  EXPECT_EQ(j.get("http://example.com.evil/"), "");
}

TEST(CookieJar, RejectsDomainsTheHostIsNotIn) {
  Jar j;
  EXPECT_FALSE(j.set("http://example.com/", "a=1; Domain=other.com"));
  EXPECT_FALSE(j.set("http://example.com/", "a=1; Domain=www.example.com"));
  EXPECT_FALSE(j.set("http://example.com/", "a=1; Domain=ample.com"));
  EXPECT_FALSE(j.set("http://example.com/", "a=1; Domain=com"));  // public-suffix-like
  EXPECT_FALSE(j.set("http://www.example.com/", "a=1; Domain=.com"));
  EXPECT_FALSE(j.set("http://192.168.0.1/", "a=1; Domain=0.1"));  // no suffixes of IPs
  EXPECT_EQ(j.jar.size(), 0u);
}

TEST(CookieJar, SingleLabelDomainIsFineAsTheHostItself) {
  Jar j;
  EXPECT_TRUE(j.set("http://localhost/", "a=1; Domain=localhost"));
  EXPECT_EQ(j.get("http://localhost/"), "a=1");
  EXPECT_EQ(j.get("http://sub.localhost/"), "");  // and it became host-only
  EXPECT_TRUE(j.set("http://192.168.0.1/", "b=2; Domain=192.168.0.1"));
  EXPECT_EQ(j.get("http://192.168.0.1/"), "b=2");
  EXPECT_TRUE(j.set("http://[::1]:8080/", "c=3"));
  EXPECT_EQ(j.get("http://[::1]/"), "c=3");
}

TEST(CookieJar, DefaultPathIsTheRequestDirectory) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/a/b/c", "x=1"));
  EXPECT_EQ(j.get("http://h/a/b"), "x=1");
  EXPECT_EQ(j.get("http://h/a/b/"), "x=1");
  EXPECT_EQ(j.get("http://h/a/b/deeper/still"), "x=1");
  EXPECT_EQ(j.get("http://h/a"), "");
  EXPECT_EQ(j.get("http://h/a/bc"), "");
  EXPECT_TRUE(j.set("http://h/top", "y=2"));
  EXPECT_TRUE(j.set("http://h", "z=3"));
  EXPECT_EQ(j.get("http://h/"), "y=2; z=3");
  EXPECT_EQ(j.get("http://h"), "y=2; z=3");
}

TEST(CookieJar, PathAttributeMatchesOnSegmentBoundaries) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; Path=/docs"));
  EXPECT_EQ(j.get("http://h/docs"), "a=1");
  EXPECT_EQ(j.get("http://h/docs/"), "a=1");
  EXPECT_EQ(j.get("http://h/docs/Web/HTTP?q=1"), "a=1");
  EXPECT_EQ(j.get("http://h/"), "");
  EXPECT_EQ(j.get("http://h/docsets"), "");
  EXPECT_EQ(j.get("http://h/fr/docs"), "");
  EXPECT_TRUE(j.set("http://h/", "b=2; Path=/dir/"));
  EXPECT_EQ(j.get("http://h/dir/x"), "b=2");
  EXPECT_EQ(j.get("http://h/dir"), "");
}

TEST(CookieJar, SecureCookiesNeedASecureScheme) {
  Jar j;
  EXPECT_FALSE(j.set("http://h/", "a=1; Secure"));
  EXPECT_EQ(j.jar.size(), 0u);
  EXPECT_TRUE(j.set("https://h/", "a=1; Secure"));
  EXPECT_EQ(j.get("https://h/"), "a=1");
  EXPECT_EQ(j.get("wss://h/"), "a=1");
  EXPECT_EQ(j.get("http://h/"), "");
  EXPECT_EQ(j.get("ws://h/"), "");
  // Nor may an insecure origin overwrite or shadow it.
  EXPECT_FALSE(j.set("http://h/", "a=evil"));
  EXPECT_FALSE(j.set("http://h/", "a=evil; Path=/sub"));
  EXPECT_TRUE(j.set("http://h/", "b=fine"));
  EXPECT_EQ(j.get("https://h/"), "a=1; b=fine");
}

TEST(CookieJar, ExpiresWithMaxAge) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; Max-Age=60"));
  EXPECT_EQ(j.get("http://h/", kNow + 59s), "a=1");
  EXPECT_EQ(j.get("http://h/", kNow + 60s), "");
  EXPECT_TRUE(j.set("http://h/", "b=1"));  // a session cookie
  EXPECT_EQ(j.get("http://h/", kNow + std::chrono::days{10000}), "b=1");
}

TEST(CookieJar, MaxAgeWinsOverExpiresInEitherOrder) {
  const std::string past = "Expires=Sun, 06 Nov 1994 08:49:37 GMT";
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; " + past + "; Max-Age=100"));
  EXPECT_TRUE(j.set("http://h/", "b=1; Max-Age=100; " + past));
  EXPECT_EQ(j.get("http://h/"), "a=1; b=1");
  EXPECT_EQ(j.get("http://h/", kNow + 100s), "");
}

TEST(CookieJar, ExpiresAttribute) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; Expires=Wed, 15 Nov 2023 04:13:20 GMT"));  // kNow + 6h
  EXPECT_EQ(j.get("http://h/", kNow + 5h), "a=1");
  EXPECT_EQ(j.get("http://h/", kNow + 7h), "");
}

TEST(CookieJar, LifetimeIsCappedAt400Days) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; Max-Age=99999999999"));
  EXPECT_TRUE(j.set("http://h/", "b=1; Expires=Fri, 31 Dec 9999 23:59:59 GMT"));
  EXPECT_EQ(j.get("http://h/", kNow + std::chrono::days{399}), "a=1; b=1");
  EXPECT_EQ(j.get("http://h/", kNow + std::chrono::days{401}), "");
}

TEST(CookieJar, ZeroOrNegativeMaxAgeDeletes) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1"));
  EXPECT_TRUE(j.set("http://h/", "b=1"));
  EXPECT_TRUE(j.set("http://h/", "a=; Max-Age=0"));
  EXPECT_TRUE(j.set("http://h/", "b=; Max-Age=-5"));
  EXPECT_EQ(j.jar.size(), 0u);
  EXPECT_TRUE(j.set("http://h/", "c=1; Max-Age=0"));  // never stored
  EXPECT_EQ(j.jar.size(), 0u);
}

TEST(CookieJar, ReplacesSameNameDomainAndPathKeepingCreationOrder) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1", kNow));
  EXPECT_TRUE(j.set("http://h/", "b=1", kNow + 1s));
  EXPECT_TRUE(j.set("http://h/", "a=2", kNow + 2s));
  EXPECT_EQ(j.get("http://h/"), "a=2; b=1");
  EXPECT_EQ(j.jar.size(), 2u);
  EXPECT_TRUE(j.set("http://h/", "a=3; Path=/x"));  // another path: another cookie
  EXPECT_TRUE(j.set("http://www.h.com/", "a=4; Domain=h.com"));
  EXPECT_EQ(j.jar.size(), 4u);
}

TEST(CookieJar, LongerPathsFirstThenOlderFirst) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "root=1; Path=/", kNow));
  EXPECT_TRUE(j.set("http://h/", "deep=1; Path=/a/b", kNow + 1s));
  EXPECT_TRUE(j.set("http://h/", "mid=1; Path=/a", kNow + 2s));
  EXPECT_TRUE(j.set("http://h/", "root2=1; Path=/", kNow - 1s));
  EXPECT_TRUE(j.set("http://h/", "root3=1; Path=/", kNow - 1s));  // same instant: set order
  EXPECT_EQ(j.get("http://h/a/b/c", kNow + 3s), "deep=1; mid=1; root2=1; root3=1; root=1");
}

TEST(CookieJar, RefusesGarbageAndHostlessUrls) {
  Jar j;
  EXPECT_FALSE(j.set("http://h/", "garbage"));
  EXPECT_FALSE(j.set("http://h/", "=x"));
  EXPECT_FALSE(j.jar.update(Url::parse("/relative"), "a=1", kNow));
  EXPECT_EQ(j.jar.header_for(Url::parse("/relative"), kNow), "");
  EXPECT_EQ(j.jar.size(), 0u);
}

TEST(CookieJar, CapsCookiesPerDomainAndInTotal) {
  CookieJar jar(2, 3);
  const Url a = Url::parse("http://a.com/"), b = Url::parse("http://b.com/");
  EXPECT_TRUE(jar.update(a, "x=1", kNow));
  EXPECT_TRUE(jar.update(a, "y=1", kNow));
  EXPECT_TRUE(jar.update(a, "z=1", kNow));
  EXPECT_EQ(jar.header_for(a, kNow), "y=1; z=1");  // the oldest went
  EXPECT_TRUE(jar.update(b, "p=1", kNow));
  EXPECT_TRUE(jar.update(b, "q=1", kNow));
  EXPECT_EQ(jar.size(), 3u);
  EXPECT_EQ(jar.header_for(a, kNow), "z=1");
  EXPECT_EQ(jar.header_for(b, kNow), "p=1; q=1");
}

TEST(CookieJar, DropsExpiredCookiesAndClears) {
  Jar j;
  EXPECT_TRUE(j.set("http://h/", "a=1; Max-Age=10"));
  EXPECT_TRUE(j.set("http://h/", "b=1; Max-Age=10"));
  EXPECT_TRUE(j.set("http://h/", "c=1", kNow + 20s));
  EXPECT_EQ(j.jar.size(), 1u);
  j.jar.clear();
  EXPECT_EQ(j.jar.size(), 0u);
  EXPECT_EQ(j.get("http://h/"), "");
}

}  // namespace
