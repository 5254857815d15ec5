// http::Url, QueryParams and percent-encoding (RFC 3986). Pinned here:
//  - every component of absolute URLs and of each kind of relative reference, with "no query"
//    told apart from an empty one;
//  - resolution gives every result of RFC 3986 §5.4.1 and §5.4.2;
//  - normal input round-trips through str(); normalized() follows §6.2.2 and is idempotent;
//  - every rejection: bad characters, escapes, schemes, ports, IPv6 literals, empty http
//    hosts, over-long input; and the error message names the problem and the input;
//  - query strings decode by form rules, keep order and repeats, and cap the pair count.
#include "eddy/http/url.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace http = eddy::http;
using http::QueryParams;
using http::Url;
using http::UrlError;

namespace {

std::string error_of(std::string_view input) {
  try {
    Url::parse(input);
  } catch (const UrlError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Url, ParsesEveryComponent) {
  const Url u = Url::parse("HTTPS://user:pa%20ss@Example.COM:8443/a/B%2f;c?x=1&y#Frag");
  EXPECT_EQ(u.scheme(), "https");
  EXPECT_TRUE(u.is_absolute());
  EXPECT_TRUE(u.has_authority());
  EXPECT_EQ(u.user(), "user");
  EXPECT_EQ(u.password(), "pa%20ss");
  EXPECT_EQ(u.host(), "example.com");
  EXPECT_FALSE(u.is_ipv6());
  EXPECT_EQ(u.port(), 8443);
  EXPECT_EQ(u.effective_port(), 8443);
  EXPECT_EQ(u.path(), "/a/B%2f;c");
  EXPECT_EQ(u.query(), "x=1&y");
  EXPECT_EQ(u.fragment(), "Frag");
  EXPECT_EQ(u.authority(), "example.com:8443");
  EXPECT_EQ(u.target(), "/a/B%2f;c?x=1&y");
  EXPECT_EQ(u.str(), "https://user:pa%20ss@example.com:8443/a/B%2f;c?x=1&y#Frag");
}

TEST(Url, ParsesRelativeReferences) {
  Url u = Url::parse("//Host/p");
  EXPECT_FALSE(u.is_absolute());
  EXPECT_TRUE(u.has_authority());
  EXPECT_EQ(u.host(), "host");
  EXPECT_EQ(u.path(), "/p");

  u = Url::parse("/p?q");
  EXPECT_FALSE(u.has_authority());
  EXPECT_EQ(u.path(), "/p");
  EXPECT_EQ(u.query(), "q");

  u = Url::parse("p/q:r");
  EXPECT_EQ(u.scheme(), "");
  EXPECT_EQ(u.path(), "p/q:r");

  u = Url::parse("?q");
  EXPECT_EQ(u.path(), "");
  EXPECT_EQ(u.query(), "q");
  EXPECT_FALSE(u.fragment().has_value());

  u = Url::parse("#f");
  EXPECT_EQ(u.path(), "");
  EXPECT_FALSE(u.query().has_value());
  EXPECT_EQ(u.fragment(), "f");

  u = Url::parse("");
  EXPECT_EQ(u, Url());
  EXPECT_EQ(u.str(), "");
}

TEST(Url, TellsNoQueryFromAnEmptyOne) {
  EXPECT_FALSE(Url::parse("http://a/").query().has_value());
  EXPECT_EQ(Url::parse("http://a/?").query(), "");
  EXPECT_FALSE(Url::parse("http://a/").fragment().has_value());
  EXPECT_EQ(Url::parse("http://a/#").fragment(), "");
  EXPECT_EQ(Url::parse("http://a/?").target(), "/?");
  EXPECT_EQ(Url::parse("http://a/?#").str(), "http://a/?#");
}

TEST(Url, Userinfo) {
  EXPECT_EQ(Url::parse("http://u@h/").user(), "u");
  EXPECT_EQ(Url::parse("http://u@h/").password(), "");
  EXPECT_EQ(Url::parse("http://u:@h/").str(), "http://u:@h/");
  EXPECT_EQ(Url::parse("http://:p@h/").password(), "p");
  EXPECT_EQ(Url::parse("http://u:p:q@h/").password(), "p:q");
  EXPECT_EQ(Url::parse("http://@h/").str(), "http://@h/");
  // The Host header never carries credentials.
  EXPECT_EQ(Url::parse("http://u:p@h:81/").authority(), "h:81");
}

TEST(Url, Ports) {
  EXPECT_EQ(Url::parse("http://h/").port(), std::nullopt);
  EXPECT_EQ(Url::parse("http://h/").effective_port(), 80);
  EXPECT_EQ(Url::parse("https://h/").effective_port(), 443);
  EXPECT_EQ(Url::parse("ws://h/").effective_port(), 80);
  EXPECT_EQ(Url::parse("wss://h/").effective_port(), 443);
  EXPECT_EQ(Url::parse("ftp://h/").effective_port(), 0);
  EXPECT_EQ(Url::parse("/relative").effective_port(), 0);
  EXPECT_EQ(Url::parse("http://h:0/").port(), 0);
  EXPECT_EQ(Url::parse("http://h:65535/").port(), 65535);
  EXPECT_EQ(Url::parse("http://h:00080/").port(), 80);
  EXPECT_EQ(Url::parse("http://h:80/").authority(), "h:80");  // explicit stays explicit
  // An empty port is allowed by RFC 3986 and means the default.
  EXPECT_EQ(Url::parse("http://h:/").port(), std::nullopt);
  EXPECT_EQ(Url::parse("http://h:/").str(), "http://h/");
}

TEST(Url, Ipv6Literals) {
  Url u = Url::parse("http://[2001:DB8::1]:8080/p");
  EXPECT_TRUE(u.is_ipv6());
  EXPECT_EQ(u.host(), "2001:db8::1");
  EXPECT_EQ(u.port(), 8080);
  EXPECT_EQ(u.authority(), "[2001:db8::1]:8080");
  EXPECT_EQ(u.str(), "http://[2001:db8::1]:8080/p");
  for (const char* ok :
       {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8",
        "::ffff:192.0.2.128", "1:2:3:4:5:6:1.2.3.4", "fe80::abcd:0:0:1"}) {
    const Url v = Url::parse(std::string("http://[") + ok + "]/");
    EXPECT_EQ(v.host(), ok);
    EXPECT_TRUE(v.is_ipv6());
  }
  EXPECT_EQ(Url::parse("http://[::1]").authority(), "[::1]");
}

TEST(Url, RejectsBadIpv6Literals) {
  for (const char* bad : {
           "http://[::1/",
           "http://[]/",
           "http://[:1]/",
           "http://[1:]/",
           "http://[:::]/",
           "http://[1::2::3]/",
           "http://[12345::]/",
           "http://[1:2:3:4:5:6:7]/",
           "http://[1:2:3:4:5:6:7:8:9]/",
           "http://[1:2:3:4:5:6:7:8::]/",
           "http://[::1.2.3.256]/",
           "http://[::01.2.3.4]/",
           "http://[::1.2.3]/",
           "http://[1.2.3.4]/",
           "http://[1:2:3:4:5:6:7:1.2.3.4]/",
           "http://[::g]/",
           "http://[::1]x/",
           "http://[::1]:x/",
           "http://[fe80::1%25eth0]/",
           "http://[v1.fe]/",
           "http://a[::1]/",
       }) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
}

TEST(Url, RejectsBadCharacters) {
  for (std::string bad : {
           "http://a b/",
           "http://a/ b",
           "http://a/\tb",
           "http://a/?q=1 2",
           "http://a/#x y",
           "http://a/\x01",
           "http://a/\x7f",
           "http://a/caf\xc3\xa9",
           "http://a/\\b",
           "http://a\\b/",
           "http://a<b/",
           "http://a^b/",
           "http://a/\r\nHost: x",
           " http://a/",
           "http://a/ ",
           "http://u@v@h/",
           "http://u[@h/",
       }) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
  EXPECT_THROW(Url::parse(std::string("http://a/\0b", 11)), UrlError);
}

TEST(Url, RejectsBadPercentEncoding) {
  for (const char* bad :
       {"http://a/%zz", "http://a/%4", "http://a/%", "http://a/%4g", "http://a/?%g0", "http://a/#%",
        "http://%x/", "http://u%@h/", "/%2", "?%"}) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
  EXPECT_EQ(Url::parse("http://a/%2f%2F").path(), "/%2f%2F");
}

TEST(Url, RejectsBadSchemes) {
  for (const char* bad : {"1http://a/", ":foo", "ht_tp://a/", "-a:b", "a%41:b"}) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
  EXPECT_EQ(Url::parse("a+b-c.d://h/").scheme(), "a+b-c.d");
  // RFC 3986 reads "localhost:8080" as scheme "localhost", path "8080".
  EXPECT_EQ(Url::parse("localhost:8080").scheme(), "localhost");
}

TEST(Url, RejectsBadPorts) {
  for (const char* bad : {"http://h:65536/", "http://h:99999999999999999999/", "http://h:8x/",
                          "http://h:-1/", "http://h:+80/", "http://h:80:80/", "http://h: 80/"}) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
}

TEST(Url, HttpNeedsAHost) {
  for (const char* bad : {"http:///p", "https://", "ws://:80/", "wss://u@/"}) {
    EXPECT_THROW(Url::parse(bad), UrlError) << bad;
  }
  EXPECT_EQ(Url::parse("file:///etc/hosts").host(), "");
  EXPECT_EQ(Url::parse("file:///etc/hosts").path(), "/etc/hosts");
  EXPECT_EQ(Url::parse("mailto:a@b.example").path(), "a@b.example");
}

TEST(Url, LimitsLength) {
  const std::string path(Url::kDefaultMaxLength - 9, 'a');
  EXPECT_NO_THROW(Url::parse("http://h/" + path));
  EXPECT_THROW(Url::parse("http://h/" + path + "a"), UrlError);
  EXPECT_THROW(Url::parse("http://h/abc", 11), UrlError);
  EXPECT_NO_THROW(Url::parse("http://h/abc", 12));
}

TEST(Url, ErrorMessageNamesProblemAndInput) {
  EXPECT_EQ(error_of("http://h:65536/"), "invalid URL \"http://h:65536/\": port out of range");
  EXPECT_NE(error_of("http://a/%zz").find("percent-encoding at offset 9"), std::string::npos);
  // Control bytes are escaped so a logged message cannot be forged into two lines.
  EXPECT_EQ(error_of("http://a/\r\n"),
            "invalid URL \"http://a/\\x0D\\x0A\": invalid character at offset 9");
  const std::string long_input = "http://h/" + std::string(1000, 'x') + " ";
  const std::string message = error_of(long_input);
  EXPECT_LT(message.size(), 300u);
  EXPECT_NE(message.find("\"..."), std::string::npos);
}

TEST(Url, AcceptsCharactersRealRequestsContain) {
  const Url u = Url::parse("http://h/a|b/{c}?x[]=\"1\"&y=`^`#a#b");
  EXPECT_EQ(u.path(), "/a|b/{c}");
  EXPECT_EQ(u.query(), "x[]=\"1\"&y=`^`");
  EXPECT_EQ(u.fragment(), "a#b");
  EXPECT_EQ(u.normalized().str(), "http://h/a%7Cb/%7Bc%7D?x%5B%5D=%221%22&y=%60%5E%60#a%23b");
}

TEST(Url, NormalInputRoundTrips) {
  for (const char* s : {
           "http://example.com/",
           "https://u:p@example.com:8443/a/b?c=d&e#f",
           "http://[::1]:80/",
           "ftp://ftp.is.co.za/rfc/rfc1808.txt",
           "mailto:John.Doe@example.com",
           "news:comp.infosystems.www.servers.unix",
           "tel:+1-816-555-1212",
           "urn:oasis:names:specification:docbook:dtd:xml:4.1.2",
           "ldap://[2001:db8::7]/c=GB?objectClass?one",
           "file:///etc/hosts",
           "//h/p",
           "/a/../b?",
           "a/b;c=d",
           "?q",
           "#",
           "",
           "http://h?q#f",
           "http://h/%7E%2f?%26=%3d",
           "foo://@h:/",
           "http://h/a|b",
       }) {
    EXPECT_EQ(Url::parse(s).str(), s == std::string("foo://@h:/") ? "foo://@h/" : s) << s;
  }
}

TEST(Url, TargetIsOriginForm) {
  EXPECT_EQ(Url::parse("http://h").target(), "/");
  EXPECT_EQ(Url::parse("http://h?x=1").target(), "/?x=1");
  EXPECT_EQ(Url::parse("http://h/p/q?x=1#frag").target(), "/p/q?x=1");
}

// RFC 3986 §5.4.
const char* const kBase = "http://a/b/c/d;p?q";

struct JoinCase {
  const char* reference;
  const char* expected;
};

TEST(UrlJoin, Rfc3986NormalExamples) {
  const Url base = Url::parse(kBase);
  for (const JoinCase& c : std::vector<JoinCase>{
           {"g:h", "g:h"},
           {"g", "http://a/b/c/g"},
           {"./g", "http://a/b/c/g"},
           {"g/", "http://a/b/c/g/"},
           {"/g", "http://a/g"},
           {"//g", "http://g"},
           {"?y", "http://a/b/c/d;p?y"},
           {"g?y", "http://a/b/c/g?y"},
           {"#s", "http://a/b/c/d;p?q#s"},
           {"g#s", "http://a/b/c/g#s"},
           {"g?y#s", "http://a/b/c/g?y#s"},
           {";x", "http://a/b/c/;x"},
           {"g;x", "http://a/b/c/g;x"},
           {"g;x?y#s", "http://a/b/c/g;x?y#s"},
           {"", "http://a/b/c/d;p?q"},
           {".", "http://a/b/c/"},
           {"./", "http://a/b/c/"},
           {"..", "http://a/b/"},
           {"../", "http://a/b/"},
           {"../g", "http://a/b/g"},
           {"../..", "http://a/"},
           {"../../", "http://a/"},
           {"../../g", "http://a/g"},
       }) {
    EXPECT_EQ(base.join(c.reference).str(), c.expected) << c.reference;
  }
}

TEST(UrlJoin, Rfc3986AbnormalExamples) {
  const Url base = Url::parse(kBase);
  for (const JoinCase& c : std::vector<JoinCase>{
           {"../../../g", "http://a/g"},
           {"../../../../g", "http://a/g"},
           {"/./g", "http://a/g"},
           {"/../g", "http://a/g"},
           {"g.", "http://a/b/c/g."},
           {".g", "http://a/b/c/.g"},
           {"g..", "http://a/b/c/g.."},
           {"..g", "http://a/b/c/..g"},
           {"./../g", "http://a/b/g"},
           {"./g/.", "http://a/b/c/g/"},
           {"g/./h", "http://a/b/c/g/h"},
           {"g/../h", "http://a/b/c/h"},
           {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
           {"g;x=1/../y", "http://a/b/c/y"},
           {"g?y/./x", "http://a/b/c/g?y/./x"},
           {"g?y/../x", "http://a/b/c/g?y/../x"},
           {"g#s/./x", "http://a/b/c/g#s/./x"},
           {"g#s/../x", "http://a/b/c/g#s/../x"},
           {"http:g", "http:g"},  // strict parser
       }) {
    EXPECT_EQ(base.join(c.reference).str(), c.expected) << c.reference;
  }
}

TEST(UrlJoin, KeepsBaseAuthorityAndHandlesEmptyBasePath) {
  EXPECT_EQ(Url::parse("https://u@h:8443").join("x?y").str(), "https://u@h:8443/x?y");
  EXPECT_EQ(Url::parse("http://[::1]:81/a/b").join("../c").str(), "http://[::1]:81/c");
  EXPECT_EQ(Url::parse("http://h/a/b").join("//other:90").str(), "http://other:90");
  EXPECT_EQ(Url::parse("foo:a/b").join("c").str(), "foo:a/c");
  EXPECT_EQ(Url::parse("foo:ab").join("c").str(), "foo:c");
}

TEST(UrlJoin, NeverTurnsAPathIntoAnAuthority) {
  const Url t = Url::parse("foo:/a/b").join("..//x");
  EXPECT_FALSE(t.has_authority());
  EXPECT_EQ(t.str(), "foo:/.//x");
  EXPECT_EQ(Url::parse(t.str()), t);
}

TEST(UrlJoin, RefusesRelativeBaseAndBadReference) {
  EXPECT_THROW(Url::parse("/a/b").join("c"), UrlError);
  EXPECT_THROW(Url::parse("http://h/").join("a b"), UrlError);
  // RFC 3986 would give "http:///x"; an http URL without a host is refused as parse() does.
  EXPECT_THROW(Url::parse("http://h/").join("///x"), UrlError);
  EXPECT_EQ(Url::parse("file:///a/b").join("///x").str(), "file:///x");
}

TEST(UrlNormalized, FollowsRfc3986Section6) {
  EXPECT_EQ(Url::parse("eXAMPLE://a/./b/../b/%63/%7bfoo%7d").normalized().str(),
            "example://a/b/c/%7Bfoo%7D");
  EXPECT_EQ(Url::parse("HTTP://User@Example.COM:80/a/./b/../c/%7euser/%2fx/%e2%82%ac?Q=%4a#F%5a")
                .normalized()
                .str(),
            "http://User@example.com/a/c/~user/%2Fx/%E2%82%AC?Q=J#FZ");
  EXPECT_EQ(Url::parse("https://h:443").normalized().str(), "https://h/");
  EXPECT_EQ(Url::parse("wss://h:443?x").normalized().str(), "wss://h/?x");
  EXPECT_EQ(Url::parse("http://h:8080").normalized().str(), "http://h:8080/");
  EXPECT_EQ(Url::parse("https://h:80/").normalized().str(), "https://h:80/");
  EXPECT_EQ(Url::parse("foo://h").normalized().str(), "foo://h");
  EXPECT_EQ(Url::parse("http://%41%62.com/").normalized().host(), "ab.com");
  EXPECT_EQ(Url::parse("http://h/a/%2e%2E/b").normalized().path(), "/b");
  EXPECT_EQ(Url::parse("http://h/a/%2F../b").normalized().path(), "/a/%2F../b");  // not a '/'
  EXPECT_EQ(Url::parse("mailto:A@B").normalized().str(), "mailto:A@B");
  EXPECT_EQ(Url::parse("/a/./b/../c").normalized().str(), "/a/c");
}

TEST(UrlNormalized, LeavesRelativePathDotsAlone) {
  // Removing a leading ".." would change what the reference resolves to.
  EXPECT_EQ(Url::parse("../a/./b").normalized().str(), "../a/./b");
}

TEST(UrlNormalized, IsIdempotent) {
  for (const char* s : {"HTTP://H:80/%7e/./a/../%2f?%5b#%7C", "foo:/.//x", "foo:a/../..//b",
                        "http://h", "//H/..", "http://[::FFFF:1.2.3.4]:443/"}) {
    const Url n = Url::parse(s).normalized();
    EXPECT_EQ(n.normalized(), n) << s;
    EXPECT_EQ(Url::parse(n.str()), n) << s;
  }
}

TEST(UrlBuilders, WithPathQueryFragment) {
  const Url u = Url::parse("http://h/a?x=1#f");
  EXPECT_EQ(u.with_path("/b%20c").str(), "http://h/b%20c?x=1#f");
  EXPECT_EQ(u.with_query(QueryParams().add("q", "a b").add("r", "&")).str(),
            "http://h/a?q=a+b&r=%26#f");
  EXPECT_EQ(u.with_query(QueryParams()).str(), "http://h/a#f");
  EXPECT_EQ(u.with_fragment("top").str(), "http://h/a?x=1#top");
  EXPECT_EQ(u.with_fragment(std::nullopt).str(), "http://h/a?x=1");
  EXPECT_EQ(u.with_path("").str(), "http://h?x=1#f");
  EXPECT_EQ(u.str(), "http://h/a?x=1#f");  // copies, not mutations
}

TEST(UrlBuilders, RejectWhatParseWouldReject) {
  const Url u = Url::parse("http://h/");
  EXPECT_THROW(u.with_path("a"), UrlError);  // after a host a path needs '/'
  EXPECT_THROW(u.with_path("/a b"), UrlError);
  EXPECT_THROW(u.with_path("/a?b"), UrlError);
  EXPECT_THROW(u.with_path("/%zz"), UrlError);
  EXPECT_THROW(Url::parse("foo:/x").with_path("//y"), UrlError);
  EXPECT_THROW(Url().with_path("a:b"), UrlError);  // would read back as a scheme
  EXPECT_EQ(Url().with_path("a/b:c").str(), "a/b:c");
  EXPECT_THROW(u.with_fragment("a b"), UrlError);
}

TEST(PercentEncoding, EncodesAllButUnreservedAndKept) {
  EXPECT_EQ(http::percent_encode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(http::percent_encode("a b/c?d=\xc3\xa9"), "a%20b%2Fc%3Fd%3D%C3%A9");
  EXPECT_EQ(http::percent_encode("a b/c", "/"), "a%20b/c");
  EXPECT_EQ(http::percent_encode(std::string_view("\0%", 2)), "%00%25");
  EXPECT_EQ(http::encode_path_segment("a/b c@d:e?f;g=h"), "a%2Fb%20c@d:e%3Ff;g=h");
  EXPECT_EQ(http::encode_query_component("a b&c=d+e/\xff"), "a+b%26c%3Dd%2Be%2F%FF");
}

TEST(PercentEncoding, DecodesAndRoundTripsEveryByte) {
  EXPECT_EQ(http::percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(http::percent_decode("%c3%a9%C3%A9"), "\xc3\xa9\xc3\xa9");
  EXPECT_EQ(http::percent_decode("a+b"), "a+b");
  EXPECT_EQ(http::percent_decode("a+b%2B", true), "a b+");
  EXPECT_EQ(http::percent_decode("%00"), std::string(1, '\0'));
  std::string all;
  for (int c = 0; c < 256; ++c) all += static_cast<char>(c);
  EXPECT_EQ(http::percent_decode(http::percent_encode(all)), all);
  EXPECT_EQ(http::percent_decode(http::encode_query_component(all), true), all);
}

TEST(PercentEncoding, DecodeRejectsBadEscapes) {
  for (const char* bad : {"%", "%4", "abc%", "%zz", "%4g", "%g4", "a%%20"}) {
    EXPECT_THROW(http::percent_decode(bad), UrlError) << bad;
  }
}

TEST(QueryParams, ParsesFormEncoding) {
  const QueryParams q = QueryParams::parse("a=1&b=x+y%20z&a=3&flag&empty=&=v&c=d=e");
  ASSERT_EQ(q.size(), 7u);
  EXPECT_EQ(q.get("a"), "1");
  EXPECT_EQ(q.get_all("a"), (std::vector<std::string_view>{"1", "3"}));
  EXPECT_EQ(q.get("b"), "x y z");
  EXPECT_EQ(q.get("flag"), "");
  EXPECT_EQ(q.get("empty"), "");
  EXPECT_EQ(q.get(""), "v");
  EXPECT_EQ(q.get("c"), "d=e");
  EXPECT_FALSE(q.get("missing").has_value());
  EXPECT_TRUE(q.get_all("missing").empty());
  EXPECT_TRUE(q.contains("flag"));
  EXPECT_FALSE(q.contains("fla"));
  std::vector<std::string> names;
  for (const auto& [name, value] : q) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"a", "b", "a", "flag", "empty", "", "c"}));
}

TEST(QueryParams, SkipsEmptyPairsAndDecodesNames) {
  EXPECT_TRUE(QueryParams::parse("").empty());
  EXPECT_TRUE(QueryParams::parse("&&&").empty());
  const QueryParams q = QueryParams::parse("&x%5B%5D=1&&x%5B%5D=2&");
  EXPECT_EQ(q.size(), 2u);
  EXPECT_EQ(q.get_all("x[]"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(QueryParams::parse("k=%E2%82%AC").get("k"), "\xe2\x82\xac");
}

TEST(QueryParams, RejectsBadEscapesAndTooManyPairs) {
  EXPECT_THROW(QueryParams::parse("a=%zz"), UrlError);
  EXPECT_THROW(QueryParams::parse("%2=b"), UrlError);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "k=v&";
  EXPECT_EQ(QueryParams::parse(many).size(), 1000u);
  EXPECT_THROW(QueryParams::parse(many + "one=more"), UrlError);
  EXPECT_THROW(QueryParams::parse("a&b&c", 2), UrlError);
  EXPECT_EQ(QueryParams::parse("a&&&&&&b", 2).size(), 2u);  // empty pairs do not count
}

TEST(QueryParams, EditsKeepOrder) {
  QueryParams q = QueryParams::parse("a=1&b=2&a=3&c=4");
  q.set("a", "x");
  EXPECT_EQ(q.str(), "a=x&b=2&c=4");
  q.set("d", "5");
  EXPECT_EQ(q.str(), "a=x&b=2&c=4&d=5");
  q.add("b", "6").remove("c");
  EXPECT_EQ(q.str(), "a=x&b=2&d=5&b=6");
  q.remove("b").remove("nope");
  EXPECT_EQ(q.str(), "a=x&d=5");
}

TEST(QueryParams, StrEncodesAndRoundTrips) {
  QueryParams q;
  q.add("a b", "c&d").add("e=f", "+%").add("\xc3\xa9", "").add("", "~");
  EXPECT_EQ(q.str(), "a+b=c%26d&e%3Df=%2B%25&%C3%A9=&=~");
  EXPECT_EQ(QueryParams::parse(q.str()), q);
}

TEST(QueryParams, FromUrl) {
  EXPECT_EQ(Url::parse("http://h/?q=a+b").query_params().get("q"), "a b");
  EXPECT_TRUE(Url::parse("http://h/").query_params().empty());
}

}  // namespace
