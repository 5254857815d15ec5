// The articles' rate-limit experiment, reproduced on loopback: an API that serves 5 requests
// at a time (100 ms each) and answers 429 to anything beyond, called 100 times
//   1. unbounded: all 100 at once, each retried with exponential backoff on 429;
//   2. bounded by a Semaphore(5) around each call (the articles' fix);
//   3. bounded by the session's built-in per-host RateLimit{.concurrent = 5}.
// The article measured 8.4 s for (1) and 2.1 s for (2); with 100 ms per call and 5 at a time
// the floor is 2.0 s.
//
//   rate_limit_experiment        prints one line per variant: time, 429s seen, calls made
#include <chrono>
#include <cstdio>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <string>

namespace http = eddy::http;
using eddy::Task;
using namespace std::chrono_literals;

struct Api {
  int in_flight = 0;
  int served = 0, refused = 0;
};

http::App api_app(Api& api) {
  http::App app;
  app.get("/api/{n}", [&api](http::Request&) -> Task<http::Response> {
    if (api.in_flight >= 5) {
      ++api.refused;
      co_return http::Response::text("slow down", 429);
    }
    ++api.in_flight;
    struct Leave {
      Api& a;
      ~Leave() { --a.in_flight; }
    } leave{api};
    co_await eddy::sleep(100ms);
    ++api.served;
    co_return http::Response::text("ok");
  });
  return app;
}

// One call: true when it got a 200 (the body read, so the connection is reused).
Task<bool> call_ok(http::Session& s, std::string url) {
  auto r = co_await s.get(std::move(url));
  co_await r.read();
  co_return r.status() == 200;
}

struct Outcome {
  double seconds = 0;
  int ok = 0;
};

// 100 calls at once through `call`, each giving true when it got a 200.
template <class Call>
Task<Outcome> hundred(Call call) {
  auto t0 = std::chrono::steady_clock::now();
  std::vector<Task<bool>> calls;
  for (int i = 0; i < 100; ++i) calls.push_back(call(i));
  auto results = co_await eddy::gather(std::move(calls));
  Outcome o;
  o.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (bool ok : results) o.ok += ok;
  co_return o;
}

Task<int> experiment() {
  Api api;
  http::App app = api_app(api);
  http::ServerOptions so;
  so.port = 0;
  http::Server server = co_await http::serve(app, so);
  std::string base = "http://127.0.0.1:" + std::to_string(server.port()) + "/api/";
  auto report = [&](const char* key, const char* what, Outcome o) {
    std::printf("%-44s %6.2f s  %3d/100 ok  %4d answered 429\n", what, o.seconds, o.ok,
                api.refused);
    std::printf("RESULT %s %.3f s\n", key, o.seconds);
    api = Api{};
  };

  {  // 1. unbounded, with retries (exponential backoff with jitter, as a careful client does)
    http::SessionOptions o;
    o.retry.attempts = 10;
    o.retry.base_delay = 100ms;
    o.retry.multiplier = 2;
    o.retry.jitter = 0.5;
    http::Session s(o);
    auto call = [&](int i) { return call_ok(s, base + std::to_string(i)); };
    report("unbounded", "unbounded gather, retries with backoff", co_await hundred(call));
    co_await s.close();
  }
  {  // 2. the articles' fix: a Semaphore(5) around each call
    http::Session s;
    eddy::Semaphore five(5);
    auto call = [&](int i) -> Task<bool> {
      auto permit = co_await five.acquire();
      co_return co_await call_ok(s, base + std::to_string(i));
    };
    report("semaphore", "Semaphore(5) around each call", co_await hundred(call));
    co_await s.close();
  }
  {  // 3. the same bound, as a session option
    http::SessionOptions o;
    o.rate_limit.concurrent = 5;
    http::Session s(o);
    auto call = [&](int i) { return call_ok(s, base + std::to_string(i)); };
    report("ratelimit", "RateLimit{.concurrent = 5} on the session", co_await hundred(call));
    co_await s.close();
  }
  co_await server.shutdown();
  co_return 0;
}

int main() {
  return eddy::run(experiment());
}
