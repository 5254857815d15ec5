// permessage-deflate (see deflate.hpp).
#include "deflate.hpp"

#include <zlib.h>

#include <stdexcept>
#include <vector>

#include "eddy/http/headers.hpp"

namespace eddy::http::detail {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    auto i = s.find(sep);
    out.push_back(trim(s.substr(0, i)));
    if (i == std::string_view::npos) return out;
    s.remove_prefix(i + 1);
  }
}

// One extension's parameters, checked against RFC 7692 §7.1; nullopt if malformed.
struct Offer {
  bool server_no_context_takeover = false, client_no_context_takeover = false;
  std::optional<int> server_max_window_bits;
  bool client_max_window_bits = false;  // present (with or without a value)
  std::optional<int> client_max_window_bits_value;
};

std::optional<int> window_bits(std::string_view v) {
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  if (v.empty() || v.size() > 2) return std::nullopt;
  int n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 8 || n > 15 || (v.size() == 2 && v[0] == '0')) return std::nullopt;
  return n;
}

std::optional<Offer> parse_params(const std::vector<std::string_view>& parts) {
  Offer o;
  bool seen[4] = {};
  for (std::size_t i = 1; i < parts.size(); ++i) {
    std::string_view p = parts[i];
    auto eq = p.find('=');
    std::string_view name = trim(p.substr(0, eq));
    std::optional<std::string_view> value;
    if (eq != std::string_view::npos) value = trim(p.substr(eq + 1));
    int k;
    if (iequals(name, "server_no_context_takeover")) {
      k = 0;
      if (value) return std::nullopt;
      o.server_no_context_takeover = true;
    } else if (iequals(name, "client_no_context_takeover")) {
      k = 1;
      if (value) return std::nullopt;
      o.client_no_context_takeover = true;
    } else if (iequals(name, "server_max_window_bits")) {
      k = 2;
      if (!value) return std::nullopt;
      o.server_max_window_bits = window_bits(*value);
      if (!o.server_max_window_bits) return std::nullopt;
    } else if (iequals(name, "client_max_window_bits")) {
      k = 3;
      o.client_max_window_bits = true;
      if (value) {
        o.client_max_window_bits_value = window_bits(*value);
        if (!o.client_max_window_bits_value) return std::nullopt;
      }
    } else {
      return std::nullopt;
    }
    if (seen[k]) return std::nullopt;
    seen[k] = true;
  }
  return o;
}

// zlib's raw deflate cannot use an 8-bit window: 9 is the closest it offers.
int zlib_bits(int bits) {
  return bits < 9 ? 9 : bits;
}

}  // namespace

std::optional<DeflateParams> accept_deflate_offer(std::string_view extensions,
                                                  std::string& response) {
  for (std::string_view ext : split(extensions, ',')) {
    auto parts = split(ext, ';');
    if (!iequals(parts[0], "permessage-deflate")) continue;
    auto o = parse_params(parts);
    if (!o) continue;  // a malformed offer is declined; the next may do
    DeflateParams p;
    response = "permessage-deflate";
    if (o->server_no_context_takeover) {
      p.our_no_context_takeover = true;
      response += "; server_no_context_takeover";
    }
    if (o->client_no_context_takeover) {
      p.their_no_context_takeover = true;
      response += "; client_no_context_takeover";
    }
    if (o->server_max_window_bits) {
      p.our_max_window_bits = *o->server_max_window_bits;
      response += "; server_max_window_bits=" + std::to_string(p.our_max_window_bits);
    }
    if (o->client_max_window_bits_value) {
      p.their_max_window_bits = *o->client_max_window_bits_value;
      response += "; client_max_window_bits=" + std::to_string(p.their_max_window_bits);
    }
    return p;
  }
  return std::nullopt;
}

std::string deflate_offer() {
  return "permessage-deflate; client_max_window_bits";
}

