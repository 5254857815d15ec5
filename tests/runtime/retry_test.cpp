// eddy::retry. User-visible rules pinned here (virtual clock, so delays are exact):
//  - a failing attempt n (from 0) waits base_delay * multiplier^n, capped at max_delay, then
//    tries again; success returns the value, after max_attempts the last failure is
//    rethrown as is;
//  - retry_if / retry_on<E...> choose what is retried: anything else propagates at once, as
//    does a failure that is not a std::exception;
//  - on_retry is called before each backoff sleep with the attempt number (from 1), the
//    error and the delay;
//  - jitter scales each delay by a random factor in [1 - jitter, 1];
//  - cancellation is never retried: cancelling during the backoff sleep or during an attempt
//    propagates at once and stops retrying.
#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "eddy/cancel.hpp"
#include "eddy/retry.hpp"
#include "eddy/runtime.hpp"
#include "eddy/testing/gtest.hpp"
#include "eddy/time.hpp"

using namespace std::chrono_literals;

namespace {

struct Transient : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct Fatal : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// An operation that fails `failures` times (throwing `E("fail #n")`), then returns 42.
template <class E = Transient>
struct Flaky {
  explicit Flaky(int f) : failures(f) {}
  int failures;
  int calls = 0;
  std::vector<eddy::Duration> called_at;
  eddy::TimePoint t0 = eddy::now();
  eddy::Task<int> operator()() {
    ++calls;
    called_at.push_back(eddy::now() - t0);
    co_await eddy::yield_now();
    if (calls <= failures) throw E("fail #" + std::to_string(calls));
    co_return 42;
  }
};

}  // namespace

EDDY_TEST(Retry, SucceedsAfterFailuresWithExactBackoff) {
  Flaky<> op{2};
  auto t0 = eddy::now();
  int v = co_await eddy::retry({.max_attempts = 3, .base_delay = 100ms, .multiplier = 2},
                               [&] { return op(); });
  EXPECT_EQ(v, 42);
  EXPECT_EQ(op.calls, 3);
  EXPECT_EQ(op.called_at, (std::vector<eddy::Duration>{0ms, 100ms, 300ms}));  // waits 100, 200
  EXPECT_EQ(eddy::now() - t0, 300ms);
}

EDDY_TEST(Retry, FirstSuccessDoesNotWait) {
  Flaky<> op{0};
  auto t0 = eddy::now();
  EXPECT_EQ(co_await eddy::retry({}, [&] { return op(); }), 42);
  EXPECT_EQ(op.calls, 1);
  EXPECT_EQ(eddy::now(), t0);
}

EDDY_TEST(Retry, RethrowsTheLastErrorAfterMaxAttempts) {
  Flaky<> op{100};
  auto t0 = eddy::now();
  try {
    co_await eddy::retry({.max_attempts = 3, .base_delay = 100ms, .multiplier = 2},
                         [&] { return op(); });
    ADD_FAILURE() << "no exception";
  } catch (const Transient& e) {  // the original type, not wrapped
    EXPECT_STREQ(e.what(), "fail #3");
  }
  EXPECT_EQ(op.calls, 3);
  EXPECT_EQ(eddy::now() - t0, 300ms);  // no sleep after the last attempt
}

EDDY_TEST(Retry, SingleAttemptMeansNoRetry) {
  Flaky<> op{1};
  EXPECT_THROW(co_await eddy::retry({.max_attempts = 1}, [&] { return op(); }), Transient);
  EXPECT_EQ(op.calls, 1);
}

EDDY_TEST(Retry, VoidOperation) {
  int calls = 0;
  co_await eddy::retry({.max_attempts = 5, .base_delay = 10ms}, [&]() -> eddy::Task<> {
    if (++calls < 3) throw Transient("again");
    co_return;
  });
  EXPECT_EQ(calls, 3);
}

