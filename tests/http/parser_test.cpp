// http::HeadParser and http::BodyDecoder (RFC 9112). Pinned here:
//  - every shape of valid request head: methods, the four target forms, keep-alive by version
//    and Connection, leading blank lines, OWS, obs-text, repeated fields, Expect, Upgrade,
//    Content-Length framing, HTTP/1.x minors;
//  - incremental parsing gives the same result as parsing at once, and pipelined heads parse
//    one after the other from one buffer;
//  - every rejection listed in parser.hpp, with the exact status a server would answer, both
//    parsed at once and fed byte by byte; the size limits at their exact boundaries;
//  - response heads: the status line and how the request method and status frame the body;
//  - BodyDecoder: Content-Length, chunked (extensions, trailers) and until-close bodies split
//    at every byte boundary, and each malformed framing, limit and early EOF;
//  - classic request-smuggling payloads are rejected or framed one unambiguous way.
#include "eddy/http/parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "eddy/http/error.hpp"

namespace http = eddy::http;
using http::BodyDecoder;
using http::BodyKind;
using http::HeadParser;
using http::ParseLimits;
using http::ProtocolError;
using http::RequestHead;
using http::ResponseHead;
using namespace std::string_literals;

namespace {

// What parsing a head came to: a ProtocolError's status, or one of these.
constexpr int kParsed = 0;
constexpr int kNeedMore = -1;

int request_status(std::string_view wire, const ParseLimits& limits = {}) {
  HeadParser parser(limits);
  RequestHead head;
  try {
    return parser.parse_request(wire, head) ? kParsed : kNeedMore;
  } catch (const ProtocolError& e) {
    return e.status();
  }
}

// The same, with the bytes arriving one at a time into a growing buffer, as off a slow socket.
int request_status_bytewise(std::string_view wire, const ParseLimits& limits = {}) {
  HeadParser parser(limits);
  RequestHead head;
  try {
    for (std::size_t i = 1; i <= wire.size(); ++i)
      if (parser.parse_request(wire.substr(0, i), head)) return kParsed;
  } catch (const ProtocolError& e) {
    return e.status();
  }
  return kNeedMore;
}

void expect_request_rejected(std::string_view wire, int status, const ParseLimits& limits = {}) {
  SCOPED_TRACE(testing::PrintToString(std::string(wire)));
  EXPECT_EQ(request_status(wire, limits), status);
  EXPECT_EQ(request_status_bytewise(wire, limits), status) << "fed byte by byte";
}

RequestHead parse_request(std::string_view wire, const ParseLimits& limits = {}) {
  HeadParser parser(limits);
  RequestHead head;
  EXPECT_EQ(parser.parse_request(wire, head), wire.size()) << testing::PrintToString(wire);
  return head;
}

int response_status(std::string_view wire, std::string_view method = "GET",
                    const ParseLimits& limits = {}) {
  HeadParser parser(limits);
  ResponseHead head;
  try {
    return parser.parse_response(wire, head, method) ? kParsed : kNeedMore;
  } catch (const ProtocolError& e) {
    return e.status();
  }
}

ResponseHead parse_response(std::string_view wire, std::string_view method = "GET") {
  HeadParser parser;
  ResponseHead head;
  EXPECT_EQ(parser.parse_response(wire, head, method), wire.size()) << testing::PrintToString(wire);
  return head;
}

std::vector<http::Headers::Field> fields(const http::Headers& h) {
  return {h.begin(), h.end()};
}

// Every field a parse exposes, so two parses of the same bytes can be compared whole.
void expect_same_head(const RequestHead& a, const RequestHead& b) {
  EXPECT_EQ(a.method(), b.method());
  EXPECT_EQ(a.target(), b.target());
  EXPECT_EQ(a.version_minor, b.version_minor);
  EXPECT_EQ(a.body, b.body);
  EXPECT_EQ(a.content_length, b.content_length);
  EXPECT_EQ(a.keep_alive, b.keep_alive);
  EXPECT_EQ(a.upgrade, b.upgrade);
  EXPECT_EQ(a.expect_continue, b.expect_continue);
  EXPECT_EQ(fields(a.headers), fields(b.headers));
}

// Requests of every valid shape; the incremental tests replay them all.
constexpr std::string_view kValidRequests[] = {
    "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
    "GET /a/b?x=1&y=%20#f HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nAccept: text/html\r\n\r\n",
    "POST /submit HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n",
    "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
    "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
    "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET http://example.com:8080/p?q HTTP/1.1\r\nHost: example.com:8080\r\n\r\n",
    "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
    "\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
    "GET / HTTP/1.1\r\nHost:h\r\nX-Empty:\r\nX-Ows: \t v \t\r\nX-Obs: caf\xc3\xa9\r\n\r\n",
    "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
    "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n",
    "GET / HTTP/1.2\r\nHost: h\r\nConnection: close\r\n\r\n",
};

// --- Headers built by handlers

// A handler's header can never split the response: CR, LF and NUL are refused anywhere in a
// field, ':' and ' ' in a name, and nothing is added when a field is refused.
TEST(Headers, AddRefusesFieldsThatWouldBreakTheFraming) {
  http::Headers h;
  h.add("X-Fine", "a value: with colons, spaces and caf\xc3\xa9");
  for (std::string_view bad_value :
       {std::string_view("evil\r\nSet-Cookie: a=b"), std::string_view("lf\nonly"),
        std::string_view("cr\ronly"), std::string_view("nul\0byte", 8),
        std::string_view("trailing\r")}) {
    EXPECT_THROW(h.add("X-Value", bad_value), std::invalid_argument) << bad_value;
    EXPECT_THROW(h.set("X-Value", bad_value), std::invalid_argument) << bad_value;
  }
  for (std::string_view bad_name :
       {std::string_view(""), std::string_view("X-Split\r\nY"), std::string_view("Colon:"),
        std::string_view("Has Space"), std::string_view("Nul\0", 4), std::string_view("\n")}) {
    EXPECT_THROW(h.add(bad_name, "v"), std::invalid_argument) << bad_name;
  }
  EXPECT_EQ(fields(h), (std::vector<http::Headers::Field>{
                           {"X-Fine", "a value: with colons, spaces and caf\xc3\xa9"}}));
}

// --- valid requests

TEST(RequestHead, ParsesASimpleGet) {
  const std::string wire = "GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  HeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse_request(wire, head), wire.size());
  EXPECT_EQ(head.method(), "GET");
  EXPECT_EQ(head.target(), "/index.html");
  EXPECT_EQ(head.version_minor, 1);
  EXPECT_EQ(head.body, BodyKind::none);
  EXPECT_EQ(head.content_length, 0u);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_FALSE(head.upgrade);
  EXPECT_FALSE(head.expect_continue);
  EXPECT_EQ(head.headers.size(), 2u);
  EXPECT_EQ(head.headers.get("host"), "example.com");
  EXPECT_EQ(head.headers.get("ACCEPT"), "*/*");
}

TEST(RequestHead, ViewsOutliveTheInputBuffer) {
  // The head owns a copy: the connection may reuse its read buffer right after parsing.
  std::string wire = "DELETE /item/7 HTTP/1.1\r\nHost: h\r\nX-Id: 42\r\n\r\n";
  HeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse_request(wire, head), wire.size());
  wire.assign(wire.size(), 'z');
  EXPECT_EQ(head.method(), "DELETE");
  EXPECT_EQ(head.target(), "/item/7");
  EXPECT_EQ(head.headers.get("x-id"), "42");
}

