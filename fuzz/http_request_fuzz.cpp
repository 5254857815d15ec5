// libFuzzer target for the HTTP/1.1 request parser and body decoder. The input is what a client
// sent before closing: pipelined requests, read as a server does (head, body, next head), once
// with the default limits and once with small ones so the limit checks are reached too.
// Traps when:
//  - anything but ProtocolError escapes;
//  - a parsed head breaks what a server relies on: its length is past the input, its copy is
//    not the bytes it was parsed from, the method, target or a field lies outside that copy, a
//    field name is not a token or a value holds a control character or edge whitespace, a
//    limit is exceeded, or body / content_length disagree with the framing fields;
//  - the head arriving in two reads (split at a point taken from the input) parses to another
//    length, head or status than in one read;
//  - the body fed in pieces (sized by the input's first byte) decodes to other data, another
//    end or another error than fed at once, or the decoder stalls at EOF.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "eddy/http/error.hpp"
#include "eddy/http/parser.hpp"
#include "http_fuzz_support.hpp"

namespace {

namespace http = eddy::http;
using namespace http_fuzz;

struct Outcome {
  std::size_t length = 0;  // 0 with status 0: needs more bytes
  int status = 0;          // of the ProtocolError
  bool limit = false;      // the error was a size limit ("too long", "too large")
};

Outcome parse(http::HeadParser& parser, std::string_view in, http::RequestHead& head) {
  try {
    return {parser.parse_request(in, head), 0, false};
  } catch (const http::ProtocolError& e) {
    const std::string_view what = e.what();
    return {0, e.status(), what.find("too l") != std::string_view::npos};
  }
}

void check_head(const http::RequestHead& h, std::string_view wire, const http::ParseLimits& lim) {
  const std::string& raw = h.headers.raw();
  // The copy is the head without the blank lines allowed before the request line.
  check(raw.size() <= wire.size() && (wire.size() - raw.size()) % 2 == 0);
  for (std::size_t i = 0; i < wire.size() - raw.size(); i += 2) check(wire.substr(i, 2) == "\r\n");
  check(wire.substr(wire.size() - raw.size()) == raw);
  check(raw.size() >= 4 && raw.compare(raw.size() - 4, 4, "\r\n\r\n") == 0);
  check(raw.size() <= lim.max_head_bytes + 2);
  check(raw.find('\n') - 1 <= lim.max_request_line);
  check(h.headers.size() <= lim.max_headers);

  check(inside(h.method(), raw) && is_token(h.method()));
  check(inside(h.target(), raw) && !h.target().empty());
  for (char c : h.target()) check(c > 0x20 && c < 0x7f);
  check(h.version_minor >= 0 && h.version_minor <= 9);
  for (auto [name, value] : h.headers) {
    check(inside(name, raw) && inside(value, raw));
    check(is_token(name));
    check(is_clean_value(value));
  }

  const bool http11 = h.version_minor >= 1;
  const bool has_cl = h.headers.contains("content-length");
  const bool has_te = h.headers.contains("transfer-encoding");
  check(!(has_cl && has_te));
  check(!has_te || http11);
  check(h.body != http::BodyKind::until_close);  // a request always knows where it ends
  check((h.body == http::BodyKind::length) == (h.content_length > 0));
  if (h.body == http::BodyKind::length) check(has_cl);
  check((h.body == http::BodyKind::chunked) == has_te);
  check(http11 ? h.headers.count("host") == 1 : h.headers.count("host") <= 1);
  if (h.expect_continue) check(http11 && h.headers.contains("expect"));
  if (h.upgrade) check(h.headers.contains("upgrade") && h.headers.contains("connection"));
  if (!h.keep_alive && http11) check(h.headers.contains("connection"));
  if (h.keep_alive && !http11) check(h.headers.contains("connection"));
}

void check_same(const http::RequestHead& a, const http::RequestHead& b) {
  check(a.method() == b.method() && a.target() == b.target());
  check(a.version_minor == b.version_minor && a.body == b.body);
  check(a.content_length == b.content_length && a.keep_alive == b.keep_alive);
  check(a.upgrade == b.upgrade && a.expect_continue == b.expect_continue);
  check(a.headers.raw() == b.headers.raw() && a.headers.size() == b.headers.size());
  for (std::size_t i = 0; i < a.headers.size(); ++i) check(a.headers.at(i) == b.headers.at(i));
}

void serve(std::string_view input, const Config& config) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t piece = 1 + (bytes[0] & 15);
  const std::size_t mix = input.size() * 0x9e3779b9u + bytes[input.size() - 1] * 131u + bytes[0];

  http::HeadParser parser(config.limits);  // one for the connection: it resets after each head
  std::string_view rest = input;
  for (int message = 0; !rest.empty() && message < 32; ++message) {
    http::RequestHead head;
    const Outcome whole = parse(parser, rest, head);
    check(whole.length <= rest.size());

    // The same bytes arriving in two reads.
    const std::size_t bound = whole.length ? whole.length : rest.size();
    const std::size_t cut = (mix + static_cast<std::size_t>(message) * 7919u) % (bound + 1);
    http::HeadParser split_parser(config.limits);
    http::RequestHead split_head;
    Outcome split = parse(split_parser, rest.substr(0, cut), split_head);
    const bool failed_early = split.status != 0;
    if (!split.status && !split.length) split = parse(split_parser, rest, split_head);
    check((whole.status == 0) == (split.status == 0));
    check(whole.length == split.length);
    // A line cut short can only show it is too long; the whole line may have failed otherwise.
    if (whole.status != split.status) check(failed_early && split.limit);

    if (whole.status || !whole.length) return;
    check_head(head, rest.substr(0, whole.length), config.limits);
    check_same(head, split_head);
    rest.remove_prefix(whole.length);

    const long took = check_body(head.body, head.content_length, rest, config, piece);
    if (took < 0) return;
    rest.remove_prefix(static_cast<std::size_t>(took));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return run_both(data, size, serve);
}
