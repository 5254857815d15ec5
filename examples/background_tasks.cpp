// Article 2's "Background tasks done right": fire-and-forget work gets a done callback that
// logs failures. (And even without one, eddy reports a failure nobody looked at.)
#include <cstdio>
#include <stdexcept>
#include <string>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

eddy::Task<> process_event(std::string event) {
  co_await eddy::sleep(10ms);
  if (event == "bad") throw std::runtime_error("could not process event '" + event + "'");
  std::printf("processed %s\n", event.c_str());
}

int failures_logged = 0;

void track_event(std::string event) {
  auto task = eddy::spawn(process_event(event), "process_event:" + event);
  task.add_done_callback([task] {
    if (!task.cancelled() && task.exception()) {
      ++failures_logged;
      std::printf("Background task %s failed: %s\n", task.name().c_str(),
                  eddy::describe(task.exception()).c_str());
    }
  });
}

eddy::Task<int> amain() {
  for (auto e : {"signup", "bad", "login"}) track_event(e);
  co_await eddy::sleep(50ms);  // a web server would keep serving requests meanwhile
  co_return failures_logged == 1 ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