TEST(RequestHead, AcceptsEveryMethodToken) {
  for (std::string method : {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH",
                             "PROPFIND", "M-SEARCH", "X_CUSTOM.1~"}) {
    const RequestHead head = parse_request(method + " /r HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(head.method(), method);
    EXPECT_EQ(head.target(), "/r");
  }
  const RequestHead connect = parse_request("CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n");
  EXPECT_EQ(connect.method(), "CONNECT");
}

TEST(RequestHead, AcceptsTheFourTargetForms) {
  EXPECT_EQ(parse_request("GET /a/b;c?d=e&f HTTP/1.1\r\nHost: h\r\n\r\n").target(), "/a/b;c?d=e&f");
  EXPECT_EQ(parse_request("GET http://h:81/x?y HTTP/1.1\r\nHost: h:81\r\n\r\n").target(),
            "http://h:81/x?y");
  EXPECT_EQ(parse_request("GET svn+ssh.v2://h/x HTTP/1.1\r\nHost: h\r\n\r\n").target(),
            "svn+ssh.v2://h/x");
  EXPECT_EQ(parse_request("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n").target(),
            "example.com:443");
  EXPECT_EQ(parse_request("CONNECT [::1]:8443 HTTP/1.1\r\nHost: x\r\n\r\n").target(), "[::1]:8443");
  EXPECT_EQ(parse_request("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").target(), "*");
  EXPECT_EQ(parse_request("OPTIONS http://h/ HTTP/1.1\r\nHost: h\r\n\r\n").target(), "http://h/");
}

TEST(RequestHead, KeepAliveFollowsVersionAndConnection) {
  auto keep_alive = [](std::string_view version, std::string_view connection) {
    std::string wire = "GET / " + std::string(version) + "\r\nHost: h\r\n";
    if (!connection.empty()) wire += "Connection: " + std::string(connection) + "\r\n";
    return parse_request(wire + "\r\n").keep_alive;
  };
  EXPECT_TRUE(keep_alive("HTTP/1.1", ""));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "close"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "CLOSE"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "te, Close"));
  EXPECT_FALSE(keep_alive("HTTP/1.1", "keep-alive ,\tclose\t"));
  EXPECT_TRUE(keep_alive("HTTP/1.1", "closed"));  // a different token
  EXPECT_TRUE(keep_alive("HTTP/1.1", "keep-alive"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", ""));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "keep-alive"));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "Keep-Alive"));
  EXPECT_TRUE(keep_alive("HTTP/1.0", "foo, KEEP-ALIVE"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", "keep-alive, close"));
  EXPECT_FALSE(keep_alive("HTTP/1.0", "keep-alived"));

  // Connection may repeat: close in any of the fields wins.
  EXPECT_FALSE(
      parse_request(
          "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n")
          .keep_alive);
  EXPECT_TRUE(parse_request("GET / HTTP/1.0\r\nConnection: te\r\nConnection: keep-alive\r\n\r\n")
                  .keep_alive);
}

TEST(RequestHead, SkipsAFewLeadingEmptyLines) {
  // RFC 9112 §2.2: a stray CRLF after a previous body must not break the next request.
  for (int blank = 1; blank <= 4; ++blank) {
    std::string wire;
    for (int i = 0; i < blank; ++i) wire += "\r\n";
    wire += "GET /p HTTP/1.1\r\nHost: h\r\n\r\n";
    const RequestHead head = parse_request(wire);
    EXPECT_EQ(head.method(), "GET");
    EXPECT_EQ(head.target(), "/p");
    EXPECT_EQ(head.headers.get("Host"), "h");
  }
}

TEST(RequestHead, TrimsOptionalWhitespaceAroundValues) {
  const RequestHead head = parse_request(
      "GET / HTTP/1.1\r\nHost:h\r\nX-A:   v  \t\r\nX-B:\tv w\t\r\nX-C: \t\r\nX-D:\r\n\r\n");
  EXPECT_EQ(head.headers.get("Host"), "h");
  EXPECT_EQ(head.headers.get("X-A"), "v");
  EXPECT_EQ(head.headers.get("X-B"), "v w");  // whitespace inside a value is the value's
  EXPECT_EQ(head.headers.get("X-C"), "");
  EXPECT_EQ(head.headers.get("X-D"), "");
  EXPECT_TRUE(head.headers.contains("x-d"));
}

TEST(RequestHead, KeepsObsTextInValues) {
  const RequestHead head =
      parse_request("GET / HTTP/1.1\r\nHost: h\r\nX-Name: caf\xc3\xa9 \x80\xff\r\n\r\n");
  EXPECT_EQ(head.headers.get("x-name"), "caf\xc3\xa9 \x80\xff");
}

TEST(RequestHead, KeepsRepeatedFieldsInWireOrder) {
  const RequestHead head = parse_request(
      "GET / HTTP/1.1\r\nAccept: a\r\nHost: h\r\nX-Other: 1\r\naccept: b\r\nACCEPT: c\r\n\r\n");
  EXPECT_EQ(head.headers.get_all("Accept"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_EQ(
      fields(head.headers),
      (std::vector<http::Headers::Field>{
          {"Accept", "a"}, {"Host", "h"}, {"X-Other", "1"}, {"accept", "b"}, {"ACCEPT", "c"}}));
}

TEST(RequestHead, ReportsExpect100ContinueOnlyInHttp11) {
  EXPECT_TRUE(parse_request("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
                            "Content-Length: 3\r\n\r\n")
                  .expect_continue);
  EXPECT_TRUE(
      parse_request("POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n").expect_continue);
  EXPECT_FALSE(parse_request("POST / HTTP/1.1\r\nHost: h\r\n\r\n").expect_continue);
  // RFC 9110 §10.1.1: a 1.0 client cannot understand a 100, so the expectation is ignored.
  EXPECT_FALSE(parse_request("POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n")
                   .expect_continue);
}

TEST(RequestHead, ReportsAnUpgradeOnlyWithConnectionUpgradeAndAnUpgradeField) {
  const RequestHead ws = parse_request(
      "GET /chat HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n"
      "Upgrade: websocket\r\n\r\n");
  EXPECT_TRUE(ws.upgrade);
  EXPECT_TRUE(ws.keep_alive);
  EXPECT_EQ(ws.headers.get("upgrade"), "websocket");
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n").upgrade);
  EXPECT_FALSE(parse_request("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n").upgrade);
}

TEST(RequestHead, FramesTheBodyByContentLength) {
  const RequestHead five = parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n");
  EXPECT_EQ(five.body, BodyKind::length);
  EXPECT_EQ(five.content_length, 5u);
  const RequestHead zero = parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(zero.body, BodyKind::none);
  EXPECT_EQ(zero.content_length, 0u);
  const RequestHead padded =
      parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n");
  EXPECT_EQ(padded.content_length, 7u);
  const RequestHead big =
      parse_request("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 18446744073709551000\r\n\r\n");
  EXPECT_EQ(big.content_length, 18446744073709551000u);
  const RequestHead chunked =
      parse_request("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n");
  EXPECT_EQ(chunked.body, BodyKind::chunked);
  EXPECT_EQ(parse_request("GET / HTTP/1.1\r\nHost: h\r\n\r\n").body, BodyKind::none);
}

TEST(RequestHead, AcceptsIdenticalDuplicateContentLengths) {
  // RFC 9112 §6.3 item 5 lets a recipient take a list of identical values as one.
  for (const char* cl : {"Content-Length: 5, 5\r\n", "Content-Length: 5,5 ,\t5\r\n",
                         "Content-Length: 5\r\nContent-Length: 5\r\n",
                         "Content-Length: 5\r\ncontent-length: 5, 5\r\n"}) {
    const RequestHead head = parse_request("POST / HTTP/1.1\r\nHost: h\r\n"s + cl + "\r\n");
    EXPECT_EQ(head.body, BodyKind::length) << cl;
    EXPECT_EQ(head.content_length, 5u) << cl;
  }
}

TEST(RequestHead, TreatsLaterHttp1MinorsAsHttp11) {
  const RequestHead head = parse_request("GET / HTTP/1.2\r\nHost: h\r\n\r\n");
  EXPECT_EQ(head.version_minor, 2);
  EXPECT_TRUE(head.keep_alive);
  EXPECT_EQ(request_status("GET / HTTP/1.9\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            kParsed);
  EXPECT_EQ(request_status("GET / HTTP/1.2\r\n\r\n"), 400);  // Host is required as in 1.1
  EXPECT_EQ(parse_request("GET / HTTP/1.0\r\n\r\n").version_minor, 0);
}

// --- incremental parsing

TEST(RequestHeadIncremental, ByteByByteGivesTheSameHeadAsAllAtOnce) {
  for (std::string_view wire : kValidRequests) {
    SCOPED_TRACE(testing::PrintToString(std::string(wire)));
    const RequestHead whole = parse_request(wire);
    HeadParser parser;
    RequestHead head;
    for (std::size_t i = 1; i < wire.size(); ++i)
      ASSERT_EQ(parser.parse_request(wire.substr(0, i), head), 0u) << i;
    ASSERT_EQ(parser.parse_request(wire, head), wire.size());
    expect_same_head(head, whole);
  }
}

TEST(RequestHeadIncremental, ExtraBytesAfterTheHeadAreLeftAlone) {
  // The parser returns where the head ends whatever follows, so the caller can frame a body.
  for (std::string_view wire : kValidRequests) {
    HeadParser parser;
    RequestHead head;
    EXPECT_EQ(parser.parse_request(std::string(wire) + "BODY\r\n\r\nmore", head), wire.size());
    expect_same_head(head, parse_request(wire));
  }
}

TEST(RequestHeadIncremental, ParsesPipelinedRequestsFromOneBuffer) {
  std::string buffer =
      "POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc"
      "GET /b HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  HeadParser parser;
  RequestHead head;
  std::size_t n = parser.parse_request(buffer, head);
  ASSERT_GT(n, 0u);
  EXPECT_EQ(head.target(), "/a");
  buffer.erase(0, n);
  BodyDecoder body(head.body, head.content_length);
  const BodyDecoder::Step step = body.next(buffer, false);
  EXPECT_EQ(step.data, "abc");
  EXPECT_TRUE(body.done());
  buffer.erase(0, step.consumed);
  // The same parser: a complete parse leaves it ready for the next head.
  n = parser.parse_request(buffer, head);
  EXPECT_EQ(n, buffer.size());
  EXPECT_EQ(head.method(), "GET");
  EXPECT_EQ(head.target(), "/b");
  EXPECT_FALSE(head.keep_alive);
  EXPECT_EQ(head.headers.size(), 2u);
}

TEST(RequestHeadIncremental, ParsesBackToBackHeadsWithoutBodies) {
  const std::string first = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
  const std::string second = "HEAD /2 HTTP/1.1\r\nHost: h\r\nX: y\r\n\r\n";
  std::string buffer = first + second;
  HeadParser parser;
  RequestHead head;
  ASSERT_EQ(parser.parse_request(buffer, head), first.size());
  EXPECT_EQ(head.target(), "/1");
  EXPECT_EQ(head.headers.size(), 1u);
  buffer.erase(0, first.size());
  ASSERT_EQ(parser.parse_request(buffer, head), second.size());
  EXPECT_EQ(head.target(), "/2");
  EXPECT_EQ(head.headers.get("x"), "y");
  EXPECT_FALSE(head.headers.contains("y"));
}

TEST(RequestHeadIncremental, ResetForgetsAPartialHead) {
  HeadParser parser;
  RequestHead head;
  EXPECT_EQ(parser.parse_request("GET /old HTTP/1.1\r\nHo", head), 0u);
  parser.reset();
  const std::string wire = "GET /new HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(parser.parse_request(wire, head), wire.size());
  EXPECT_EQ(head.target(), "/new");
}

TEST(HeadParser, AcceptsANullEmptyView) {
  // See BodyDecoder.AcceptsANullEmptyView.
  HeadParser parser;
  RequestHead head;
  EXPECT_EQ(parser.parse_request(std::string_view(), head), 0u);
  ResponseHead response;
  EXPECT_EQ(parser.parse_response(std::string_view(), response), 0u);
}

TEST(RequestHeadIncremental, ALargeHeadTricklingInCompletes) {
  // ~30 KB of short lines, one byte per call: the parser resumes where it stopped, so this is
  // 30 K calls of little work each, not 30 K rescans of the whole buffer.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 400; ++i)
    wire += "X-Field-" + std::to_string(i) + ": " + std::string(60, 'a' + i % 26) + "\r\n";
  wire += "\r\n";
  ASSERT_GT(wire.size(), 29'000u);
  ASSERT_LT(wire.size(), 32u * 1024);
  ParseLimits limits;
  limits.max_headers = 500;
  HeadParser parser(limits);
  RequestHead head;
  for (std::size_t i = 1; i < wire.size(); ++i)
    ASSERT_EQ(parser.parse_request(std::string_view(wire).substr(0, i), head), 0u);
  ASSERT_EQ(parser.parse_request(wire, head), wire.size());
  EXPECT_EQ(head.headers.size(), 401u);
  EXPECT_EQ(head.headers.get("X-Field-399"), std::string(60, 'a' + 399 % 26));
}

// --- rejections (parser.hpp lists each with its status)

TEST(RequestRejects, BareLf) {
  expect_request_rejected("GET / HTTP/1.1\nHost: h\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\n\n", 400);
  expect_request_rejected("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\n\n", 400);
}

TEST(RequestRejects, ObsFold) {
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\n Host: h\r\n\r\n", 400);
}

TEST(RequestRejects, WhitespaceBeforeTheColon) {
  expect_request_rejected("GET / HTTP/1.1\r\nHost : h\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost\t: h\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nX-A  :v\r\n\r\n", 400);
}

TEST(RequestRejects, NonTokenFieldName) {
  for (const char* line : {"Na(me: x", "Na\"me: x", "Na me: x", "Na/me: x", "N\xc3\xa4me: x",
                           "Na\x01me: x", "Name", "Na[me]: x", "Name\x7f: x"}) {
    expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\n"s + line + "\r\n\r\n", 400);
  }
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nNa\0me: x\r\n\r\n"s, 400);
}

TEST(RequestRejects, EmptyFieldName) {
  // field-name is a token, one character at least (RFC 9110 §5.1).
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\n: x\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\n:\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\n:Host: h\r\n\r\n", 400);
}

TEST(RequestRejects, NonTokenMethod) {
  for (const char* line :
       {"G(ET / HTTP/1.1", "GE\"T / HTTP/1.1", "G:ET / HTTP/1.1", " / HTTP/1.1",
        "G\xc3\x89T / HTTP/1.1", "GET\t/ HTTP/1.1", "GET  / HTTP/1.1", "G\x01T / HTTP/1.1"})
    expect_request_rejected(line + "\r\nHost: h\r\n\r\n"s, 400);
}

TEST(RequestRejects, ControlCharactersInAValue) {
  for (std::string value : {"a\0b"s, "a\x01"s, "\x7f"s, "a\rb"s, "a\r"s, "\x1b[31m"s, "a\x0b b"s})
    expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nX-V: " + value + "\r\n\r\n", 400);
}

TEST(RequestRejects, ControlCharactersOrSpaceInTheTarget) {
  for (std::string target :
       {"/a\0b"s, "/a\x01"s, "/\x7f"s, "/a\rb"s, "/a\tb"s, "/a b"s, "/caf\xc3\xa9"s})
    expect_request_rejected("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_request_rejected("GET  HTTP/1.1\r\nHost: h\r\n\r\n", 400);  // no target at all
}

TEST(RequestRejects, MalformedVersion) {
  for (const char* version : {"HTTP/1", "http/1.1", "HTTP/1.1x", "HTTP/11.1", "HTTP/1.a",
                              "HTTP 1.1", "HTTPS/1.1", "HTTP/1.1 ", "HTTP/1,1", "HTTP/a.1", ""})
    expect_request_rejected("GET / "s + version + "\r\nHost: h\r\n\r\n", 400);
  expect_request_rejected("GET /\r\nHost: h\r\n\r\n", 400);
}

TEST(RequestRejects, UnsupportedVersionWith505) {
  for (const char* version : {"HTTP/2.0", "HTTP/0.9", "HTTP/3.0", "HTTP/9.1"})
    expect_request_rejected("GET / "s + version + "\r\nHost: h\r\n\r\n", 505);
  // The HTTP/2 connection preface sent to an HTTP/1 port.
  expect_request_rejected("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505);
}

TEST(RequestRejects, MissingOrDuplicateHost) {
  expect_request_rejected("GET / HTTP/1.1\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nX: y\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", 400);
  expect_request_rejected("GET / HTTP/1.0\r\nHost: a\r\nHOST: b\r\n\r\n", 400);
  EXPECT_EQ(request_status("GET / HTTP/1.0\r\n\r\n"), kParsed);  // 1.0 need not send one
  EXPECT_EQ(request_status("GET / HTTP/1.0\r\nHost: a\r\n\r\n"), kParsed);
}

TEST(RequestRejects, TransferEncodingWithContentLength) {
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 400);
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

TEST(RequestRejects, DifferingContentLengths) {
  expect_request_rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5, 6\r\n\r\n", 400);
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400);
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n", 400);
}

TEST(RequestRejects, NonNumericOrOverflowingContentLength) {
  for (const char* cl : {"abc", "5a", "", "-1", "+5", "0x5", "5 5", "5,", ",5", "5,,5", "5;", "1e3",
                         "5.0", "18446744073709551616", "99999999999999999999999999"})
    expect_request_rejected("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "s + cl + "\r\n\r\n",
                            400);
}

TEST(RequestRejects, TransferEncodingInHttp10) {
  expect_request_rejected("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
  expect_request_rejected("POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 400);
}

TEST(RequestRejects, TransferEncodingNotEndingInChunked) {
  for (const char* te : {"gzip", "chunked, gzip", "identity", "chunked, identity", "xchunked",
                         "chunked-x", "", "chu nked", "\"chunked\""})
    expect_request_rejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "s + te + "\r\n\r\n",
                            400);
}

TEST(RequestRejects, UnsupportedTransferCodingWith501) {
  for (const char* te : {"gzip, chunked", "deflate,chunked", "x-custom, chunked"})
    expect_request_rejected("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "s + te + "\r\n\r\n",
                            501);
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n",
      501);
}

TEST(RequestRejects, ChunkedTwice) {
  // RFC 9112 §6.1 forbids applying chunked more than once; the parser counts it with the
  // unsupported codings (501) rather than as malformed.
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 501);
  expect_request_rejected(
      "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
      "chunked\r\n\r\n",
      501);
}

TEST(RequestRejects, ExpectationOtherThan100ContinueWith417) {
  for (const char* expect : {"something", "100-continue, foo", "100-continuex", "200-ok"})
    expect_request_rejected("POST / HTTP/1.1\r\nHost: h\r\nExpect: "s + expect + "\r\n\r\n", 417);
}

TEST(RequestRejects, RequestLineOverTheLimitWith414) {
  ParseLimits limits;
  limits.max_request_line = 32;
  const std::string line = "GET /" + std::string(40, 'a') + " HTTP/1.1";
  expect_request_rejected(line + "\r\nHost: h\r\n\r\n", 414, limits);
  // Before its LF arrives: the parser must not buffer an unbounded line.
  EXPECT_EQ(request_status(line, limits), 414);
  EXPECT_EQ(request_status("GET /" + std::string(100, 'a'), limits), 414);

  const std::string default_line = "GET /" + std::string(8 * 1024, 'a') + " HTTP/1.1";
  EXPECT_EQ(request_status(default_line + "\r\nHost: h\r\n\r\n"), 414);
  EXPECT_EQ(request_status(default_line.substr(0, 8 * 1024 + 1)), 414);
}

TEST(RequestRejects, HeadOverTheLimitWith431) {
  ParseLimits limits;
  limits.max_head_bytes = 64;
  const std::string wire =
      "GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(40, 'v') + "\r\n\r\n";
  expect_request_rejected(wire, 431, limits);
  // A field line that never ends.
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost: h\r\nX-Long: " + std::string(100, 'v'), limits),
            431);
  // Many short lines add up.
  std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 10; ++i) many += "A: b\r\n";
  expect_request_rejected(many + "\r\n", 431, limits);

  std::string big = "GET / HTTP/1.1\r\nHost: h\r\nX: " + std::string(33 * 1024, 'v');
  EXPECT_EQ(request_status(big), 431);
  EXPECT_EQ(request_status(big + "\r\n\r\n"), 431);
}

TEST(RequestRejects, TooManyFieldsWith431) {
  ParseLimits limits;
  limits.max_headers = 3;
  EXPECT_EQ(request_status("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n", limits), kParsed);
  expect_request_rejected("GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, limits);
  // The default: 100.
  std::string wire = "GET / HTTP/1.1\r\nHost: h\r\n";
  for (int i = 0; i < 99; ++i) wire += "A: b\r\n";
  EXPECT_EQ(request_status(wire + "\r\n"), kParsed);
  EXPECT_EQ(request_status(wire + "A: b\r\n\r\n"), 431);
}

TEST(RequestRejects, AsteriskFormOutsideOptions) {
  for (const char* method : {"GET", "POST", "HEAD", "options"})
    expect_request_rejected(method + " * HTTP/1.1\r\nHost: h\r\n\r\n"s, 400);
}

TEST(RequestRejects, RelativeOrMalformedTarget) {
  for (const char* target :
       {"foo", "foo/bar", "?x=1", "#f", "1http://h/", ":foo", "h_x:y", "*x", "-a:b", "**"})
    expect_request_rejected("GET "s + target + " HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  expect_request_rejected("CONNECT /path HTTP/1.1\r\nHost: h\r\n\r\n", 400);
}

TEST(RequestRejects, TooManyLeadingEmptyLines) {
  expect_request_rejected("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", 400);
  std::string blank;
  for (int i = 0; i < 100; ++i) blank += "\r\n";
  EXPECT_EQ(request_status(blank), 400);  // before any request line arrives
}

// --- size limits at their exact boundaries

TEST(RequestLimits, RequestLineOfExactlyTheLimitIsAccepted) {
  ParseLimits limits;
  limits.max_request_line = 32;
  const std::string line = "GET /" + std::string(32 - 14, 'a') + " HTTP/1.1";
  ASSERT_EQ(line.size(), 32u);
  const std::string wire = line + "\r\nHost: h\r\n\r\n";
  EXPECT_EQ(request_status(wire, limits), kParsed);
  // Whether the request line's CR arrives in the same read as its LF must not matter.
  EXPECT_EQ(request_status_bytewise(wire, limits), kParsed);
  EXPECT_EQ(request_status(line + "\r", limits), kNeedMore);

  const std::string over = "GET /" + std::string(32 - 13, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n";
  expect_request_rejected(over, 414, limits);
}

TEST(RequestLimits, HeadOfExactlyTheLimitIsAccepted) {
  // max_head_bytes counts the request line and every field with their CRLFs, not the blank line.
  ParseLimits limits;
  limits.max_head_bytes = 64;
  std::string fields = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  fields += std::string(64 - 2 - fields.size(), 'v') + "\r\n";
  ASSERT_EQ(fields.size(), 64u);
  const std::string wire = fields + "\r\n";
  EXPECT_EQ(request_status(wire, limits), kParsed);
  // Whether the final CR arrives in the same read as the final LF must not matter.
  EXPECT_EQ(request_status_bytewise(wire, limits), kParsed);
  EXPECT_EQ(request_status(fields + "\r", limits), kNeedMore);

  std::string over = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
  over += std::string(64 - 1 - over.size(), 'v') + "\r\n\r\n";
  expect_request_rejected(over, 431, limits);
}

// --- responses

TEST(ResponseHead, ParsesTheStatusLine) {
  const ResponseHead ok = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.reason(), "OK");
  EXPECT_EQ(ok.version_minor, 1);
  EXPECT_EQ(ok.headers.get("content-length"), "3");
  EXPECT_EQ(parse_response("HTTP/1.0 404 Not Found\r\n\r\n").reason(), "Not Found");
  EXPECT_EQ(parse_response("HTTP/1.1 599 weird\tphrase \xc3\xa9\r\n\r\n").reason(),
            "weird\tphrase \xc3\xa9");
  EXPECT_EQ(parse_response("HTTP/1.1 100 Continue\r\n\r\n").status, 100);
  EXPECT_EQ(parse_response("HTTP/1.1 999 X\r\n\r\n").status, 999);
}

TEST(ResponseHead, AcceptsAnEmptyReasonWithOrWithoutItsSpace) {
  const ResponseHead bare = parse_response("HTTP/1.1 204\r\n\r\n");
  EXPECT_EQ(bare.status, 204);
  EXPECT_EQ(bare.reason(), "");
  const ResponseHead spaced = parse_response("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(spaced.status, 200);
  EXPECT_EQ(spaced.reason(), "");
}

TEST(ResponseHead, RejectsMalformedStatusLines) {
  for (const char* line :
       {"HTTP/1.1 2000 OK", "HTTP/1.1 2000", "HTTP/1.1 abc OK", "HTTP/1.1 099 OK", "HTTP/1.1 000",
        "HTTP/1.1 20 OK", "HTTP/1.1 200OK", "HTTP/1.1  200 OK", "HTTP/1.1\t200 OK", "HTTP/1.1 2a0",
        "HTTP/1.1", "HTTP/1.1 ", "http/1.1 200 OK", "HTTP/1 200 OK", "HTTP/1.1 200 O\x01K",
        "HTTP/1.1 200 O\x7fK", "HTTP/1.1 -20 OK"}) {
    SCOPED_TRACE(line);
    EXPECT_EQ(response_status(line + "\r\nContent-Length: 0\r\n\r\n"s), 400);
  }
  EXPECT_EQ(response_status("HTTP/2.0 200 OK\r\n\r\n"), 505);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"), 400);
  EXPECT_EQ(response_status("\r\nHTTP/1.1 200 OK\r\n\r\n"), 400);  // no blank lines before it
  ParseLimits limits;
  limits.max_request_line = 16;
  EXPECT_EQ(response_status("HTTP/1.1 200 " + std::string(20, 'r') + "\r\n\r\n", "GET", limits),
            400);
}

TEST(ResponseHead, HasNoBodyForHeadOrStatusesThatForbidOne) {
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD").body,
            BodyKind::none);
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD").body,
            BodyKind::none);
  EXPECT_TRUE(parse_response("HTTP/1.1 200 OK\r\n\r\n", "HEAD").keep_alive);
  for (const char* line : {"HTTP/1.1 100 Continue", "HTTP/1.1 103 Early Hints", "HTTP/1.1 204 No",
                           "HTTP/1.1 304 Not Modified"}) {
    const ResponseHead head = parse_response(line + "\r\nContent-Length: 10\r\n\r\n"s);
    EXPECT_EQ(head.body, BodyKind::none) << line;
    EXPECT_TRUE(head.keep_alive) << line;
  }
  EXPECT_EQ(parse_response("HTTP/1.1 200 Connection established\r\n\r\n", "CONNECT").body,
            BodyKind::none);
  // Only a 2xx to CONNECT turns the connection into a tunnel; a refusal has a body.
  const ResponseHead refused =
      parse_response("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 4\r\n\r\n", "CONNECT");
  EXPECT_EQ(refused.body, BodyKind::length);
  EXPECT_EQ(refused.content_length, 4u);
}

TEST(ResponseHead, FramesTheBody) {
  const ResponseHead chunked =
      parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_EQ(chunked.body, BodyKind::chunked);
  EXPECT_TRUE(chunked.keep_alive);
  const ResponseHead length = parse_response("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n");
  EXPECT_EQ(length.body, BodyKind::length);
  EXPECT_EQ(length.content_length, 12u);
  EXPECT_TRUE(length.keep_alive);
  EXPECT_EQ(parse_response("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").body, BodyKind::none);
  // Without framing the body runs until the server closes, so the connection cannot be reused.
  const ResponseHead unframed = parse_response("HTTP/1.1 200 OK\r\nServer: x\r\n\r\n");
  EXPECT_EQ(unframed.body, BodyKind::until_close);
  EXPECT_FALSE(unframed.keep_alive);
  // A final coding other than chunked: the length is only known at close (RFC 9112 §6.3).
  const ResponseHead gzip = parse_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n");
  EXPECT_EQ(gzip.body, BodyKind::until_close);
  EXPECT_FALSE(gzip.keep_alive);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
}

TEST(ResponseHead, KeepAliveFollowsVersionAndConnection) {
  EXPECT_FALSE(parse_response("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
                   .keep_alive);
  EXPECT_FALSE(parse_response("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n").keep_alive);
  EXPECT_TRUE(
      parse_response("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 0\r\n\r\n")
          .keep_alive);
}

TEST(ResponseHead, Reports101AsAnUpgrade) {
  const ResponseHead head = parse_response(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
  EXPECT_EQ(head.status, 101);
  EXPECT_TRUE(head.upgrade);
  EXPECT_EQ(head.body, BodyKind::none);
  EXPECT_FALSE(parse_response("HTTP/1.1 200 OK\r\nUpgrade: h2c\r\n\r\n").upgrade);
}

TEST(ResponseHead, RejectsTransferEncodingWithContentLength) {
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 3"
                            "\r\n\r\n"),
            400);
  // Even where the body would be ignored: the message is ambiguous either way.
  EXPECT_EQ(response_status("HTTP/1.1 204 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
                            "\r\n\r\n",
                            "HEAD"),
            400);
  EXPECT_EQ(response_status("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n"),
            400);
}

TEST(ResponseHead, ParsesIncrementallyAndPipelined) {
  const std::string first = "HTTP/1.1 100 Continue\r\n\r\n";
  const std::string second = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n";
  const std::string wire = first + second + "ok";
  HeadParser parser;
  ResponseHead head;
  for (std::size_t i = 1; i < first.size(); ++i)
    ASSERT_EQ(parser.parse_response(std::string_view(wire).substr(0, i), head), 0u);
  ASSERT_EQ(parser.parse_response(wire, head), first.size());
  EXPECT_EQ(head.status, 100);
  ASSERT_EQ(parser.parse_response(std::string_view(wire).substr(first.size()), head),
            second.size());
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.content_length, 2u);
}

// --- bodies

struct Decoded {
  std::string data;
  std::size_t consumed = 0;
  bool done = false;
  int status = 0;  // of a ProtocolError
};

// Feeds `wire` to `decoder` the way a connection fills its buffer: the pieces between `cuts`
// (ascending offsets) arrive one after another, unconsumed bytes stay at the buffer's front,
// and the peer closes after the last piece if `eof`. Stops feeding once the body is done.
Decoded decode(BodyDecoder& decoder, std::string_view wire, const std::vector<std::size_t>& cuts,
               bool eof = false) {
  Decoded out;
  std::string buffer;
  std::size_t fed = 0;
  try {
    for (std::size_t i = 0; i <= cuts.size() && !decoder.done(); ++i) {
      const std::size_t upto = i < cuts.size() ? cuts[i] : wire.size();
      buffer.append(wire.substr(fed, upto - fed));
      fed = upto;
      const bool closed = eof && fed == wire.size();
      for (;;) {
        const BodyDecoder::Step step = decoder.next(buffer, closed);
        EXPECT_LE(step.consumed, buffer.size());
        EXPECT_LE(step.data.size(), step.consumed);
        if (!step.data.empty()) {
          EXPECT_GE(step.data.data(), buffer.data());  // a view into the input, not a copy
          EXPECT_LE(step.data.data() + step.data.size(), buffer.data() + buffer.size());
        }
        out.data.append(step.data);
        buffer.erase(0, step.consumed);
        out.consumed += step.consumed;
        if (decoder.done() || step.consumed == 0) break;
      }
    }
  } catch (const ProtocolError& e) {
    out.status = e.status();
  }
  out.done = decoder.done();
  return out;
}

Decoded decode_all(BodyKind kind, std::uint64_t length, std::string_view wire, bool eof = false,
                   const ParseLimits& limits = {}, std::uint64_t max_body = UINT64_MAX) {
  BodyDecoder decoder(kind, length, limits, max_body);
  return decode(decoder, wire, {}, eof);
}

std::vector<std::size_t> every_byte(std::size_t n) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < n; ++i) cuts.push_back(i);
  return cuts;
}

int chunked_status(std::string_view wire, bool eof = false, const ParseLimits& limits = {}) {
  return decode_all(BodyKind::chunked, 0, wire, eof, limits).status;
}

TEST(BodyDecoder, NoneIsDoneAtOnce) {
  BodyDecoder none(BodyKind::none, 0);
  EXPECT_TRUE(none.done());
  const BodyDecoder::Step step = none.next("GET / HTTP/1.1\r\n", false);
  EXPECT_EQ(step.consumed, 0u);
  EXPECT_TRUE(BodyDecoder(BodyKind::length, 0).done());
  EXPECT_TRUE(BodyDecoder().done());
}

TEST(BodyDecoder, ContentLengthAtEverySplit) {
  const std::string body = "hello, world\r\n0\r\n\r\n";  // framing-like bytes are plain data here
  const std::string wire = body + "GET / HTTP/1.1\r\n";
  for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
    BodyDecoder decoder(BodyKind::length, body.size());
    const Decoded d = decode(decoder, wire, {cut});
    EXPECT_EQ(d.status, 0) << cut;
    EXPECT_TRUE(d.done) << cut;
    EXPECT_EQ(d.data, body) << cut;
    EXPECT_EQ(d.consumed, body.size()) << cut;  // not a byte of the next request
    EXPECT_EQ(decoder.received(), body.size());
  }
  BodyDecoder decoder(BodyKind::length, body.size());
  EXPECT_EQ(decode(decoder, wire, every_byte(wire.size())).data, body);
}

// An example with everything chunked allows: extensions with token and quoted values (with a
// quoted-pair), BWS, hex in both cases, a chunk holding CRLFs, and trailers.
constexpr std::string_view kChunkedBody =
    "4;name=token\r\nWiki\r\n"
    "5 ; q = \"quo\\\"ted;x=y\"\r\npedia\r\n"
    "e;a;b=c\r\n in\r\n\r\nchunks.\r\n"
    "0A\r\n0123456789\r\n"
    "0;last\r\n"
    "Expires: never\r\n"
    "X-Checksum:  abc \r\n"
    "\r\n";
constexpr std::string_view kChunkedData = "Wikipedia in\r\n\r\nchunks.0123456789";

TEST(BodyDecoder, ChunkedWithExtensionsAndTrailers) {
  BodyDecoder decoder(BodyKind::chunked, 0);
  const Decoded d = decode(decoder, std::string(kChunkedBody) + "NEXT", {});
  EXPECT_EQ(d.status, 0);
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, kChunkedData);
  EXPECT_EQ(d.consumed, kChunkedBody.size());
  EXPECT_EQ(decoder.received(), kChunkedData.size());
  EXPECT_EQ(decoder.trailers().size(), 2u);
  EXPECT_EQ(decoder.trailers().get("expires"), "never");
  EXPECT_EQ(decoder.trailers().get("X-Checksum"), "abc");
}

TEST(BodyDecoder, ChunkedAtEverySplit) {
  const std::string wire = std::string(kChunkedBody) + "GET / HTTP/1.1\r\n";
  for (std::size_t a = 0; a <= wire.size(); ++a) {
    for (std::size_t b = a; b <= wire.size(); b += 7) {
      BodyDecoder decoder(BodyKind::chunked, 0);
      const Decoded d = decode(decoder, wire, {a, b});
      ASSERT_EQ(d.status, 0) << a << ' ' << b;
      ASSERT_TRUE(d.done) << a << ' ' << b;
      ASSERT_EQ(d.data, kChunkedData) << a << ' ' << b;
      ASSERT_EQ(d.consumed, kChunkedBody.size()) << a << ' ' << b;
      ASSERT_EQ(decoder.trailers().get("x-checksum"), "abc") << a << ' ' << b;
    }
  }
  BodyDecoder decoder(BodyKind::chunked, 0);
  const Decoded d = decode(decoder, wire, every_byte(wire.size()));
  EXPECT_EQ(d.data, kChunkedData);
  EXPECT_EQ(d.consumed, kChunkedBody.size());
  EXPECT_EQ(decoder.trailers().size(), 2u);
}

TEST(BodyDecoder, ChunkedWithoutTrailers) {
  BodyDecoder decoder(BodyKind::chunked, 0);
  const Decoded d = decode(decoder, "3\r\nabc\r\n0\r\n\r\n", {});
  EXPECT_TRUE(d.done);
  EXPECT_EQ(d.data, "abc");
  EXPECT_TRUE(decoder.trailers().empty());
  EXPECT_TRUE(decode_all(BodyKind::chunked, 0, "0\r\n\r\n").done);
  EXPECT_EQ(decode_all(BodyKind::chunked, 0, "00000000000000000000003\r\nabc\r\n0\r\n\r\n").data,
            "abc");  // leading zeros are not an overflow
}

TEST(BodyDecoder, RejectsMalformedChunkSizes) {
  for (const char* line : {"", "0x10", " 5", "5 junk", "-1", "+1", "g", "5 ", "5;", "5;=x",
                           "5;a=", "5;a=\"x", "5;a=\"x\\", "5;a=\"\x01\"", "5;a b", "5,a", "5\x01",
                           "10000000000000000", "FFFFFFFFFFFFFFFFF"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(line)));
    EXPECT_EQ(chunked_status(line + "\r\nhello\r\n0\r\n\r\n"s), 400);
  }
}

TEST(BodyDecoder, RejectsAChunkNotFollowedByCrlf) {
  EXPECT_EQ(chunked_status("3\r\nabcX\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("3\r\nabc\rX0\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("3\r\nabc\n0\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("3\r\nabcd\r\n0\r\n\r\n"), 400);
  // Found as soon as the wrong byte arrives, without waiting for a second one.
  BodyDecoder decoder(BodyKind::chunked, 0);
  EXPECT_EQ(decode(decoder, "3\r\nabcX", {}).status, 400);
}

TEST(BodyDecoder, RejectsABareLfInTheChunkFraming) {
  EXPECT_EQ(chunked_status("3\nabc\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("\n"), 400);
  EXPECT_EQ(chunked_status("3;x=y\nabc\r\n0\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("0\r\n\n"), 400);
  EXPECT_EQ(chunked_status("0\r\nX: y\n\r\n"), 400);
}

TEST(BodyDecoder, RejectsMalformedTrailers) {
  EXPECT_EQ(chunked_status("0\r\nX : y\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("0\r\n folded\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("0\r\nX: a\x01\r\n\r\n"), 400);
  EXPECT_EQ(chunked_status("0\r\nno-colon\r\n\r\n"), 400);
  // An empty name must be a ProtocolError like the rest, not escape as another exception.
  EXPECT_EQ(chunked_status("0\r\n: x\r\n\r\n"), 400);
}

TEST(BodyDecoder, RejectsAChunkSizeLineOverTheLimit) {
  ParseLimits limits;
  limits.max_chunk_line = 16;
  EXPECT_EQ(chunked_status("5;e=" + std::string(12, 'x') + "\r\nhello\r\n0\r\n\r\n", false, limits),
            0);
  EXPECT_EQ(chunked_status("5;e=" + std::string(13, 'x') + "\r\nhello\r\n0\r\n\r\n", false, limits),
            400);
  // A line that never ends is refused once it is past the limit, not buffered forever.
  EXPECT_EQ(chunked_status("5;e=" + std::string(100, 'x'), false, limits), 400);
  EXPECT_EQ(chunked_status(std::string(2000, '0'), false), 400);
}

TEST(BodyDecoder, RejectsTrailersOverTheLimitWith431) {
  ParseLimits limits;
  limits.max_trailer_bytes = 64;
  EXPECT_EQ(chunked_status("0\r\nX: " + std::string(40, 'v') + "\r\n\r\n", false, limits), 0);
  EXPECT_EQ(chunked_status("0\r\nX: " + std::string(80, 'v') + "\r\n\r\n", false, limits), 431);
  EXPECT_EQ(chunked_status("0\r\nX: " + std::string(80, 'v'), false, limits), 431);  // no LF yet
  std::string many = "0\r\n";
  for (int i = 0; i < 4; ++i) many += "X-T: " + std::string(20, 'v') + "\r\n";
  EXPECT_EQ(chunked_status(many + "\r\n", false, limits), 431);
  limits = {};
  limits.max_headers = 2;
  EXPECT_EQ(chunked_status("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", false, limits), 431);
}

TEST(BodyDecoder, TrailerLimitCountsTheBytesOnTheWire) {
  // Like max_head_bytes, the limit is on the trailer section as sent: whitespace padding and the
  // ": " and CRLF of each line count, or a peer could send many times the limit.
  ParseLimits limits;
  limits.max_trailer_bytes = 64;
  std::string padded = "0\r\n";
  for (int i = 0; i < 15; ++i) padded += "A:" + std::string(20, ' ') + "b\r\n";
  padded += "\r\n";
  ASSERT_GT(padded.size(), 5u * 64);
  EXPECT_EQ(chunked_status(padded, false, limits), 431);
}

TEST(BodyDecoder, EnforcesMaxBodyWith413) {
  try {
    BodyDecoder decoder(BodyKind::length, 11, {}, 10);
    FAIL() << "a Content-Length over max_body was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_EQ(e.status(), 413);
  }
  EXPECT_TRUE(decode_all(BodyKind::length, 10, "0123456789", false, {}, 10).done);

  // Chunked: refused on the size line that would pass the limit, before its data arrives.
  BodyDecoder chunked(BodyKind::chunked, 0, {}, 10);
  const Decoded d = decode(chunked, "5\r\nhello\r\n6\r\n", {});
  EXPECT_EQ(d.status, 413);
  EXPECT_EQ(d.data, "hello");
  EXPECT_EQ(
      decode_all(BodyKind::chunked, 0, "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n", false, {}, 10).data,
      "helloworld");
  EXPECT_EQ(decode_all(BodyKind::chunked, 0, "FFFFFFFFFFFFFFFF\r\n", false, {}, 1 << 20).status,
            413);

  EXPECT_EQ(decode_all(BodyKind::until_close, 0, "0123456789a", true, {}, 10).status, 413);
  EXPECT_TRUE(decode_all(BodyKind::until_close, 0, "0123456789", true, {}, 10).done);
}

TEST(BodyDecoder, RejectsEofInsideABody) {
  EXPECT_EQ(decode_all(BodyKind::length, 5, "abc", true).status, 400);
  EXPECT_EQ(decode_all(BodyKind::length, 5, "", true).status, 400);
  for (const char* partial :
       {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n",
        "5\r\nhello\r\n0\r\n", "5\r\nhello\r\n0\r\nX: y\r\n", "5\r\nhello\r\n0\r\nX: y\r\n\r"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(partial)));
    EXPECT_EQ(chunked_status(partial, true), 400);
    const Decoded waiting = decode_all(BodyKind::chunked, 0, partial, false);
    EXPECT_EQ(waiting.status, 0);  // the same bytes without EOF: just not done yet
    EXPECT_FALSE(waiting.done);
  }
}

TEST(BodyDecoder, UntilCloseEndsAtEof) {
  const std::string body = "anything\r\n0\r\n\r\nat all";
  for (std::size_t cut = 0; cut <= body.size(); ++cut) {
    BodyDecoder decoder(BodyKind::until_close, 0);
    const Decoded d = decode(decoder, body, {cut}, true);
    EXPECT_TRUE(d.done) << cut;
    EXPECT_EQ(d.data, body) << cut;
    EXPECT_EQ(decoder.received(), body.size());
  }
  BodyDecoder open(BodyKind::until_close, 0);
  const Decoded d = decode(open, body, {}, false);
  EXPECT_FALSE(d.done);
  EXPECT_EQ(d.data, body);
  EXPECT_TRUE(decode_all(BodyKind::until_close, 0, "", true).done);
}

// A default string_view (what Stream::buffered() gives for a closed stream) has a null data
// pointer; "nothing yet" must be safe to pass. These fail under UBSan if it reaches memchr.
TEST(BodyDecoder, AcceptsANullEmptyView) {
  for (BodyKind kind : {BodyKind::length, BodyKind::until_close}) {
    BodyDecoder decoder(kind, 3);
    EXPECT_EQ(decoder.next(std::string_view(), false).consumed, 0u);
    EXPECT_FALSE(decoder.done());
  }
  BodyDecoder chunked(BodyKind::chunked, 0);
  EXPECT_EQ(chunked.next(std::string_view(), false).consumed, 0u);
  EXPECT_FALSE(chunked.done());
}

TEST(BodyDecoder, AcceptsANullEmptyViewInTrailers) {
  BodyDecoder decoder(BodyKind::chunked, 0);
  ASSERT_EQ(decoder.next("0\r\n", false).consumed, 3u);
  EXPECT_EQ(decoder.next(std::string_view(), false).consumed, 0u);
  EXPECT_FALSE(decoder.done());
}

// --- request smuggling (the PortSwigger classics)

// What a server would do with `wire`: the bodies and targets of each request it finds, until
// it meets an error (then "error <status>") or runs out of bytes.
std::vector<std::string> serve(std::string_view wire) {
  std::vector<std::string> seen;
  HeadParser parser;
  try {
    while (!wire.empty()) {
      RequestHead head;
      const std::size_t n = parser.parse_request(wire, head);
      if (!n) break;
      wire.remove_prefix(n);
      BodyDecoder body(head.body, head.content_length);
      std::string data;
      while (!body.done()) {
        const BodyDecoder::Step step = body.next(wire, false);
        data.append(step.data);
        wire.remove_prefix(step.consumed);
        if (step.consumed == 0) break;
      }
      seen.push_back(std::string(head.method()) + " " + std::string(head.target()) + " [" + data +
                     "]");
      if (!body.done()) break;
    }
  } catch (const ProtocolError& e) {
    seen.push_back("error " + std::to_string(e.status()));
  }
  return seen;
}

using Seen = std::vector<std::string>;

TEST(Smuggling, ClTeIsRejected) {
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 13\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nSMUGGLED"),
            (Seen{"error 400"}));
}

TEST(Smuggling, TeClIsRejected) {
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n"),
            (Seen{"error 400"}));
}

TEST(Smuggling, ObfuscatedTransferEncodingIsRejected) {
  for (const char* te : {"Transfer-Encoding: xchunked", "Transfer-Encoding : chunked",
                         "Transfer-Encoding: chunked\r\nTransfer-Encoding: x",
                         "Transfer-Encoding: x\r\nTransfer-Encoding: chunked",
                         "Transfer-Encoding:\r\n chunked", " Transfer-Encoding: chunked",
                         "Transfer-Encoding: \x0b"
                         "chunked",
                         "Transfer-Encoding\n: chunked", "Transfer-Encoding: 'chunked'",
                         "Transfer-Encoding: chunked, identity"}) {
    SCOPED_TRACE(testing::PrintToString(std::string(te)));
    const std::string body = "\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\n\r\n0\r\n\r\n";
    EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"s + te + body),
              (Seen{"error 400"}));
    // Without the Content-Length, still no framing anyone could read two ways.
    const Seen alone = serve("POST / HTTP/1.1\r\nHost: h\r\n"s + te + body);
    EXPECT_TRUE(alone == Seen{"error 400"} || alone == Seen{"error 501"})
        << testing::PrintToString(alone);
  }
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"),
            (Seen{"error 400"}));
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n"),
            (Seen{"error 400"}));
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: x\r\n\r\n0\r\n\r\n"),
            (Seen{"error 400"}));
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: x\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
            (Seen{"error 501"}));
}

TEST(Smuggling, AMisspelledTransferEncodingIsJustAnotherField) {
  // Framed by the Content-Length alone; what follows the 4 bytes is the next request.
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer_Encoding: chunked"
                  "\r\n\r\n5c\r\nGPOST / HTTP/1.1\r\nHost: h\r\n\r\n"),
            (Seen{"POST / [5c\r\n]", "GPOST / []"}));
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n"),
            (Seen{"POST / []"}));
}

