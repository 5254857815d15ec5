// Helpers for tests that talk to real peers over loopback: a free port for a peer to listen
// on, connecting once it is up, and writing a peer's script into a temporary directory.
#pragma once

#include <cstdio>
#include <string>

#include "eddy/eddy.hpp"
#include "eddy/net.hpp"
#include "support/helpers.hpp"

namespace eddy_test {

// A port nobody listens on right now (the peer binds it next; a race, but on loopback in a
// test run it does not lose).
inline std::uint16_t free_port() {
  auto l = eddy::net::Listener::bind(*eddy::net::SocketAddress::parse("127.0.0.1", 0));
  return l.port();
}

// Connects once a peer started in the background has bound `port` (up to ~5 s).
inline eddy::Task<eddy::net::Stream> connect_when_up(std::uint16_t port) {
  using namespace std::chrono_literals;
  for (int i = 0;; ++i) {
    try {
      co_return co_await eddy::net::open_connection("127.0.0.1", port);
    } catch (const eddy::ConnectionRefusedError&) {
      if (i == 200) throw;
    }
    co_await eddy::sleep(25ms);
  }
}

inline std::string write_script(const TempDir& dir, const char* name, const char* text) {
  std::string path = dir / name;
  std::FILE* f = std::fopen(path.c_str(), "w");
  std::fputs(text, f);
  std::fclose(f);
  return path;
}

}  // namespace eddy_test
