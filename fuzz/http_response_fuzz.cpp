// libFuzzer target for the HTTP/1.1 response parser and body decoder, as a client reads them:
// the input is what a server sent before closing (1xx heads, final heads, bodies, pipelined
// responses), answering a GET, HEAD or CONNECT. Each input runs with the default limits and
// with small ones. Traps when:
//  - anything but ProtocolError escapes;
//  - a parsed head breaks what a client relies on: its length is past the input, its copy is
//    not the bytes it was parsed from, the reason or a field lies outside that copy, a field
//    name is not a token or a value holds a control character or edge whitespace, a limit is
//    exceeded, the status is not three digits, or the body framing contradicts the method,
//    the status or the framing fields (a body after HEAD, 204 or 304; TE with CL; a reusable
//    connection after an until-close body);
//  - the head arriving in two reads parses to another length, head or status than in one;
//  - the body fed in pieces decodes to other data, another end or another error than fed at
//    once, or the decoder stalls at EOF.
// Every response starts "HTTP/", so the method and the piece size come from the first byte
// mixed with the input's length, or the first byte alone would always pick the same ones.
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

Outcome parse(http::HeadParser& parser, std::string_view in, http::ResponseHead& head,
              std::string_view method) {
  try {
    return {parser.parse_response(in, head, method), 0, false};
  } catch (const http::ProtocolError& e) {
    const std::string_view what = e.what();
    return {0, e.status(), what.find("too l") != std::string_view::npos};
  }
}

void check_head(const http::ResponseHead& h, std::string_view wire, std::string_view method,
                const http::ParseLimits& lim) {
  const std::string& raw = h.headers.raw();
  check(raw == wire);  // no blank lines are skipped before a status line
  check(raw.size() >= 4 && raw.compare(raw.size() - 4, 4, "\r\n\r\n") == 0);
  check(raw.size() <= lim.max_head_bytes + 2);
  check(raw.find('\n') - 1 <= lim.max_request_line);
  check(h.headers.size() <= lim.max_headers);

  check(h.status >= 100 && h.status <= 999);
  check(raw.compare(9, 3, std::to_string(h.status)) == 0);
  check(h.version_minor >= 0 && h.version_minor <= 9);
  check(inside(h.reason(), raw) && is_text(h.reason()));
  for (auto [name, value] : h.headers) {
    check(inside(name, raw) && inside(value, raw));
    check(is_token(name));
    check(is_clean_value(value));
  }

  const bool has_cl = h.headers.contains("content-length");
  const bool has_te = h.headers.contains("transfer-encoding");
  check(!(has_cl && has_te));
  const bool no_body = method == "HEAD" || h.status < 200 || h.status == 204 || h.status == 304 ||
                       (method == "CONNECT" && h.status < 300);
  if (no_body) check(h.body == http::BodyKind::none);
  check((h.body == http::BodyKind::length) == (h.content_length > 0));
  if (h.body == http::BodyKind::length) check(has_cl);
  if (h.body == http::BodyKind::chunked) check(has_te);
  if (h.body == http::BodyKind::until_close) check(!has_cl && !h.keep_alive);
  check(h.upgrade == (h.status == 101));
  if (!h.keep_alive && h.version_minor >= 1 && h.body != http::BodyKind::until_close)
    check(h.headers.contains("connection"));
}

void check_same(const http::ResponseHead& a, const http::ResponseHead& b) {
  check(a.status == b.status && a.reason() == b.reason());
  check(a.version_minor == b.version_minor && a.body == b.body);
  check(a.content_length == b.content_length && a.keep_alive == b.keep_alive);
  check(a.upgrade == b.upgrade);
  check(a.headers.raw() == b.headers.raw() && a.headers.size() == b.headers.size());
  for (std::size_t i = 0; i < a.headers.size(); ++i) check(a.headers.at(i) == b.headers.at(i));
}

void read_responses(std::string_view input, const Config& config) {
  static constexpr std::string_view kMethods[] = {"GET", "HEAD", "CONNECT"};
  const auto* bytes = reinterpret_cast<const unsigned char*>(input.data());
  const std::size_t mixed = bytes[0] + input.size();
  const std::string_view method = kMethods[mixed % 3];
  const std::size_t piece = 1 + ((mixed / 3) & 15);
  const std::size_t mix = input.size() * 0x9e3779b9u + bytes[input.size() - 1] * 131u + bytes[0];

  http::HeadParser parser(config.limits);
  std::string_view rest = input;
  for (int message = 0; !rest.empty() && message < 32; ++message) {
    http::ResponseHead head;
    const Outcome whole = parse(parser, rest, head, method);
    check(whole.length <= rest.size());

    const std::size_t bound = whole.length ? whole.length : rest.size();
    const std::size_t cut = (mix + static_cast<std::size_t>(message) * 7919u) % (bound + 1);
    http::HeadParser split_parser(config.limits);
    http::ResponseHead split_head;
    Outcome split = parse(split_parser, rest.substr(0, cut), split_head, method);
    const bool failed_early = split.status != 0;
    if (!split.status && !split.length) split = parse(split_parser, rest, split_head, method);
    check((whole.status == 0) == (split.status == 0));
    check(whole.length == split.length);
    // A line cut short can only show it is too long; the whole line may have failed otherwise.
    if (whole.status != split.status) check(failed_early && split.limit);

    if (whole.status || !whole.length) return;
    check_head(head, rest.substr(0, whole.length), method, config.limits);
    check_same(head, split_head);
    rest.remove_prefix(whole.length);

    const long took = check_body(head.body, head.content_length, rest, config, piece);
    if (took < 0) return;
    rest.remove_prefix(static_cast<std::size_t>(took));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return run_both(data, size, read_responses);
}