std::optional<DeflateParams> parse_deflate_answer(std::string_view extensions) {
  if (trim(extensions).empty()) return std::nullopt;
  auto exts = split(extensions, ',');
  if (exts.size() != 1) throw std::invalid_argument("more than one extension in the answer");
  auto parts = split(exts[0], ';');
  if (!iequals(parts[0], "permessage-deflate"))
    throw std::invalid_argument("an extension that was not offered");
  auto o = parse_params(parts);
  if (!o) throw std::invalid_argument("malformed permessage-deflate parameters");
  DeflateParams p;
  p.their_no_context_takeover = o->server_no_context_takeover;
  p.our_no_context_takeover = o->client_no_context_takeover;
  if (o->server_max_window_bits) p.their_max_window_bits = *o->server_max_window_bits;
  if (o->client_max_window_bits && !o->client_max_window_bits_value)
    throw std::invalid_argument("client_max_window_bits without a value in the answer");
  if (o->client_max_window_bits_value) p.our_max_window_bits = *o->client_max_window_bits_value;
  return p;
}

struct MessageDeflate::State {
  z_stream def{}, inf{};
  bool def_live = false, inf_live = false;
  bool inf_fresh = false;  // a final block just ended the peer's stream: nothing since
};

MessageDeflate::MessageDeflate(const DeflateParams& p) : z_(std::make_unique<State>()), p_(p) {
  if (deflateInit2(&z_->def, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -zlib_bits(p.our_max_window_bits),
                   8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw std::runtime_error("deflateInit2 failed");
  z_->def_live = true;
  // Our decompressor takes the largest window: it reads any smaller one.
  if (inflateInit2(&z_->inf, -15) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  z_->inf_live = true;
}

MessageDeflate::~MessageDeflate() {
  if (z_->def_live) deflateEnd(&z_->def);
  if (z_->inf_live) inflateEnd(&z_->inf);
}

std::string MessageDeflate::compress(std::string_view message) {
  z_stream& z = z_->def;
  std::string out;
  out.resize(deflateBound(&z, static_cast<uLong>(message.size())) + 16);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(message.data()));
  z.avail_in = static_cast<uInt>(message.size());
  std::size_t done = 0;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data() + done);
    z.avail_out = static_cast<uInt>(out.size() - done);
    int rc = deflate(&z, Z_SYNC_FLUSH);
    done = out.size() - z.avail_out;
    if (rc != Z_OK && rc != Z_BUF_ERROR) throw std::runtime_error("deflate failed");
    if (z.avail_in == 0 && z.avail_out > 0) break;
    out.resize(out.size() * 2);
  }
  out.resize(done);
  if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string_view("\0\0\xff\xff", 4)) == 0)
    out.resize(out.size() - 4);
  if (p_.our_no_context_takeover) deflateReset(&z);
  return out;
}

bool MessageDeflate::decompress(std::string_view piece, bool last, std::string& out,
                                std::size_t max) {
  static const char kTail[4] = {0, 0, '\xff', '\xff'};
  z_stream& z = z_->inf;
  bool& at_stream_start = z_->inf_fresh;
  auto run = [&](std::string_view in) -> bool {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    for (;;) {
      std::size_t before = out.size();
      std::size_t room = std::min<std::size_t>(64 * 1024, max + 1 - std::min(max + 1, before));
      if (room == 0) return false;
      out.resize(before + room);
      z.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      z.avail_out = static_cast<uInt>(room);
      uInt in_before = z.avail_in;
      int rc = inflate(&z, Z_SYNC_FLUSH);
      bool filled = z.avail_out == 0;  // there may be more output waiting
      bool progress = z.avail_in != in_before || z.avail_out != room;
      out.resize(out.size() - z.avail_out);
      if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
        throw std::runtime_error(z.msg ? z.msg : "corrupt compressed message");
      if (out.size() > max) return false;
      // A block with BFINAL set ends the deflate stream (RFC 7692 §7.2.3 allows it): what
      // follows starts a new one.
      if (rc == Z_STREAM_END) {
        inflateReset(&z);
        at_stream_start = true;
        if (z.avail_in == 0) return true;
        continue;
      }
      if (z.avail_in != in_before) at_stream_start = false;
      if (!filled && (z.avail_in == 0 || rc == Z_BUF_ERROR || !progress)) return true;
    }
  };
  if (!run(piece)) return false;
  if (!last) return true;
  // The tail completes a sync-flushed block; after a final block there is none to complete.
  if (!at_stream_start && !run(std::string_view(kTail, 4))) return false;
  if (p_.their_no_context_takeover) inflateReset(&z);
  at_stream_start = false;
  return true;
}

}  // namespace eddy::http::detail
