// The README example, as an installed-package user would build it.
#include <eddy/eddy.hpp>

#include <cstdio>

using namespace std::chrono_literals;

eddy::Task<int> fetch(int id) {
  co_await eddy::sleep(10ms);
  co_return id * 10;
}

eddy::Task<int> amain() {
  auto [a, b] = co_await eddy::gather(fetch(1), fetch(2));
  auto late = co_await eddy::move_on_after(5ms, fetch(3));
  co_return (a + b == 30 && !late) ? 0 : 1;
}

int main() {
  int rc = eddy::run(amain());
  std::puts(rc == 0 ? "consumer ok" : "consumer FAILED");
  return rc;
}
