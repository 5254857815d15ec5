// The articles' API gateway: /dashboard needs data from five microservices, each answering
// after `--delay` (200 ms by default). Called one after another that is 5 x 200 = 1,000 ms;
// called concurrently with a TaskGroup it is about 200 ms. Each call has a time budget, takes
// a place in a Semaphore (so a burst cannot overwhelm the services) and is retried with
// backoff when a service answers 503; a service that stays slow or failing is left out of
// the answer ("degraded") instead of failing the whole dashboard.
//
// The services are eddy servers on free ports in this process; the recommendations service
// is flaky on purpose: one request in 20 (--flaky-every N; 0: never) is answered 503,
// another one in 20 takes a second longer than the others (or always, with
// ?simulate=slow|fail passed through the gateway).
//
//   gateway --self-test          compare sequential and concurrent, show degrading, exit
//   gateway --port 8080 [--delay MS] [--flaky-every N]   serve until SIGINT/SIGTERM
//     GET /dashboard             the five calls at once
//     GET /dashboard/sequential  one after another
//     GET /stats                 dashboards served, and how many were degraded
#include <cstdio>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <string>
#include <vector>

namespace http = eddy::http;
using eddy::Task;
using nlohmann::json;
using namespace std::chrono_literals;

const char* const kServices[] = {"users", "orders", "inventory", "notifications",
                                 "recommendations"};

// One microservice: GET /data answers after the delay with a little JSON.
http::App make_service(std::string name, std::chrono::milliseconds delay, int flaky_every) {
  http::App app;
  auto calls = std::make_shared<int>(0);
  app.get("/data", [=](http::Request& req) -> Task<http::Response> {
    int n = ++*calls;
    bool flaky = name == "recommendations";
    // Which of every `flaky_every` calls fails (the 7th) and which is slow (the 13th).
    bool fail_now = flaky_every > 0 && n % flaky_every == 7 % flaky_every;
    bool slow_now = flaky_every > 0 && n % flaky_every == 13 % flaky_every;
    std::string_view simulate = req.query().get("simulate").value_or("");
    if (flaky && (simulate == "fail" || fail_now))
      co_return http::Response::json({{"error", "overloaded"}}, 503);
    auto d = delay;
    if (flaky && (simulate == "slow" || slow_now)) d += 1000ms;
    co_await eddy::sleep(d);
    co_return http::Response::json({{"service", name}, {"call", n}, {"items", {1, 2, 3}}});
  });
  return app;
}

// What the gateway handlers share: the services' addresses and one pooled client session.
struct Backends {
  std::vector<std::pair<std::string, std::string>> urls;  // name, http://127.0.0.1:port/data
  std::vector<http::App> apps;
  std::vector<http::Server> servers;
  std::unique_ptr<http::Session> session;
  eddy::Semaphore in_flight{512};              // backend calls at once, across all dashboards
  std::uint64_t dashboards = 0, degraded = 0;  // served, and of those with a part missing
  std::chrono::milliseconds budget{};
};

// 3 attempts on 503 (and the other retryable answers), 20 ms then 40 ms apart, with jitter.
http::RetryOptions retry_on_503() {
  http::RetryOptions r;
  r.attempts = 3;
  r.base_delay = 20ms;
  r.jitter = 0.5;
  return r;
}

// One service's part of the dashboard, or null when it failed or ran out of time.
Task<json> section(Backends& b, std::size_t i, std::string simulate) {
  auto call = [&]() -> Task<json> {
    auto permit = co_await b.in_flight.acquire();
    http::RequestOptions o;
    if (!simulate.empty() && b.urls[i].first == "recommendations")
      o.params.add("simulate", simulate);
    o.retry = retry_on_503();
    o.raise_for_status = true;
    http::ClientResponse r = co_await b.session->get(b.urls[i].second, std::move(o));
    co_return co_await r.json();
  };
  try {
    std::optional<json> v = co_await eddy::move_on_after(b.budget, call());
    co_return v ? std::move(*v) : json(nullptr);
  } catch (const eddy::Error&) {
    co_return json(nullptr);  // 503 after the retries, refused, ...: degrade
  }
}

Task<http::Response> dashboard(http::Request& req, bool concurrent) {
  Backends& b = req.app().get<Backends>();
  std::string simulate(req.query().get("simulate").value_or(""));
  auto t0 = std::chrono::steady_clock::now();
  std::vector<json> parts(b.urls.size());
  if (concurrent) {
    eddy::TaskGroup tg;
    auto fill = [&](std::size_t i) -> Task<> { parts[i] = co_await section(b, i, simulate); };
    for (std::size_t i = 0; i < b.urls.size(); ++i) tg.spawn(fill(i));
    co_await tg.join();
  } else {
    for (std::size_t i = 0; i < b.urls.size(); ++i) parts[i] = co_await section(b, i, simulate);
  }
  json out = json::object();
  json degraded = json::array();
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].is_null()) degraded.push_back(b.urls[i].first);
    out[b.urls[i].first] = std::move(parts[i]);
  }
  ++b.dashboards;
  if (!degraded.empty()) ++b.degraded;
  out["degraded"] = std::move(degraded);
  out["elapsed_ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  co_return http::Response::json(out);
}