EDDY_TEST(Retry, RetryOnSkipsOtherErrorTypes) {
  Flaky<Fatal> op{5};
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::retry({.max_attempts = 5, .retry_if = eddy::retry_on<Transient>()},
                                    [&] { return op(); }),
               Fatal);
  EXPECT_EQ(op.calls, 1);
  EXPECT_EQ(eddy::now(), t0);

  Flaky<Transient> ok{2};
  EXPECT_EQ(
      co_await eddy::retry(
          {.max_attempts = 5, .base_delay = 1ms, .retry_if = eddy::retry_on<Fatal, Transient>()},
          [&] { return ok(); }),
      42);
  EXPECT_EQ(ok.calls, 3);
}

EDDY_TEST(Retry, RetryOnMatchesDerivedTypes) {
  Flaky<Transient> op{1};  // Transient derives from std::runtime_error
  EXPECT_EQ(
      co_await eddy::retry({.base_delay = 1ms, .retry_if = eddy::retry_on<std::runtime_error>()},
                           [&] { return op(); }),
      42);
  EXPECT_EQ(op.calls, 2);
}

EDDY_TEST(Retry, RetryIfPredicateSeesTheError) {
  int calls = 0;
  std::vector<std::string> seen;
  auto policy = eddy::RetryPolicy{
      .max_attempts = 10, .base_delay = 1ms, .retry_if = [&](const std::exception& e) {
        seen.push_back(e.what());
        return std::string(e.what()) != "stop";
      }};
  EXPECT_THROW(co_await eddy::retry(policy,
                                    [&]() -> eddy::Task<int> {
                                      ++calls;
                                      throw Transient(calls < 3 ? "retry" : "stop");
                                      co_return 0;
                                    }),
               Transient);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(seen, (std::vector<std::string>{"retry", "retry", "stop"}));
}

EDDY_TEST(Retry, NonStdExceptionIsNotRetried) {
  int calls = 0;
  EXPECT_THROW(co_await eddy::retry({.max_attempts = 5, .base_delay = 1ms},
                                    [&]() -> eddy::Task<int> {
                                      ++calls;
                                      throw 7;
                                      co_return 0;
                                    }),
               int);
  EXPECT_EQ(calls, 1);
}

EDDY_TEST(Retry, OnRetryGetsAttemptNumbersErrorsAndDelays) {
  struct Call {
    int attempt;
    std::string error;
    eddy::Duration delay;
    bool operator==(const Call&) const = default;
  };
  std::vector<Call> calls;
  Flaky<> op{3};
  co_await eddy::retry({.max_attempts = 4,
                        .base_delay = 50ms,
                        .multiplier = 3,
                        .on_retry =
                            [&](int attempt, const std::exception& e, eddy::Duration d) {
                              calls.push_back({attempt, e.what(), d});
                            }},
                       [&] { return op(); });
  EDDY_CO_ASSERT(calls.size() == 3u);
  EXPECT_EQ(calls[0], (Call{1, "fail #1", 50ms}));
  EXPECT_EQ(calls[1], (Call{2, "fail #2", 150ms}));
  EXPECT_EQ(calls[2], (Call{3, "fail #3", 450ms}));
  EXPECT_EQ(op.called_at, (std::vector<eddy::Duration>{0ms, 50ms, 200ms, 650ms}));
}

EDDY_TEST(Retry, MaxDelayCapsTheBackoff) {
  std::vector<eddy::Duration> delays;
  Flaky<> op{4};
  auto t0 = eddy::now();
  co_await eddy::retry(
      {.max_attempts = 5,
       .base_delay = 100ms,
       .multiplier = 10,
       .max_delay = 500ms,
       .on_retry = [&](int, const std::exception&, eddy::Duration d) { delays.push_back(d); }},
      [&] { return op(); });
  EXPECT_EQ(delays, (std::vector<eddy::Duration>{100ms, 500ms, 500ms, 500ms}));
  EXPECT_EQ(eddy::now() - t0, 1600ms);
}