TEST(Smuggling, TabBeforeTheValueIsOrdinaryWhitespace) {
  // HTAB is OWS, so this is plain chunked framing; the next request starts where the body ends.
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\tchunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            (Seen{"POST / [hello]", "GET /next []"}));
  EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \tCHUNKED \t\r\n\r\n"
                  "0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            (Seen{"POST / []", "GET /next []"}));
}

TEST(Smuggling, ContentLengthTricksAreRejected) {
  for (const char* cl : {"Content-Length: 4\r\nContent-Length: 40", "Content-Length: 4, 40",
                         "Content-Length: 4 0", "Content-Length: +4", "Content-Length : 4",
                         "Content-Length:\r\n 4", "Content-Length: 0x4"}) {
    SCOPED_TRACE(cl);
    EXPECT_EQ(serve("POST / HTTP/1.1\r\nHost: h\r\n"s + cl + "\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n"),
              (Seen{"error 400"}));
  }
}

TEST(Smuggling, ABodyOnAGetIsFramedAndNotTakenForTheNextRequest) {
  const std::string inner = "GET /admin HTTP/1.1\r\nX: \r\n\r\n";
  EXPECT_EQ(serve("GET / HTTP/1.1\r\nHost: h\r\nContent-Length: " + std::to_string(inner.size()) +
                  "\r\n\r\n" + inner + "GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
            (Seen{"GET / [" + inner + "]", "GET /next []"}));
}

TEST(Smuggling, BareLfLineEndingsCannotHideARequest) {
  // A front end splitting on LF alone would see two requests here; we see a malformed one.
  EXPECT_EQ(serve("GET / HTTP/1.1\r\nHost: h\r\nX: y\nGET /admin HTTP/1.1\r\nHost: h\r\n\r\n"),
            (Seen{"error 400"}));
  EXPECT_EQ(serve("GET / HTTP/1.1\r\nHost: h\r\nX: y\rGET /admin HTTP/1.1\r\n\r\n"),
            (Seen{"error 400"}));
}

}  // namespace