// The gateway app; its startup hook starts the five services, its cleanup stops them.
http::App make_gateway(std::chrono::milliseconds delay, int flaky_every) {
  http::App app;
  app.on_startup([delay, flaky_every](http::App& a) -> Task<> {
    Backends& b = a.emplace<Backends>();
    b.budget = std::max<std::chrono::milliseconds>(500ms, delay * 5 / 2);
    http::SessionOptions so;
    so.connector.limit = 500;
    so.connector.limit_per_host = 100;
    so.timeout.total = b.budget;
    b.session = std::make_unique<http::Session>(so);
    b.apps.reserve(std::size(kServices));
    for (const char* name : kServices) {
      b.apps.push_back(make_service(name, delay, flaky_every));
      http::ServerOptions o;
      o.port = 0;
      b.servers.push_back(co_await http::serve(b.apps.back(), o));
      b.urls.emplace_back(name,
                          "http://127.0.0.1:" + std::to_string(b.servers.back().port()) + "/data");
    }
  });
  app.on_cleanup([](http::App& a) -> Task<> {
    Backends& b = a.get<Backends>();
    co_await b.session->close();
    for (auto& s : b.servers) co_await s.shutdown();
  });
  app.get("/dashboard", [](http::Request& req) { return dashboard(req, true); });
  app.get("/dashboard/sequential", [](http::Request& req) { return dashboard(req, false); });
  app.get("/stats", [](http::Request& req) -> Task<http::Response> {
    Backends& b = req.app().get<Backends>();
    co_return http::Response::json({{"dashboards", b.dashboards}, {"degraded", b.degraded}});
  });
  return app;
}

// --self-test: the comparison the articles describe, then a slow and a failing service.
Task<int> self_test(std::chrono::milliseconds delay) {
  http::App app = make_gateway(delay, 20);
  http::ServerOptions o;
  o.port = 0;
  http::Server server = co_await http::serve(app, o);
  http::SessionOptions so;
  so.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  http::Session client(so);
  int failures = 0;
  auto show = [&](const char* what, const char* path, std::size_t want_degraded) -> Task<json> {
    auto t0 = std::chrono::steady_clock::now();
    http::ClientResponse r = co_await client.get(path);
    json body = co_await r.json();
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    std::printf("  %-44s %5lld ms  degraded: %s\n", what, static_cast<long long>(ms),
                body["degraded"].dump().c_str());
    if (r.status() != 200 || body["degraded"].size() != want_degraded) {
      std::printf("    unexpected: status %d, %s\n", r.status(), body.dump().c_str());
      ++failures;
    }
    co_return body;
  };
  std::printf("Five services, %lld ms each; the gateway's budget per call is %lld ms\n",
              static_cast<long long>(delay.count()),
              static_cast<long long>(app.get<Backends>().budget.count()));
  json seq = co_await show("sequential (one call after another)", "/dashboard/sequential", 0);
  json con = co_await show("concurrent (TaskGroup, all five at once)", "/dashboard", 0);
  json slow = co_await show("recommendations too slow: left out", "/dashboard?simulate=slow", 1);
  json down =
      co_await show("recommendations failing (503, retried)", "/dashboard?simulate=fail", 1);
  if (slow["degraded"][0] != "recommendations" || down["degraded"][0] != "recommendations")
    ++failures;
  double ratio = con["elapsed_ms"].get<double>() > 0
                     ? seq["elapsed_ms"].get<double>() / con["elapsed_ms"].get<double>()
                     : 0;
  std::printf("  concurrent is %.1fx faster than sequential\n", ratio);
  if (ratio < 2) ++failures;  // five 200 ms calls: 5x in theory, 2x even on a loaded machine
  co_await client.close();
  co_await server.shutdown();
  co_return failures ? 1 : 0;
}

int main(int argc, char** argv) {
  std::chrono::milliseconds delay = 200ms;
  int port = 8080;
  int flaky_every = 20;
  bool test = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test"))
      test = true;
    else if (!std::strcmp(argv[i], "--delay") && i + 1 < argc)
      delay = std::chrono::milliseconds(std::atoi(argv[++i]));
    else if (!std::strcmp(argv[i], "--flaky-every") && i + 1 < argc)
      flaky_every = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--port") && i + 1 < argc)
      port = std::atoi(argv[++i]);
  }
  if (test) return eddy::run(self_test(delay));
  http::App app = make_gateway(delay, flaky_every);
  http::ServerOptions o;
  o.port = static_cast<std::uint16_t>(port);
  http::run_app(app, o);
}
