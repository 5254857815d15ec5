// Article 3's "async generator for streaming data": pages are fetched lazily, one at a time,
// as the consumer asks for items; the stream ends at the first empty page.
#include <cstdio>
#include <vector>

#include "eddy/eddy.hpp"

using namespace std::chrono_literals;

// Stands in for `session.get(f"{base_url}?page={page}")`: 3 pages of 4 items.
eddy::Task<std::vector<int>> fetch_page(int page) {
  co_await eddy::sleep(20ms);
  std::vector<int> results;
  if (page <= 3)
    for (int i = 0; i < 4; ++i) results.push_back(page * 100 + i);
  co_return results;
}

eddy::AsyncGenerator<int> stream_paginated_api() {
  for (int page = 1;; ++page) {
    auto data = co_await fetch_page(page);
    if (data.empty()) co_return;
    for (int item : data) co_yield item;
  }
}

eddy::Task<int> amain() {
  int count = 0;
  auto items = stream_paginated_api();
  while (auto item = co_await items.next()) {
    std::printf("processing item %d\n", *item);
    ++count;
  }
  std::printf("%d items streamed\n", count);
  co_return count == 12 ? 0 : 1;
}

int main() {
  return eddy::run(amain());
}
