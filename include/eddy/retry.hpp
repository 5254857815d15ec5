// retry: run an operation again on failure, with exponential backoff and jitter (the
// articles' @retry decorator and fetch_with_retries loop).
//
//   auto data = co_await eddy::retry({.max_attempts = 3, .base_delay = 100ms},
//                                    [&] { return fetch_json(session, url); });
//
// Attempt n (from 0) that fails waits base_delay * multiplier^n (capped at max_delay), scaled
// by a random factor in [1 - jitter, 1], then tries again. Only std::exception failures for
// which `retry_if` says yes are retried (default: all); the last failure is rethrown as is.
// Cancellation is never retried: Cancelled is not a std::exception, and the backoff sleep is
// itself a cancellation point.
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <random>
#include <type_traits>

#include "eddy/runtime.hpp"
#include "eddy/task.hpp"
#include "eddy/time.hpp"

namespace eddy {

struct RetryPolicy {
  int max_attempts = 3;
  Duration base_delay = std::chrono::milliseconds(100);
  double multiplier = 2.0;
  Duration max_delay = std::chrono::seconds(30);
  double jitter = 0.0;  // 0: exact delays; 1: "full jitter" (anywhere from 0 to the delay)
  std::function<bool(const std::exception&)> retry_if{};
  // Called before each backoff sleep (attempt counts from 1): a place to log.
  std::function<void(int attempt, const std::exception& error, Duration delay)> on_retry{};
};

// retry_if helper: retry only on these exception types.
template <class... E>
std::function<bool(const std::exception&)> retry_on() {
  return [](const std::exception& e) { return ((dynamic_cast<const E*>(&e) != nullptr) || ...); };
}

namespace detail {
Duration backoff_delay(const RetryPolicy& p, int attempt);
}

template <class F>
auto retry(RetryPolicy policy, F fn) -> Task<typename task_value<std::invoke_result_t<F&>>::type> {
  using R = typename task_value<std::invoke_result_t<F&>>::type;
  for (int attempt = 0;; ++attempt) {
    Duration delay{};
    try {
      if constexpr (std::is_void_v<R>) {
        co_await fn();
        co_return;
      } else {
        co_return co_await fn();
      }
    } catch (const std::exception& e) {
      if (attempt + 1 >= policy.max_attempts) throw;
      if (policy.retry_if && !policy.retry_if(e)) throw;
      delay = detail::backoff_delay(policy, attempt);
      if (policy.on_retry) policy.on_retry(attempt + 1, e, delay);
    }
    co_await sleep(delay);
  }
}

}  // namespace eddy
