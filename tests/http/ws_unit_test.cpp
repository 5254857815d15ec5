// WebSocket's pieces on their own: the UTF-8 validator (every sequence class, split at every
// byte), frame headers (lengths at each boundary, every rejection), masking at any offset,
// permessage-deflate negotiation and round trips.
#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

#include "http/ws/deflate.hpp"
#include "http/ws/frame.hpp"
#include "http/ws/utf8.hpp"

namespace d = eddy::http::detail;

namespace {

// Fed whole and split at every position: the verdict must not depend on where pieces end.
void expect_utf8(std::string_view s, bool valid) {
  EXPECT_EQ(d::Utf8Validator::valid(s), valid) << "whole: " << ::testing::PrintToString(s);
  for (std::size_t cut = 0; cut <= s.size(); ++cut) {
    d::Utf8Validator v;
    bool ok = v.feed(s.substr(0, cut)) && v.feed(s.substr(cut)) && v.complete();
    EXPECT_EQ(ok, valid) << "cut at " << cut << ": " << ::testing::PrintToString(s);
  }
}

}  // namespace

TEST(WsUtf8, AcceptsWellFormedText) {
  expect_utf8("", true);
  expect_utf8("plain ASCII, long enough to take the eight-byte path", true);
  expect_utf8("caf\xc3\xa9", true);       // U+00E9
  expect_utf8("\xe2\x82\xac", true);      // U+20AC
  expect_utf8("\xed\x9f\xbf", true);      // U+D7FF, just below the surrogates
  expect_utf8("\xee\x80\x80", true);      // U+E000, just above
  expect_utf8("\xef\xbf\xbf", true);      // U+FFFF
  expect_utf8("\xf0\x90\x80\x80", true);  // U+10000
  expect_utf8("\xf4\x8f\xbf\xbf", true);  // U+10FFFF, the last
  expect_utf8("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", true);  // Autobahn's "κόσμε"
}

TEST(WsUtf8, RejectsEveryIllFormedClass) {
  expect_utf8("\x80", false);              // a continuation first
  expect_utf8("\xc0\xaf", false);          // overlong '/'
  expect_utf8("\xc1\xbf", false);          // overlong
  expect_utf8("\xe0\x80\xaf", false);      // overlong 3-byte
  expect_utf8("\xf0\x80\x80\xaf", false);  // overlong 4-byte
  expect_utf8("\xed\xa0\x80", false);      // U+D800, a surrogate
  expect_utf8("\xed\xbf\xbf", false);      // U+DFFF
  expect_utf8("\xf4\x90\x80\x80", false);  // above U+10FFFF
  expect_utf8("\xf5\x80\x80\x80", false);
  expect_utf8("\xff", false);
  expect_utf8("\xe2\x82", false);      // cut short at the end
  expect_utf8("\xe2\x82x", false);     // cut short by ASCII
  expect_utf8("abcdefgh\xc3", false);  // after the fast path
}

TEST(WsUtf8, FailsAsSoonAsTheBadByteArrives) {
  d::Utf8Validator v;
  EXPECT_TRUE(v.feed("hello \xe2"));
  EXPECT_FALSE(v.complete()) << "a sequence is open";
  EXPECT_FALSE(v.feed("\x28")) << "not a continuation: fails now, not at the message's end";
}

TEST(WsFrame, HeaderLengthsAtEveryBoundary) {
  for (std::uint64_t len : {0ull, 1ull, 125ull, 126ull, 65535ull, 65536ull, 1ull << 32}) {
    for (bool masked : {false, true}) {
      std::string wire;
      const std::uint8_t key[4] = {1, 2, 3, 4};
      d::append_frame_header(wire, d::Opcode::binary, true, false, len, masked ? key : nullptr);
      d::FrameHeader h;
      d::FrameError err{};
      // Every prefix is "not yet"; the whole header is read exactly.
      for (std::size_t cut = 0; cut < wire.size(); ++cut) {
        ASSERT_TRUE(d::parse_frame_header(std::string_view(wire).substr(0, cut), false,
                                          UINT64_MAX >> 1, h, err));
        EXPECT_EQ(h.header_size, 0u) << len << " cut " << cut;
      }
      ASSERT_TRUE(d::parse_frame_header(wire, false, UINT64_MAX >> 1, h, err));
      EXPECT_EQ(h.header_size, wire.size());
      EXPECT_EQ(h.length, len);
      EXPECT_EQ(h.masked, masked);
      EXPECT_TRUE(h.fin);
      EXPECT_EQ(h.opcode, d::Opcode::binary);
      if (masked) {
        EXPECT_EQ(h.mask[3], 4);
      }
    }
  }
}

