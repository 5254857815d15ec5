// libFuzzer target for http::Url, QueryParams and percent-encoding. Traps when:
//  - a URL that parsed does not re-parse from its str(), or re-parses to something else;
//  - resolving a valid reference against a fixed base (or against the input itself) gives a
//    URL whose str() does not read back the same;
//  - normalized() is not idempotent;
//  - query parameters or percent-encoding do not round-trip.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "eddy/http/url.hpp"

namespace {

using eddy::http::QueryParams;
using eddy::http::Url;
using eddy::http::UrlError;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_reparses(const Url& u) {
  const std::string s = u.str();
  const Url again = Url::parse(s, s.size());  // throwing here escapes and aborts too
  check(again.str() == s);
}

void check_normalized(const Url& u) {
  const Url n = u.normalized();
  check(n.normalized() == n);
  // parse lowercases a host's escapes that normalized() uppercased; normalising again agrees.
  check(Url::parse(n.str(), n.str().size()).normalized() == n);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  static const Url base = Url::parse("http://a/b/c/d;p?q");

  const std::string encoded = eddy::http::percent_encode(in);
  check(eddy::http::percent_decode(encoded) == in);
  try {
    eddy::http::percent_decode(in, true);
  } catch (const UrlError&) {
  }

  Url u;
  try {
    u = Url::parse(in);
  } catch (const UrlError&) {
    return 0;
  }
  check_reparses(u);
  check(Url::parse(u.str()) == u);
  check_normalized(u);

  try {
    const Url joined = base.join(in);
    check_reparses(joined);
    check_normalized(joined);
  } catch (const UrlError&) {  // only for an empty host: "///x"
    check(u.has_authority() && u.host().empty() && !u.is_absolute());
  }
  if (u.is_absolute()) {
    for (const char* ref : {"../x/./y?z#f", "//h2/p", "?q2", "", "g:h", ".."}) {
      const Url j = u.join(ref);
      check_reparses(j);
      check_normalized(j);
    }
  }

  if (u.query()) {
    try {
      const QueryParams q = QueryParams::parse(*u.query());
      check(QueryParams::parse(q.str()) == q);
      check(u.with_query(q).query_params() == q);
    } catch (const UrlError&) {  // more pairs than the cap
    }
  }
  check(u.with_path(u.path()) == u);
  return 0;
}
