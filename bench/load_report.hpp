// What the load clients under bench/ share (eddy's and the Beast peer's alike, so it needs
// nothing of eddy): the process's own CPU time, and latency percentiles.
#pragma once

#include <sys/resource.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace bench {

// utime + stime of this process so far, in seconds.
inline double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// The p-quantile (0..1) of `v` (sorted in place if it is not yet); 0 when empty.
inline double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0.0;
  if (!std::is_sorted(v.begin(), v.end())) std::sort(v.begin(), v.end());
  return v[std::size_t(p * double(v.size() - 1))];
}

}  // namespace bench
