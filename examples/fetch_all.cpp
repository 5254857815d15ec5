// Article 1: "asyncio 3.12: safe, scoped, exception-aware" -- fetch_all_users with a TaskGroup.
// Every task finishes (or is cancelled) before the group returns; results are read after.
#include <cstdio>
#include <string>
#include <vector>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

struct User {
  int id;
  std::string name;
};

eddy::Task<User> fetch_user(int user_id) {
  co_await eddy::sleep(100ms);  // simulate an HTTP call
  co_return User{user_id, "User-" + std::to_string(user_id)};
}

eddy::Task<std::vector<User>> fetch_all_users(std::vector<int> user_ids) {
  eddy::TaskGroup tg;
  std::vector<eddy::TaskHandle<User>> tasks;
  for (int uid : user_ids) tasks.push_back(tg.spawn(fetch_user(uid)));
  co_await tg.join();  // all done, all cleaned up
  std::vector<User> users;
  for (auto& t : tasks) users.push_back(t.result());
  co_return users;
}

int main() {
  auto t0 = std::chrono::steady_clock::now();
  auto users = eddy::run(fetch_all_users({1, 2, 3, 4, 5}));
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  for (auto& u : users) std::printf("%d: %s\n", u.id, u.name.c_str());
  std::printf("fetched %zu users in %lld ms (concurrently: one 100 ms round trip)\n", users.size(),
              static_cast<long long>(ms.count()));
  return users.size() == 5 ? 0 : 1;
}
