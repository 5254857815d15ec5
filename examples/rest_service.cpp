// A small REST service: CRUD on an in-memory map of todos, with JSON bodies, validation,
// bearer-token auth on writes, CORS, and app state set up in a startup hook.
//
//   rest_service --port 8080
//     GET    /todos            list (?done=true|false filters)
//     POST   /todos            create: {"title": "...", "done": false} -> 201 + Location
//     GET    /todos/{id}       one, or 404
//     PUT    /todos/{id}       replace
//     DELETE /todos/{id}       204
//   rest_service --self-test   serve on a free port, run a CRUD session against it, exit 0
#include <cstdio>
#include <cstring>
#include <eddy/eddy.hpp>
#include <eddy/http.hpp>
#include <eddy/net.hpp>
#include <map>
#include <string>

namespace http = eddy::http;
using eddy::Task;
using nlohmann::json;

struct Todos {
  std::map<int, json> items;
  int next_id = 1;
};

// Checks a todo body: a non-empty string title and an optional boolean done.
json validate(const json& body) {
  if (!body.is_object() || !body.contains("title") || !body["title"].is_string() ||
      body["title"].get<std::string>().empty())
    throw http::HttpException(422, R"({"error":"title must be a non-empty string"})",
                              {{"Content-Type", "application/json"}});
  if (body.contains("done") && !body["done"].is_boolean())
    throw http::HttpException(422, R"({"error":"done must be a boolean"})",
                              {{"Content-Type", "application/json"}});
  return {{"title", body["title"]}, {"done", body.value("done", false)}};
}

int todo_id(http::Request& req) {
  std::string_view s = req.match("id");
  int id = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || id > 100000000) throw http::HttpException(404);
    id = id * 10 + (c - '0');
  }
  return id;
}

http::App make_app() {
  http::App app;
  app.on_startup([](http::App& a) -> Task<> {
    a.emplace<Todos>();  // where a database pool would be created
    co_return;
  });
  app.use(http::middleware::cors());
  // Reads are public; writes need the token.
  app.use([](http::Request& req, const http::Handler& next) -> Task<http::Response> {
    if (req.method() != "GET" && req.method() != "HEAD" && req.method() != "OPTIONS" &&
        req.headers().get_or("Authorization", "") != "Bearer demo-token")
      throw http::HttpException(401, "Unauthorized", {{"WWW-Authenticate", "Bearer"}});
    co_return co_await next(req);
  });

  app.get("/todos", [](http::Request& req) -> Task<http::Response> {
    auto& todos = req.app().get<Todos>();
    auto done = req.query().get("done");
    json out = json::array();
    for (auto& [id, t] : todos.items) {
      if (done && t["done"].get<bool>() != (*done == "true")) continue;
      out.push_back({{"id", id}, {"title", t["title"]}, {"done", t["done"]}});
    }
    co_return http::Response::json(out);
  });
  app.post("/todos", [](http::Request& req) -> Task<http::Response> {
    auto& todos = req.app().get<Todos>();
    json body = co_await req.json();
    json t = validate(body);
    int id = todos.next_id++;
    todos.items[id] = t;
    t["id"] = id;
    http::Response r = http::Response::json(t, 201);
    r.headers.add("Location", "/todos/" + std::to_string(id));
    co_return r;
  });
  app.get("/todos/{id}", [](http::Request& req) -> Task<http::Response> {
    auto& todos = req.app().get<Todos>();
    auto it = todos.items.find(todo_id(req));
    if (it == todos.items.end()) throw http::HttpException(404);
    json t = it->second;
    t["id"] = it->first;
    co_return http::Response::json(t);
  });
  app.put("/todos/{id}", [](http::Request& req) -> Task<http::Response> {
    auto& todos = req.app().get<Todos>();
    int id = todo_id(req);
    if (!todos.items.count(id)) throw http::HttpException(404);
    json body = co_await req.json();
    json t = validate(body);
    todos.items[id] = t;
    t["id"] = id;
    co_return http::Response::json(t);
  });
  app.del("/todos/{id}", [](http::Request& req) -> Task<http::Response> {
    if (!req.app().get<Todos>().items.erase(todo_id(req))) throw http::HttpException(404);
    co_return http::Response(204);
  });
  return app;
}

// --- the self-test: a CRUD session over raw HTTP/1.1 on one kept-alive connection

struct Reply {
  int status;
  std::string body;
};

Task<Reply> call(eddy::net::Stream& s, std::string method, std::string path,
                 std::string body = {}) {
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: localhost\r\n";
  if (method != "GET") req += "Authorization: Bearer demo-token\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  s.write(req);
  http::HeadParser parser;
  http::ResponseHead head;
  std::size_t n;
  while ((n = parser.parse_response(s.buffered(), head, method)) == 0)
    if (!co_await s.fill()) throw std::runtime_error("connection closed");
  s.consume(n);
  std::string out = co_await s.read_exactly(head.content_length);
  co_return Reply{head.status, out};
}

Task<int> self_test() {
  http::App app = make_app();
  http::ServerOptions opts;
  opts.port = 0;
  http::Server srv = co_await http::serve(app, opts);
  auto s = co_await eddy::net::open_connection("127.0.0.1", srv.port());
  int failures = 0;
  auto check = [&](bool ok, const char* what) {
    std::printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    failures += !ok;
  };
  Reply r = co_await call(s, "POST", "/todos", R"({"title": "write docs"})");
  check(r.status == 201 && json::parse(r.body)["id"] == 1, "create");
  r = co_await call(s, "POST", "/todos", R"({"title": "ship", "done": true})");
  check(r.status == 201, "create another");
  r = co_await call(s, "POST", "/todos", R"({"title": ""})");
  check(r.status == 422, "validation: empty title is 422");
  r = co_await call(s, "POST", "/todos", R"(not json)");
  check(r.status == 400, "malformed JSON is 400");
  r = co_await call(s, "GET", "/todos?done=true");
  check(r.status == 200 && json::parse(r.body).size() == 1, "list with a filter");
  r = co_await call(s, "PUT", "/todos/1", R"({"title": "write docs", "done": true})");
  check(r.status == 200 && json::parse(r.body)["done"] == true, "replace");
  r = co_await call(s, "DELETE", "/todos/2");
  check(r.status == 204, "delete");
  r = co_await call(s, "GET", "/todos/2");
  check(r.status == 404, "deleted is gone");
  r = co_await call(s, "GET", "/todos");
  check(r.body == R"([{"done":true,"id":1,"title":"write docs"}])", "final list");
  co_await srv.shutdown();
  co_return failures == 0 ? 0 : 1;
}

int main(int argc, char** argv) {
  http::ServerOptions opts;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--self-test")) return eddy::run(self_test());
    if (!std::strcmp(argv[i], "--port") && i + 1 < argc) {
      opts.port = static_cast<std::uint16_t>(std::atoi(argv[++i]));
    } else {
      std::fprintf(stderr, "usage: %s [--port N] | --self-test\n", argv[0]);
      return 2;
    }
  }
  http::App app = make_app();
  http::run_app(app, opts);
}
