// Article 3's producer-consumer pipeline: a bounded queue of 10, one producer of 20 items,
// two consumers. The producer waits whenever the consumers fall behind (backpressure);
// shutdown() ends the consumers once the queue has drained (instead of a None sentinel).
#include <cstdio>
#include <string>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

eddy::Task<> producer(eddy::Queue<std::string>& queue, int n) {
  for (int i = 0; i < n; ++i) {
    std::string item = "item-" + std::to_string(i);
    co_await queue.put(item);
    std::printf("Produced: %s\n", item.c_str());
  }
  co_await queue.join();  // every item processed
  queue.shutdown();
}

eddy::Task<> consumer(eddy::Queue<std::string>& queue, std::string name, int& consumed) {
  try {
    for (;;) {
      std::string item = co_await queue.get();
      co_await eddy::sleep(10ms);  // simulate processing
      std::printf("%s consumed: %s\n", name.c_str(), item.c_str());
      ++consumed;
      queue.task_done();
    }
  } catch (const eddy::QueueShutDown&) {
  }
}

eddy::Task<int> amain() {
  eddy::Queue<std::string> queue(10);
  int consumed = 0;
  co_await eddy::gather(producer(queue, 20), consumer(queue, "worker-1", consumed),
                        consumer(queue, "worker-2", consumed));
  std::printf("%d items consumed\n", consumed);
  co_return consumed == 20 ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
