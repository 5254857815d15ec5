// A tiny authoritative DNS responder on loopback UDP, run as an eddy task in the test's own
// loop, so resolver tests need no outside network. It answers A and AAAA questions from a
// table, NXDOMAIN for names it does not know, and counts the questions it was asked.
#pragma once

#include <arpa/inet.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"

namespace eddy_test {

struct DnsRecords {
  std::vector<std::string> a, aaaa;
  std::uint32_t ttl = 60;
};

class DnsServer {
 public:
  DnsServer()
      : sock_(eddy::net::DatagramSocket::bind(*eddy::net::SocketAddress::parse("127.0.0.1", 0))) {}

  std::map<std::string, DnsRecords> zone;
  std::map<std::string, int> questions;  // by name, every type
  bool silent = false;                   // drop every question (a dead server)

  std::string address() const { return "127.0.0.1:" + std::to_string(sock_.port()); }
  int asked(const std::string& name) const {
    auto it = questions.find(name);
    return it == questions.end() ? 0 : it->second;
  }

  // Answers until cancelled.
  eddy::Task<> serve() {
    char buf[1500];
    for (;;) {
      auto got = co_await sock_.receive_from(buf);
      std::string reply;
      if (answer(std::string_view(buf, got.size), reply) && !silent)
        co_await sock_.send_to(reply, got.from);
    }
  }

 private:
  static void put16(std::string& s, unsigned v) {
    s += static_cast<char>(v >> 8);
    s += static_cast<char>(v & 0xff);
  }

  bool answer(std::string_view q, std::string& out) {
    if (q.size() < 12) return false;
    std::size_t i = 12;
    std::string name;
    while (i < q.size() && q[i] != 0) {
      auto len = static_cast<unsigned char>(q[i]);
      if (len > 63 || i + 1 + len > q.size()) return false;
      if (!name.empty()) name += '.';
      name.append(q.substr(i + 1, len));
      i += 1 + len;
    }
    if (i + 5 > q.size()) return false;
    unsigned qtype =
        (static_cast<unsigned char>(q[i + 1]) << 8) | static_cast<unsigned char>(q[i + 2]);
    std::size_t question_end = i + 5;
    ++questions[name];
    auto it = zone.find(name);
    std::vector<std::string> rdata;
    std::uint32_t ttl = 0;
    if (it != zone.end()) {
      ttl = it->second.ttl;
      for (auto& ip : qtype == 1 ? it->second.a : qtype == 28 ? it->second.aaaa : rdata) {
        char bin[16];
        int af = qtype == 1 ? AF_INET : AF_INET6;
        if (inet_pton(af, ip.c_str(), bin) == 1) rdata.emplace_back(bin, af == AF_INET ? 4 : 16);
      }
    }
    out.assign(q.substr(0, 2));                      // id
    put16(out, it == zone.end() ? 0x8183 : 0x8180);  // response, RD+RA; NXDOMAIN or NOERROR
    put16(out, 1);
    put16(out, static_cast<unsigned>(rdata.size()));
    put16(out, 0);
    put16(out, 0);
    out.append(q.substr(12, question_end - 12));
    for (auto& r : rdata) {
      put16(out, 0xc00c);  // the question's name
      put16(out, qtype);
      put16(out, 1);
      put16(out, ttl >> 16);
      put16(out, ttl & 0xffff);
      put16(out, static_cast<unsigned>(r.size()));
      out += r;
    }
    return true;
  }

  eddy::net::DatagramSocket sock_;
};

}  // namespace eddy_test