TEST(WsFrame, RejectsWhatTheHeaderAloneShowsIsWrong) {
  using namespace std::string_view_literals;  // the headers hold NUL bytes
  auto code = [](std::string_view wire, bool rsv1_ok = false, std::uint64_t max = 1 << 20) {
    d::FrameHeader h;
    d::FrameError err{};
    return d::parse_frame_header(wire, rsv1_ok, max, h, err) ? 0 : err.code;
  };
  EXPECT_EQ(code("\x81\x05"sv), 0);
  EXPECT_EQ(code("\xc1\x05"sv), 1002) << "rsv1 without permessage-deflate";
  EXPECT_EQ(code("\xc1\x05"sv, true), 0) << "rsv1 with it";
  EXPECT_EQ(code("\xa1\x05"sv), 1002) << "rsv2";
  EXPECT_EQ(code("\x91\x05"sv), 1002) << "rsv3";
  for (char op : {'\x03', '\x07', '\x0b', '\x0f'})
    EXPECT_EQ(code(std::string{static_cast<char>(0x80 | op), '\0'}), 1002) << int(op);
  EXPECT_EQ(code("\x09\x00"sv), 1002) << "fragmented ping";
  EXPECT_EQ(code("\x89\x7e\x00\x7e"sv), 1002) << "ping of 126";
  EXPECT_EQ(code("\xc9\x00"sv, true), 1002) << "compressed ping";
  EXPECT_EQ(code("\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00"sv), 1002)
      << "64-bit length with the top bit";
  EXPECT_EQ(code("\x82\x7e\x10\x00"sv, false, 4095), 1009) << "4096 > the limit";
  EXPECT_EQ(code("\x89\x7d"sv, false, 10), 0) << "a control frame is not held to the data limit";
}

TEST(WsFrame, MaskingIsItsOwnInverseAtAnyOffset) {
  std::string data(1000, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 37);
  const std::uint8_t key[4] = {0xde, 0xad, 0xbe, 0xef};
  std::string whole = data;
  d::apply_mask(whole.data(), whole.size(), key, 0);
  EXPECT_EQ(static_cast<std::uint8_t>(whole[5]), static_cast<std::uint8_t>(data[5]) ^ 0xad);
  std::string pieces = data;  // masked in odd-sized pieces, each at its offset
  for (std::size_t at = 0; at < pieces.size(); at += 13)
    d::apply_mask(pieces.data() + at, std::min<std::size_t>(13, pieces.size() - at), key, at);
  EXPECT_EQ(pieces, whole);
  d::apply_mask(whole.data(), whole.size(), key, 0);
  EXPECT_EQ(whole, data);
}

TEST(WsFrame, CloseCodes) {
  for (unsigned c : {1000u, 1001u, 1002u, 1003u, 1007u, 1008u, 1009u, 1010u, 1011u, 1012u, 1013u,
                     1014u, 3000u, 4999u})
    EXPECT_TRUE(d::valid_close_code(c)) << c;
  for (unsigned c : {0u, 999u, 1004u, 1005u, 1006u, 1015u, 1016u, 2999u, 5000u, 65535u})
    EXPECT_FALSE(d::valid_close_code(c)) << c;
}

