// The example in README.md ("A taste"), kept compiling and running by the test suite.
#include <eddy/eddy.hpp>
using namespace std::chrono_literals;

eddy::Task<std::string> fetch_user(int id) {
  co_await eddy::sleep(100ms);  // stands in for an HTTP call
  co_return "User-" + std::to_string(id);
}

eddy::Task<> amain() {
  eddy::Semaphore api_slots(10);  // at most 10 calls in flight
  eddy::TaskGroup tg;
  std::vector<eddy::TaskHandle<std::string>> users;
  for (int id = 0; id < 100; ++id)
    users.push_back(tg.spawn([&, id]() -> eddy::Task<std::string> {
      auto permit = co_await api_slots.acquire();  // released when `permit` goes away
      co_return co_await eddy::timeout(2s, fetch_user(id));
    }));
  co_await tg.join();  // first failure cancels the rest
  for (auto& u : users) std::puts(u.result().c_str());
}

int main() {
  eddy::run(amain());
}