EDDY_TEST(Retry, JitterKeepsDelaysWithinRange) {
  constexpr double kJitter = 0.5;
  std::vector<eddy::Duration> delays;
  Flaky<> op{60};
  co_await eddy::retry(
      {.max_attempts = 61,
       .base_delay = 100ms,
       .multiplier = 2,
       .max_delay = 1s,
       .jitter = kJitter,
       .on_retry = [&](int, const std::exception&, eddy::Duration d) { delays.push_back(d); }},
      [&] { return op(); });
  EDDY_CO_ASSERT(delays.size() == 60u);
  std::set<eddy::Duration::rep> distinct;
  for (std::size_t n = 0; n < delays.size(); ++n) {
    eddy::Duration full = std::min<eddy::Duration>(100ms * (1 << std::min<std::size_t>(n, 20)), 1s);
    double lo = (1 - kJitter) * static_cast<double>(full.count());
    EXPECT_GE(static_cast<double>(delays[n].count()), lo - 1) << "attempt " << n;  // 1 ns rounding
    EXPECT_LE(delays[n], full) << "attempt " << n;
    distinct.insert(delays[n].count());
  }
  EXPECT_GT(distinct.size(), 10u);  // the delays really are randomised
}

EDDY_TEST(Retry, FullJitterStaysBetweenZeroAndTheDelay) {
  std::vector<eddy::Duration> delays;
  Flaky<> op{30};
  co_await eddy::retry(
      {.max_attempts = 31,
       .base_delay = 200ms,
       .multiplier = 1,
       .jitter = 1.0,
       .on_retry = [&](int, const std::exception&, eddy::Duration d) { delays.push_back(d); }},
      [&] { return op(); });
  for (auto d : delays) {
    EXPECT_GE(d, 0ms);
    EXPECT_LE(d, 200ms);
  }
}

EDDY_TEST(RetryCancel, TimeoutDuringBackoffStopsRetrying) {
  Flaky<> op{100};
  auto t0 = eddy::now();
  EXPECT_THROW(co_await eddy::timeout(500ms, eddy::retry({.max_attempts = 10, .base_delay = 1s},
                                                         [&] { return op(); })),
               eddy::TimeoutError);
  EXPECT_EQ(eddy::now() - t0, 500ms);
  EXPECT_EQ(op.calls, 1);
  co_await eddy::sleep(10s);
  EXPECT_EQ(op.calls, 1);  // nothing keeps retrying in the background
}

EDDY_TEST(RetryCancel, TaskCancelDuringBackoffPropagatesCancelled) {
  Flaky<> op{100};
  bool saw_cancelled = false;
  auto t = eddy::spawn([&]() -> eddy::Task<int> {
    try {
      co_return co_await eddy::retry({.max_attempts = 10, .base_delay = 1s}, [&] { return op(); });
    } catch (const eddy::Cancelled&) {
      saw_cancelled = true;
      throw;
    }
  });
  co_await eddy::sleep(1500ms);  // first retry at 1 s, now sleeping 2 s before the third
  EXPECT_EQ(op.calls, 2);
  t.cancel();
  EXPECT_THROW(co_await t, eddy::TaskCancelled);
  EXPECT_TRUE(saw_cancelled);
  co_await eddy::sleep(1min);
  EXPECT_EQ(op.calls, 2);
}

EDDY_TEST(RetryCancel, CancellationInsideAnAttemptIsNotRetried) {
  int calls = 0;
  auto t0 = eddy::now();
  auto slow = [&]() -> eddy::Task<int> {
    ++calls;
    co_await eddy::sleep(1h);
    co_return 1;
  };
  EXPECT_FALSE((co_await eddy::move_on_after(
                    30ms, eddy::retry({.max_attempts = 5, .base_delay = 1ms}, slow)))
                   .has_value());
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(eddy::now() - t0, 30ms);
}

EDDY_TEST(RetryCancel, PerAttemptTimeoutIsRetriedAsAnError) {
  // A timeout *inside* the operation is an ordinary failure (TimeoutError), so it is retried.
  int calls = 0;
  auto t0 = eddy::now();
  int v = co_await eddy::retry({.max_attempts = 3, .base_delay = 10ms}, [&]() -> eddy::Task<int> {
    ++calls;
    co_return co_await eddy::timeout(20ms, [](int n) -> eddy::Task<int> {
      co_await eddy::sleep(n < 3 ? 1h : 5ms);
      co_return n;
    }(calls));
  });
  EXPECT_EQ(v, 3);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(eddy::now() - t0, 20ms + 10ms + 20ms + 20ms + 5ms);
}
