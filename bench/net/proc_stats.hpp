// Clock and CPU-time helpers shared by the network load clients (echo_load, bulk_send,
// tls_bulk_send, tls_handshakes).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace bench {

inline std::int64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

// utime + stime of another process in ns; its clock-tick resolution (10 ms) is why measured
// intervals should be seconds long. -1 if the process is gone.
inline std::int64_t proc_cpu_ns(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto paren = s.rfind(')');  // comm may contain spaces; fields resume after its ')'
  if (paren == std::string::npos) return -1;
  std::istringstream in(s.substr(paren + 2));
  std::string field;
  long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && in >> field; ++i) {  // field 3 is state, 14 utime, 15 stime
    if (i == 14) utime = std::stoll(field);
    if (i == 15) stime = std::stoll(field);
  }
  return (utime + stime) * (1'000'000'000LL / sysconf(_SC_CLK_TCK));
}

}  // namespace bench
