// Article 3's @retry(max_attempts=3, base_delay=...) and article 1's fetch_with_retries:
// a flaky call succeeds on the third attempt after backoffs of 50 and 100 ms.
#include <cstdio>
#include <stdexcept>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

struct FlakyService {
  int calls = 0;
  eddy::Task<std::string> fetch() {
    co_await eddy::sleep(5ms);
    if (++calls < 3)
      throw eddy::TimeoutError("upstream timed out (attempt " + std::to_string(calls) + ")");
    co_return "{\"ok\": true}";
  }
};

eddy::Task<int> amain() {
  FlakyService svc;
  eddy::RetryPolicy policy{
      .max_attempts = 3,
      .base_delay = 50ms,
      .multiplier = 2.0,
      .retry_if = eddy::retry_on<eddy::TimeoutError>(),
      .on_retry = [](int attempt, const std::exception& e, eddy::Duration d) {
        std::printf("Retry %d after %lld ms: %s\n", attempt,
                    static_cast<long long>(
                        std::chrono::duration_cast<std::chrono::milliseconds>(d).count()),
                    e.what());
      }};
  std::string body = co_await eddy::retry(policy, [&] { return svc.fetch(); });
  std::printf("got %s after %d calls\n", body.c_str(), svc.calls);
  co_return svc.calls == 3 ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