TEST(WsDeflate, NegotiationFollowsRfc7692) {
  std::string answer;
  auto p = d::accept_deflate_offer("permessage-deflate; client_max_window_bits", answer);
  ASSERT_TRUE(p);
  EXPECT_EQ(answer, "permessage-deflate");
  p = d::accept_deflate_offer(
      "permessage-deflate; server_no_context_takeover; server_max_window_bits=10", answer);
  ASSERT_TRUE(p);
  EXPECT_TRUE(p->our_no_context_takeover);
  EXPECT_EQ(p->our_max_window_bits, 10);
  EXPECT_EQ(answer, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10");
  // Malformed offers are declined; a later acceptable one is taken.
  EXPECT_FALSE(d::accept_deflate_offer("permessage-deflate; server_max_window_bits=16", answer));
  EXPECT_FALSE(d::accept_deflate_offer("permessage-deflate; x=1", answer));
  EXPECT_FALSE(
      d::accept_deflate_offer("permessage-deflate; client_no_context_takeover; "
                              "client_no_context_takeover",
                              answer));
  EXPECT_FALSE(d::accept_deflate_offer("x-webkit-deflate-frame", answer));
  p = d::accept_deflate_offer(
      "permessage-deflate; server_max_window_bits=7, permessage-deflate; "
      "client_max_window_bits=9",
      answer);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->their_max_window_bits, 9);
  EXPECT_EQ(answer, "permessage-deflate; client_max_window_bits=9");

  auto a = d::parse_deflate_answer("permessage-deflate; client_max_window_bits=12");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->our_max_window_bits, 12);
  EXPECT_FALSE(d::parse_deflate_answer(""));
  EXPECT_THROW(d::parse_deflate_answer("permessage-deflate; client_max_window_bits"),
               std::invalid_argument);
  EXPECT_THROW(d::parse_deflate_answer("something-else"), std::invalid_argument);
}

TEST(WsDeflate, RoundTripsWithAndWithoutContextTakeover) {
  for (bool takeover : {true, false}) {
    d::DeflateParams p;
    p.our_no_context_takeover = !takeover;
    p.their_no_context_takeover = !takeover;
    d::MessageDeflate a(p), b(p);
    std::string msg(3000, '\0');  // little to compress inside, but all of it said before
    std::uint32_t x = 12345;
    for (char& ch : msg) ch = static_cast<char>((x = x * 1103515245 + 12345) >> 24);
    std::string first = a.compress(msg);
    std::string second = a.compress(msg);
    if (takeover) {
      EXPECT_LT(second.size(), first.size()) << "the window remembers";
    }
    std::string out;
    ASSERT_TRUE(b.decompress(first, true, out, 1 << 20));
    EXPECT_EQ(out, msg);
    out.clear();
    // In pieces, as frames of one message arrive.
    ASSERT_TRUE(b.decompress(std::string_view(second).substr(0, 3), false, out, 1 << 20));
    ASSERT_TRUE(b.decompress(std::string_view(second).substr(3), true, out, 1 << 20));
    EXPECT_EQ(out, msg);
  }
}

TEST(WsDeflate, ABombStopsAtTheLimit) {
  d::MessageDeflate a({}), b({});
  std::string bomb = a.compress(std::string(10 << 20, '\0'));
  EXPECT_LT(bomb.size(), 20000u);
  std::string out;
  EXPECT_FALSE(b.decompress(bomb, true, out, 1 << 20));
  EXPECT_LE(out.size(), (1u << 20) + 1) << "never inflated far past the limit";
  d::MessageDeflate c({});
  out.clear();
  EXPECT_THROW(c.decompress("\xff\xff\xff garbage", true, out, 1 << 20), std::runtime_error);
}

// RFC 7692 §7.2.3 lets a sender end a message with a final (BFINAL) block; what follows is a
// new deflate stream. Found by the frame fuzzer as a hang: inflate kept answering
// Z_STREAM_END without progress.
TEST(WsDeflate, AFinalBlockEndsTheStreamAndANewOneFollows) {
  std::string msg = "a message in a final block";
  z_stream z{};
  ASSERT_EQ(deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(256, '\0');
  z.next_in = reinterpret_cast<Bytef*>(msg.data());
  z.avail_in = static_cast<uInt>(msg.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  ASSERT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  deflateEnd(&z);
  d::MessageDeflate inflater({});
  for (int i = 0; i < 2; ++i) {  // twice: the second starts after the first stream's end
    std::string got;
    ASSERT_TRUE(inflater.decompress(out, true, got, 1 << 20));
    EXPECT_EQ(got, msg);
  }
}
