#include "eddy/retry.hpp"

#include <cmath>

namespace eddy::detail {

Duration backoff_delay(const RetryPolicy& p, int attempt) {
  double base = std::chrono::duration<double>(p.base_delay).count();
  double cap = std::chrono::duration<double>(p.max_delay).count();
  double d = std::min(cap, base * std::pow(p.multiplier, attempt));
  if (p.jitter > 0) {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    double j = std::clamp(p.jitter, 0.0, 1.0);
    d *= std::uniform_real_distribution<double>(1.0 - j, 1.0)(rng);
  }
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(d));
}

}  // namespace eddy::detail
